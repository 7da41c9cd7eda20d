//! Reports over the pipeline: the board and its summary, the weighted forecast (by month,
//! owner or stage), stage velocity and stuck deals, and the board and forecast as they
//! stood on a past date, rebuilt from the stage history and the audit log.
//!
//! One file per report; the shared helpers live here.

mod as_of;
mod board;
mod forecast;
mod summary;
mod velocity;

pub use as_of::{board_as_of, pipeline_summary_as_of};
pub use board::{BoardColumn, BoardDeal, board};
pub use forecast::{
    Forecast, ForecastBy, ForecastGroup, ForecastQuery, ForecastReport, ForecastRow, forecast,
    forecast_by,
};
pub use summary::{PipelineSummary, StageSummary, pipeline_summary};
pub use velocity::{
    LostReasonCount, StageVelocity, StuckDeal, Velocity, VelocityPeriod, VelocityQuery, stuck,
    velocity,
};

use crate::error::{Error, Result};
use crate::ids::PipelineId;
use crate::tenancy::Tx;

/// The live pipeline `pipeline`, or the default one when `None`: its id and name.
pub(crate) async fn resolve_pipeline(
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
