//! Writing a merge: the others retired, their e-mails, phones, tags, owners and relations
//! moved to the survivor, the survivor's fields and mirrors written, and the merge recorded
//! (with the snapshot an unmerge restores from).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::merge::{Row, choose, digests};
use super::spec::Spec;
use super::{Kind, MergeOutcome, MergeRequest};
use crate::error::{Error, Result};
use crate::search::words;
use crate::tenancy::Tx;

/// What moved to the survivor, by kind of row (`emails`, `tags`, `deals`, ...).
type Moved = BTreeMap<String, u64>;

/// Applies the merge of `members` (the survivor first) in the caller's transaction; `before`
/// is their snapshot. A dry run records nothing (the caller rolls its writes back).
pub(super) async fn apply(
    tx: &mut Tx,
    spec: &Spec,
    req: &MergeRequest,
    members: &[Row],
    before: Value,
) -> Result<MergeOutcome> {
    let ids: Vec<Uuid> = members.iter().map(|m| m.id).collect();
    let keep = ids[0];
    let others: Vec<Uuid> = ids[1..].to_vec();
    let (patch, taken) = choose(spec, members, &req.take);

    // Records written before address rows existed only have their mirrored primary e-mail
    // and phone: give them rows, so they move like the others.
    materialize_mirrors(tx, spec, members, &before).await?;
    let held = words::held(tx, spec.kind, &ids).await?;
    retire_others(tx, spec, keep, &others).await?;
    let mut moved = Moved::new();
    for (table, label) in [(spec.emails, "emails"), (spec.phones, "phones")] {
        let n = move_addresses(tx, spec, table, label, &ids).await?;
        moved.insert(label.into(), n);
        mark_primary(tx, spec, table, label, members, &taken).await?;
    }
    unite_tags_and_owners(tx, spec, keep, &others, &mut moved).await?;
    if spec.kind == Kind::Company {
        let n = move_relationships(tx, keep, &others, &ids).await?;
        moved.insert("relationships".into(), n);
    }
    move_relations(tx, spec, keep, &others, &mut moved).await?;
    write_survivor(tx, spec, keep, patch).await?;
    words::changed(tx, spec.kind, &ids, held).await?;

    let record = survivor_json(tx, spec.kind, keep).await?;
    let versions: BTreeMap<Uuid, i32> = members.iter().map(|m| (m.id, m.version)).collect();
    let merge_id = if req.dry_run {
        None
    } else {
        Some(record_merge(tx, spec, &ids, &before, &taken, &moved).await?)
    };
    Ok(MergeOutcome {
        merge_id,
        kind: spec.kind,
        survivor_id: keep,
        merged_ids: others,
        taken,
        moved,
        versions,
        dry_run: req.dry_run,
        record,
    })
}

/// Retires the others first: the survivor may take over their unique values (primary
/// e-mail, VAT id, external id) once they are deleted. Their mirrors are cleared (their
/// rows move), but a nameless contact keeps the e-mail that is all that identifies it.
async fn retire_others(tx: &mut Tx, spec: &Spec, keep: Uuid, others: &[Uuid]) -> Result<()> {
    let retire = match spec.kind {
        Kind::Contact => {
            "update contacts set deleted_at = now(), \
                    email = case when btrim(first_name) = '' and btrim(last_name) = '' \
                                 then email end, \
                    email_norm = case when btrim(first_name) = '' and btrim(last_name) = '' \
                                      then email_norm end, \
                    phone = null \
             where org_id = $1 and id = any($2)"
        }
        Kind::Company => {
            "update companies set deleted_at = now(), email = null, phone = null \
             where org_id = $1 and id = any($2)"
        }
    };
    sqlx::query(retire)
        .bind(tx.org())
        .bind(others)
        .execute(tx.conn())
        .await?;
    sqlx::query("select crm_record_merge_of($1, r, $2) from unnest($3::uuid[]) r")
        .bind(spec.kind.as_str())
        .bind(keep)
        .bind(others)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The column expression an e-mail or phone row (`emails` / `phones`) is compared by, with
/// `{}` for the table alias. A phone kept as written (no E.164 form) is compared by its raw
/// text.
fn value_column(label: &str) -> &'static str {
    if label == "emails" {
        "{}.email_norm"
    } else {
        "coalesce({}.number_e164, {}.number_raw)"
    }
}

