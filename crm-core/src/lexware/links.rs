//! Links between a CRM company or contact and a Lexware Office contact, with what the
//! two sides agreed on at the last sync.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::ids::{CompanyId, ContactId};
use crate::tenancy::Tx;

/// The CRM side of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum LinkTarget {
    /// A company.
    Company(CompanyId),
    /// A contact (person).
    Contact(ContactId),
}

impl LinkTarget {
    /// `company` or `contact`.
    pub fn kind(self) -> &'static str {
        match self {
            LinkTarget::Company(_) => "company",
            LinkTarget::Contact(_) => "contact",
        }
    }

    /// The record's id.
    pub fn uuid(self) -> Uuid {
        match self {
            LinkTarget::Company(id) => id.uuid(),
            LinkTarget::Contact(id) => id.uuid(),
        }
    }
}

/// A link as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    /// The link's id.
    pub id: Uuid,
    /// The CRM record.
    pub target: LinkTarget,
    /// The Lexware contact's id.
    pub lexware_id: Uuid,
    /// The Lexware version last read or written.
    pub lexware_version: i32,
    /// The CRM record's version at the last sync.
    pub local_version: Option<i32>,
    /// When the last sync of this link finished.
    pub synced_at: Option<DateTime<Utc>>,
    /// The mapped field values both sides agreed on at the last sync (field → value).
    /// Holds personal data: never logged.
    #[serde(skip)]
    pub base: Value,
    /// Open conflicts: fields changed on both sides, with both values.
    pub conflicts: Value,
    /// False when the Lexware contact has lists longer than one and cannot be updated
    /// through the API.
    pub updatable: bool,
    /// The last problem syncing this link (no personal data).
    pub last_error: Option<String>,
    /// When its vouchers were last refreshed.
    pub vouchers_refreshed_at: Option<DateTime<Utc>>,
    /// When the link was made.
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    id: Uuid,
    contact_id: Option<Uuid>,
    company_id: Option<Uuid>,
    lexware_id: Uuid,
    lexware_version: i32,
    local_version: Option<i32>,
    synced_at: Option<DateTime<Utc>>,
    base: Value,
    conflicts: Value,
    updatable: bool,
    last_error: Option<String>,
    vouchers_refreshed_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<LinkRow> for Link {
    fn from(r: LinkRow) -> Self {
        let target = match (r.company_id, r.contact_id) {
            (Some(c), _) => LinkTarget::Company(CompanyId(c)),
            (None, Some(c)) => LinkTarget::Contact(ContactId(c)),
            // The table's check constraint makes exactly one of them non-null.
            (None, None) => LinkTarget::Contact(ContactId(Uuid::nil())),
        };
        Link {
            id: r.id,
            target,
            lexware_id: r.lexware_id,
            lexware_version: r.lexware_version,
            local_version: r.local_version,
            synced_at: r.synced_at,
            base: r.base,
            conflicts: r.conflicts,
            updatable: r.updatable,
            last_error: r.last_error,
            vouchers_refreshed_at: r.vouchers_refreshed_at,
            created_at: r.created_at,
        }
    }
}

const COLUMNS: &str = "id, contact_id, company_id, lexware_id, lexware_version, local_version, \
    synced_at, base, conflicts, updatable, last_error, vouchers_refreshed_at, created_at";

/// Links `target` to the Lexware contact `lexware_id` read at `lexware_version`, with
/// `base` as the agreed field values (see [`Link::base`]). A record or Lexware contact
/// already linked is a [`Error::Conflict`].
pub async fn create(
    tx: &mut Tx,
    target: LinkTarget,
    lexware_id: Uuid,
    lexware_version: i32,
    local_version: Option<i32>,
    base: &Value,
) -> Result<Link> {
    tx.require(Permission::Write)?;
    if find_by_target(tx, target).await?.is_some() {
        return Err(Error::Conflict(format!(
            "the {} is already linked to a Lexware contact; unlink it first",
            target.kind()
        )));
    }
    if find_by_lexware(tx, lexware_id).await?.is_some() {
        return Err(Error::Conflict(
            "this Lexware contact is already linked to another record; unlink it first".into(),
        ));
    }
    let (contact, company) = split(target);
    let id = Uuid::now_v7();
    let row: LinkRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into lexware_contact_links (org_id, id, contact_id, company_id, lexware_id, \
             lexware_version, local_version, base, synced_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, now()) returning {COLUMNS}"
    )))
    .bind(tx.org())
    .bind(id)
    .bind(contact)
    .bind(company)
    .bind(lexware_id)
    .bind(lexware_version)
    .bind(local_version)
    .bind(base)
    .fetch_one(tx.conn())
    .await?;
    let payload = json!({ target.kind(): target.uuid(), "lexware_id": lexware_id });
    tx.record(
        "lexware_link",
        Some(id),
        "created",
        &payload,
        Some("lexware.linked"),
        &payload,
    )
    .await?;
    Ok(row.into())
}

