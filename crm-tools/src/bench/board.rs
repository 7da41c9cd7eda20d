//! `board`: the pipeline summary and forecast the board shows, against one GROUP BY over
//! open deals. Adds one deal per four contacts first, spread over the default pipeline.

use std::time::Instant;

use crm_core::error::Result;
use serde_json::Map;

use super::measure::{peak_rss_mb, reset_peak_rss, result, secs};
use super::{Context, ScenarioResult};

/// Runs the scenario.
pub(super) async fn run(cx: &Context<'_>, log: &mut dyn FnMut(&str)) -> Result<ScenarioResult> {
    cx.scope
        .run(async |tx| {
            sqlx::query(
                "insert into deals (org_id, id, title, value, currency, pipeline_id, stage_id, contact_id, company_id) \
                 select c.org_id, gen_random_uuid(), 'Deal ' || c.last_name, (abs(hashtext(c.id::text)) % 500000) / 100.0, \
                        'EUR', s.pipeline_id, s.id, c.id, c.company_id \
                 from (select c.*, row_number() over (order by c.id) as rn from contacts c where c.org_id = $1) c \
                 join lateral (select st.* from stages st join pipelines p on p.org_id = st.org_id and p.id = st.pipeline_id \
                               where st.org_id = $1 and p.is_default order by st.position offset (c.rn % 5) limit 1) s on true \
                 where c.rn % 4 = 0",
            )
            .bind(tx.org())
            .execute(tx.conn())
            .await?;
            Ok(())
        })
        .await?;
    let t = Instant::now();
    cx.scope
        .run(async |tx| {
            sqlx::query("select stage_id, count(*), sum(value) from deals where org_id = $1 and status = 'open' and deleted_at is null group by stage_id")
                .bind(tx.org())
                .fetch_all(tx.conn())
                .await?;
            Ok(())
        })
        .await?;
    let base = secs(t.elapsed());
    reset_peak_rss();
    let t = Instant::now();
    cx.scope
        .run(async |tx| {
            crm_core::report::pipeline_summary(tx, None).await?;
            crm_core::report::forecast(tx, None, 6).await?;
            Ok(())
        })
        .await?;
    let ours = secs(t.elapsed());
    let scenario = result(
        "board",
        ours,
        "one GROUP BY over open deals",
        base,
        peak_rss_mb(),
        Map::new(),
    );
    log(&format!("pipeline summary + forecast: {ours:.3}s"));
    Ok(scenario)
}