/// Moves the others' e-mail or phone rows (`table`) to the survivor, unless the survivor (or
/// an earlier record of the merge) has the same value. Returns how many moved.
async fn move_addresses(
    tx: &mut Tx,
    spec: &Spec,
    t: &str,
    label: &str,
    ids: &[Uuid],
) -> Result<u64> {
    let org = tx.org();
    let fk = spec.fk;
    let (keep, others) = (ids[0], &ids[1..]);
    let value_col = value_column(label);
    let value_of = |alias: &str| value_col.replace("{}", alias);
    let (k_value, e_value) = (value_of("k"), value_of("e"));
    sqlx::query(AssertSqlSafe(format!(
        "delete from {t} e where e.org_id = $1 and e.{fk} = any($2) and exists ( \
             select 1 from {t} k where k.org_id = $1 and k.{fk} = any($3) \
             and {k_value} = {e_value} \
             and (array_position($3, k.{fk}) < array_position($3, e.{fk}) \
                  or k.{fk} = e.{fk} and k.id < e.id))"
    )))
    .bind(org)
    .bind(others)
    .bind(ids)
    .execute(tx.conn())
    .await?;
    let n = sqlx::query(AssertSqlSafe(format!(
        "update {t} set {fk} = $3, is_primary = false where org_id = $1 and {fk} = any($2)"
    )))
    .bind(org)
    .bind(others)
    .bind(keep)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n)
}

