//! Reports over the pipeline: the board summary and the weighted forecast.

use std::fmt;

use chrono::{Datelike as _, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::ids::{DealId, PipelineId, StageId};
use crate::tenancy::Tx;

/// One stage of a pipeline summary, per currency.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct StageSummary {
    /// The stage.
    pub stage_id: StageId,
    /// Its name.
    pub stage: String,
    /// Its position in the pipeline (0 first).
    pub position: i32,
    /// Its win probability in percent.
    pub probability: Decimal,
    /// Open deals in the stage.
    pub deals: i64,
    /// Their summed value.
    pub value: Decimal,
    /// The value weighted by the stage's probability.
    pub weighted: Decimal,
    /// The currency of `value` and `weighted`.
    pub currency: String,
}

/// The summary of one pipeline: every stage in order, with its open deals.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineSummary {
    /// The pipeline.
    pub pipeline_id: PipelineId,
    /// Its name.
    pub pipeline: String,
    /// Stages in order (a stage appears once per currency of its deals, and once with zero
    /// deals in the organization's default currency when empty).
    pub stages: Vec<StageSummary>,
    /// Won deals (count).
    pub won: i64,
    /// Lost deals (count).
    pub lost: i64,
}

/// Summarises a pipeline (the default one when `pipeline` is `None`).
pub async fn pipeline_summary(
    tx: &mut Tx,
    pipeline: Option<PipelineId>,
) -> Result<PipelineSummary> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let (pipeline_id, name) = resolve_pipeline(tx, pipeline).await?;
    let stages: Vec<StageSummary> = sqlx::query_as(
        "select s.id as stage_id, s.name as stage, s.position, s.probability, \
                count(d.id) as deals, coalesce(sum(d.value), 0) as value, \
                round(coalesce(sum(d.value), 0) * s.probability / 100, 2) as weighted, \
                coalesce(d.currency::text, o.default_currency::text) as currency \
         from stages s \
         join organizations o on o.id = s.org_id \
         left join deals d on d.org_id = s.org_id and d.stage_id = s.id \
              and d.status = 'open' and d.deleted_at is null \
         where s.org_id = $1 and s.pipeline_id = $2 \
         group by s.id, s.name, s.position, s.probability, d.currency, o.default_currency \
         order by s.position, currency",
    )
    .bind(org)
    .bind(pipeline_id)
    .fetch_all(tx.conn())
    .await?;
    let (won, lost): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where status = 'won'), count(*) filter (where status = 'lost') \
         from deals where org_id = $1 and pipeline_id = $2 and deleted_at is null",
    )
    .bind(org)
    .bind(pipeline_id)
    .fetch_one(tx.conn())
    .await?;
    Ok(PipelineSummary {
        pipeline_id,
        pipeline: name,
        stages,
        won,
        lost,
    })
}

/// The live pipeline `pipeline`, or the default one when `None`: its id and name.
async fn resolve_pipeline(
    tx: &mut Tx,
    pipeline: Option<PipelineId>,
) -> Result<(PipelineId, String)> {
    let row: Option<(PipelineId, String)> = sqlx::query_as(
        "select id, name from pipelines where org_id = $1 and deleted_at is null \
         and (id = $2 or ($2 is null and is_default)) limit 1",
    )
    .bind(tx.org())
    .bind(pipeline)
    .fetch_optional(tx.conn())
    .await?;
    row.ok_or(Error::NotFound { entity: "pipeline" })
}

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

/// One open deal on the board.
#[derive(Clone, Serialize, sqlx::FromRow)]
pub struct BoardDeal {
    /// The deal.
    pub id: DealId,
    /// Its stage.
    pub stage_id: StageId,
    /// Its title.
    pub title: String,
    /// Its value.
    pub value: Decimal,
    /// The value's currency.
    pub currency: String,
    /// The company's name.
    pub company: Option<String>,
    /// The contact's display name.
    pub contact: Option<String>,
    /// When it is expected to close.
    pub expected_close_date: Option<NaiveDate>,
    /// Whole days since it last entered its stage.
    pub days_in_stage: i32,
    /// The deal's version (for a move with a version check).
    pub version: i32,
}

impl fmt::Debug for BoardDeal {
    /// Leaves out the contact's name (personal data).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoardDeal")
            .field("id", &self.id)
            .field("stage_id", &self.stage_id)
            .field("value", &self.value)
            .field("currency", &self.currency)
            .field("days_in_stage", &self.days_in_stage)
            .finish_non_exhaustive()
    }
}

/// One stage of the board with its open deals.
#[derive(Debug, Clone, Serialize)]
pub struct BoardColumn {
    /// The stage.
    pub stage_id: StageId,
    /// Its name.
    pub stage: String,
    /// Its position (0 first).
    pub position: i32,
    /// Its win probability in percent.
    pub probability: Decimal,
    /// Its open deals, by expected close date (undated last), then age.
    pub deals: Vec<BoardDeal>,
}

/// The board of a pipeline (the default one when `None`): every stage by position with its
/// open deals. Two queries, whatever the number of deals.
pub async fn board(tx: &mut Tx, pipeline: Option<PipelineId>) -> Result<Vec<BoardColumn>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let (pipeline_id, _) = resolve_pipeline(tx, pipeline).await?;
    let stages: Vec<(StageId, String, i32, Decimal)> = sqlx::query_as(
        "select id, name, position, probability from stages \
         where org_id = $1 and pipeline_id = $2 order by position",
    )
    .bind(org)
    .bind(pipeline_id)
    .fetch_all(tx.conn())
    .await?;
    let deals: Vec<BoardDeal> = sqlx::query_as(
        "select d.id, d.stage_id, d.title, d.value, d.currency::text as currency, \
                co.name as company, \
                coalesce(nullif(btrim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email) \
                    as contact, \
                d.expected_close_date, \
                greatest(0, floor(extract(epoch from now() - coalesce(h.entered, d.created_at)) \
                                  / 86400))::int as days_in_stage, \
                d.version \
         from deals d \
         left join contacts c on c.org_id = d.org_id and c.id = d.contact_id \
         left join companies co on co.org_id = d.org_id and co.id = d.company_id \
         left join lateral ( \
             select max(h.moved_at) as entered from deal_stage_history h \
             where h.org_id = d.org_id and h.deal_id = d.id and h.to_stage_id = d.stage_id \
         ) h on true \
         where d.org_id = $1 and d.pipeline_id = $2 and d.status = 'open' \
           and d.deleted_at is null \
         order by d.expected_close_date nulls last, d.id",
    )
    .bind(org)
    .bind(pipeline_id)
    .fetch_all(tx.conn())
    .await?;
    let mut columns: Vec<BoardColumn> = stages
        .into_iter()
        .map(|(stage_id, stage, position, probability)| BoardColumn {
            stage_id,
            stage,
            position,
            probability,
            deals: Vec::new(),
        })
        .collect();
    for deal in deals {
        if let Some(c) = columns.iter_mut().find(|c| c.stage_id == deal.stage_id) {
            c.deals.push(deal);
        }
    }
    Ok(columns)
}
