//! The board: every stage of a pipeline with its open deals.

use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::resolve_pipeline;
use crate::auth::Permission;
use crate::error::Result;
use crate::ids::{DealId, PipelineId, StageId};
use crate::tenancy::Tx;

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
    columns(tx, pipeline_id, deals).await
}

/// The stages of a pipeline by position, each with its deals from `deals` (in their order).
pub(super) async fn columns(
    tx: &mut Tx,
    pipeline_id: PipelineId,
    deals: Vec<BoardDeal>,
) -> Result<Vec<BoardColumn>> {
    let stages: Vec<(StageId, String, i32, Decimal)> = sqlx::query_as(
        "select id, name, position, probability from stages \
         where org_id = $1 and pipeline_id = $2 order by position",
    )
    .bind(tx.org())
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
