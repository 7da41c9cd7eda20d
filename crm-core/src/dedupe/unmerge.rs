//! Undoing a merge from its record.

use serde_json::{Value, json};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::merge::{child_tables, digests, lock};
use super::spec::Spec;
use super::{Kind, UnmergeOutcome};
use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::search::words;
use crate::tenancy::Tx;

/// What each table of a merge holds, for the conflict message.
fn describe(table: &str) -> &'static str {
    match table {
        "contacts" | "companies" => "the records themselves",
        "contact_emails" | "company_emails" => "e-mail addresses",
        "contact_phones" | "company_phones" => "phone numbers",
        "contact_tags" | "company_tags" => "tags",
        "contact_owners" | "company_owners" => "owners",
        "company_relationships" => "company relationships",
        "deals" => "deals",
        "activities" => "activities",
        "consents" => "consents",
        "lexware_contact_links" => "Lexware links",
        _ => "related rows",
    }
}

/// Undoes merge `merge_id` of a `kind` record: the survivor gets back its field values,
/// addresses, tags and owners as they were before; the merged-away records come back with
/// theirs; every moved relation points at its record again. Only while nothing the merge
/// touched changed since: otherwise a [`Error::Conflict`] names what changed, and nothing
/// is restored.
pub async fn unmerge(tx: &mut Tx, kind: Kind, merge_id: Uuid) -> Result<UnmergeOutcome> {
    tx.require(Permission::Write)?;
    tx.require(Permission::Delete)?;
    let spec = Spec::of(kind);
    let org = tx.org();
    type MergeRow = (Option<Uuid>, Option<Uuid>, Vec<Uuid>, Value, Value, bool);
    let row: Option<MergeRow> = sqlx::query_as(
        "select contact_id, company_id, merged_ids, before, after, undone_at is not null \
         from record_merges where org_id = $1 and id = $2 for update",
    )
    .bind(org)
    .bind(merge_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some((contact, company, merged, before, after, undone)) = row else {
        return Err(Error::NotFound { entity: "merge" });
    };
    let survivor = match kind {
        Kind::Contact => contact,
        Kind::Company => company,
    }
    .ok_or_else(|| {
        Error::invalid(
            "merge",
            format!("merge {merge_id} is not a merge of {}s", kind.as_str()),
        )
    })?;
    if undone {
        return Err(Error::Conflict(format!(
            "merge {merge_id} was already undone"
        )));
    }
    let mut ids = vec![survivor];
    ids.extend(&merged);
    lock(tx, spec, &ids, true).await?;
    check_unchanged(tx, spec, merge_id, &ids, &after).await?;
    restore(tx, spec, merge_id, &ids, &before).await?;
    tx.record(
        kind.as_str(),
        Some(survivor),
        "unmerge",
        &json!({ "merge_id": merge_id, "restored_ids": merged }),
        Some(match kind {
            Kind::Contact => "contact.unmerged",
            Kind::Company => "company.unmerged",
        }),
        &json!({ "id": survivor, "restored_ids": merged, "merge_id": merge_id }),
    )
    .await?;
    Ok(UnmergeOutcome {
        merge_id,
        kind,
        survivor_id: survivor,
        restored_ids: merged,
    })
}

/// Fails with a conflict naming what changed when anything the merge touched changed since
/// (its digests differ from those recorded after the merge).
async fn check_unchanged(
    tx: &mut Tx,
    spec: &Spec,
    merge_id: Uuid,
    ids: &[Uuid],
    after: &Value,
) -> Result<()> {
    let now = digests(tx, spec, ids).await?;
    let mut changed: Vec<&'static str> = Vec::new();
    for (table, digest) in &now {
        if after["digests"].get(table) != Some(digest) {
            let what = describe(table);
            if !changed.contains(&what) {
                changed.push(what);
            }
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "cannot undo merge {merge_id}: changed since the merge of {} {}: {}",
        spec.kind.as_str(),
        ids[0],
        changed.join(", ")
    )))
}

/// Restores the records (survivor first: it gives back the unique values of the others),
/// then the merge column, the child rows and the relations from the snapshot `before`.
async fn restore(
    tx: &mut Tx,
    spec: &Spec,
    merge_id: Uuid,
    ids: &[Uuid],
    before: &Value,
) -> Result<()> {
    let held = words::held(tx, spec.kind, ids).await?;
    sqlx::query("select crm_merge_restore_records($1::regclass, $2)")
        .bind(spec.table)
        .bind(&before["records"])
        .execute(tx.conn())
        .await?;
    words::changed(tx, spec.kind, ids, held).await?;
    sqlx::query("select crm_clear_merge($1)")
        .bind(merge_id)
        .execute(tx.conn())
        .await?;
    for table in child_tables(spec) {
        let columns: Vec<&str> = spec
            .children()
            .into_iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, c)| c)
            .collect();
        sqlx::query("select crm_merge_restore_children($1::regclass, $2, $3, $4)")
            .bind(table)
            .bind(&columns)
            .bind(ids)
            .bind(&before["children"][table])
            .execute(tx.conn())
            .await?;
    }
    for (table, column, _) in spec.relations {
        let key = format!("{table}.{column}");
        sqlx::query(AssertSqlSafe(format!(
            "update {table} t set {column} = m.was \
             from jsonb_to_recordset($2) as m(id uuid, was uuid) \
             where t.org_id = $1 and t.id = m.id"
        )))
        .bind(tx.org())
        .bind(&before["relations"][&key])
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}
