//! `duplicates`: duplicate detection of contacts (`crm_core::dedupe::detect`: blocking keys
//! for e-mail, phone, company and e-mail domain, fuzzy names by trigram similarity), against
//! a GROUP BY e-mail HAVING count > 1 in the same run. Company detection is timed beside it.

use std::time::Instant;

use crm_core::dedupe::{self, DetectOptions, Kind};
use crm_core::error::Result;
use serde_json::{Map, json};

use super::measure::{peak_rss_mb, reset_peak_rss, result, secs};
use super::{Context, ScenarioResult};

/// Runs the scenario.
pub(super) async fn run(cx: &Context<'_>, _log: &mut dyn FnMut(&str)) -> Result<ScenarioResult> {
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
    let mut extra = Map::new();
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
