//! Changing pipelines and their stages: `pipeline add`, `rename`, `default`, `delete` and
//! `pipeline stage ...`.

use anyhow::Result;
use crm_core::store::pipeline::{self, Pipeline};
use crm_core::{Scope, StageId, Tx};
use rust_decimal::Decimal;

use super::print::print_pipeline;
use super::{PipelineArg, StageCommand};
use crate::cli::Format;
use crate::confirm::{Deletion, before_destroying, delete_after_asking, needs_terminal_or_yes};
use crate::ctx::Ctx;
use crate::exit;
use crate::resolve::{resolve_pipeline, stage_in};

/// `pipeline add`: a new pipeline with its stages.
pub(super) async fn add(
    mut tx: Tx,
    name: &str,
    stages: &[(String, Decimal)],
    default: bool,
    format: Format,
) -> Result<()> {
    let p = pipeline::create(&mut tx, name, stages, default).await?;
    tx.commit().await?;
    print_pipeline(format, &p)
}

/// `pipeline rename`, at the version read (default: the current one).
pub(super) async fn rename(
    mut tx: Tx,
    reference: &str,
    new_name: &str,
    at_version: Option<i32>,
    format: Format,
) -> Result<()> {
    let p = resolve_pipeline(&mut tx, Some(reference)).await?;
    let version = at_version.unwrap_or(p.version);
    let p = pipeline::rename(&mut tx, p.id, new_name, version).await?;
    tx.commit().await?;
    print_pipeline(format, &p)
}

/// `pipeline default`: makes the pipeline the organization's default.
pub(super) async fn set_default(mut tx: Tx, reference: &str, format: Format) -> Result<()> {
    let p = resolve_pipeline(&mut tx, Some(reference)).await?;
    let p = pipeline::set_default(&mut tx, p.id).await?;
    tx.commit().await?;
    print_pipeline(format, &p)
}

/// `pipeline delete`: after showing what depends on it and asking.
pub(super) async fn delete(
    mut tx: Tx,
    scope: &Scope,
    reference: &str,
    yes: bool,
    dry_run: bool,
    ctx: &Ctx,
) -> Result<()> {
    needs_terminal_or_yes(yes || dry_run)?;
    let p = resolve_pipeline(&mut tx, Some(reference)).await?;
    let dependents = crm_core::store::dependents::of_pipeline(&mut tx, p.id).await?;
    tx.commit().await?;
    let target = format!("pipeline '{}'", p.name);
    let asked = Deletion {
        yes,
        dry_run,
        target: &target,
        dependents: &dependents,
    };
    let delete = async |tx: &mut Tx| pipeline::delete(tx, p.id).await;
    if !delete_after_asking(ctx, scope, asked, p.id, delete).await? {
        return Ok(());
    }
    ctx.note("pipeline deleted");
    Ok(())
}

/// What `pipeline stage remove` was given.
pub(super) struct StageRemoval {
    /// The stage to remove.
    pub(super) stage: String,
    /// The stage its deals move to.
    pub(super) move_to: Option<String>,
    /// Do not ask.
    pub(super) yes: bool,
    /// Show, change nothing.
    pub(super) dry_run: bool,
    /// The pipeline the stage is named in.
    pub(super) pipeline: Option<String>,
}