fn split(target: LinkTarget) -> (Option<Uuid>, Option<Uuid>) {
    match target {
        LinkTarget::Contact(c) => (Some(c.uuid()), None),
        LinkTarget::Company(c) => (None, Some(c.uuid())),
    }
}

/// The link of a CRM record, if any.
pub async fn find_by_target(tx: &mut Tx, target: LinkTarget) -> Result<Option<Link>> {
    tx.require(Permission::Read)?;
    let (contact, company) = split(target);
    let row: Option<LinkRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from lexware_contact_links where org_id = $1 \
         and (contact_id = $2 or company_id = $3)"
    )))
    .bind(tx.org())
    .bind(contact)
    .bind(company)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(Link::from))
}

/// The link of a Lexware contact, if any.
pub async fn find_by_lexware(tx: &mut Tx, lexware_id: Uuid) -> Result<Option<Link>> {
    tx.require(Permission::Read)?;
    let row: Option<LinkRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from lexware_contact_links where org_id = $1 and lexware_id = $2"
    )))
    .bind(tx.org())
    .bind(lexware_id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(row.map(Link::from))
}

/// One link by its id.
pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Link> {
    tx.require(Permission::Read)?;
    let row: Option<LinkRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from lexware_contact_links where org_id = $1 and id = $2"
    )))
    .bind(tx.org())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    row.map(Link::from).ok_or(Error::NotFound {
        entity: "Lexware link",
    })
}

/// Every link, oldest first.
pub async fn list(tx: &mut Tx) -> Result<Vec<Link>> {
    tx.require(Permission::Read)?;
    let rows: Vec<LinkRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from lexware_contact_links where org_id = $1 order by created_at, id"
    )))
    .bind(tx.org())
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(Link::from).collect())
}

/// The next `limit` links of the round-robin pull: never-synced first, then the ones
/// synced longest ago. Each sync moves its link to the back of the queue.
pub async fn next_for_pull(tx: &mut Tx, limit: u32) -> Result<Vec<Link>> {
    tx.require(Permission::Read)?;
    let rows: Vec<LinkRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from lexware_contact_links where org_id = $1 \
         order by synced_at nulls first, id limit $2"
    )))
    .bind(tx.org())
    .bind(i64::from(limit.clamp(1, 100_000)))
    .fetch_all(tx.conn())
    .await?;
    Ok(rows.into_iter().map(Link::from).collect())
}

/// Removes a link (cached vouchers stay). Audited.
pub async fn delete(tx: &mut Tx, id: Uuid) -> Result<()> {
    tx.require(Permission::Write)?;
    let link = get(tx, id).await?;
    sqlx::query("delete from lexware_contact_links where org_id = $1 and id = $2")
        .bind(tx.org())
        .bind(id)
        .execute(tx.conn())
        .await?;
    let payload = json!({ link.target.kind(): link.target.uuid(), "lexware_id": link.lexware_id });
    tx.record(
        "lexware_link",
        Some(id),
        "deleted",
        &payload,
        Some("lexware.unlinked"),
        &payload,
    )
    .await
}

/// What a sync of one link ends with.
#[derive(Debug, Clone)]
pub struct SyncState {
    /// The Lexware version last read or written.
    pub lexware_version: i32,
    /// The CRM record's version after the sync.
    pub local_version: Option<i32>,
    /// The agreed field values.
    pub base: Value,
    /// Open conflicts (`[{field, crm, lexware}]`).
    pub conflicts: Value,
    /// Whether the Lexware contact can be updated.
    pub updatable: bool,
    /// The problem, if the sync failed.
    pub last_error: Option<String>,
}

/// Stores the outcome of a sync of one link and moves it to the back of the round-robin
/// queue. Not audited (no CRM record changes here); the changes the sync made to CRM
/// records are audited by the record operations themselves.
pub async fn save_state(tx: &mut Tx, id: Uuid, state: &SyncState) -> Result<()> {
    tx.require(Permission::Write)?;
    let done = sqlx::query(
        "update lexware_contact_links set lexware_version = $3, local_version = $4, base = $5, \
             conflicts = $6, updatable = $7, last_error = $8, synced_at = now() \
         where org_id = $1 and id = $2",
    )
    .bind(tx.org())
    .bind(id)
    .bind(state.lexware_version)
    .bind(state.local_version)
    .bind(&state.base)
    .bind(&state.conflicts)
    .bind(state.updatable)
    .bind(&state.last_error)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound {
            entity: "Lexware link",
        });
    }
    Ok(())
}

/// Records a failed sync of a link without touching its agreed state (it stays in the
/// queue position of a synced link, so one broken contact cannot starve the others).
pub async fn save_error(tx: &mut Tx, id: Uuid, error: &str) -> Result<()> {
    tx.require(Permission::Write)?;
    sqlx::query(
        "update lexware_contact_links set last_error = $3, synced_at = now() \
         where org_id = $1 and id = $2",
    )
    .bind(tx.org())
    .bind(id)
    .bind(error)
    .execute(tx.conn())
    .await?;
    Ok(())
}
