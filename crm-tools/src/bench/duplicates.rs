//! `duplicates`: the library's duplicate groups, against a GROUP BY e-mail HAVING count > 1.

use std::time::Instant;

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
    let t = Instant::now();
    let groups = cx
        .scope
        .run(async |tx| crm_core::store::contact::duplicates(tx, 100).await)
        .await?;
    let ours = secs(t.elapsed());
    let mut extra = Map::new();
    extra.insert("groups".into(), json!(groups.len()));
    Ok(result(
        "duplicates",
        ours,
        "GROUP BY e-mail HAVING count > 1",
        base,
        peak_rss_mb(),
        extra,
    ))
}
