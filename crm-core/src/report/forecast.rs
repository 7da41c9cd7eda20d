//! The weighted forecast: open deals by expected close month, owner or stage and
//! currency, with the value won beside it, now or as the pipeline stood at a past moment.

use std::str::FromStr;

use chrono::{DateTime, Datelike as _, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::as_of::DEAL_STATE_AS_OF;
use super::resolve_pipeline;
use crate::auth::Permission;
use crate::domain::InvalidValue;
use crate::error::Result;
use crate::ids::{PipelineId, StageId, UserId};
use crate::tenancy::Tx;

/// Open deals expected to close in one month (or without a date), in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ForecastRow {
    /// The first day of the month; `None` for deals without an expected close date.
    pub month: Option<NaiveDate>,
    /// The currency of `value` and `weighted`.
    pub currency: String,
    /// How many open deals.
    pub deals: i64,
    /// Their summed value.
    pub value: Decimal,
    /// Their value weighted by each deal's stage probability, rounded to cents.
    pub weighted: Decimal,
}

/// The weighted forecast of a pipeline over some months.
#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    /// The pipeline.
    pub pipeline_id: PipelineId,
    /// Its name.
    pub pipeline: String,
    /// The first month covered (the current month, UTC).
    pub from: NaiveDate,
    /// The first month no longer covered.
    pub until: NaiveDate,
    /// Per month and currency, months in order, then the deals without a date.
    pub rows: Vec<ForecastRow>,
}

/// The weighted forecast of a pipeline (the default one when `None`): its open deals
/// grouped by expected close month and currency, for `months` months (1 to 120) starting
/// with the current one. Deals whose expected close date has passed count in the current
/// month; deals expected later are left out; deals without a date form the last rows.
pub async fn forecast(tx: &mut Tx, pipeline: Option<PipelineId>, months: u32) -> Result<Forecast> {
    tx.require(Permission::Read)?;
    let (pipeline_id, name) = resolve_pipeline(tx, pipeline).await?;
    let today = Utc::now().date_naive();
    let from = today.with_day(1).unwrap_or(today);
    let until = from
        .checked_add_months(Months::new(months.clamp(1, 120)))
        .unwrap_or(NaiveDate::MAX);
    let rows: Vec<ForecastRow> = sqlx::query_as(
        "select case when d.expected_close_date is null then null \
                     else greatest(date_trunc('month', d.expected_close_date)::date, $3) end \
                    as month, \
                d.currency::text as currency, count(*) as deals, sum(d.value) as value, \
                round(sum(d.value * s.probability) / 100, 2) as weighted \
         from deals d join stages s on s.org_id = d.org_id and s.id = d.stage_id \
         where d.org_id = $1 and d.pipeline_id = $2 and d.status = 'open' \
           and d.deleted_at is null \
           and (d.expected_close_date is null or d.expected_close_date < $4) \
         group by 1, 2 order by 1 nulls last, 2",
    )
    .bind(tx.org())
    .bind(pipeline_id)
    .bind(from)
    .bind(until)
    .fetch_all(tx.conn())
    .await?;
    Ok(Forecast {
        pipeline_id,
        pipeline: name,
        from,
        until,
        rows,
    })
}

/// How [`forecast_by`] groups the deals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForecastBy {
    /// By expected close month (won deals by the month they were won).
    #[default]
    Month,
    /// By the deal's owner (the first of its users with the role owner, by id).
    Owner,
    /// By stage (won deals by the stage they were won in).
    Stage,
}

impl FromStr for ForecastBy {
    type Err = InvalidValue;
    fn from_str(s: &str) -> std::result::Result<Self, InvalidValue> {
        match s.trim().to_ascii_lowercase().as_str() {
            "month" => Ok(Self::Month),
            "owner" => Ok(Self::Owner),
            "stage" => Ok(Self::Stage),
            _ => Err(InvalidValue::new("expected month, owner or stage")),
        }
    }
}

/// What [`forecast_by`] covers.
#[derive(Debug, Clone, Default)]
pub struct ForecastQuery {
    /// One pipeline, or every pipeline when `None`.
    pub pipeline: Option<PipelineId>,
    /// The grouping.
    pub by: ForecastBy,
    /// How many months (1 to 120), starting with the month of the reference day (today,
    /// or the day of `as_of`, UTC).
    pub months: u32,
    /// The pipeline as it stood at this moment instead of now.
    pub as_of: Option<DateTime<Utc>>,
}

/// One group of a [`ForecastReport`] in one currency. Only the key fields of the grouping
/// are set: `month` for months, `owner_id`/`owner` for owners, `pipeline_id`, `stage_id`
/// and `stage` for stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ForecastGroup {
    /// The first day of the month; `None` for open deals without an expected close date.
    pub month: Option<NaiveDate>,
    /// The owner; `None` for deals without one.
    pub owner_id: Option<UserId>,
    /// The owner's name.
    pub owner: Option<String>,
    /// The stage's pipeline.
    pub pipeline_id: Option<PipelineId>,
    /// The stage.
    pub stage_id: Option<StageId>,
    /// The stage's name.
    pub stage: Option<String>,
    /// The currency of every amount of the row (currencies are never converted).
    pub currency: String,
    /// Open deals.
    pub deals: i64,
    /// Their summed value.
    pub value: Decimal,
    /// Their value weighted by each deal's stage probability, rounded to cents.
    pub weighted: Decimal,
    /// Deals won in the period covered (up to the reference moment).
    pub won_deals: i64,
    /// Their summed value.
    pub won_value: Decimal,
}

