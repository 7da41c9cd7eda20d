//! Merging two or more records into one survivor.
//!
//! Rules, per field group ([`super::fields`]): the value of the record named by
//! `take field=ID`; otherwise the survivor's value when it has one; otherwise the newest
//! (last changed) other record's non-empty value. An address is one unit. Custom fields are
//! united key by key (the chosen record's keys win, then the survivor's, then the newest).
//! E-mail addresses and phone numbers are united without duplicates; the primary one is the
//! survivor's (or the `take email=ID` record's, else the newest one's). Tags and owners are
//! united (the survivor's owner role wins). Every relation moves to the survivor: deals,
//! activities, consents, Lexware links; for companies also their contacts and company
//! relationships (a relationship that would point at itself or exist twice is dropped).
//! Two records linked to different Lexware contacts are a conflict.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::apply::apply;
use super::spec::{Field, Spec};
use super::{Kind, MergeOutcome, MergeRequest};
use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::tenancy::Tx;

/// One record as locked for the merge: its stored row.
pub(super) struct Row {
    pub id: Uuid,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub data: Map<String, Value>,
}

/// The most records one merge takes (a guard against a runaway script, not a design cap).
const MAX_RECORDS: usize = 1000;

/// Merges `req.ids[1..]` into `req.ids[0]` (see the module documentation for the rules), in
/// the caller's transaction. With `dry_run` nothing is kept and `merge_id` is `None`.
pub async fn merge(tx: &mut Tx, kind: Kind, req: &MergeRequest) -> Result<MergeOutcome> {
    tx.require(Permission::Write)?;
    tx.require(Permission::Delete)?;
    let spec = Spec::of(kind);
    validate(spec, req)?;
    let ids = req.ids.clone();
    let members = lock(tx, spec, &ids, false).await?;
    for (id, version) in &req.versions {
        let Some(m) = members.iter().find(|m| m.id == *id) else {
            continue;
        };
        if m.version != *version {
            return Err(Error::Conflict(format!(
                "{} {id} was changed since it was read (version {version}, now {}); \
                 look at the merge again",
                spec.kind, m.version
            )));
        }
    }
    let linked: Vec<Uuid> = sqlx::query_scalar(AssertSqlSafe(format!(
        "select {fk} from lexware_contact_links where org_id = $1 and {fk} = any($2) order by {fk}",
        fk = spec.fk
    )))
    .bind(tx.org())
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    if linked.len() > 1 {
        let list: Vec<String> = linked.iter().map(Uuid::to_string).collect();
        return Err(Error::Conflict(format!(
            "the {}s {} are linked to different Lexware contacts; unlink all but one first \
             (crm lexware unlink)",
            spec.kind,
            list.join(", ")
        )));
    }
    let before = snapshot(tx, spec, &members).await?;

    if req.dry_run {
        sqlx::query("savepoint crm_merge_preview")
            .execute(tx.conn())
            .await?;
    }
    let out = apply(tx, spec, req, &members, before).await;
    if req.dry_run {
        sqlx::query("rollback to savepoint crm_merge_preview")
            .execute(tx.conn())
            .await?;
    }
    out
}

fn validate(spec: &Spec, req: &MergeRequest) -> Result<()> {
    if req.ids.len() < 2 {
        return Err(Error::invalid(
            "ids",
            "name the survivor and at least one other record",
        ));
    }
    if req.ids.len() > MAX_RECORDS {
        return Err(Error::invalid(
            "ids",
            format!("at most {MAX_RECORDS} records in one merge"),
        ));
    }
    let mut seen = HashSet::new();
    if !req.ids.iter().all(|id| seen.insert(*id)) {
        return Err(Error::invalid("ids", "a record is named twice"));
    }
    for (field, id) in &req.take {
        if !spec.takes(field) {
            let mut names: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
            names.extend(super::spec::SPECIAL_FIELDS.iter().map(|(n, _)| *n));
            if spec.kind == Kind::Contact {
                names.push("name");
            }
            return Err(Error::invalid(
                "take",
                format!("unknown field '{field}'; one of {}", names.join(", ")),
            ));
        }
        if !req.ids.contains(id) {
            return Err(Error::invalid(
                "take",
                format!("{field}={id}: the record is not part of this merge"),
            ));
        }
    }
    Ok(())
}

