//! `forecast`, `velocity`, `board_as_of` (issue 18): the pipeline analytics over one deal
//! per five contacts (200,000 at `--size 1m`) with five stage-history entries each
//! (1,000,000), a tenth won and a tenth lost, and a value change in the audit log for one
//! deal in twenty; each next to a plain GROUP BY over the same rows in the same run.
//!
//! The data goes into a pipeline of its own, so the `board` scenario's deals do not count.

use std::time::Instant;

use chrono::{Duration, Utc};
use crm_core::PipelineId;
use crm_core::error::Result;
use crm_core::report::{self, ForecastBy, ForecastQuery, VelocityQuery};
use crm_core::store::pipeline;
use rust_decimal::Decimal;
use serde_json::{Map, json};

use super::measure::{peak_rss_mb, reset_peak_rss, result, secs};
use super::{Context, ScenarioResult};

/// Writes the deals, their stage history and the audit entries; returns the pipeline.
async fn load(cx: &Context<'_>, deals: i64) -> Result<PipelineId> {
    let pipeline = cx
        .scope
        .run(async |tx| {
            let stages: Vec<(String, Decimal)> = [10, 25, 50, 75, 90]
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("S{i}"), Decimal::from(*p)))
                .collect();
            let p = pipeline::create(tx, "Bench analytics", &stages, false).await?;
            for sql in [
                "create temp table bench_deals on commit drop as \
                 select gen_random_uuid() as id, rn, \
                        now() - make_interval(days => 30 + (rn % 365)::int) as created, \
                        make_interval(days => (rn % 20)::int + 1) as step \
                 from generate_series(1, $3::bigint) rn",
                "insert into deals (org_id, id, title, value, currency, pipeline_id, stage_id, \
                                    status, lost_reason_id, expected_close_date, closed_at, \
                                    created_at) \
                 select $1, b.id, 'Bench ' || b.rn, ((b.rn * 7919) % 500000) / 100.0, \
                        case when b.rn % 7 = 0 then 'CHF' else 'EUR' end, $2, s.id, \
                        case b.rn % 10 when 0 then 'won' when 1 then 'lost' else 'open' end, \
                        case when b.rn % 10 = 1 then (select id from lost_reasons \
                                                      where org_id = $1 order by key limit 1) end, \
                        (b.created + make_interval(days => (b.rn % 180)::int))::date, \
                        case when b.rn % 10 in (0, 1) then b.created + 5 * b.step end, \
                        b.created \
                 from bench_deals b \
                 join stages s on s.org_id = $1 and s.pipeline_id = $2 \
                      and s.position = (b.rn + 4) % 5",
                "insert into deal_stage_history (org_id, id, deal_id, from_stage_id, to_stage_id, \
                                                 moved_at) \
                 select $1, gen_random_uuid(), b.id, f.id, t.id, b.created + k * b.step \
                 from bench_deals b cross join generate_series(0, 4) k \
                 join stages t on t.org_id = $1 and t.pipeline_id = $2 \
                      and t.position = (b.rn + k) % 5 \
                 left join stages f on k > 0 and f.org_id = $1 and f.pipeline_id = $2 \
                      and f.position = (b.rn + k - 1) % 5",
                "select count(crm_audit('deal', b.id, 'update', jsonb_build_object('value', \
                        jsonb_build_object('before', ((b.rn * 7919) % 400000) / 100.0, \
                                           'after', ((b.rn * 7919) % 500000) / 100.0)))) \
                 from bench_deals b where b.rn % 20 = 2 and $1::uuid is not null \
                   and $2::uuid is not null",
            ] {
                sqlx::query(sql)
                    .bind(tx.org())
                    .bind(p.id)
                    .bind(deals)
                    .execute(tx.conn())
                    .await?;
            }
            Ok(p.id)
        })
        .await?;
    // Statistics as an established database has them (autovacuum would analyse these
    // tables within a minute): the reports are measured, not the planner's guesses about
    // tables it believes empty.
    cx.scope
        .run(async |tx| {
            sqlx::query("select crm_analyze_deals_after_load()")
                .execute(tx.conn())
                .await?;
            Ok(())
        })
        .await?;
    Ok(pipeline)
}

