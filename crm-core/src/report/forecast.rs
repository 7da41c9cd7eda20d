//! The weighted forecast: open deals by expected close month and currency.

use chrono::{Datelike as _, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::resolve_pipeline;
use crate::auth::Permission;
use crate::error::Result;
use crate::ids::PipelineId;
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
