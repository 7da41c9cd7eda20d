//! `gdpr_subject_export`, `gdpr_erasure` (issue 19): a subject export (Art. 15) and an
//! erasure (Art. 17) of sampled persons of the main tenant, each erasure in its own
//! transaction, p50/p95/p99 over the sample, each person's figure beside a baseline on the
//! same person measured just before it:
//!
//! - export: the plain SELECTs of the person's rows (contact, addresses, numbers, owners,
//!   consents, deals, activities, audit entries) in one transaction under the same policy;
//! - erasure: a plain DELETE of the person's activities and contact record (its child rows
//!   cascade) in a transaction rolled back afterwards.
//!
//! The load first gives every contact five activities (5,000,000 at `--size 1m`, the
//! issue's tenant), the fifth one also linked to the contact's company (so erasure has
//! activities to unlink and scrub), and each sampled person a change and an activity made
//! through the library, so their export and erasure meet audit entries as a person with a
//! history does.

use std::time::Instant;

use crm_core::error::{Error, Result};
use crm_core::store::activity::NewActivity;
use crm_core::store::contact::ContactPatch;
use crm_core::{ContactId, gdpr, store};
use serde_json::{Map, json};
use uuid::Uuid;

use super::measure::{latencies, peak_rss_mb, reset_peak_rss, result};
use super::{Context, ScenarioResult};

/// Persons sampled (fewer on tiny data sets).
const SAMPLE: u64 = 20;

/// Activities per contact written by the load.
const ACTIVITIES_PER_CONTACT: i64 = 5;

/// Gives every live contact of the tenant [`ACTIVITIES_PER_CONTACT`] activities; returns
/// how many were written. (`hashtext(..) & 1023` spreads the dates: `abs` of the smallest
/// integer would overflow.)
async fn load_activities(cx: &Context<'_>) -> Result<u64> {
    cx.scope
        .run(async |tx| {
            let n = sqlx::query(
                "insert into activities (org_id, id, kind, subject, body, due_at, done_at, \
                                         contact_id, company_id, created_at, updated_at) \
                 select c.org_id, gen_random_uuid(), \
                        (array['call', 'email', 'note', 'meeting', 'task'])[k + 1], \
                        case k when 0 then 'Erstgespräch mit ' || btrim(c.first_name || ' ' || c.last_name) \
                               when 1 then 'Angebot an ' || coalesce(c.email, c.last_name) \
                               when 2 then 'Notiz zu ' || c.last_name \
                               when 3 then 'Produktvorstellung' \
                               else 'Nachfassen' end, \
                        case when k in (0, 2) then 'Mit ' || c.first_name || ' über Preise gesprochen; \
                                  Rückruf unter ' || coalesce(c.phone, 'der Zentrale') end, \
                        case when k = 4 then now() + make_interval(days => ((hashtext(c.id::text) & 1023) % 30)) end, \
                        case when k < 4 then t.at + interval '1 hour' end, \
                        c.id, case when k = 4 then c.company_id end, t.at, t.at \
                 from contacts c cross join generate_series(0, $2::int - 1) k \
                 cross join lateral (select now() - make_interval(days => (5 - k) * 20 \
                                            + (hashtext(c.id::text) & 1023) % 10) as at) t \
                 where c.org_id = $1 and c.deleted_at is null",
            )
            .bind(tx.org())
            .bind(ACTIVITIES_PER_CONTACT)
            .execute(tx.conn())
            .await?
            .rows_affected();
            Ok(n)
        })
        .await
}

/// Up to [`SAMPLE`] live contacts spread evenly over the tenant, in id order.
async fn sample(cx: &Context<'_>) -> Result<Vec<Uuid>> {
    let want = SAMPLE.min((cx.opts.contacts / 2).max(1));
    let step = i64::try_from((cx.opts.contacts / want).max(1)).unwrap_or(i64::MAX);
    cx.scope
        .run(async |tx| {
            let ids: Vec<Uuid> = sqlx::query_scalar(
                "select id from (select id, row_number() over (order by id) as rn \
                                 from contacts where org_id = $1 and deleted_at is null) s \
                 where rn % $2 = 0 order by id limit $3",
            )
            .bind(tx.org())
            .bind(step)
            .bind(i64::try_from(want).unwrap_or(i64::MAX))
            .fetch_all(tx.conn())
            .await?;
            Ok(ids)
        })
        .await
}

