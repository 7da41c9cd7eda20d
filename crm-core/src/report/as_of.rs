//! The pipeline as it stood at a past moment, rebuilt from today's deals by walking back
//! over what changed since: the stage history gives each deal's stage then (the stage it
//! left in its first move afterwards), the audit log its status, value, currency, expected
//! close date and close time then (the `before` side of the first audit entry afterwards
//! that changed each field).
//!
//! The cost grows with what changed after the moment, not with the whole history. What
//! the rebuild does not cover: stage probabilities and names are today's, a deal deleted
//! and restored again counts from its creation, and a deal whose stage then was removed
//! since is left out (it has no column any more).

use chrono::{DateTime, Utc};

use super::board::{BoardColumn, BoardDeal, columns};
use super::resolve_pipeline;
use super::summary::{PipelineSummary, StageSummary};
use crate::auth::Permission;
use crate::error::Result;
use crate::ids::PipelineId;
use crate::tenancy::Tx;

/// The common table expressions `deal_state (id, stage_id, status, value, currency,
/// expected_close_date, closed_at)`: every deal that existed at `$2` (not deleted then) as
/// it stood at `$2`, for organization `$1`. Prefix it with `with ` and go on with `, ...`
/// or a `select`.
pub(crate) const DEAL_STATE_AS_OF: &str = "\
moves as ( \
    select distinct on (h.deal_id) h.deal_id, h.from_stage_id \
    from deal_stage_history h \
    where h.org_id = $1 and h.moved_at > $2 \
    order by h.deal_id, h.moved_at, h.id \
), \
changes as ( \
    select a.entity_id as deal_id, \
           (array_agg(a.payload -> 'status' -> 'before' order by a.seq) \
               filter (where a.payload ? 'status'))[1] as status, \
           (array_agg(a.payload -> 'value' -> 'before' order by a.seq) \
               filter (where a.payload ? 'value'))[1] as value, \
           (array_agg(a.payload -> 'currency' -> 'before' order by a.seq) \
               filter (where a.payload ? 'currency'))[1] as currency, \
           (array_agg(a.payload -> 'expected_close_date' -> 'before' order by a.seq) \
               filter (where a.payload ? 'expected_close_date'))[1] as expected_close_date, \
           (array_agg(a.payload -> 'closed_at' -> 'before' order by a.seq) \
               filter (where a.payload ? 'closed_at'))[1] as closed_at \
    from audit_log a \
    where a.org_id = $1 and a.entity_type = 'deal' and a.at > $2 and a.payload is not null \
      and a.action in ('update', 'win', 'lose', 'reopen') \
    group by a.entity_id \
), \
deal_state as ( \
    select d.id, \
           case when m.deal_id is null then d.stage_id else m.from_stage_id end as stage_id, \
           coalesce(c.status #>> '{}', \
                    case when d.closed_at <= $2 then d.status else 'open' end) as status, \
           case when c.value is null then d.value \
                else (c.value #>> '{}')::numeric end as value, \
           case when c.currency is null then d.currency::text \
                else c.currency #>> '{}' end as currency, \
           case when c.expected_close_date is null then d.expected_close_date \
                else (c.expected_close_date #>> '{}')::date end as expected_close_date, \
           case when c.closed_at is null then d.closed_at \
                else (c.closed_at #>> '{}')::timestamptz end as closed_at \
    from deals d \
    left join moves m on m.deal_id = d.id \
    left join changes c on c.deal_id = d.id \
    where d.org_id = $1 and d.created_at <= $2 \
      and (d.deleted_at is null or d.deleted_at > $2) \
)";