/// The best of three timings of `f` (both sides of a comparison get the same treatment,
/// which damps the noise of a shared machine).
async fn best_of_3(mut f: impl AsyncFnMut() -> Result<()>) -> Result<f64> {
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        f().await?;
        best = best.min(secs(t.elapsed()));
    }
    Ok(best)
}

/// Times one plain query (the baseline) on the main tenant.
async fn baseline(cx: &Context<'_>, sql: &'static str, pipeline: PipelineId) -> Result<f64> {
    best_of_3(async || {
        cx.scope
            .run(async |tx| {
                sqlx::query(sql)
                    .bind(tx.org())
                    .bind(pipeline)
                    .fetch_all(tx.conn())
                    .await?;
                Ok(())
            })
            .await
    })
    .await
}

/// One report next to its baseline query: the name of the scenario, what the baseline does
/// and its SQL (binding the organization and the pipeline).
struct Comparison {
    name: &'static str,
    label: &'static str,
    baseline_sql: &'static str,
}

/// Times the baseline and the report (best of three each) into one scenario result.
async fn compare(
    cx: &Context<'_>,
    pipeline: PipelineId,
    what: Comparison,
    extra: &Map<String, serde_json::Value>,
    log: &mut dyn FnMut(&str),
    report: impl AsyncFnMut() -> Result<()>,
) -> Result<ScenarioResult> {
    let base = baseline(cx, what.baseline_sql, pipeline).await?;
    reset_peak_rss();
    let ours = best_of_3(report).await?;
    log(&format!("{}: {ours:.3}s (baseline {base:.3}s)", what.name));
    Ok(result(
        what.name,
        ours,
        what.label,
        base,
        peak_rss_mb(),
        extra.clone(),
    ))
}

/// Runs the three scenarios (each as its own result, times the best of three runs).
pub(super) async fn run(
    cx: &Context<'_>,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<ScenarioResult>> {
    let deals = i64::try_from((cx.opts.contacts / 5).max(10)).unwrap_or(i64::MAX);
    let t = Instant::now();
    let p = load(cx, deals).await?;
    log(&format!(
        "{deals} deals with {} stage changes in {:.1}s",
        deals * 5,
        t.elapsed().as_secs_f64()
    ));
    let mut extra = Map::new();
    extra.insert("deals".into(), json!(deals));
    extra.insert("stage_changes".into(), json!(deals * 5));

    let forecast = ForecastQuery {
        pipeline: Some(p),
        by: ForecastBy::Month,
        months: 12,
        as_of: None,
    };
    let velocity = VelocityQuery {
        pipeline: Some(p),
        ..Default::default()
    };
    let at = Utc::now() - Duration::days(120);
    Ok(vec![
        compare(
            cx,
            p,
            Comparison {
                name: "forecast",
                label: "GROUP BY close month and currency over open deals",
                baseline_sql: "select date_trunc('month', expected_close_date), currency, \
                               count(*), sum(value) \
                               from deals where org_id = $1 and pipeline_id = $2 \
                                 and status = 'open' and deleted_at is null group by 1, 2",
            },
            &extra,
            log,
            async || {
                cx.scope
                    .run(async |tx| report::forecast_by(tx, &forecast).await.map(drop))
                    .await
            },
        )
        .await?,
        compare(
            cx,
            p,
            Comparison {
                name: "velocity",
                label: "GROUP BY stage over the stage history",
                baseline_sql: "select to_stage_id, count(*) from deal_stage_history \
                               where org_id = $1 and $2::uuid is not null group by 1",
            },
            &extra,
            log,
            async || {
                cx.scope
                    .run(async |tx| report::velocity(tx, &velocity).await.map(drop))
                    .await
            },
        )
        .await?,
        compare(
            cx,
            p,
            Comparison {
                name: "board_as_of",
                label: "GROUP BY stage over today's open deals",
                baseline_sql: "select stage_id, count(*), sum(value) from deals \
                               where org_id = $1 and pipeline_id = $2 and status = 'open' \
                                 and deleted_at is null group by stage_id",
            },
            &extra,
            log,
            async || {
                cx.scope
                    .run(async |tx| {
                        report::pipeline_summary_as_of(tx, Some(p), at)
                            .await
                            .map(drop)
                    })
                    .await
            },
        )
        .await?,
    ])
}