/// A change and an activity through the library for each person: the audit entries a
/// person with a history has.
async fn give_history(cx: &Context<'_>, persons: &[Uuid]) -> Result<()> {
    for &id in persons {
        cx.scope
            .run(async |tx| {
                let c = store::contact::get(tx, ContactId(id)).await?;
                store::contact::update(
                    tx,
                    ContactId(id),
                    ContactPatch {
                        version: c.version,
                        job_title: Some(Some("Einkaufsleitung".into())),
                        ..ContactPatch::default()
                    },
                )
                .await?;
                store::activity::create(
                    tx,
                    NewActivity {
                        subject: format!("Telefonat mit {} {}", c.first_name, c.last_name),
                        body: Some("Wünscht ein neues Angebot.".into()),
                        contact_id: Some(ContactId(id)),
                        ..NewActivity::default()
                    },
                )
                .await?;
                Ok(())
            })
            .await?;
    }
    Ok(())
}

/// The plain SELECTs of one person's rows (the export's baseline); returns the rows read.
async fn plain_selects(cx: &Context<'_>, id: Uuid) -> Result<usize> {
    cx.scope
        .run(async |tx| {
            let mut rows = 0;
            for sql in [
                "select * from contacts where org_id = $1 and id = $2",
                "select * from contact_email_list where org_id = $1 and contact_id = $2",
                "select * from contact_phone_list where org_id = $1 and contact_id = $2",
                "select * from contact_owners where org_id = $1 and contact_id = $2",
                "select * from consents where org_id = $1 and contact_id = $2",
                "select * from deals where org_id = $1 and contact_id = $2",
                "select * from activities where org_id = $1 and contact_id = $2",
                "select * from audit_log where org_id = $1 \
                 and ((entity_type = 'contact' and entity_id = $2) \
                      or (entity_type = 'activity' and entity_id in \
                          (select id from activities where org_id = $1 and contact_id = $2)))",
            ] {
                rows += sqlx::query(sql)
                    .bind(tx.org())
                    .bind(id)
                    .fetch_all(tx.conn())
                    .await?
                    .len();
            }
            Ok(rows)
        })
        .await
}

