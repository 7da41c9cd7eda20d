//! Adding, changing, reordering and removing the stages of a pipeline.

use super::*;

/// Adds a stage to a pipeline at `position` (`None`: at the end; a position past the end
/// appends). Later stages move one place back.
pub async fn add_stage(
    tx: &mut Tx,
    pipeline: PipelineId,
    name: &str,
    probability: Decimal,
    position: Option<i32>,
) -> Result<Stage> {
    tx.require(Permission::Configure)?;
    let org = tx.org();
    let mut errors = FieldErrors::new();
    let name = check_name(&mut errors, "name", name);
    let probability = check_probability(&mut errors, "probability", probability);
    if position.is_some_and(|p| p < 0) {
        errors.add("position", "must not be negative");
    }
    errors.into_result()?;
    let (Some(name), Some(probability)) = (name, probability) else {
        return Err(Error::invalid("name", "must not be empty"));
    };
    let p = row(tx, pipeline, true).await?;
    let p = with_stages(tx, p).await?;
    if p.stages
        .iter()
        .any(|s| s.name.to_lowercase() == name.to_lowercase())
    {
        return Err(Error::Conflict(
            "the pipeline already has a stage with this name".into(),
        ));
    }
    let count = i32::try_from(p.stages.len()).unwrap_or(i32::MAX);
    let position = position.map_or(count, |p| p.min(count));
    defer_positions(tx).await?;
    sqlx::query(
        "update stages set position = position + 1 \
         where org_id = $1 and pipeline_id = $2 and position >= $3",
    )
    .bind(org)
    .bind(pipeline)
    .bind(position)
    .execute(tx.conn())
    .await?;
    let id = StageId::new();
    let stage: Stage = sqlx::query_as(
        "insert into stages (org_id, id, pipeline_id, name, position, probability) \
         values ($1, $2, $3, $4, $5, $6) returning id, name, position, probability",
    )
    .bind(org)
    .bind(id)
    .bind(pipeline)
    .bind(&name)
    .bind(position)
    .bind(probability)
    .fetch_one(tx.conn())
    .await?;
    check_positions(tx).await?;
    touch(tx, pipeline).await?;
    tx.record(
        "stage",
        Some(id.uuid()),
        "create",
        &diff(None, Some(&stage)),
        Some("stage.created"),
        &json!({ "id": id, "pipeline_id": pipeline, "position": position }),
    )
    .await?;
    Ok(stage)
}

async fn update_stage(
    tx: &mut Tx,
    id: StageId,
    name: Option<String>,
    probability: Option<Decimal>,
) -> Result<Stage> {
    let (before, pipeline) = stage_and_pipeline(tx, id, true).await?;
    if let Some(name) = &name {
        let taken: bool = sqlx::query_scalar(
            "select exists(select 1 from stages where org_id = $1 and pipeline_id = $2 \
             and id <> $3 and lower(name) = lower($4))",
        )
        .bind(tx.org())
        .bind(pipeline.id)
        .bind(id)
        .bind(name)
        .fetch_one(tx.conn())
        .await?;
        if taken {
            return Err(Error::Conflict(
                "the pipeline already has a stage with this name".into(),
            ));
        }
    }
    let after: Stage = sqlx::query_as(
        "update stages set name = coalesce($3, name), probability = coalesce($4, probability) \
         where org_id = $1 and id = $2 returning id, name, position, probability",
    )
    .bind(tx.org())
    .bind(id)
    .bind(&name)
    .bind(probability)
    .fetch_one(tx.conn())
    .await?;
    touch(tx, pipeline.id).await?;
    let d = diff(Some(&before), Some(&after));
    tx.record(
        "stage",
        Some(id.uuid()),
        "update",
        &d,
        Some("stage.updated"),
        &json!({ "id": id, "pipeline_id": pipeline.id, "fields": crate::store::changed_fields(&d) }),
    )
    .await?;
    Ok(after)
}

