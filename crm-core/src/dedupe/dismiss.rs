//! "Not a duplicate" marks.

use serde_json::json;
use sqlx::AssertSqlSafe;
use uuid::Uuid;

use super::Kind;
use super::spec::Spec;
use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::tenancy::Tx;

fn ordered(a: Uuid, b: Uuid) -> Result<(Uuid, Uuid)> {
    if a == b {
        return Err(Error::invalid("ids", "name two different records"));
    }
    Ok(if a < b { (a, b) } else { (b, a) })
}

/// Marks records `a` and `b` as not the same: [`super::detect`] never proposes the pair
/// again. Returns whether the mark is new.
pub async fn dismiss(tx: &mut Tx, kind: Kind, a: Uuid, b: Uuid) -> Result<bool> {
    tx.require(Permission::Write)?;
    let (a, b) = ordered(a, b)?;
    let spec = Spec::of(kind);
    let live: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "select count(*) from {} where org_id = $1 and id = any($2) and deleted_at is null",
        spec.table
    )))
    .bind(tx.org())
    .bind(vec![a, b])
    .fetch_one(tx.conn())
    .await?;
    if live != 2 {
        return Err(Error::NotFound {
            entity: kind.as_str(),
        });
    }
    let fk = spec.fk;
    let inserted = sqlx::query(AssertSqlSafe(format!(
        "insert into duplicate_dismissals (org_id, id, {fk}, other_{fk}, created_by) \
         values ($1, $2, $3, $4, crm_actor()) on conflict do nothing"
    )))
    .bind(tx.org())
    .bind(Uuid::now_v7())
    .bind(a)
    .bind(b)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1;
    if inserted {
        tx.record(
            kind.as_str(),
            Some(a),
            "not_duplicate",
            &json!({ "other_id": b }),
            None,
            &serde_json::Value::Null,
        )
        .await?;
    }
    Ok(inserted)
}

/// Removes the "not a duplicate" mark of `a` and `b`. Returns whether there was one.
pub async fn undismiss(tx: &mut Tx, kind: Kind, a: Uuid, b: Uuid) -> Result<bool> {
    tx.require(Permission::Write)?;
    let (a, b) = ordered(a, b)?;
    let fk = Spec::of(kind).fk;
    let removed = sqlx::query(AssertSqlSafe(format!(
        "delete from duplicate_dismissals where org_id = $1 and {fk} = $2 and other_{fk} = $3"
    )))
    .bind(tx.org())
    .bind(a)
    .bind(b)
    .execute(tx.conn())
    .await?
    .rows_affected()
        == 1;
    if removed {
        tx.record(
            kind.as_str(),
            Some(a),
            "not_duplicate_removed",
            &json!({ "other_id": b }),
            None,
            &serde_json::Value::Null,
        )
        .await?;
    }
    Ok(removed)
}