/// A plain DELETE of one person's activities and record, rolled back (the erasure's
/// baseline). Their deals are unlinked first, as the erasure does: foreign keys between
/// tenant tables do not set null on delete (Citus rejects that).
async fn plain_delete(cx: &Context<'_>, id: Uuid) -> Result<()> {
    let mut tx = cx.scope.begin().await?;
    for sql in [
        "delete from activities where org_id = $1 and contact_id = $2",
        "update deals set contact_id = null where org_id = $1 and contact_id = $2",
        "delete from contacts where org_id = $1 and id = $2",
    ] {
        sqlx::query(sql)
            .bind(tx.org())
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    tx.rollback().await
}

/// Milliseconds since `t`.
fn elapsed_ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Runs both scenarios (the caller keeps the ones asked for).
pub(super) async fn run(
    cx: &Context<'_>,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<ScenarioResult>> {
    let t = Instant::now();
    let activities = load_activities(cx).await?;
    let persons = sample(cx).await?;
    if persons.is_empty() {
        return Err(Error::Io(
            "gdpr: the tenant has no contacts to sample".into(),
        ));
    }
    give_history(cx, &persons).await?;
    // Fresh statistics for the activities just written (at most once a minute: an analyse
    // by an earlier scenario within the minute stands).
    cx.scope
        .run(async |tx| {
            sqlx::query("select crm_analyze_deals_after_load()")
                .execute(tx.conn())
                .await?;
            Ok(())
        })
        .await?;
    log(&format!(
        "{activities} activities, {} persons sampled in {:.1}s",
        persons.len(),
        t.elapsed().as_secs_f64()
    ));

    let export = subject_exports(cx, &persons, activities, log).await?;
    let erasure = erasures(cx, &persons, activities, log).await?;
    Ok(vec![export, erasure])
}

/// Subject exports of `persons`, each beside the plain SELECTs of the same person.
async fn subject_exports(
    cx: &Context<'_>,
    persons: &[Uuid],
    activities: u64,
    log: &mut dyn FnMut(&str),
) -> Result<ScenarioResult> {
    // Subject export, each beside the plain SELECTs of the same person.
    reset_peak_rss();
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    let (mut exported_activities, mut exported_audit, mut base_rows) = (0usize, 0usize, 0usize);
    for &id in persons {
        let t = Instant::now();
        base_rows += plain_selects(cx, id).await?;
        base.push(elapsed_ms(t));
        let reference = id.to_string();
        let t = Instant::now();
        let doc = cx
            .scope
            .run(async |tx| gdpr::subject_export(tx, &reference).await)
            .await?;
        ours.push(elapsed_ms(t));
        exported_activities += doc.activities.len();
        exported_audit += doc.audit.len();
    }
    let rss = peak_rss_mb();
    let mut extra = Map::new();
    let (p50, p95, _) = latencies(&mut extra, "", &mut ours);
    let (_, b95, _) = latencies(&mut extra, "baseline_", &mut base);
    extra.insert("persons".into(), json!(persons.len()));
    extra.insert("activities".into(), json!(activities));
    extra.insert(
        "activities_per_export".into(),
        json!(exported_activities as f64 / persons.len() as f64),
    );
    extra.insert(
        "audit_entries_per_export".into(),
        json!(exported_audit as f64 / persons.len() as f64),
    );
    extra.insert(
        "baseline_rows_per_person".into(),
        json!(base_rows as f64 / persons.len() as f64),
    );
    let export = result(
        "gdpr_subject_export",
        p95 / 1000.0,
        "plain SELECTs of the person's rows in one transaction, p95",
        b95 / 1000.0,
        rss,
        extra,
    );
    log(&format!(
        "subject export p50 {p50:.1} ms, p95 {p95:.1} ms; plain SELECTs p95 {b95:.1} ms"
    ));

    Ok(export)
}

/// Erasures of `persons`, each in its own transaction, beside a rolled-back plain DELETE.
async fn erasures(
    cx: &Context<'_>,
    persons: &[Uuid],
    activities: u64,
    log: &mut dyn FnMut(&str),
) -> Result<ScenarioResult> {
    // Erasure, each in its own transaction, beside a rolled-back plain DELETE of the same
    // person.
    reset_peak_rss();
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    let (mut erased_activities, mut redacted) = (0i64, 0i64);
    for &id in persons {
        let t = Instant::now();
        plain_delete(cx, id).await?;
        base.push(elapsed_ms(t));
        let reference = id.to_string();
        let t = Instant::now();
        let receipt = cx
            .scope
            .run(async |tx| gdpr::erase(tx, &reference, false).await)
            .await?;
        ours.push(elapsed_ms(t));
        erased_activities += receipt.counts.activities + receipt.counts.activities_detached;
        redacted += receipt.counts.audit_redacted;
    }
    let rss = peak_rss_mb();
    let mut extra = Map::new();
    let (p50, p95, _) = latencies(&mut extra, "", &mut ours);
    let (_, b95, _) = latencies(&mut extra, "baseline_", &mut base);
    extra.insert("persons".into(), json!(persons.len()));
    extra.insert("activities".into(), json!(activities));
    extra.insert("activities_erased".into(), json!(erased_activities));
    extra.insert("audit_redacted".into(), json!(redacted));
    let erasure = result(
        "gdpr_erasure",
        p95 / 1000.0,
        "plain DELETE of the person's activities and record, rolled back, p95",
        b95 / 1000.0,
        rss,
        extra,
    );
    log(&format!(
        "erasure p50 {p50:.1} ms, p95 {p95:.1} ms; plain DELETE p95 {b95:.1} ms"
    ));
    Ok(erasure)
}
