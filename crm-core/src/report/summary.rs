//! The board summary: open deals per stage and currency, won and lost counts.

use rust_decimal::Decimal;
use serde::Serialize;

use super::resolve_pipeline;
use crate::auth::Permission;
use crate::error::Result;
use crate::ids::{PipelineId, StageId};
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
