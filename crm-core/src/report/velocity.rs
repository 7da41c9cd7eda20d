//! Velocity from the stage history: how long deals stay in each stage, how many go on to a
//! later stage, win rate and lost reasons per month, and the deals stuck in their stage.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::resolve_pipeline;
use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::ids::{DealId, PipelineId, StageId};
use crate::tenancy::Tx;

/// What [`velocity`] covers.
#[derive(Debug, Clone, Default)]
pub struct VelocityQuery {
    /// The pipeline (the default one when `None`).
    pub pipeline: Option<PipelineId>,
    /// Only stage entries and closings at or after this moment.
    pub since: Option<DateTime<Utc>>,
    /// Only stage entries and closings before this moment.
    pub until: Option<DateTime<Utc>>,
}

/// One stage's velocity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct StageVelocity {
    /// The stage.
    pub stage_id: StageId,
    /// Its name.
    pub stage: String,
    /// Its position (0 first).
    pub position: i32,
    /// Finished stays in the stage (left for another stage, or won or lost there).
    pub stays: i64,
    /// Their average length in days (two decimals); `None` without finished stays.
    pub avg_days: Option<Decimal>,
    /// Their median length in days (two decimals).
    pub median_days: Option<Decimal>,
    /// Deals that entered the stage.
    pub entered: i64,
    /// Of those, the deals that reached a later stage of the pipeline or were won.
    pub advanced: i64,
    /// `advanced` in percent of `entered` (two decimals); `None` when none entered.
    pub conversion: Option<Decimal>,
}

/// How many deals were lost for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LostReasonCount {
    /// The lost reason's key (`price`, `competitor`, ...).
    pub reason: String,
    /// Deals lost for it.
    pub deals: i64,
}

/// Deals closed in one month (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VelocityPeriod {
    /// The first day of the month.
    pub month: NaiveDate,
    /// Deals won.
    pub won: i64,
    /// Deals lost.
    pub lost: i64,
    /// `won` in percent of the deals closed (two decimals).
    pub win_rate: Option<Decimal>,
    /// The lost deals by reason, most frequent first.
    pub lost_reasons: Vec<LostReasonCount>,
}

/// The velocity of one pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct Velocity {
    /// The pipeline.
    pub pipeline_id: PipelineId,
    /// Its name.
    pub pipeline: String,
    /// Every stage by position.
    pub stages: Vec<StageVelocity>,
    /// The months with closed deals, in order.
    pub periods: Vec<VelocityPeriod>,
}

/// The velocity of a pipeline from its stage history: per stage the finished stays (a stay
/// ends with the deal's next move, or when the deal is won or lost in the stage; a deal
/// still in a stage has no finished stay there), their average and median length in days,
/// and the share of deals entering the stage that reached a later stage or were won; per
/// month the deals won and lost, the win rate and the lost reasons. Deleted deals do not
/// count. `since` and `until` bound the stage entries and the closings counted.
pub async fn velocity(tx: &mut Tx, query: &VelocityQuery) -> Result<Velocity> {
    tx.require(Permission::Read)?;
    let (pipeline_id, name) = resolve_pipeline(tx, query.pipeline).await?;
    let stages: Vec<StageVelocity> = sqlx::query_as(
        "with h as ( \
             select h.deal_id, h.to_stage_id as stage_id, h.moved_at as entered, \
                    lead(h.moved_at) over (partition by h.deal_id order by h.moved_at, h.id) \
                        as left_at \
             from deal_stage_history h where h.org_id = $1 \
         ), \
         here as ( \
             select h.*, s.position, d.status, \
                    max(s.position) over (partition by h.deal_id) as top, \
                    extract(epoch from coalesce(h.left_at, \
                        case when d.status <> 'open' then d.closed_at end) - h.entered) \
                        / 86400 as days \
             from h \
             join stages s on s.org_id = $1 and s.id = h.stage_id and s.pipeline_id = $2 \
             join deals d on d.org_id = $1 and d.id = h.deal_id and d.deleted_at is null \
         ), \
         stays as ( \
             select * from here \
             where ($3::timestamptz is null or entered >= $3) \
               and ($4::timestamptz is null or entered < $4) \
         ), \
         per_stage as ( \
             select st.stage_id, count(st.days) as stays, \
                    round(avg(st.days), 2) as avg_days, \
                    round((percentile_cont(0.5) within group (order by st.days::float8)) \
                          ::numeric, 2) as median_days, \
                    count(distinct st.deal_id) as entered, \
                    count(distinct st.deal_id) \
                        filter (where st.top > st.position or st.status = 'won') as advanced \
             from stays st \
             group by st.stage_id \
         ) \
         select s.id as stage_id, s.name as stage, s.position, \
                coalesce(p.stays, 0) as stays, p.avg_days, p.median_days, \
                coalesce(p.entered, 0) as entered, coalesce(p.advanced, 0) as advanced, \
                case when p.entered > 0 then round(100.0 * p.advanced / p.entered, 2) end \
                    as conversion \
         from stages s left join per_stage p on p.stage_id = s.id \
         where s.org_id = $1 and s.pipeline_id = $2 \
         order by s.position",
    )
    .bind(tx.org())
    .bind(pipeline_id)
    .bind(query.since)
    .bind(query.until)
    .fetch_all(tx.conn())
    .await?;
    let periods = periods(tx, pipeline_id, query).await?;
    Ok(Velocity {
        pipeline_id,
        pipeline: name,
        stages,
        periods,
    })
}

