//! Owners of contacts, companies and deals: users with a role (owner, member, watcher).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::OwnerRole;
use crate::error::Result;
use crate::ids::UserId;
use crate::tenancy::Tx;

/// One owner of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The user.
    pub user_id: UserId,
    /// Their role on the record.
    pub role: OwnerRole,
}

/// Which owners table: the record kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnedKind {
    /// `contact_owners`.
    Contact,
    /// `company_owners`.
    Company,
    /// `deal_owners`.
    Deal,
}

impl OwnedKind {
    fn table_and_column(self) -> (&'static str, &'static str) {
        match self {
            OwnedKind::Contact => ("contact_owners", "contact_id"),
            OwnedKind::Company => ("company_owners", "company_id"),
            OwnedKind::Deal => ("deal_owners", "deal_id"),
        }
    }
}

/// `owners` with each user once: a user listed twice keeps the last role.
pub(crate) fn dedup(owners: &[Owner]) -> Vec<Owner> {
    let mut out: Vec<Owner> = Vec::new();
    for o in owners {
        out.retain(|d| d.user_id != o.user_id);
        out.push(*o);
    }
    out
}

/// The order owners are listed in: owners before members before watchers, then by user id
/// (as the database orders uuids).
pub(crate) fn sort(owners: &mut [Owner]) {
    owners.sort_by_key(|o| {
        let rank = match o.role {
            OwnerRole::Owner => 0,
            OwnerRole::Member => 1,
            OwnerRole::Watcher => 2,
        };
        (rank, o.user_id.uuid())
    });
}

/// Replaces the owners of a record with `owners` (a user listed twice keeps the last
/// role). Unknown users fail with a validation error from the foreign key.
pub async fn set(tx: &mut Tx, kind: OwnedKind, record: Uuid, owners: &[Owner]) -> Result<()> {
    let (table, column) = kind.table_and_column();
    let org = tx.org();
    let dedup = dedup(owners);
    let users: Vec<Uuid> = dedup.iter().map(|o| o.user_id.uuid()).collect();
    let roles: Vec<_> = dedup.iter().map(|o| o.role).collect();
    // Fixed table and column names from `kind`, never input.
    let del = format!("delete from {table} where org_id = $1 and {column} = $2");
    sqlx::query(sqlx::AssertSqlSafe(del))
        .bind(org)
        .bind(record)
        .execute(tx.conn())
        .await?;
    if !dedup.is_empty() {
        let ins = format!(
            "insert into {table} (org_id, {column}, user_id, role) \
             select $1, $2, u.user_id, u.role from unnest($3::uuid[], $4::text[]) as u(user_id, role)"
        );
        sqlx::query(sqlx::AssertSqlSafe(ins))
            .bind(org)
            .bind(record)
            .bind(&users)
            .bind(&roles)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// The owners of a record.
pub async fn get(tx: &mut Tx, kind: OwnedKind, record: Uuid) -> Result<Vec<Owner>> {
    let (table, column) = kind.table_and_column();
    let sql = format!(
        "select user_id, role from {table} where org_id = $1 and {column} = $2 order by role, user_id"
    );
    let rows: Vec<(UserId, OwnerRole)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(record)
        .fetch_all(tx.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|(user_id, role)| Owner { user_id, role })
        .collect())
}
