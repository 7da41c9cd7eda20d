//! Pipelines and their ordered stages (each with a win probability in percent).
//!
//! A pipeline and its stages are one aggregate: every stage change takes the pipeline's row
//! lock and bumps the pipeline's `version`, so concurrent edits of one pipeline run one
//! after the other. Stage positions stay contiguous (`0..n`); moves use the deferrable
//! `stages_position_unique` constraint, deferred for the moment of the shift and checked
//! again before the operation returns.

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::Permission;
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{PipelineId, StageId};
use crate::store::{diff, stale_or_missing};
use crate::tenancy::Tx;

/// One stage of a pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Stage {
    /// Its id.
    pub id: StageId,
    /// Its name, unique within the pipeline.
    pub name: String,
    /// Its place in the pipeline, `0` first.
    pub position: i32,
    /// Win probability in percent (0 to 100, two decimals).
    pub probability: Decimal,
}

/// A pipeline with its stages in order.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Pipeline {
    /// Its id.
    pub id: PipelineId,
    /// Its name, unique in the organization.
    pub name: String,
    /// Whether deals go here when no pipeline is named (one per organization).
    pub is_default: bool,
    /// Its place among the pipelines, `0` first.
    pub position: i32,
    /// Its stages, by position.
    #[sqlx(skip)]
    pub stages: Vec<Stage>,
    /// Version for optimistic locking; bumped by every change of the pipeline or a stage.
    pub version: i32,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it or one of its stages last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(sqlx::FromRow)]
struct StageRow {
    pipeline_id: PipelineId,
    #[sqlx(flatten)]
    stage: Stage,
}

/// Checks a pipeline or stage name: trimmed, 1 to 200 characters.
fn check_name(errors: &mut FieldErrors, field: &str, name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() {
        errors.add(field, "must not be empty");
        None
    } else if name.chars().count() > 200 {
        errors.add(field, "must be at most 200 characters");
        None
    } else if let Err(e) = crate::domain::text::check_single_line(name) {
        errors.add(field, e.message().to_string());
        None
    } else {
        Some(name.to_string())
    }
}

/// Checks a win probability: 0 to 100 percent with at most two decimals.
fn check_probability(errors: &mut FieldErrors, field: &str, p: Decimal) -> Option<Decimal> {
    if p < Decimal::ZERO || p > Decimal::ONE_HUNDRED {
        errors.add(field, "must be between 0 and 100 (percent)");
        None
    } else if p.normalize().scale() > 2 {
        errors.add(field, "must not have more than 2 decimal places");
        None
    } else {
        let mut p = p.normalize();
        p.rescale(2);
        Some(p)
    }
}

async fn stages_of(tx: &mut Tx, pipelines: &[Uuid]) -> Result<Vec<StageRow>> {
    Ok(sqlx::query_as(
        "select pipeline_id, id, name, position, probability from stages \
         where org_id = $1 and pipeline_id = any($2) order by pipeline_id, position",
    )
    .bind(tx.org())
    .bind(pipelines)
    .fetch_all(tx.conn())
    .await?)
}

async fn with_stages(tx: &mut Tx, mut pipeline: Pipeline) -> Result<Pipeline> {
    pipeline.stages = stages_of(tx, &[pipeline.id.uuid()])
        .await?
        .into_iter()
        .map(|r| r.stage)
        .collect();
    Ok(pipeline)
}

/// The live pipeline `id`, optionally locked for update (stages not loaded).
async fn row(tx: &mut Tx, id: PipelineId, lock: bool) -> Result<Pipeline> {
    let sql = if lock {
        "select id, name, is_default, position, version, created_at, updated_at from pipelines \
         where org_id = $1 and id = $2 and deleted_at is null for update"
    } else {
        "select id, name, is_default, position, version, created_at, updated_at from pipelines \
         where org_id = $1 and id = $2 and deleted_at is null"
    };
    sqlx::query_as(sql)
        .bind(tx.org())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound { entity: "pipeline" })
}

