//! `duplicates`: duplicate detection of contacts (`crm_core::dedupe::detect`: blocking keys
//! for e-mail, phone, company and e-mail domain, fuzzy names by trigram similarity), against
//! a GROUP BY e-mail HAVING count > 1 in the same run. Company detection is timed beside it.
//!
//! Before timing, 1 % of the contacts (at most 2,000) get a planted duplicate with known
//! truth: an e-mail case/space variant, an umlaut spelling, a typo, initials, swapped names,
//! or the same phone in another format. Precision and recall of detection on them (at the
//! default threshold) are reported: recall over the planted pairs, precision over the found
//! pairs that involve a planted record.

use std::collections::HashSet;
use std::time::Instant;

use crm_core::dedupe::{self, DetectOptions, Kind};
use crm_core::error::Result;
use crm_core::store::contact::{self, NewContact, NewContactEmail};
use serde_json::{Map, json};
use uuid::Uuid;

use super::measure::{peak_rss_mb, reset_peak_rss, result, secs};
use super::{Context, ScenarioResult};

/// Runs the scenario.
pub(super) async fn run(cx: &Context<'_>, _log: &mut dyn FnMut(&str)) -> Result<ScenarioResult> {
    let planted = cx
        .scope
        .run(async |tx| plant(tx, (cx.opts.contacts / 100).clamp(6, 2000)).await)
        .await?;
    let t = Instant::now();
    cx.scope
        .run(async |tx| {
            sqlx::query("select email_norm from contact_emails where org_id = $1 group by email_norm having count(*) > 1 limit 100")
                .bind(tx.org())
                .fetch_all(tx.conn())
                .await?;
            Ok(())
        })
        .await?;
    let base = secs(t.elapsed());
    reset_peak_rss();
    let opts = DetectOptions {
        limit: 100,
        ..DetectOptions::default()
    };
    let t = Instant::now();
    let groups = cx
        .scope
        .run(async |tx| dedupe::detect(tx, Kind::Contact, &opts).await)
        .await?;
    let ours = secs(t.elapsed());
    let t = Instant::now();
    let companies = cx
        .scope
        .run(async |tx| dedupe::detect(tx, Kind::Company, &opts).await)
        .await?;
    let company_secs = secs(t.elapsed());
    let all = DetectOptions {
        limit: 1_000_000,
        ..DetectOptions::default()
    };
    let found: HashSet<(Uuid, Uuid)> = cx
        .scope
        .run(async |tx| dedupe::detect(tx, Kind::Contact, &all).await)
        .await?
        .iter()
        .flat_map(|g| g.pairs.iter().map(|p| (p.ids[0], p.ids[1])))
        .collect();
    let planted_ids: HashSet<Uuid> = planted.iter().flat_map(|(a, b)| [*a, *b]).collect();
    let judged: Vec<&(Uuid, Uuid)> = found
        .iter()
        .filter(|(a, b)| planted_ids.contains(a) || planted_ids.contains(b))
        .collect();
    let hits = judged.iter().filter(|p| planted.contains(p)).count() as f64;
    let ratio = |a: f64, b: usize| ((a / b.max(1) as f64) * 1000.0).round() / 1000.0;
    let mut extra = Map::new();
    extra.insert("planted".into(), json!(planted.len()));
    extra.insert("precision".into(), json!(ratio(hits, judged.len())));
    extra.insert("recall".into(), json!(ratio(hits, planted.len())));
    extra.insert("groups".into(), json!(groups.len()));
    extra.insert("company_groups".into(), json!(companies.len()));
    extra.insert("company_secs".into(), json!(company_secs));
    Ok(result(
        "duplicates",
        ours,
        "GROUP BY e-mail HAVING count > 1",
        base,
        peak_rss_mb(),
        extra,
    ))
}

/// The pair as detection reports it (the smaller id first).
fn pair(a: Uuid, b: Uuid) -> (Uuid, Uuid) {
    if a < b { (a, b) } else { (b, a) }
}

/// Plants a duplicate of `n` sampled contacts; returns the true pairs.
async fn plant(tx: &mut crm_core::Tx, n: u64) -> Result<HashSet<(Uuid, Uuid)>> {
    type Sample = (
        Uuid,
        String,
        String,
        Option<Uuid>,
        Option<String>,
        Option<String>,
    );
    let sample: Vec<Sample> = sqlx::query_as(
        "select id, first_name, last_name, company_id, email, phone from contacts \
         where org_id = $1 and deleted_at is null and length(first_name) > 1 \
           and length(last_name) > 3 and email is not null \
         order by md5(id::text) limit $2",
    )
    .bind(tx.org())
    .bind(i64::try_from(n).unwrap_or(i64::MAX))
    .fetch_all(tx.conn())
    .await?;
    let mut truth = HashSet::new();
    for (i, (id, first, last, company, email, phone)) in sample.into_iter().enumerate() {
        let email = email.unwrap_or_default();
        let domain = email.split('@').nth(1).unwrap_or("example.net").to_string();
        let mut c = NewContact {
            first_name: first.clone(),
            last_name: last.clone(),
            company_id: company.map(Into::into),
            email: Some(format!("planted.{i}@{domain}")),
            ..NewContact::default()
        };
        match i % 6 {
            0 => {
                c.company_id = None;
                c.email = Some(format!("planted.{i}@example.net"));
                c.emails = vec![NewContactEmail {
                    email: format!(" {} ", email.to_uppercase()),
                    ..NewContactEmail::default()
                }];
            }
            1 => {
                let folded = umlauts(&last);
                c.last_name = if folded != last { folded } else { typo(&last) };
            }
            2 => c.last_name = typo(&last),
            3 => c.first_name = format!("{}.", first.chars().next().unwrap_or('X')),
            4 => (c.first_name, c.last_name) = (last.clone(), first.clone()),
            _ => match phone.as_deref() {
                Some(p) if p.len() > 8 => {
                    c.company_id = None;
                    c.email = Some(format!("planted.{i}@example.net"));
                    c.phone = Some(format!("{} {} {}", &p[..3], &p[3..6], &p[6..]));
                }
                _ => c.last_name = typo(&last),
            },
        }
        let created = contact::create(tx, c).await?;
        truth.insert(pair(id, created.id.uuid()));
    }
    Ok(truth)
}

/// German spellings written out (ä→ae, ö→oe, ü→ue, ß→ss).
fn umlauts(s: &str) -> String {
    s.replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss")
        .replace('Ä', "Ae")
        .replace('Ö', "Oe")
        .replace('Ü', "Ue")
}

/// Two letters in the middle swapped (`Schneider` → `Schnieder`).
fn typo(s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    let i = c.len() / 2;
    if i + 1 < c.len() {
        c.swap(i, i + 1);
    }
    c.into_iter().collect()
}