/// Renames a stage (names are unique within a pipeline, ignoring case).
pub async fn rename_stage(tx: &mut Tx, stage: StageId, name: &str) -> Result<Stage> {
    tx.require(Permission::Configure)?;
    let mut errors = FieldErrors::new();
    let name = check_name(&mut errors, "name", name);
    errors.into_result()?;
    update_stage(tx, stage, name, None).await
}

/// Sets a stage's win probability (percent, 0 to 100, two decimals).
pub async fn set_probability(tx: &mut Tx, stage: StageId, probability: Decimal) -> Result<Stage> {
    tx.require(Permission::Configure)?;
    let mut errors = FieldErrors::new();
    let probability = check_probability(&mut errors, "probability", probability);
    errors.into_result()?;
    update_stage(tx, stage, None, probability).await
}

/// Puts the stages of a pipeline in the order `ordered`, which must name every stage of the
/// pipeline exactly once.
pub async fn reorder_stages(
    tx: &mut Tx,
    pipeline: PipelineId,
    ordered: &[StageId],
) -> Result<Pipeline> {
    tx.require(Permission::Configure)?;
    let org = tx.org();
    let before = row(tx, pipeline, true).await?;
    let before = with_stages(tx, before).await?;
    let mut wanted: Vec<StageId> = ordered.to_vec();
    wanted.sort();
    wanted.dedup();
    let mut have: Vec<StageId> = before.stages.iter().map(|s| s.id).collect();
    have.sort();
    if wanted.len() != ordered.len() || wanted != have {
        return Err(Error::invalid(
            "stages",
            "must list every stage of the pipeline exactly once",
        ));
    }
    let ids: Vec<Uuid> = ordered.iter().map(|s| s.uuid()).collect();
    defer_positions(tx).await?;
    sqlx::query(
        "update stages s set position = (u.ord - 1)::int \
         from unnest($3::uuid[]) with ordinality as u(id, ord) \
         where s.org_id = $1 and s.pipeline_id = $2 and s.id = u.id and s.position <> u.ord - 1",
    )
    .bind(org)
    .bind(pipeline)
    .bind(&ids)
    .execute(tx.conn())
    .await?;
    check_positions(tx).await?;
    touch(tx, pipeline).await?;
    let after = get(tx, pipeline).await?;
    tx.record(
        "pipeline",
        Some(pipeline.uuid()),
        "reorder_stages",
        &diff(Some(&before), Some(&after)),
        Some("stage.reordered"),
        &json!({ "pipeline_id": pipeline, "stages": ids }),
    )
    .await?;
    Ok(after)
}

/// Removes a stage. Deals in it (open, closed or deleted) are first moved to
/// `move_deals_to`, a stage of the same pipeline, each with a stage-history entry; without
/// a target, a stage holding deals is refused with [`Error::Conflict`]. The last stage of a
/// pipeline cannot be removed.
pub async fn remove_stage(
    tx: &mut Tx,
    stage: StageId,
    move_deals_to: Option<StageId>,
) -> Result<()> {
    tx.require(Permission::Configure)?;
    let org = tx.org();
    let (removed, pipeline) = stage_and_pipeline(tx, stage, true).await?;
    let pipeline = with_stages(tx, pipeline).await?;
    if pipeline.stages.len() <= 1 {
        return Err(Error::Conflict(
            "a pipeline needs at least one stage; this is its last".into(),
        ));
    }
    if let Some(target) = move_deals_to
        && (target == stage || !pipeline.stages.iter().any(|s| s.id == target))
    {
        return Err(Error::invalid(
            "move_deals_to",
            "must be another stage of the same pipeline",
        ));
    }
    let moved = move_stage_deals(tx, stage, move_deals_to, pipeline.id).await?;
    delete_stage(tx, stage).await?;
    defer_positions(tx).await?;
    sqlx::query(
        "update stages set position = position - 1 \
         where org_id = $1 and pipeline_id = $2 and position > $3",
    )
    .bind(org)
    .bind(pipeline.id)
    .bind(removed.position)
    .execute(tx.conn())
    .await?;
    check_positions(tx).await?;
    touch(tx, pipeline.id).await?;
    tx.record(
        "stage",
        Some(stage.uuid()),
        "delete",
        &diff(Some(&removed), None),
        Some("stage.deleted"),
        &json!({
            "id": stage,
            "pipeline_id": pipeline.id,
            "moved_deals": moved.len(),
            "moved_to": move_deals_to,
        }),
    )
    .await
}

