//! The audit log: every change's actor, time, entity, action and field-level diff, in a
//! hash chain per organization that [`verify`] checks.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Permission;
use crate::db::Crm;
use crate::error::Result;
use crate::ids::{OrgId, UserId};
use crate::tenancy::Tx;

/// One audit entry.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    /// Position in the organization's chain (1 first).
    pub seq: i64,
    /// When it was written.
    pub at: DateTime<Utc>,
    /// Who acted (null for system actions).
    pub actor_id: Option<UserId>,
    /// The actor's e-mail, when the user still exists.
    pub actor: Option<String>,
    /// What kind of record (`contact`, `deal`, ...).
    pub entity_type: String,
    /// Which record.
    pub entity_id: Option<Uuid>,
    /// What happened (`create`, `update`, `delete`, ...).
    pub action: String,
    /// The field-level diff (null once redacted by an erasure).
    pub payload: Option<Value>,
    /// Whether an erasure redacted the payload.
    pub redacted: bool,
}

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this entity type.
    pub entity_type: Option<String>,
    /// Only this record.
    pub entity_id: Option<Uuid>,
    /// Only this actor.
    pub actor: Option<UserId>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only entries after this sequence number (for paging).
    pub after_seq: Option<i64>,
    /// At most this many (default 100, at most 10,000).
    pub limit: Option<u32>,
}

/// Reads the log, oldest first.
pub async fn log(tx: &mut Tx, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
    tx.require(Permission::ReadAudit)?;
    let limit = i64::from(filter.limit.unwrap_or(100).clamp(1, 10_000));
    Ok(sqlx::query_as(
        "select a.seq, a.at, a.actor_id, u.email as actor, a.entity_type, a.entity_id, a.action, \
                a.payload, a.redacted_at is not null as redacted \
         from audit_log a left join users u on u.org_id = a.org_id and u.id = a.actor_id \
         where a.org_id = $1 \
           and ($2::text is null or a.entity_type = $2) \
           and ($3::uuid is null or a.entity_id = $3) \
           and ($4::uuid is null or a.actor_id = $4) \
           and ($5::timestamptz is null or a.at >= $5) \
           and ($6::timestamptz is null or a.at < $6) \
           and a.seq > coalesce($7, 0) \
         order by a.seq limit $8",
    )
    .bind(tx.org())
    .bind(&filter.entity_type)
    .bind(filter.entity_id)
    .bind(filter.actor)
    .bind(filter.since)
    .bind(filter.until)
    .bind(filter.after_seq)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// The outcome of checking one organization's chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    /// The organization.
    pub org_id: OrgId,
    /// Its slug.
    pub slug: String,
    /// Entries checked before the first problem (all of them when intact).
    pub checked: i64,
    /// The first broken entry's sequence number, if any.
    pub broken_seq: Option<i64>,
    /// What is wrong with it.
    pub problem: Option<String>,
}

impl ChainReport {
    /// Whether the chain is intact.
    pub fn intact(&self) -> bool {
        self.broken_seq.is_none()
    }
}

/// Checks the chain of the transaction's organization: contiguous sequence numbers, each
/// entry's previous hash, payload digest (unless redacted) and hash, and the head.
pub async fn verify(tx: &mut Tx) -> Result<(i64, Option<i64>, Option<String>)> {
    tx.require(Permission::ReadAudit)?;
    Ok(
        sqlx::query_as("select checked, broken_seq, problem from crm_audit_verify()")
            .fetch_one(tx.conn())
            .await?,
    )
}

impl Crm {
    /// Checks every organization's audit chain (an operations job: no actor needed, and
    /// nothing but counts and sequence numbers is returned).
    pub async fn verify_audit_chains(&self) -> Result<Vec<ChainReport>> {
        let mut reports = Vec::new();
        for org in self.organizations().await? {
            let mut tx = self.pool().begin().await?;
            crate::org::set_org(&mut tx, org.id).await?;
            let (checked, broken_seq, problem): (i64, Option<i64>, Option<String>) =
                sqlx::query_as("select checked, broken_seq, problem from crm_audit_verify()")
                    .fetch_one(&mut *tx)
                    .await?;
            tx.commit().await?;
            reports.push(ChainReport {
                org_id: org.id,
                slug: org.slug,
                checked,
                broken_seq,
                problem,
            });
        }
        Ok(reports)
    }
}