/// The weighted forecast by month, owner or stage, with the value won beside it.
#[derive(Debug, Clone, Serialize)]
pub struct ForecastReport {
    /// The pipeline, or `None` for every pipeline.
    pub pipeline_id: Option<PipelineId>,
    /// The grouping.
    pub by: ForecastBy,
    /// The moment the pipeline is shown at (`None`: now).
    pub as_of: Option<DateTime<Utc>>,
    /// The first month covered.
    pub from: NaiveDate,
    /// The first month no longer covered.
    pub until: NaiveDate,
    /// Per group and currency, in the grouping's order (months ascending with undated
    /// deals last; owners by name with deals without owner last; stages by pipeline and
    /// position).
    pub rows: Vec<ForecastGroup>,
}

/// The columns that key a group, and the order of the groups.
fn grouping(by: ForecastBy) -> (&'static str, &'static str) {
    match by {
        ForecastBy::Month => (
            "case when k.status = 'won' \
                      then date_trunc('month', k.closed_at at time zone 'UTC')::date \
                  when k.expected_close_date is null then null \
                  else greatest(date_trunc('month', k.expected_close_date)::date, $4) end \
                 as month, \
             null::uuid as owner_id, null::text as owner, null::uuid as pipeline_id, \
             null::uuid as stage_id, null::text as stage",
            "month nulls last, currency",
        ),
        ForecastBy::Owner => (
            "null::date as month, ow.user_id as owner_id, \
             nullif(btrim(concat_ws(' ', u.first_name, u.last_name)), '') as owner, \
             null::uuid as pipeline_id, null::uuid as stage_id, null::text as stage",
            "owner nulls last, owner_id nulls last, currency",
        ),
        ForecastBy::Stage => (
            "null::date as month, null::uuid as owner_id, null::text as owner, \
             k.pipeline_id, k.stage_id, k.stage_name as stage",
            "min(k.pipeline_name), pipeline_id, min(k.position), stage_id, currency",
        ),
    }
}

/// The weighted forecast of one pipeline or all (`query.pipeline`), grouped by expected
/// close month, owner or stage (`query.by`), each currency apart, optionally as the pipeline
/// stood at `query.as_of` (see [`board_as_of`](super::board_as_of) for what that rebuild
/// covers).
///
/// Open deals count when expected to close before the end of the window; an expected close
/// date already passed counts in the first month, deals without a date form their own
/// group. Beside them, the deals won from the start of the window up to the reference
/// moment.
pub async fn forecast_by(tx: &mut Tx, query: &ForecastQuery) -> Result<ForecastReport> {
    tx.require(Permission::Read)?;
    if let Some(p) = query.pipeline {
        resolve_pipeline(tx, Some(p)).await?;
    }
    let at = query.as_of.unwrap_or_else(Utc::now);
    let day = at.date_naive();
    let from = day.with_day(1).unwrap_or(day);
    let until = from
        .checked_add_months(Months::new(query.months.clamp(1, 120)))
        .unwrap_or(NaiveDate::MAX);
    let source = if query.as_of.is_some() {
        DEAL_STATE_AS_OF
    } else {
        "deal_state as ( \
             select d.id, d.stage_id, d.status, d.value, d.currency::text as currency, \
                    d.expected_close_date, d.closed_at \
             from deals d where d.org_id = $1 and d.deleted_at is null \
         )"
    };
    let (keys, order) = grouping(query.by);
    let owners = if query.by == ForecastBy::Owner {
        "left join (select distinct on (o.deal_id) o.deal_id, o.user_id from deal_owners o \
                    where o.org_id = $1 and o.role = 'owner' \
                    order by o.deal_id, o.user_id) ow on ow.deal_id = k.id \
         left join users u on u.org_id = $1 and u.id = ow.user_id"
    } else {
        ""
    };
    let sql = format!(
        "with {source}, \
         k as ( \
             select ds.*, s.pipeline_id, s.probability, s.name as stage_name, s.position, \
                    p.name as pipeline_name \
             from deal_state ds \
             join stages s on s.org_id = $1 and s.id = ds.stage_id \
             join pipelines p on p.org_id = $1 and p.id = s.pipeline_id \
             where ($3::uuid is null or s.pipeline_id = $3) \
               and ((ds.status = 'open' \
                     and (ds.expected_close_date is null or ds.expected_close_date < $5)) \
                    or (ds.status = 'won' and ds.closed_at <= $2 \
                        and (ds.closed_at at time zone 'UTC')::date >= $4 \
                        and (ds.closed_at at time zone 'UTC')::date < $5)) \
         ) \
         select {keys}, k.currency, \
                count(*) filter (where k.status = 'open') as deals, \
                coalesce(sum(k.value) filter (where k.status = 'open'), 0) as value, \
                round(coalesce(sum(k.value * k.probability) filter (where k.status = 'open'), \
                               0) / 100, 2) as weighted, \
                count(*) filter (where k.status = 'won') as won_deals, \
                coalesce(sum(k.value) filter (where k.status = 'won'), 0) as won_value \
         from k {owners} \
         group by 1, 2, 3, 4, 5, 6, 7 \
         order by {order}"
    );
    let rows: Vec<ForecastGroup> = sqlx::query_as(sqlx::AssertSqlSafe(sql)) // constant pieces only
        .bind(tx.org())
        .bind(at)
        .bind(query.pipeline)
        .bind(from)
        .bind(until)
        .fetch_all(tx.conn())
        .await?;
    Ok(ForecastReport {
        pipeline_id: query.pipeline,
        by: query.by,
        as_of: query.as_of,
        from,
        until,
        rows,
    })
}