/// Locks the records in id order (no deadlock with a concurrent merge of the same records)
/// and returns them in the order of `ids`. `deleted`: the merged-away tombstones too.
pub(super) async fn lock(
    tx: &mut Tx,
    spec: &Spec,
    ids: &[Uuid],
    deleted: bool,
) -> Result<Vec<Row>> {
    let rows: Vec<(Uuid, i32, DateTime<Utc>, Value)> = sqlx::query_as(AssertSqlSafe(format!(
        "select id, version, updated_at, to_jsonb(t) from {table} t \
         where org_id = $1 and id = any($2) {live} order by id for update",
        table = spec.table,
        live = if deleted {
            ""
        } else {
            "and deleted_at is null"
        }
    )))
    .bind(tx.org())
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some((_, version, updated_at, data)) = rows.iter().find(|r| r.0 == *id) else {
            return Err(Error::NotFound {
                entity: spec.kind.as_str(),
            });
        };
        out.push(Row {
            id: *id,
            version: *version,
            updated_at: *updated_at,
            data: data.as_object().cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The rows of a child table belonging to any of `ids` (whole rows).
pub(super) fn child_where(table: &str, fk: &str) -> String {
    if table == "company_relationships" {
        "(from_company_id = any($2) or to_company_id = any($2))".to_string()
    } else {
        format!("{fk} = any($2)")
    }
}

/// Everything the merge may change, as it is now: the records (survivor first), their child
/// rows, and which rows of related tables point at the records merged away.
async fn snapshot(tx: &mut Tx, spec: &Spec, members: &[Row]) -> Result<Value> {
    let ids: Vec<Uuid> = members.iter().map(|m| m.id).collect();
    let records: Vec<Value> = members
        .iter()
        .map(|m| Value::Object(m.data.clone()))
        .collect();
    let mut children = Map::new();
    for table in child_tables(spec) {
        let rows: Value = sqlx::query_scalar(AssertSqlSafe(format!(
            "select coalesce(jsonb_agg(to_jsonb(t)), '[]') from {table} t \
             where org_id = $1 and {w}",
            w = child_where(table, spec.fk)
        )))
        .bind(tx.org())
        .bind(&ids)
        .fetch_one(tx.conn())
        .await?;
        children.insert(table.to_string(), rows);
    }
    let others = &ids[1..];
    let mut relations = Map::new();
    for (table, column, _) in spec.relations {
        let rows: Value = sqlx::query_scalar(AssertSqlSafe(format!(
            "select coalesce(jsonb_agg(jsonb_build_object('id', id, 'was', {column})), '[]') \
             from {table} where org_id = $1 and {column} = any($2)"
        )))
        .bind(tx.org())
        .bind(others)
        .fetch_one(tx.conn())
        .await?;
        relations.insert(format!("{table}.{column}"), rows);
    }
    Ok(json!({ "records": records, "children": children, "relations": relations }))
}

/// The child tables of a kind (each once).
pub(super) fn child_tables(spec: &Spec) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    for (t, _) in spec.children() {
        if !v.contains(&t) {
            v.push(t);
        }
    }
    v
}

fn is_empty(v: Option<&Value>, empty: Option<&str>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty() || Some(s.as_str()) == empty,
        _ => false,
    }
}

fn group_empty(m: &Row, f: &Field) -> bool {
    f.columns.iter().all(|c| is_empty(m.data.get(*c), f.empty))
}

/// The survivor's new column values (only those that change) and, per field, the record
/// whose value it has. Pure: unit tested below.
pub(super) fn choose(
    spec: &Spec,
    members: &[Row],
    take: &BTreeMap<String, Uuid>,
) -> (Map<String, Value>, BTreeMap<String, Uuid>) {
    let keep = &members[0];
    let mut newest: Vec<&Row> = members[1..].iter().collect();
    newest.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then(a.id.cmp(&b.id)));
    let by_id = |id: &Uuid| members.iter().find(|m| m.id == *id);
    let pick = |name: &str, has: &dyn Fn(&Row) -> bool| -> &Row {
        let taken = take
            .get(name)
            .or_else(|| match name {
                "first_name" | "last_name" => take.get("name"),
                _ => None,
            })
            .and_then(by_id);
        if let Some(m) = taken {
            return m;
        }
        if has(keep) {
            return keep;
        }
        newest.iter().copied().find(|m| has(m)).unwrap_or(keep)
    };
    let mut patch = Map::new();
    let mut taken = BTreeMap::new();
    for f in spec.fields {
        let source = pick(f.name, &|m: &Row| !group_empty(m, f));
        if source.id != keep.id {
            for c in f.columns {
                patch.insert(
                    (*c).to_string(),
                    source.data.get(*c).cloned().unwrap_or(Value::Null),
                );
            }
        }
        taken.insert(f.name.to_string(), source.id);
    }
    for special in ["email", "phone"] {
        let source = pick(special, &|m: &Row| !is_empty(m.data.get(special), None));
        taken.insert(special.to_string(), source.id);
    }
    // Custom fields: the chosen record's keys, then the survivor's, then the newest others'.
    let first = pick("custom", &|_: &Row| true);
    let mut order: Vec<&Row> = vec![first];
    if first.id != keep.id {
        order.push(keep);
    }
    order.extend(newest.iter().copied().filter(|m| m.id != first.id));
    let mut custom = Map::new();
    for m in order {
        if let Some(Value::Object(o)) = m.data.get("custom") {
            for (k, v) in o {
                custom.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
    }
    patch.insert("custom".into(), Value::Object(custom));
    taken.insert("custom".into(), first.id);
    (patch, taken)
}

/// A digest of every row the merge of `ids` touched, per table: an unmerge compares them to
/// tell whether anything changed since.
pub(super) async fn digests(tx: &mut Tx, spec: &Spec, ids: &[Uuid]) -> Result<Map<String, Value>> {
    let mut parts: Vec<(String, String)> = vec![(spec.table.to_string(), "id = any($2)".into())];
    for t in child_tables(spec) {
        parts.push((t.to_string(), child_where(t, spec.fk)));
    }
    for (t, column, _) in spec.relations {
        parts.push(((*t).to_string(), format!("{column} = any($2)")));
    }
    let mut out = Map::new();
    for (t, w) in parts {
        let d: String = sqlx::query_scalar(AssertSqlSafe(format!(
            "select md5(coalesce(string_agg(x, ',' order by x), '')) \
             from (select to_jsonb(t)::text as x from {t} t where org_id = $1 and {w}) s"
        )))
        .bind(tx.org())
        .bind(ids)
        .fetch_one(tx.conn())
        .await?;
        out.insert(t, Value::String(d));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u128, minutes: i64, data: Value) -> Row {
        Row {
            id: Uuid::from_u128(id),
            version: 1,
            updated_at: DateTime::<Utc>::from_timestamp(1_700_000_000 + minutes * 60, 0).unwrap(),
            data: data.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn survivor_wins_else_newest_non_empty_else_taken() {
        let spec = Spec::of(Kind::Contact);
        let members = [
            row(
                1,
                0,
                json!({"first_name": "Jörg", "last_name": "", "job_title": null,
                             "city": null, "street": null, "custom": {"a": 1}}),
            ),
            row(
                2,
                5,
                json!({"first_name": "J.", "last_name": "Müller", "job_title": "CTO",
                             "city": "Köln", "street": "Ring 1", "custom": {"a": 2, "b": 2}}),
            ),
            row(
                3,
                9,
                json!({"first_name": "Joerg", "last_name": "Mueller", "job_title": null,
                             "city": "Bonn", "custom": {"c": 3}}),
            ),
        ];
        let (patch, taken) = choose(spec, &members, &BTreeMap::new());
        assert!(!patch.contains_key("first_name"));
        assert_eq!(patch["last_name"], json!("Mueller"), "the newest non-empty");
        assert_eq!(patch["job_title"], json!("CTO"));
        // The address is one unit: all of record 3's, not a mix.
        assert_eq!(patch["city"], json!("Bonn"));
        assert_eq!(patch["street"], Value::Null);
        assert_eq!(patch["custom"], json!({"a": 1, "b": 2, "c": 3}));
        assert_eq!(taken["last_name"], Uuid::from_u128(3));

        let take = BTreeMap::from([
            ("name".to_string(), Uuid::from_u128(2)),
            ("custom".to_string(), Uuid::from_u128(2)),
        ]);
        let (patch, taken) = choose(spec, &members, &take);
        assert_eq!(patch["first_name"], json!("J."));
        assert_eq!(patch["last_name"], json!("Müller"));
        assert_eq!(patch["custom"], json!({"a": 2, "b": 2, "c": 3}));
        assert_eq!(taken["first_name"], Uuid::from_u128(2));
    }

    #[test]
    fn an_unknown_size_counts_as_empty() {
        let spec = Spec::of(Kind::Company);
        let members = [
            row(1, 0, json!({"name": "A", "size": "unknown", "custom": {}})),
            row(
                2,
                1,
                json!({"name": "A GmbH", "size": "small", "custom": {}}),
            ),
        ];
        let (patch, _) = choose(spec, &members, &BTreeMap::new());
        assert_eq!(patch["size"], json!("small"));
        assert!(!patch.contains_key("name"));
    }
}
