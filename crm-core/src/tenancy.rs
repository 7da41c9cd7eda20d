//! Tenant scopes: every operation runs in one transaction that first names the
//! organization and the acting user with `set_config(..., true)` (transaction-local, so a
//! pooled connection never carries a tenant to its next user).

use serde_json::Value;
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::auth::{Permission, allows};
use crate::db::Crm;
use crate::domain::UserRole;
use crate::error::{Error, Result};
use crate::ids::{OrgId, UserId};

/// The acting user of a transaction.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    /// The user's id.
    pub id: UserId,
    /// The user's role when the transaction began.
    pub role: UserRole,
}

/// Work in one organization as one user. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Scope {
    crm: Crm,
    org: OrgId,
    actor: UserId,
}

impl Scope {
    pub(crate) fn new(crm: Crm, org: OrgId, actor: UserId) -> Self {
        Self { crm, org, actor }
    }

    /// The organization.
    pub fn org(&self) -> OrgId {
        self.org
    }

    /// The acting user.
    pub fn actor(&self) -> UserId {
        self.actor
    }

    /// The handle this scope works through.
    pub fn crm(&self) -> &Crm {
        &self.crm
    }

    /// Begins a transaction in this scope. The actor must exist in the organization and be
    /// active. Dropping the [`Tx`] without [`Tx::commit`] rolls everything back.
    pub async fn begin(&self) -> Result<Tx> {
        let tx = self.crm.pool().begin().await?;
        let mut tx = self.enter(tx).await?;
        // Read-your-writes: with a replica, a commit notes how far the primary got.
        tx.wrote_through = self.crm.has_read_replica().then(|| self.crm.clone());
        Ok(tx)
    }

    /// Begins a read-only transaction in this scope on the read replica when one is
    /// configured and may serve it (else on the primary, see [`crate::replica`]), with the
    /// organization and actor set as in [`Scope::begin`]. Any write in it fails (SQLSTATE
    /// `25006`), so it suits exports, reports and search, which can then run on a replica
    /// and off the primary. A write this handle committed before is visible in it.
    pub async fn begin_read(&self) -> Result<Tx> {
        let mut tx = self.crm.begin_read_tx().await?;
        sqlx::query("set transaction read only")
            .execute(&mut *tx)
            .await?;
        self.enter(tx).await
    }