/// Moves the deals of `stage` to `target` (each with its stage history row, audit entry and
/// event); fails when the stage holds deals and no target is named. Returns the moved deals.
async fn move_stage_deals(
    tx: &mut Tx,
    stage: StageId,
    target: Option<StageId>,
    pipeline: PipelineId,
) -> Result<Vec<Uuid>> {
    let org = tx.org();
    let deals: i64 =
        sqlx::query_scalar("select count(*) from deals where org_id = $1 and stage_id = $2")
            .bind(org)
            .bind(stage)
            .fetch_one(tx.conn())
            .await?;
    if deals == 0 {
        return Ok(Vec::new());
    }
    let Some(target) = target else {
        return Err(Error::Conflict(format!(
            "{deals} deal(s) are in this stage; name a stage to move them to"
        )));
    };
    let moved: Vec<Uuid> = sqlx::query_scalar(
        "update deals set stage_id = $3 where org_id = $1 and stage_id = $2 returning id",
    )
    .bind(org)
    .bind(stage)
    .bind(target)
    .fetch_all(tx.conn())
    .await?;
    let history: Vec<Uuid> = moved.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query(MOVED_HISTORY)
        .bind(org)
        .bind(&history)
        .bind(stage)
        .bind(target)
        .bind(tx.actor().id)
        .bind(&moved)
        .execute(tx.conn())
        .await?;
    // One audit entry and one event per moved deal, in one statement.
    sqlx::query(MOVED_AUDIT)
        .bind(&moved)
        .bind(stage)
        .bind(target)
        .bind(pipeline)
        .execute(tx.conn())
        .await?;
    Ok(moved)
}

/// The stage history rows of deals moved out of a removed stage.
const MOVED_HISTORY: &str = "insert into deal_stage_history (org_id, id, deal_id, \
        from_stage_id, to_stage_id, actor_id, from_stage_name, to_stage_name) \
     select $1, u.id, u.deal_id, $3, $4, $5, \
            (select name from stages where org_id = $1 and id = $3), \
            (select name from stages where org_id = $1 and id = $4) \
     from unnest($2::uuid[], $6::uuid[]) as u(id, deal_id)";

/// The audit entries and events of deals moved out of a removed stage, in their order.
const MOVED_AUDIT: &str = "select crm_audit('deal', u.id, 'move', \
                jsonb_build_object('stage_id', jsonb_build_object('before', $2::uuid, \
                                                                  'after', $3::uuid))), \
            crm_emit('deal.stage_changed', 'deal', u.id, \
                jsonb_build_object('id', u.id, 'from', $2::uuid, 'to', $3::uuid, \
                                   'pipeline_id', $4::uuid, 'reason', 'stage_removed')) \
     from unnest($1::uuid[]) with ordinality as u(id, ord) order by u.ord";

/// Deletes the (emptied) stage row.
async fn delete_stage(tx: &mut Tx, stage: StageId) -> Result<()> {
    tx.detach("stages", &[stage.uuid()]).await?;
    let deleted = sqlx::query("delete from stages where org_id = $1 and id = $2")
        .bind(tx.org())
        .bind(stage)
        .execute(tx.conn())
        .await;
    match deleted {
        Ok(_) => Ok(()),
        // Deals the actor may not see (restricted visibility) were neither counted nor moved.
        Err(e)
            if e.as_database_error()
                .is_some_and(|d| d.code().as_deref() == Some("23503")) =>
        {
            Err(Error::Conflict(
                "the stage still holds deals that are not visible to you; ask someone who \
                 sees all deals to remove it"
                    .into(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}
