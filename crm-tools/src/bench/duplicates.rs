//! `duplicates`: duplicate detection of contacts (`crm_core::dedupe::detect`: blocking keys
//! for e-mail, phone, company and e-mail domain, fuzzy names by trigram similarity), against
//! a GROUP BY e-mail HAVING count > 1 in the same run. Company detection is timed beside it.
//!
//! Before timing, 1 % of the contacts (at most 2,000) and of the companies (at most 500)
//! get a planted duplicate with known truth, from the generator's planting
//! ([`crate::generate::Duplicates`], loaded by [`crate::plant::load`]): e-mail case/space
//! variants, umlaut spellings, typos, initials, swapped names, the same phone in another
//! format; companies with another legal form, a typo, the same domain. Precision and recall
//! of detection on them at the default threshold are reported for both
//! ([`crate::plant::judge`]: recall over the planted pairs, precision over the found pairs
//! that involve a planted record or its original).

use std::collections::HashSet;
use std::time::Instant;

use crm_core::dedupe::{self, DetectOptions, Kind};
use crm_core::error::Result;
use serde_json::{Map, json};

use crate::generate::Duplicates;
use crate::plant::{self, IdPair};

use super::measure::{peak_rss_mb, reset_peak_rss, result, secs};
use super::{Context, ScenarioResult};

/// Runs the scenario.
pub(super) async fn run(cx: &Context<'_>, _log: &mut dyn FnMut(&str)) -> Result<ScenarioResult> {
    let planted = Duplicates::new(
        cx.generator,
        (cx.opts.contacts / 100).clamp(6, 2000),
        (cx.generator.company_count() / 100).clamp(3, 500),
    );
    let planted = cx
        .scope
        .run(async |tx| plant::load(tx, &planted).await)
        .await?;
    let t = Instant::now();
    cx.scope
        .run(async |tx| {
            sqlx::query("select email_norm from contact_email_list where org_id = $1 group by email_norm having count(*) > 1 limit 100")
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
    let groups = dedupe::detect(cx.scope, Kind::Contact, &opts).await?;
    let ours = secs(t.elapsed());
    let t = Instant::now();
    let companies = dedupe::detect(cx.scope, Kind::Company, &opts).await?;
    let company_secs = secs(t.elapsed());
    let all = DetectOptions {
        limit: 1_000_000,
        ..DetectOptions::default()
    };
    let found = |kind: Kind| {
        let all = &all;
        async move {
            let groups = dedupe::detect(cx.scope, kind, all).await?;
            Ok::<_, crm_core::error::Error>(
                groups
                    .iter()
                    .flat_map(|g| g.pairs.iter().map(|p| (p.ids[0], p.ids[1])))
                    .collect::<HashSet<IdPair>>(),
            )
        }
    };
    let contacts = plant::judge(&found(Kind::Contact).await?, &planted.contacts);
    let company_quality = plant::judge(&found(Kind::Company).await?, &planted.companies);
    let mut extra = Map::new();
    extra.insert("planted".into(), json!(contacts.planted));
    extra.insert("precision".into(), json!(contacts.precision));
    extra.insert("recall".into(), json!(contacts.recall));
    extra.insert("company_planted".into(), json!(company_quality.planted));
    extra.insert("company_precision".into(), json!(company_quality.precision));
    extra.insert("company_recall".into(), json!(company_quality.recall));
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
