//! Creating and changing deals: every change locks the deal at its version, writes, and records
//! the audit entry, the event and (for moves) the stage history.

use super::validate::{
    Amount, audit_diff, check_money, check_refs, check_title, resolve_target, split_ref,
};
use super::*;

/// The live deal `id` with its owners, optionally locked for update.
pub(super) async fn fetch(tx: &mut Tx, id: DealId, lock: bool) -> Result<Deal> {
    let sql = if lock {
        concat!(
            deal_select!(),
            "where d.org_id = $1 and d.id = $2 and d.deleted_at is null for update of d"
        )
    } else {
        concat!(
            deal_select!(),
            "where d.org_id = $1 and d.id = $2 and d.deleted_at is null"
        )
    };
    let mut deal: Deal = sqlx::query_as(sql)
        .bind(tx.org())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound { entity: "deal" })?;
    deal.owners = owner::get(tx, OwnedKind::Deal, id.uuid()).await?;
    Ok(deal)
}

pub(super) fn check_version(deal: &Deal, version: Option<i32>) -> Result<()> {
    match version {
        Some(v) if v != deal.version => Err(Error::stale("deal")),
        _ => Ok(()),
    }
}

/// Appends a stage-history entry made by the acting user.
pub(super) async fn record_move(
    tx: &mut Tx,
    deal: DealId,
    from: Option<StageId>,
    to: StageId,
) -> Result<()> {
    sqlx::query(
        "insert into deal_stage_history (org_id, id, deal_id, from_stage_id, to_stage_id, \
                                         actor_id, from_stage_name, to_stage_name) \
         values ($1, $2, $3, $4, $5, $6, \
                 (select name from stages where org_id = $1 and id = $4), \
                 (select name from stages where org_id = $1 and id = $5))",
    )
    .bind(tx.org())
    .bind(Uuid::now_v7())
    .bind(deal)
    .bind(from)
    .bind(to)
    .bind(tx.actor().id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Creates a deal in its pipeline's stage (default pipeline, first stage unless named),
/// with a first stage-history entry. Every invalid field is reported at once.
pub async fn create(tx: &mut Tx, new: NewDeal) -> Result<Deal> {
    tx.require(Permission::Write)?;
    let org = tx.org();
    let mut errors = FieldErrors::new();
    let title = check_title(&mut errors, &new.title);
    let default_currency: String =
        sqlx::query_scalar("select default_currency::text from organizations where id = $1")
            .bind(org)
            .fetch_one(tx.conn())
            .await?;
    let amount = match new.value.as_deref() {
        Some(v) => Amount::Text(v),
        None => Amount::Stored(Decimal::ZERO),
    };
    let money = check_money(
        &mut errors,
        amount,
        new.currency.as_deref(),
        &default_currency,
    );
    let target = resolve_target(
        tx,
        &mut errors,
        new.pipeline.as_deref(),
        new.stage.as_deref(),
    )
    .await?;
    let owners = if new.owners.is_empty() {
        vec![Owner {
            user_id: tx.actor().id,
            role: OwnerRole::Owner,
        }]
    } else {
        new.owners.clone()
    };
    check_refs(
        tx,
        &mut errors,
        new.contact_id,
        new.company_id,
        Some(&owners),
    )
    .await?;
    errors.into_result()?;
    let (Some(title), Some(money), Some((pipeline_id, stage_id))) = (title, money, target) else {
        return Err(Error::invalid("deal", "is incomplete"));
    };

    let id = DealId::new();
    sqlx::query(
        "insert into deals (org_id, id, title, value, currency, pipeline_id, stage_id, \
                            contact_id, company_id, expected_close_date, custom) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(org)
    .bind(id)
    .bind(&title)
    .bind(money.amount())
    .bind(money.currency().as_str())
    .bind(pipeline_id)
    .bind(stage_id)
    .bind(new.contact_id)
    .bind(new.company_id)
    .bind(new.expected_close_date)
    .bind(Value::Object(new.custom))
    .execute(tx.conn())
    .await?;
    record_move(tx, id, None, stage_id).await?;
    // Read before the owners are set: with restricted visibility, a deal whose owners do not
    // include its creator is not visible to them afterwards.
    let mut deal = fetch(tx, id, false).await?;
    owner::set(tx, OwnedKind::Deal, id.uuid(), &owners).await?;
    // As stored (not read back: the owner rows of a deal handed to others are as invisible
    // to a restricted creator as the deal itself).
    let mut stored = owner::dedup(&owners);
    owner::sort(&mut stored);
    deal.owners = stored;
    tx.record(
        "deal",
        Some(id.uuid()),
        "create",
        &audit_diff(None, Some(&deal)),
        Some("deal.created"),
        &json!({ "id": id, "pipeline_id": pipeline_id, "stage_id": stage_id }),
    )
    .await?;
    Ok(deal)
}

pub(super) fn sorted(owners: &[Owner]) -> Vec<(UserId, &'static str)> {
    let mut v: Vec<(UserId, &'static str)> = Vec::new();
    for o in owners {
        v.retain(|(u, _)| *u != o.user_id);
        v.push((o.user_id, o.role.as_str()));
    }
    v.sort();
    v
}

/// Changes a deal read at `patch.version` (a stale version is [`Error::Conflict`]). A patch
/// that changes nothing writes nothing.
pub async fn update(tx: &mut Tx, id: DealId, patch: DealPatch) -> Result<Deal> {
    tx.require(Permission::Write)?;
    let before = fetch(tx, id, true).await?;
    check_version(&before, Some(patch.version))?;
    let mut errors = FieldErrors::new();
    let title = match &patch.title {
        Some(t) => check_title(&mut errors, t),
        None => Some(before.title.clone()),
    };
    let (value, currency) = if patch.value.is_none() && patch.currency.is_none() {
        (Some(before.value), before.currency.clone())
    } else {
        let amount = match patch.value.as_deref() {
            Some(v) => Amount::Text(v),
            None => Amount::Stored(before.value),
        };
        let money = check_money(
            &mut errors,
            amount,
            patch.currency.as_deref(),
            &before.currency,
        );
        (
            money.map(|m| m.amount()),
            money.map_or_else(String::new, |m| m.currency().as_str().to_string()),
        )
    };
    let contact_id = patch.contact_id.unwrap_or(before.contact_id);
    let company_id = patch.company_id.unwrap_or(before.company_id);
    let expected_close_date = patch
        .expected_close_date
        .unwrap_or(before.expected_close_date);
    let custom = patch
        .custom
        .clone()
        .map_or_else(|| before.custom.clone(), Value::Object);
    check_refs(
        tx,
        &mut errors,
        contact_id.filter(|c| Some(*c) != before.contact_id),
        company_id.filter(|c| Some(*c) != before.company_id),
        patch.owners.as_deref(),
    )
    .await?;
    errors.into_result()?;
    let (Some(title), Some(value)) = (title, value) else {
        return Err(Error::invalid("deal", "is incomplete"));
    };
    let owners_change = patch
        .owners
        .as_deref()
        .is_some_and(|o| sorted(o) != sorted(&before.owners));
    let unchanged = title == before.title
        && value == before.value
        && currency == before.currency
        && contact_id == before.contact_id
        && company_id == before.company_id
        && expected_close_date == before.expected_close_date
        && custom == before.custom
        && !owners_change;
    if unchanged {
        return Ok(before);
    }
    sqlx::query(
        "update deals set title = $3, value = $4, currency = $5, contact_id = $6, \
                company_id = $7, expected_close_date = $8, custom = $9 \
         where org_id = $1 and id = $2 and version = $10 and deleted_at is null",
    )
    .bind(tx.org())
    .bind(id)
    .bind(&title)
    .bind(value)
    .bind(&currency)
    .bind(contact_id)
    .bind(company_id)
    .bind(expected_close_date)
    .bind(&custom)
    .bind(patch.version)
    .execute(tx.conn())
    .await?;
    // Read before the owners change: an actor with restricted visibility who hands the deal
    // over no longer sees it afterwards.
    let mut after = fetch(tx, id, false).await?;
    if let (true, Some(owners)) = (owners_change, patch.owners.as_deref()) {
        owner::set(tx, OwnedKind::Deal, id.uuid(), owners).await?;
        after.owners = owner::get(tx, OwnedKind::Deal, id.uuid()).await?;
    }
    let d = audit_diff(Some(&before), Some(&after));
    tx.record(
        "deal",
        Some(id.uuid()),
        "update",
        &d,
        Some("deal.updated"),
        &json!({ "id": id, "fields": changed_fields(&d) }),
    )
    .await?;
    Ok(after)
}

/// Moves an open deal to `stage`: a stage id (of any live pipeline; the deal then changes
/// pipeline too) or the name of a stage of the deal's pipeline. With `version`, a stale
/// read is [`Error::Conflict`]; a won or lost deal is refused with [`Error::Conflict`].
/// Moving to the stage it is in changes nothing.
pub async fn move_to_stage(
    tx: &mut Tx,
    id: DealId,
    stage: &str,
    version: Option<i32>,
) -> Result<Deal> {
    tx.require(Permission::Write)?;
    let org = tx.org();
    let before = fetch(tx, id, true).await?;
    check_version(&before, version)?;
    if before.status != DealStatus::Open {
        return Err(Error::Conflict(format!(
            "only an open deal can be moved; this one is {}, reopen it first",
            before.status
        )));
    }
    let (stage_id, name) = split_ref(stage);
    let target: Option<(PipelineId, StageId)> = sqlx::query_as(
        "select s.pipeline_id, s.id from stages s \
         join pipelines p on p.org_id = s.org_id and p.id = s.pipeline_id \
         where s.org_id = $1 and p.deleted_at is null \
           and (s.id = $2 or (s.pipeline_id = $3 and lower(s.name) = lower($4))) \
         order by coalesce(s.id = $2, false) desc, (s.name = $4) desc limit 1",
    )
    .bind(org)
    .bind(stage_id)
    .bind(before.pipeline_id)
    .bind(name)
    .fetch_optional(tx.conn())
    .await?;
    let Some((pipeline_id, stage_id)) = target else {
        return Err(Error::invalid(
            "stage",
            "no such stage (by name, only stages of the deal's pipeline are found)",
        ));
    };
    if stage_id == before.stage_id {
        return Ok(before);
    }
    sqlx::query("update deals set pipeline_id = $3, stage_id = $4 where org_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .bind(pipeline_id)
        .bind(stage_id)
        .execute(tx.conn())
        .await?;
    record_move(tx, id, Some(before.stage_id), stage_id).await?;
    let after = fetch(tx, id, false).await?;
    tx.record(
        "deal",
        Some(id.uuid()),
        "move",
        &audit_diff(Some(&before), Some(&after)),
        Some("deal.stage_changed"),
        &json!({
            "id": id,
            "from": before.stage_id,
            "to": stage_id,
            "from_pipeline_id": before.pipeline_id,
            "pipeline_id": pipeline_id,
        }),
    )
    .await?;
    Ok(after)
}

/// Changes the status (checked by [`DealStatus::transition`]; a refused change is
/// [`Error::Conflict`]), setting or clearing `closed_at` and the lost reason.
pub(super) async fn set_status(
    tx: &mut Tx,
    id: DealId,
    version: Option<i32>,
    to: DealStatus,
    reason: Option<Uuid>,
    text: Option<String>,
) -> Result<Deal> {
    let before = fetch(tx, id, true).await?;
    check_version(&before, version)?;
    before
        .status
        .transition(to)
        .map_err(|e| Error::Conflict(e.to_string()))?;
    sqlx::query(
        "update deals set status = $3, \
                closed_at = case when $3 = 'open' then null else now() end, \
                lost_reason_id = $4, lost_reason_text = $5 \
         where org_id = $1 and id = $2",
    )
    .bind(tx.org())
    .bind(id)
    .bind(to)
    .bind(reason)
    .bind(&text)
    .execute(tx.conn())
    .await?;
    let after = fetch(tx, id, false).await?;
    let (action, topic) = match to {
        DealStatus::Won => ("win", "deal.won"),
        DealStatus::Lost => ("lose", "deal.lost"),
        DealStatus::Open => ("reopen", "deal.reopened"),
    };
    tx.record(
        "deal",
        Some(id.uuid()),
        action,
        &audit_diff(Some(&before), Some(&after)),
        Some(topic),
        &json!({
            "id": id,
            "from": before.status,
            "status": to,
            "pipeline_id": after.pipeline_id,
            "stage_id": after.stage_id,
            "value": after.value,
            "currency": after.currency,
            "lost_reason": after.lost_reason,
        }),
    )
    .await?;
    Ok(after)
}

/// Marks an open deal won and sets `closed_at`.
pub async fn win(tx: &mut Tx, id: DealId, version: Option<i32>) -> Result<Deal> {
    tx.require(Permission::Write)?;
    set_status(tx, id, version, DealStatus::Won, None, None).await
}

/// The active lost reason with this key or English or German label (ignoring case).
pub(super) async fn find_lost_reason(tx: &mut Tx, reason: &str) -> Result<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "select id from lost_reasons where org_id = $1 and active \
         and (key = lower($2) or lower(label_en) = lower($2) or lower(label_de) = lower($2)) \
         order by (key = lower($2)) desc, position limit 1",
    )
    .bind(tx.org())
    .bind(reason)
    .fetch_optional(tx.conn())
    .await?)
}

/// Marks an open deal lost with a lost reason (its key, or its English or German label; it
/// must exist and be active) and an optional explanation.
pub async fn lose(
    tx: &mut Tx,
    id: DealId,
    reason: &str,
    text: Option<String>,
    version: Option<i32>,
) -> Result<Deal> {
    tx.require(Permission::Write)?;
    let mut errors = FieldErrors::new();
    let reason = reason.trim();
    let text = clean(text.as_deref());
    if text.as_ref().is_some_and(|t| t.chars().count() > 2000) {
        errors.add("lost_reason_text", "must be at most 2000 characters");
    }
    let reason_id = if reason.is_empty() {
        errors.add("lost_reason", "a lost deal needs a lost reason");
        None
    } else {
        let found = find_lost_reason(tx, reason).await?;
        if found.is_none() {
            errors.add(
                "lost_reason",
                "is not an active lost reason of this organization",
            );
        }
        found
    };
    errors.into_result()?;
    set_status(tx, id, version, DealStatus::Lost, reason_id, text).await
}

/// Reopens a won or lost deal: clears `closed_at` and the lost reason.
pub async fn reopen(tx: &mut Tx, id: DealId) -> Result<Deal> {
    tx.require(Permission::Write)?;
    set_status(tx, id, None, DealStatus::Open, None, None).await
}

/// Soft-deletes a deal (lists hide it; [`restore`] brings it back).
pub async fn delete(tx: &mut Tx, id: DealId) -> Result<()> {
    tx.require(Permission::Delete)?;
    let done = sqlx::query(
        "update deals set deleted_at = now() where org_id = $1 and id = $2 \
         and deleted_at is null",
    )
    .bind(tx.org())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound { entity: "deal" });
    }
    tx.record(
        "deal",
        Some(id.uuid()),
        "delete",
        &json!({ "deleted_at": { "before": null, "after": "now" } }),
        Some("deal.deleted"),
        &json!({ "id": id }),
    )
    .await
}

/// Restores a soft-deleted deal.
pub async fn restore(tx: &mut Tx, id: DealId) -> Result<Deal> {
    tx.require(Permission::Delete)?;
    let done = sqlx::query(
        "update deals set deleted_at = null where org_id = $1 and id = $2 \
         and deleted_at is not null",
    )
    .bind(tx.org())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound {
            entity: "deleted deal",
        });
    }
    let deal = fetch(tx, id, false).await?;
    tx.record(
        "deal",
        Some(id.uuid()),
        "restore",
        &json!({ "deleted_at": { "before": "set", "after": null } }),
        Some("deal.restored"),
        &json!({ "id": id }),
    )
    .await?;
    Ok(deal)
}
