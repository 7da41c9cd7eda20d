//! The organization's Lexware Office API key, the integration actor the sync acts as, and
//! the lock that keeps two syncs of one organization from running at once.

use serde_json::json;
use sqlx::Connection as _;
use uuid::Uuid;

use crate::auth::Permission;
use crate::db::Crm;
use crate::error::{Error, Result};
use crate::ids::{OrgId, UserId};
use crate::tenancy::Tx;

/// The e-mail of the integration actor: changes the sync makes in the CRM are audited
/// under this user (it has no password and cannot log in).
pub const INTEGRATION_EMAIL: &str = "lexware-sync@integration.invalid";

/// Stores the organization's API key (replacing any earlier one). Owners and admins only.
/// The key itself never reaches the audit log; the entry only says that it was set.
pub async fn set_api_key(tx: &mut Tx, key: &str) -> Result<()> {
    require_admin(tx)?;
    let key = key.trim();
    if key.is_empty() || key.len() > 500 || key.chars().any(|c| c.is_whitespace()) {
        return Err(Error::invalid(
            "api_key",
            "must be 1 to 500 characters without spaces",
        ));
    }
    sqlx::query(
        "insert into lexware_settings (org_id, api_key, configured_by) values ($1, $2, $3) \
         on conflict (org_id) do update set api_key = excluded.api_key, \
             configured_by = excluded.configured_by, updated_at = now()",
    )
    .bind(tx.org())
    .bind(key)
    .bind(tx.actor().id)
    .execute(tx.conn())
    .await?;
    tx.record(
        "lexware_settings",
        None,
        "api_key_set",
        &json!({}),
        Some("lexware.configured"),
        &json!({}),
    )
    .await
}

/// Removes the stored API key. Owners and admins only.
pub async fn clear_api_key(tx: &mut Tx) -> Result<bool> {
    require_admin(tx)?;
    let n = sqlx::query("delete from lexware_settings where org_id = $1")
        .bind(tx.org())
        .execute(tx.conn())
        .await?
        .rows_affected();
    if n > 0 {
        tx.record(
            "lexware_settings",
            None,
            "api_key_removed",
            &json!({}),
            Some("lexware.unconfigured"),
            &json!({}),
        )
        .await?;
    }
    Ok(n > 0)
}

/// The stored API key, if any. Owners and admins only (others get
/// [`Error::PermissionDenied`]).
pub async fn api_key(tx: &mut Tx) -> Result<Option<String>> {
    require_admin(tx)?;
    Ok(
        sqlx::query_scalar("select api_key from lexware_settings where org_id = $1")
            .bind(tx.org())
            .fetch_optional(tx.conn())
            .await?,
    )
}

fn require_admin(tx: &Tx) -> Result<()> {
    tx.require(Permission::ManageUsers).map_err(|_| {
        Error::PermissionDenied(
            "only owners and admins may read or change the Lexware Office API key".into(),
        )
    })
}

/// The integration actor of the organization, created (as an admin without password) on
/// first use; creating it needs an owner or admin.
pub async fn integration_actor(tx: &mut Tx) -> Result<UserId> {
    let found: Option<(UserId, bool)> = sqlx::query_as(
        "select id, active and deleted_at is null from users where org_id = $1 and email_norm = $2",
    )
    .bind(tx.org())
    .bind(INTEGRATION_EMAIL)
    .fetch_optional(tx.conn())
    .await?;
    match found {
        Some((id, true)) => Ok(id),
        Some((_, false)) => Err(Error::PermissionDenied(format!(
            "the integration user {INTEGRATION_EMAIL} is deactivated; reactivate it to sync"
        ))),
        None => {
            let user = crate::auth::user::add(
                tx,
                crate::auth::NewUser {
                    email: INTEGRATION_EMAIL.into(),
                    first_name: "Lexware".into(),
                    last_name: "Sync".into(),
                    role: crate::domain::UserRole::Admin,
                    password: None,
                    team: None,
                    visibility: Some(crate::auth::Visibility::All),
                },
            )
            .await?;
            Ok(user.id)
        }
    }
}

/// Held while a sync of one organization runs: a session advisory lock on a connection of
/// its own (taken out of the pool, so closing it releases the lock even if the process
/// dies). Dropping it releases the lock.
#[derive(Debug)]
pub struct SyncLock {
    conn: Option<sqlx::PgConnection>,
    key: String,
}

impl SyncLock {
    /// Takes the lock of `org` if no other sync holds it; `None` when one does.
    pub async fn try_acquire(crm: &Crm, org: OrgId) -> Result<Option<SyncLock>> {
        // A session-level lock needs a session that outlives transactions: a direct
        // connection (the session URL behind a transaction pooler).
        let options = crm.session_options().ok_or_else(|| {
            Error::Unavailable(
                "the Lexware sync holds a lock for its whole run, which a transaction pooler \
                 cannot keep; name a direct connection (Crm::with_session_url)"
                    .into(),
            )
        })?;
        let mut conn = sqlx::PgConnection::connect_with(&options).await?;
        let key = format!("crm-lexware-sync:{org}");
        let got: bool = sqlx::query_scalar("select pg_try_advisory_lock(hashtextextended($1, 0))")
            .bind(&key)
            .fetch_one(&mut conn)
            .await?;
        if got {
            Ok(Some(SyncLock {
                conn: Some(conn),
                key,
            }))
        } else {
            let _ = conn.close().await;
            Ok(None)
        }
    }

    /// Releases the lock now (dropping does the same when the connection closes).
    pub async fn release(mut self) -> Result<()> {
        if let Some(mut conn) = self.conn.take() {
            // Unlocked explicitly: a closing backend releases its locks only as it exits.
            sqlx::query("select pg_advisory_unlock(hashtextextended($1, 0))")
                .bind(&self.key)
                .execute(&mut conn)
                .await?;
            conn.close().await?;
        }
        Ok(())
    }
}

/// Whether `id` is the integration actor (events it caused are the sync's own echoes).
pub async fn is_integration_actor(tx: &mut Tx, id: Uuid) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "select exists(select 1 from users where org_id = $1 and id = $2 and email_norm = $3)",
    )
    .bind(tx.org())
    .bind(id)
    .bind(INTEGRATION_EMAIL)
    .fetch_one(tx.conn())
    .await?)
}