/// Bumps the pipeline's version after a change of its stages (the row is locked already).
async fn touch(tx: &mut Tx, id: PipelineId) -> Result<()> {
    sqlx::query("update pipelines set updated_at = now() where org_id = $1 and id = $2")
        .bind(tx.org())
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Defers the stage position check while positions shift.
async fn defer_positions(tx: &mut Tx) -> Result<()> {
    sqlx::query("set constraints stages_position_unique deferred")
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Checks the stage positions now (instead of at commit), so a problem surfaces in the
/// operation that caused it.
async fn check_positions(tx: &mut Tx) -> Result<()> {
    sqlx::query("set constraints stages_position_unique immediate")
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The stage `id` and the pipeline it belongs to; the pipeline must be live. With `lock`,
/// the pipeline's row is locked.
async fn stage_and_pipeline(tx: &mut Tx, id: StageId, lock: bool) -> Result<(Stage, Pipeline)> {
    let pipeline_id: Option<PipelineId> =
        sqlx::query_scalar("select pipeline_id from stages where org_id = $1 and id = $2")
            .bind(tx.org())
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    let pipeline_id = pipeline_id.ok_or(Error::NotFound { entity: "stage" })?;
    let pipeline = row(tx, pipeline_id, lock).await.map_err(|e| match e {
        Error::NotFound { .. } => Error::NotFound { entity: "stage" },
        e => e,
    })?;
    let stage: Stage = sqlx::query_as(
        "select id, name, position, probability from stages where org_id = $1 and id = $2",
    )
    .bind(tx.org())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(Error::NotFound { entity: "stage" })?;
    Ok((stage, pipeline))
}

/// Every live pipeline with its stages, by position and name.
pub async fn list(tx: &mut Tx) -> Result<Vec<Pipeline>> {
    tx.require(Permission::Read)?;
    let mut pipelines: Vec<Pipeline> = sqlx::query_as(
        "select id, name, is_default, position, version, created_at, updated_at from pipelines \
         where org_id = $1 and deleted_at is null order by position, name",
    )
    .bind(tx.org())
    .fetch_all(tx.conn())
    .await?;
    let ids: Vec<Uuid> = pipelines.iter().map(|p| p.id.uuid()).collect();
    for row in stages_of(tx, &ids).await? {
        if let Some(p) = pipelines.iter_mut().find(|p| p.id == row.pipeline_id) {
            p.stages.push(row.stage);
        }
    }
    Ok(pipelines)
}

/// The live pipeline `id` with its stages.
pub async fn get(tx: &mut Tx, id: PipelineId) -> Result<Pipeline> {
    tx.require(Permission::Read)?;
    let p = row(tx, id, false).await?;
    with_stages(tx, p).await
}

/// The live pipeline named `name` (ignoring case; an exact match wins).
pub async fn get_by_name(tx: &mut Tx, name: &str) -> Result<Pipeline> {
    tx.require(Permission::Read)?;
    let p: Pipeline = sqlx::query_as(
        "select id, name, is_default, position, version, created_at, updated_at from pipelines \
         where org_id = $1 and deleted_at is null and lower(name) = lower(btrim($2)) \
         order by (name = btrim($2)) desc limit 1",
    )
    .bind(tx.org())
    .bind(name)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(Error::NotFound { entity: "pipeline" })?;
    with_stages(tx, p).await
}

/// The live pipeline named by `reference`: its id, or else its name.
pub async fn find(tx: &mut Tx, reference: &str) -> Result<Pipeline> {
    match Uuid::parse_str(reference.trim()) {
        Ok(id) => get(tx, PipelineId(id)).await,
        Err(_) => get_by_name(tx, reference).await,
    }
}

/// The organization's default pipeline.
pub async fn default(tx: &mut Tx) -> Result<Pipeline> {
    tx.require(Permission::Read)?;
    let p: Pipeline = sqlx::query_as(
        "select id, name, is_default, position, version, created_at, updated_at from pipelines \
         where org_id = $1 and deleted_at is null and is_default",
    )
    .bind(tx.org())
    .fetch_optional(tx.conn())
    .await?
    .ok_or(Error::NotFound {
        entity: "default pipeline",
    })?;
    with_stages(tx, p).await
}

/// Creates a pipeline with `stages` (name, probability in percent) in that order. It
/// becomes the default when `make_default` is set or when the organization has no default
/// pipeline. Needs at least one stage; stage names must differ (ignoring case).
pub async fn create<S: AsRef<str>>(
    tx: &mut Tx,
    name: &str,
    stages: &[(S, Decimal)],
    make_default: bool,
) -> Result<Pipeline> {
    tx.require(Permission::Configure)?;
    let org = tx.org();
    let mut errors = FieldErrors::new();
    let name = check_name(&mut errors, "name", name);
    if stages.is_empty() {
        errors.add("stages", "a pipeline needs at least one stage");
    }
    let mut names: Vec<String> = Vec::with_capacity(stages.len());
    let mut probabilities: Vec<Decimal> = Vec::with_capacity(stages.len());
    for (i, (stage, probability)) in stages.iter().enumerate() {
        let field = format!("stages[{i}].name");
        if let Some(n) = check_name(&mut errors, &field, stage.as_ref()) {
            if names.iter().any(|m| m.to_lowercase() == n.to_lowercase()) {
                errors.add(field, "another stage of the pipeline has this name");
            }
            names.push(n);
        }
        let field = format!("stages[{i}].probability");
        if let Some(p) = check_probability(&mut errors, &field, *probability) {
            probabilities.push(p);
        }
    }
    errors.into_result()?;
    let Some(name) = name else {
        return Err(Error::invalid("name", "must not be empty"));
    };

    let has_default: bool = sqlx::query_scalar(
        "select exists(select 1 from pipelines where org_id = $1 and is_default \
         and deleted_at is null)",
    )
    .bind(org)
    .fetch_one(tx.conn())
    .await?;
    let is_default = make_default || !has_default;
    if is_default && has_default {
        sqlx::query(
            "update pipelines set is_default = false where org_id = $1 and is_default \
             and deleted_at is null",
        )
        .bind(org)
        .execute(tx.conn())
        .await?;
    }
    let id = PipelineId::new();
    sqlx::query(
        "insert into pipelines (org_id, id, name, is_default, position) \
         select $1, $2, $3, $4, coalesce(max(position) + 1, 0) from pipelines where org_id = $1",
    )
    .bind(org)
    .bind(id)
    .bind(&name)
    .bind(is_default)
    .execute(tx.conn())
    .await?;
    let ids: Vec<Uuid> = names.iter().map(|_| StageId::new().uuid()).collect();
    sqlx::query(
        "insert into stages (org_id, id, pipeline_id, name, position, probability) \
         select $1, u.id, $2, u.name, (u.ord - 1)::int, u.probability \
         from unnest($3::uuid[], $4::text[], $5::numeric[]) with ordinality \
              as u(id, name, probability, ord)",
    )
    .bind(org)
    .bind(id)
    .bind(&ids)
    .bind(&names)
    .bind(&probabilities)
    .execute(tx.conn())
    .await?;
    let pipeline = get(tx, id).await?;
    tx.record(
        "pipeline",
        Some(id.uuid()),
        "create",
        &diff(None, Some(&pipeline)),
        Some("pipeline.created"),
        &json!({ "id": id, "stages": ids, "is_default": is_default }),
    )
    .await?;
    Ok(pipeline)
}

/// Renames a pipeline read at `version`.
pub async fn rename(tx: &mut Tx, id: PipelineId, name: &str, version: i32) -> Result<Pipeline> {
    tx.require(Permission::Configure)?;
    let mut errors = FieldErrors::new();
    let name = check_name(&mut errors, "name", name);
    errors.into_result()?;
    let before = get(tx, id).await?;
    let done = sqlx::query(
        "update pipelines set name = $3 where org_id = $1 and id = $2 and version = $4 \
         and deleted_at is null",
    )
    .bind(tx.org())
    .bind(id)
    .bind(&name)
    .bind(version)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        let org = tx.org();
        return Err(stale_or_missing(tx.conn(), "pipelines", "pipeline", org, id.uuid()).await);
    }
    let after = get(tx, id).await?;
    tx.record(
        "pipeline",
        Some(id.uuid()),
        "update",
        &diff(Some(&before), Some(&after)),
        Some("pipeline.updated"),
        &json!({ "id": id, "fields": ["name"] }),
    )
    .await?;
    Ok(after)
}

/// Makes `id` the organization's default pipeline (the previous default stops being one).
pub async fn set_default(tx: &mut Tx, id: PipelineId) -> Result<Pipeline> {
    tx.require(Permission::Configure)?;
    let org = tx.org();
    let target = row(tx, id, true).await?;
    if target.is_default {
        return with_stages(tx, target).await;
    }
    let previous: Option<PipelineId> = sqlx::query_scalar(
        "update pipelines set is_default = false where org_id = $1 and is_default \
         and deleted_at is null returning id",
    )
    .bind(org)
    .fetch_optional(tx.conn())
    .await?;
    sqlx::query("update pipelines set is_default = true where org_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    let after = get(tx, id).await?;
    tx.record(
        "pipeline",
        Some(id.uuid()),
        "set_default",
        &json!({ "is_default": { "before": false, "after": true }, "previous_default": previous }),
        Some("pipeline.updated"),
        &json!({ "id": id, "fields": ["is_default"], "previous_default": previous }),
    )
    .await?;
    Ok(after)
}

/// Soft-deletes a pipeline. Refused with [`Error::Conflict`] while it is the default or
/// holds open deals.
pub async fn delete(tx: &mut Tx, id: PipelineId) -> Result<()> {
    tx.require(Permission::Configure)?;
    let org = tx.org();
    let p = row(tx, id, true).await?;
    if p.is_default {
        return Err(Error::Conflict(
            "the default pipeline cannot be deleted; make another pipeline the default first"
                .into(),
        ));
    }
    let open: i64 = sqlx::query_scalar(
        "select count(*) from deals where org_id = $1 and pipeline_id = $2 and status = 'open' \
         and deleted_at is null",
    )
    .bind(org)
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    if open > 0 {
        return Err(Error::Conflict(format!(
            "the pipeline still has {open} open deal(s); move, win or lose them first"
        )));
    }
    sqlx::query("update pipelines set deleted_at = now() where org_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    tx.record(
        "pipeline",
        Some(id.uuid()),
        "delete",
        &json!({ "deleted_at": { "before": null, "after": "now" } }),
        Some("pipeline.deleted"),
        &json!({ "id": id }),
    )
    .await
}

/// Restores a soft-deleted pipeline (not as the default).
pub async fn restore(tx: &mut Tx, id: PipelineId) -> Result<Pipeline> {
    tx.require(Permission::Configure)?;
    let done = sqlx::query(
        "update pipelines set deleted_at = null, is_default = false \
         where org_id = $1 and id = $2 and deleted_at is not null",
    )
    .bind(tx.org())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound {
            entity: "deleted pipeline",
        });
    }
    let after = get(tx, id).await?;
    tx.record(
        "pipeline",
        Some(id.uuid()),
        "restore",
        &json!({ "deleted_at": { "before": "set", "after": null } }),
        Some("pipeline.restored"),
        &json!({ "id": id }),
    )
    .await?;
    Ok(after)
}

mod stage;

pub use stage::{add_stage, remove_stage, rename_stage, reorder_stages, set_probability};

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn probability_bounds_and_scale() {
        let mut e = FieldErrors::new();
        assert_eq!(check_probability(&mut e, "p", dec("0")), Some(dec("0.00")));
        assert_eq!(
            check_probability(&mut e, "p", dec("100")),
            Some(dec("100.00"))
        );
        assert_eq!(
            check_probability(&mut e, "p", dec("12.50")),
            Some(dec("12.50"))
        );
        assert!(e.is_empty());
        assert_eq!(check_probability(&mut e, "p", dec("-1")), None);
        assert_eq!(check_probability(&mut e, "p", dec("100.01")), None);
        assert_eq!(check_probability(&mut e, "p", dec("1.125")), None);
        assert_eq!(e.0.len(), 3);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        let mut e = FieldErrors::new();
        assert_eq!(check_name(&mut e, "name", "  Sales "), Some("Sales".into()));
        assert_eq!(check_name(&mut e, "name", "   "), None);
        assert_eq!(check_name(&mut e, "name", &"x".repeat(201)), None);
        assert_eq!(e.0.len(), 2);
        assert!(e.0.iter().all(|f| f.field == "name"));
    }
}