/// `pipeline stage remove`: after showing what depends on the stage and asking.
pub(super) async fn remove_stage(
    mut tx: Tx,
    scope: &Scope,
    r: StageRemoval,
    ctx: &Ctx,
) -> Result<()> {
    let (yes, dry_run) = (r.yes, r.dry_run);
    needs_terminal_or_yes(yes || dry_run)?;
    let (p, id) = pipeline_and_stage(&mut tx, r.pipeline.as_deref(), &r.stage).await?;
    let target = match &r.move_to {
        Some(t) => Some(stage_in(&p, t)?),
        None => None,
    };
    let dependents = crm_core::store::dependents::of_stage(&mut tx, id).await?;
    tx.commit().await?;
    let stage_name = |sid: StageId| {
        p.stages
            .iter()
            .find(|s| s.id == sid)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let mut what = format!("stage '{}' of pipeline '{}'", stage_name(id), p.name);
    if let Some(t) = target {
        what.push_str(&format!(" (its deals move to '{}')", stage_name(t)));
    }
    if !before_destroying(ctx, yes, dry_run, "remove", &what, &dependents)? {
        return Ok(());
    }
    let p = scope
        .run(async |tx| {
            pipeline::remove_stage(tx, id, target).await?;
            pipeline::get(tx, p.id).await
        })
        .await?;
    print_pipeline(ctx.format(), &p)
}

/// The other `pipeline stage` commands: add, rename, probability, reorder.
pub(super) async fn stage(mut tx: Tx, cmd: StageCommand, format: Format) -> Result<()> {
    let p = apply_stage(&mut tx, cmd).await?;
    tx.commit().await?;
    print_pipeline(format, &p)
}

/// The pipeline and the stage named by `stage` in it. A stage id without --pipeline finds
/// its own pipeline.
pub(super) async fn pipeline_and_stage(
    tx: &mut Tx,
    pipeline: Option<&str>,
    stage: &str,
) -> Result<(Pipeline, StageId)> {
    if pipeline.is_none()
        && let Ok(id) = stage.trim().parse::<StageId>()
    {
        let all = pipeline::list(tx).await?;
        return match all
            .into_iter()
            .find(|p| p.stages.iter().any(|s| s.id == id))
        {
            Some(p) => Ok((p, id)),
            None => Err(exit::coded(
                exit::NOT_FOUND,
                "stage not found; `crm pipeline show NAME` lists the stages of a pipeline",
            )),
        };
    }
    let p = resolve_pipeline(tx, pipeline).await?;
    let id = stage_in(&p, stage)?;
    Ok((p, id))
}

/// Runs a stage command; returns the pipeline as it is afterwards.
async fn apply_stage(tx: &mut Tx, cmd: StageCommand) -> Result<Pipeline> {
    let pipeline_id = match cmd {
        StageCommand::Add {
            name,
            probability,
            position,
            pipeline: PipelineArg { pipeline },
        } => {
            let p = resolve_pipeline(tx, pipeline.as_deref()).await?;
            pipeline::add_stage(tx, p.id, &name, probability, position).await?;
            p.id
        }
        StageCommand::Rename {
            stage,
            new_name,
            pipeline: PipelineArg { pipeline },
        } => {
            let (p, id) = pipeline_and_stage(tx, pipeline.as_deref(), &stage).await?;
            pipeline::rename_stage(tx, id, &new_name).await?;
            p.id
        }
        StageCommand::Probability {
            stage,
            probability,
            pipeline: PipelineArg { pipeline },
        } => {
            let (p, id) = pipeline_and_stage(tx, pipeline.as_deref(), &stage).await?;
            pipeline::set_probability(tx, id, probability).await?;
            p.id
        }
        StageCommand::Reorder {
            stages,
            pipeline: PipelineArg { pipeline },
        } => {
            let (p, _) = pipeline_and_stage(tx, pipeline.as_deref(), &stages[0]).await?;
            let ids = stages
                .iter()
                .map(|s| stage_in(&p, s))
                .collect::<Result<Vec<StageId>>>()?;
            pipeline::reorder_stages(tx, p.id, &ids).await?;
            p.id
        }
        StageCommand::Remove {
            stage,
            move_to,
            pipeline: PipelineArg { pipeline },
            ..
        } => {
            let (p, id) = pipeline_and_stage(tx, pipeline.as_deref(), &stage).await?;
            let target = match &move_to {
                Some(t) => Some(stage_in(&p, t)?),
                None => None,
            };
            pipeline::remove_stage(tx, id, target).await?;
            p.id
        }
    };
    Ok(pipeline::get(tx, pipeline_id).await?)
}