/// The board of a pipeline (the default one when `None`) as it stood at `at`: every stage
/// (as it is today) with the deals that were open in it then, their value, currency and
/// expected close date then, and their days in the stage counted up to `at`.
pub async fn board_as_of(
    tx: &mut Tx,
    pipeline: Option<PipelineId>,
    at: DateTime<Utc>,
) -> Result<Vec<BoardColumn>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let (pipeline_id, _) = resolve_pipeline(tx, pipeline).await?;
    let sql = format!(
        "with {DEAL_STATE_AS_OF} \
         select ds.id, ds.stage_id, d.title, ds.value, ds.currency, \
                co.name as company, \
                coalesce(nullif(btrim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email) \
                    as contact, \
                ds.expected_close_date, \
                greatest(0, floor(extract(epoch from $2 - coalesce(h.entered, d.created_at)) \
                                  / 86400))::int as days_in_stage, \
                d.version \
         from deal_state ds \
         join stages s on s.org_id = $1 and s.id = ds.stage_id and s.pipeline_id = $3 \
         join deals d on d.org_id = $1 and d.id = ds.id \
         left join contacts c on c.org_id = d.org_id and c.id = d.contact_id \
         left join companies co on co.org_id = d.org_id and co.id = d.company_id \
         left join lateral ( \
             select h.moved_at as entered from deal_stage_history h \
             where h.org_id = $1 and h.deal_id = ds.id and h.moved_at <= $2 \
             order by h.moved_at desc limit 1 \
         ) h on true \
         where ds.status = 'open' \
         order by ds.expected_close_date nulls last, ds.id"
    );
    let deals: Vec<BoardDeal> = sqlx::query_as(sqlx::AssertSqlSafe(sql)) // constant pieces only
        .bind(org)
        .bind(at)
        .bind(pipeline_id)
        .fetch_all(tx.conn())
        .await?;
    columns(tx, pipeline_id, deals).await
}

/// A stage of the summary with the pipeline's won and lost counts (the same on every row).
#[derive(sqlx::FromRow)]
struct SummaryRow {
    #[sqlx(flatten)]
    stage: StageSummary,
    won: i64,
    lost: i64,
}

/// The summary of a pipeline (the default one when `None`) as it stood at `at`: per stage
/// and currency the deals open in it then with their value then, weighted by today's
/// probability; won and lost counts up to `at`.
pub async fn pipeline_summary_as_of(
    tx: &mut Tx,
    pipeline: Option<PipelineId>,
    at: DateTime<Utc>,
) -> Result<PipelineSummary> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let (pipeline_id, name) = resolve_pipeline(tx, pipeline).await?;
    let sql = format!(
        "with {DEAL_STATE_AS_OF}, \
         here as ( \
             select ds.* from deal_state ds \
             join stages s on s.org_id = $1 and s.id = ds.stage_id and s.pipeline_id = $3 \
         ), \
         open_by_stage as ( \
             select stage_id, currency, count(*) as deals, sum(value) as value \
             from here where status = 'open' group by stage_id, currency \
         ) \
         select s.id as stage_id, s.name as stage, s.position, s.probability, \
                coalesce(g.deals, 0) as deals, coalesce(g.value, 0) as value, \
                round(coalesce(g.value, 0) * s.probability / 100, 2) as weighted, \
                coalesce(g.currency, o.default_currency::text) as currency, \
                (select count(*) from here where status = 'won') as won, \
                (select count(*) from here where status = 'lost') as lost \
         from stages s \
         join organizations o on o.id = s.org_id \
         left join open_by_stage g on g.stage_id = s.id \
         where s.org_id = $1 and s.pipeline_id = $3 \
         order by s.position, currency"
    );
    let rows: Vec<SummaryRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)) // constant pieces only
        .bind(org)
        .bind(at)
        .bind(pipeline_id)
        .fetch_all(tx.conn())
        .await?;
    let (won, lost) = rows.first().map_or((0, 0), |r| (r.won, r.lost));
    let stages = rows.into_iter().map(|r| r.stage).collect();
    Ok(PipelineSummary {
        pipeline_id,
        pipeline: name,
        stages,
        won,
        lost,
    })
}