    /// Begins a read-only, repeatable-read transaction in this scope on the primary, for
    /// one piece of a read that runs on several connections at once. With `snapshot`
    /// (what an earlier call returned, its transaction still open) it sees exactly what that
    /// transaction sees; without, it exports its own snapshot (`pg_export_snapshot`).
    /// Returns the transaction and the snapshot's id.
    pub(crate) async fn begin_snapshot(&self, snapshot: Option<&str>) -> Result<(Tx, String)> {
        let mut tx = self.crm.pool().begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
        if let Some(id) = snapshot {
            // `set transaction snapshot` takes no parameters; the id is PostgreSQL's own
            // (hex digits and dashes), checked before it goes into the text.
            if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
                return Err(Error::Tenancy(format!("not a snapshot id: {id:?}")));
            }
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "set transaction snapshot '{id}'"
            )))
            .execute(&mut *tx)
            .await?;
        }
        let mut tx = self.enter(tx).await?;
        let id = match snapshot {
            Some(id) => id.to_string(),
            None => {
                sqlx::query_scalar("select pg_export_snapshot()")
                    .fetch_one(tx.conn())
                    .await?
            }
        };
        Ok((tx, id))
    }

    /// Names the organization and the actor for the transaction and checks the actor.
    async fn enter(&self, mut tx: Transaction<'static, Postgres>) -> Result<Tx> {
        let (role, active, region): (Option<UserRole>, Option<bool>, Option<String>) =
            sqlx::query_as("select role, active, region from crm_enter($1, $2)")
                .bind(self.org)
                .bind(self.actor)
                .fetch_one(&mut *tx)
                .await?;
        let role = match (role, active) {
            (Some(role), Some(true)) => role,
            (Some(_), _) => {
                return Err(Error::PermissionDenied(
                    "the acting user is deactivated and cannot act".into(),
                ));
            }
            (None, _) => {
                return Err(Error::Tenancy(
                    "the acting user does not belong to this organization".into(),
                ));
            }
        };
        Ok(Tx {
            tx,
            org: self.org,
            actor: Actor {
                id: self.actor,
                role,
            },
            default_region: region
                .ok_or_else(|| Error::Tenancy("the organization does not exist".into()))?,
            system: false,
            wrote_through: None,
        })
    }

    /// Runs `f` in one transaction of this scope and commits if it succeeds; on error
    /// nothing it did is kept.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: AsyncFnOnce(&mut Tx) -> Result<T>,
    {
        let mut tx = self.begin().await?;
        let out = f(&mut tx).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// An open transaction in a tenant scope. Operations take `&mut Tx`, so several of them
/// can be grouped into one transaction; nothing is visible to others before
/// [`Tx::commit`].
#[derive(Debug)]
pub struct Tx {
    tx: Transaction<'static, Postgres>,
    org: OrgId,
    actor: Actor,
    default_region: String,
    /// Housekeeping run by no user ([`Tx::system`]).
    system: bool,
    /// The handle to note the commit on (read-your-writes), for a write transaction when a
    /// replica is configured.
    wrote_through: Option<Crm>,
}

impl Tx {
    /// A transaction for the organization's housekeeping that no user runs (re-applying
    /// erasures after a restore): `tx` must be on a connection as the configured (owner)
    /// user, not switched to the application role. The organization is set, no actor
    /// (audit entries and receipts carry none; permission checks pass as for an owner),
    /// and the whole organization is in reach (visibility `all`), whoever its users are.
    pub(crate) async fn system(mut tx: Transaction<'static, Postgres>, org: OrgId) -> Result<Tx> {
        // The tenant with `set local` (crm_set_tenant), as every transaction sets it.
        sqlx::query("select crm_set_tenant($1, null)")
            .bind(org)
            .execute(&mut *tx)
            .await?;
        sqlx::raw_sql(
            "set local crm.visibility = 'all'; set local crm.team_id = ''; set local jit = off",
        )
        .execute(&mut *tx)
        .await?;
        let region: Option<String> =
            sqlx::query_scalar("select default_region::text from organizations where id = $1")
                .bind(org)
                .fetch_optional(&mut *tx)
                .await?;
        Ok(Tx {
            tx,
            org,
            actor: Actor {
                id: UserId(Uuid::nil()),
                role: UserRole::Owner,
            },
            default_region: region
                .ok_or_else(|| Error::Tenancy("the organization does not exist".into()))?,
            system: true,
            wrote_through: None,
        })
    }

    /// Whether this is housekeeping run by no user ([`Tx::system`]).
    pub(crate) fn is_system(&self) -> bool {
        self.system
    }

    /// The acting user's id; `None` for housekeeping run by no user.
    pub(crate) fn actor_id(&self) -> Option<UserId> {
        (!self.system).then_some(self.actor.id)
    }

    /// The organization.
    pub fn org(&self) -> OrgId {
        self.org
    }

    /// The acting user.
    pub fn actor(&self) -> Actor {
        self.actor
    }

    /// The organization's default phone region (`DE`, `CH`, ...), read when the transaction
    /// began: national phone numbers are read in it.
    pub fn default_region(&self) -> &str {
        &self.default_region
    }

    /// The connection, for queries (row-level security confines it to the organization).
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Fails with [`Error::PermissionDenied`] unless the actor's role allows `permission`.
    pub fn require(&self, permission: Permission) -> Result<()> {
        if allows(self.actor.role, permission) {
            Ok(())
        } else {
            Err(Error::PermissionDenied(format!(
                "the role '{}' may not {}",
                self.actor.role.as_str(),
                describe(permission)
            )))
        }
    }

    /// Clears every reference in this organization to the rows `ids` of `table` (one of
    /// `teams`, `industries`, `account_types`, `companies`, `contacts`, `stages`, `users`),
    /// rows the actor may not see included. Call it right before hard-deleting those rows:
    /// the foreign keys are plain NO ACTION keys (Citus accepts no `SET NULL` action on
    /// them), so the references are cleared here, as the keys' action did before.
    pub(crate) async fn detach(&mut self, table: &'static str, ids: &[Uuid]) -> Result<()> {
        if !ids.is_empty() {
            sqlx::query("select crm_detach($1, $2)")
                .bind(table)
                .bind(ids)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// Writes an audit entry (appended to the organization's hash chain) and, when `topic`
    /// is given, an outbox event, both in this transaction, in one round trip.
    pub async fn record(
        &mut self,
        entity_type: &str,
        entity_id: Option<Uuid>,
        action: &str,
        audit_payload: &Value,
        topic: Option<&str>,
        event_payload: &Value,
    ) -> Result<()> {
        sqlx::query(
            "select crm_audit($1, $2, $3, $4), \
                    case when $5::text is null then null else crm_emit($5, $1, $2, $6) end",
        )
        .bind(entity_type)
        .bind(entity_id)
        .bind(action)
        .bind(audit_payload)
        .bind(topic)
        .bind(event_payload)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Commits.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        if let Some(crm) = self.wrote_through {
            // Committed already: failing to note it only makes a later read less sure to
            // see it on the replica, which is no reason to report the write as failed.
            let _ = crm.note_write().await;
        }
        Ok(())
    }

    /// Rolls back explicitly (dropping does the same).
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

fn describe(p: Permission) -> &'static str {
    match p {
        Permission::Read => "read records",
        Permission::Write => "create or change records",
        Permission::Delete => "delete or restore records",
        Permission::Configure => "change pipelines or configurable lists",
        Permission::Import => "import data",
        Permission::Export => "export data",
        Permission::ReadAudit => "read the audit log",
        Permission::ManageUsers => "manage users",
        Permission::Erase => "erase personal data or purge records",
    }
}