/// Marks the chosen primary e-mail or phone among the survivor's rows: the `take` record's,
/// else the survivor's.
async fn mark_primary(
    tx: &mut Tx,
    spec: &Spec,
    t: &str,
    label: &str,
    members: &[Row],
    taken: &BTreeMap<String, Uuid>,
) -> Result<()> {
    let org = tx.org();
    let fk = spec.fk;
    let keep = members[0].id;
    let plain = value_column(label).replace("{}.", "");
    let special = if label == "emails" { "email" } else { "phone" };
    let source = members
        .iter()
        .find(|m| Some(&m.id) == taken.get(special))
        .unwrap_or(&members[0]);
    let primary = match (special, spec.kind) {
        ("email", Kind::Contact) => source.data.get("email_norm"),
        _ => source.data.get(special),
    }
    .and_then(Value::as_str)
    .map(|s| {
        if special == "email" {
            s.trim().to_lowercase()
        } else {
            s.to_string()
        }
    });
    let Some(p) = primary else {
        return Ok(());
    };
    sqlx::query(AssertSqlSafe(format!(
        "update {t} set is_primary = false \
         where org_id = $1 and {fk} = $2 and is_primary and {plain} <> $3"
    )))
    .bind(org)
    .bind(keep)
    .bind(&p)
    .execute(tx.conn())
    .await?;
    sqlx::query(AssertSqlSafe(format!(
        "update {t} set is_primary = true where org_id = $1 and id = ( \
             select id from {t} where org_id = $1 and {fk} = $2 and {plain} = $3 \
             order by id limit 1) and not is_primary"
    )))
    .bind(org)
    .bind(keep)
    .bind(&p)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Tags and owners: united (the survivor's owner role wins, then the earlier record's); the
/// others' rows go.
async fn unite_tags_and_owners(
    tx: &mut Tx,
    spec: &Spec,
    keep: Uuid,
    others: &[Uuid],
    moved: &mut Moved,
) -> Result<()> {
    let org = tx.org();
    let (fk, tags, owners) = (spec.fk, spec.tags, spec.owners);
    let n = sqlx::query(AssertSqlSafe(format!(
        "insert into {tags} (org_id, {fk}, tag_id) \
         select distinct $1::uuid, $3::uuid, tag_id from {tags} \
         where org_id = $1 and {fk} = any($2) on conflict do nothing"
    )))
    .bind(org)
    .bind(others)
    .bind(keep)
    .execute(tx.conn())
    .await?
    .rows_affected();
    moved.insert("tags".into(), n);
    let n = sqlx::query(AssertSqlSafe(format!(
        "insert into {owners} (org_id, {fk}, user_id, role) \
         select distinct on (user_id) $1::uuid, $3::uuid, user_id, role from {owners} \
         where org_id = $1 and {fk} = any($2) \
         order by user_id, array_position($2, {fk}) on conflict do nothing"
    )))
    .bind(org)
    .bind(others)
    .bind(keep)
    .execute(tx.conn())
    .await?
    .rows_affected();
    moved.insert("owners".into(), n);
    for t in [tags, owners] {
        sqlx::query(AssertSqlSafe(format!(
            "delete from {t} where org_id = $1 and {fk} = any($2)"
        )))
        .bind(org)
        .bind(others)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Drops the company relationships that would point at the survivor itself or exist twice
/// once moved.
const DROP_RELATIONSHIPS: &str = "with m as ( \
         select id, type_id, \
                case when from_company_id = any($2) then $3 else from_company_id end as f, \
                case when to_company_id = any($2) then $3 else to_company_id end as t, \
                (from_company_id = any($2) or to_company_id = any($2)) as moving \
         from company_relationships \
         where org_id = $1 and (from_company_id = any($4) or to_company_id = any($4))), \
     r as (select id, f, t, row_number() over (partition by f, t, type_id \
                                              order by moving, id) as rn from m) \
     delete from company_relationships c using r \
     where c.org_id = $1 and c.id = r.id and (r.f = r.t or r.rn > 1)";

/// Moves the company relationships of the others to the survivor. Returns how many moved.
async fn move_relationships(tx: &mut Tx, keep: Uuid, others: &[Uuid], ids: &[Uuid]) -> Result<u64> {
    let org = tx.org();
    sqlx::query(DROP_RELATIONSHIPS)
        .bind(org)
        .bind(others)
        .bind(keep)
        .bind(ids)
        .execute(tx.conn())
        .await?;
    let n = sqlx::query(
        "update company_relationships set \
             from_company_id = case when from_company_id = any($2) then $3 \
                                    else from_company_id end, \
             to_company_id = case when to_company_id = any($2) then $3 else to_company_id end \
         where org_id = $1 and (from_company_id = any($2) or to_company_id = any($2))",
    )
    .bind(org)
    .bind(others)
    .bind(keep)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(n)
}

/// Moves every relation of the others (deals, activities, consents, ...) to the survivor.
async fn move_relations(
    tx: &mut Tx,
    spec: &Spec,
    keep: Uuid,
    others: &[Uuid],
    moved: &mut Moved,
) -> Result<()> {
    for (t, column, label) in spec.relations {
        let n = sqlx::query(AssertSqlSafe(format!(
            "update {t} set {column} = $3 where org_id = $1 and {column} = any($2)"
        )))
        .bind(tx.org())
        .bind(others)
        .bind(keep)
        .execute(tx.conn())
        .await?
        .rows_affected();
        moved.insert((*label).to_string(), n);
    }
    Ok(())
}

/// Writes the survivor's chosen fields, then its mirrors of the primary e-mail and phone.
async fn write_survivor(
    tx: &mut Tx,
    spec: &Spec,
    keep: Uuid,
    patch: Map<String, Value>,
) -> Result<()> {
    let (table, fk) = (spec.table, spec.fk);
    sqlx::query("select crm_merge_apply($1::regclass, $2, $3)")
        .bind(table)
        .bind(keep)
        .bind(Value::Object(patch))
        .execute(tx.conn())
        .await?;
    let email_norm = if spec.kind == Kind::Contact {
        format!(
            ", email_norm = (select e.email_norm from {e} e where e.org_id = $1 \
               and e.{fk} = $2 and e.is_primary)",
            e = spec.emails
        )
    } else {
        String::new()
    };
    sqlx::query(AssertSqlSafe(format!(
        "update {table} t set \
             email = (select e.email from {e} e where e.org_id = $1 and e.{fk} = $2 \
                      and e.is_primary){email_norm}, \
             phone = (select coalesce(p.number_e164, p.number_raw) from {p} p \
                      where p.org_id = $1 and p.{fk} = $2 and p.is_primary) \
         where t.org_id = $1 and t.id = $2",
        e = spec.emails,
        p = spec.phones
    )))
    .bind(tx.org())
    .bind(keep)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Records the merge (with the digests an unmerge checks) and its audit entry and event.
/// Returns the merge's id.
async fn record_merge(
    tx: &mut Tx,
    spec: &Spec,
    ids: &[Uuid],
    before: &Value,
    taken: &BTreeMap<String, Uuid>,
    moved: &Moved,
) -> Result<Uuid> {
    let org = tx.org();
    let (table, fk) = (spec.table, spec.fk);
    let (keep, others) = (ids[0], &ids[1..]);
    let after = json!({ "digests": digests(tx, spec, ids).await? });
    let merge_id = Uuid::now_v7();
    let survivor_col = fk;
    sqlx::query(AssertSqlSafe(format!(
        "insert into record_merges (org_id, id, {survivor_col}, merged_ids, before, after, \
                                    created_by) \
         values ($1, $2, $3, $4, $5, $6, crm_actor())"
    )))
    .bind(org)
    .bind(merge_id)
    .bind(keep)
    .bind(others)
    .bind(before)
    .bind(&after)
    .execute(tx.conn())
    .await?;

    let keep_before = before["records"][0].clone();
    let keep_after: Value = sqlx::query_scalar(AssertSqlSafe(format!(
        "select to_jsonb(t) from {table} t where org_id = $1 and id = $2"
    )))
    .bind(org)
    .bind(keep)
    .fetch_one(tx.conn())
    .await?;
    let mut changes = crate::store::diff(Some(&keep_before), Some(&keep_after));
    if let Value::Object(m) = &mut changes {
        m.remove("search_text");
        m.remove("name_norm");
        m.remove("name_key");
    }
    tx.record(
        spec.kind.as_str(),
        Some(keep),
        "merge",
        &json!({
            "merge_id": merge_id,
            "merged_ids": others,
            "taken": taken,
            "moved": moved,
            "changes": changes,
        }),
        Some(match spec.kind {
            Kind::Contact => "contact.merged",
            Kind::Company => "company.merged",
        }),
        &json!({ "id": keep, "merged_ids": others, "merge_id": merge_id }),
    )
    .await?;
    Ok(merge_id)
}

/// Gives records that only have a mirrored primary e-mail or phone (no rows) their row.
async fn materialize_mirrors(
    tx: &mut Tx,
    spec: &Spec,
    members: &[Row],
    before: &Value,
) -> Result<()> {
    let org = tx.org();
    let has_rows = |table: &str, id: Uuid| -> bool {
        before["children"][table].as_array().is_some_and(|rows| {
            rows.iter()
                .any(|r| r[spec.fk].as_str() == Some(id.to_string().as_str()))
        })
    };
    for m in members {
        if let Some(email) = m.data.get("email").and_then(Value::as_str)
            && !has_rows(spec.emails, m.id)
        {
            let norm = m
                .data
                .get("email_norm")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| email.trim().to_lowercase());
            sqlx::query(AssertSqlSafe(format!(
                "insert into {t} (org_id, id, {fk}, email, email_norm, kind, is_primary) \
                 values ($1, $2, $3, $4, $5, 'work', true)",
                t = spec.emails,
                fk = spec.fk
            )))
            .bind(org)
            .bind(Uuid::now_v7())
            .bind(m.id)
            .bind(email)
            .bind(norm)
            .execute(tx.conn())
            .await?;
        }
        if let Some(phone) = m.data.get("phone").and_then(Value::as_str)
            && !has_rows(spec.phones, m.id)
            && crate::domain::Phone::parse(phone, "DE").is_ok_and(|p| p.e164() == phone)
        {
            sqlx::query(AssertSqlSafe(format!(
                "insert into {t} (org_id, id, {fk}, number_e164, number_raw, kind, is_primary) \
                 values ($1, $2, $3, $4, $4, 'office', true)",
                t = spec.phones,
                fk = spec.fk
            )))
            .bind(org)
            .bind(Uuid::now_v7())
            .bind(m.id)
            .bind(phone)
            .execute(tx.conn())
            .await?;
        }
    }
    Ok(())
}

/// The survivor as `contact show` / `company show` print it.
async fn survivor_json(tx: &mut Tx, kind: Kind, id: Uuid) -> Result<Value> {
    let v = match kind {
        Kind::Contact => serde_json::to_value(crate::store::contact::get(tx, id.into()).await?),
        Kind::Company => serde_json::to_value(crate::store::company::get(tx, id.into()).await?),
    };
    v.map_err(|_| Error::Database("a record could not be serialised".into()))
}