/// Won and lost deals of a pipeline per month of closing, with the lost reasons.
async fn periods(
    tx: &mut Tx,
    pipeline_id: PipelineId,
    query: &VelocityQuery,
) -> Result<Vec<VelocityPeriod>> {
    let rows: Vec<(NaiveDate, String, Option<String>, i64)> = sqlx::query_as(
        "select date_trunc('month', d.closed_at at time zone 'UTC')::date as month, \
                d.status, lr.key, count(*) \
         from deals d \
         left join lost_reasons lr on lr.org_id = d.org_id and lr.id = d.lost_reason_id \
         where d.org_id = $1 and d.pipeline_id = $2 and d.deleted_at is null \
           and d.status <> 'open' \
           and ($3::timestamptz is null or d.closed_at >= $3) \
           and ($4::timestamptz is null or d.closed_at < $4) \
         group by 1, 2, 3 \
         order by 1, 4 desc, 3",
    )
    .bind(tx.org())
    .bind(pipeline_id)
    .bind(query.since)
    .bind(query.until)
    .fetch_all(tx.conn())
    .await?;
    let mut out: Vec<VelocityPeriod> = Vec::new();
    for (month, status, reason, n) in rows {
        if out.last().is_none_or(|p| p.month != month) {
            out.push(VelocityPeriod {
                month,
                won: 0,
                lost: 0,
                win_rate: None,
                lost_reasons: Vec::new(),
            });
        }
        let Some(p) = out.last_mut() else { continue };
        if status == "won" {
            p.won += n;
        } else {
            p.lost += n;
            p.lost_reasons.push(LostReasonCount {
                reason: reason.unwrap_or_else(|| "other".into()),
                deals: n,
            });
        }
    }
    for p in &mut out {
        let closed = p.won + p.lost;
        if closed > 0 {
            p.win_rate = Some((Decimal::from(p.won * 100) / Decimal::from(closed)).round_dp(2));
        }
    }
    Ok(out)
}

/// An open deal that has stayed in its stage too long.
#[derive(Clone, Serialize, sqlx::FromRow)]
pub struct StuckDeal {
    /// The deal.
    pub id: DealId,
    /// Its title.
    pub title: String,
    /// Its pipeline.
    pub pipeline_id: PipelineId,
    /// The pipeline's name.
    pub pipeline: String,
    /// Its stage.
    pub stage_id: StageId,
    /// The stage's name.
    pub stage: String,
    /// Its value.
    pub value: Decimal,
    /// The value's currency.
    pub currency: String,
    /// When it last entered its stage (its creation when the history has no entry).
    pub entered_at: DateTime<Utc>,
    /// Whole days since.
    pub days_in_stage: i32,
}

impl fmt::Debug for StuckDeal {
    /// Leaves out the title (it may name a person).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StuckDeal")
            .field("id", &self.id)
            .field("stage_id", &self.stage_id)
            .field("days_in_stage", &self.days_in_stage)
            .finish_non_exhaustive()
    }
}

/// Open deals of one pipeline (every pipeline when `None`) that entered their stage more
/// than `days` days ago (1 to 36,500), longest stuck first.
pub async fn stuck(tx: &mut Tx, pipeline: Option<PipelineId>, days: u32) -> Result<Vec<StuckDeal>> {
    tx.require(Permission::Read)?;
    if !(1..=36_500).contains(&days) {
        return Err(Error::invalid("days", "must be 1 to 36500"));
    }
    if let Some(p) = pipeline {
        resolve_pipeline(tx, Some(p)).await?;
    }
    Ok(sqlx::query_as(
        "select d.id, d.title, d.pipeline_id, p.name as pipeline, d.stage_id, \
                s.name as stage, d.value, d.currency::text as currency, \
                coalesce(h.entered, d.created_at) as entered_at, \
                floor(extract(epoch from now() - coalesce(h.entered, d.created_at)) \
                      / 86400)::int as days_in_stage \
         from deals d \
         join stages s on s.org_id = d.org_id and s.id = d.stage_id \
         join pipelines p on p.org_id = d.org_id and p.id = d.pipeline_id \
         left join lateral ( \
             select max(h.moved_at) as entered from deal_stage_history h \
             where h.org_id = d.org_id and h.deal_id = d.id and h.to_stage_id = d.stage_id \
         ) h on true \
         where d.org_id = $1 and d.status = 'open' and d.deleted_at is null \
           and ($2::uuid is null or d.pipeline_id = $2) \
           and coalesce(h.entered, d.created_at) < now() - make_interval(days => $3) \
         order by entered_at, d.id",
    )
    .bind(tx.org())
    .bind(pipeline)
    .bind(i32::try_from(days).unwrap_or(36_500))
    .fetch_all(tx.conn())
    .await?)
}
