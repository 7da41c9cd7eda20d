//! Re-applying erasures after a restore: a backup taken before a person was erased brings
//! the person back. Restoring therefore keeps the erasure receipts (and the organizations'
//! erasure keys) of the database being replaced, puts them back after the restore, and
//! erases again every contact that a receipt names — by its id, or by the keyed hash of
//! any of its e-mail addresses.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use sqlx::Connection as _;
use uuid::Uuid;

use crate::auth::Permission;
use crate::db::Crm;
use crate::error::{Error, Result};
use crate::ids::OrgId;
use crate::tenancy::Tx;

/// The erasure receipts and keys of a database, kept across a restore.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SavedErasures {
    /// Per organization.
    pub organizations: Vec<SavedOrg>,
}

/// One organization's key and receipts. Holds no personal data: ids, times, counts and
/// keyed hashes only.
#[derive(Clone, Serialize, Deserialize)]
pub struct SavedOrg {
    /// The organization.
    pub org_id: OrgId,
    /// Its erasure key (hex), if it had one.
    pub key: Option<String>,
    /// Its receipts.
    pub receipts: Vec<SavedReceipt>,
}

impl std::fmt::Debug for SavedOrg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SavedOrg")
            .field("org_id", &self.org_id)
            .field("key", &self.key.as_ref().map(|_| "<secret>"))
            .field("receipts", &self.receipts.len())
            .finish()
    }
}

/// One stored receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedReceipt {
    /// Receipt id.
    pub id: Uuid,
    /// When the erasure happened.
    pub erased_at: chrono::DateTime<chrono::Utc>,
    /// Who erased.
    pub actor_id: Option<Uuid>,
    /// The erased person's main contact id.
    pub subject_id: Uuid,
    /// Keyed hashes (hex) of the erased e-mail addresses.
    pub email_hashes: Vec<String>,
    /// What was removed.
    pub counts: serde_json::Value,
}

/// What a re-application did in one organization.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReapplySummary {
    /// Receipts put back (they were missing from the restored database).
    pub receipts_restored: u64,
    /// Receipts checked.
    pub receipts_checked: u64,
    /// Contacts erased again.
    pub contacts_erased: u64,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// HMAC-SHA256 (RFC 2104), the same as the database's `crm_hmac_sha256`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

impl Crm {
    /// Reads every organization's erasure key and receipts (as the configured owner user,
    /// which reads across organizations), to keep them across a restore.
    pub async fn save_erasures(&self) -> Result<SavedErasures> {
        let mut conn = self.owner_connection().await?;
        let keys: Vec<(OrgId, Vec<u8>)> = sqlx::query_as("select org_id, key from erasure_keys")
            .fetch_all(&mut conn)
            .await?;
        type Row = (
            OrgId,
            Uuid,
            chrono::DateTime<chrono::Utc>,
            Option<Uuid>,
            Uuid,
            Vec<Vec<u8>>,
            serde_json::Value,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "select org_id, id, erased_at, actor_id, subject_id, email_hashes, counts \
             from erasure_receipts order by org_id, erased_at",
        )
        .fetch_all(&mut conn)
        .await?;
        conn.close().await.ok();
        let mut orgs: Vec<SavedOrg> = Vec::new();
        for (org, key) in keys {
            orgs.push(SavedOrg {
                org_id: org,
                key: Some(hex(&key)),
                receipts: Vec::new(),
            });
        }
        for (org, id, erased_at, actor_id, subject_id, hashes, counts) in rows {
            let pos = match orgs.iter().position(|o| o.org_id == org) {
                Some(p) => p,
                None => {
                    orgs.push(SavedOrg {
                        org_id: org,
                        key: None,
                        receipts: Vec::new(),
                    });
                    orgs.len() - 1
                }
            };
            orgs[pos].receipts.push(SavedReceipt {
                id,
                erased_at,
                actor_id,
                subject_id,
                email_hashes: hashes.iter().map(|h| hex(h)).collect(),
                counts,
            });
        }
        Ok(SavedErasures {
            organizations: orgs,
        })
    }

    /// Puts saved keys and receipts back (those the database lacks), then erases again, in
    /// every organization that still exists, each contact a receipt names. Each
    /// organization's re-application is housekeeping run by no user, on the configured
    /// (owner) user's connection, with the whole organization in reach: it covers every
    /// record whatever the users' visibility, and every organization, also one without an
    /// active owner. The new receipts and audit entries name no actor.
    pub async fn reapply_erasures(
        &self,
        saved: &SavedErasures,
    ) -> Result<Vec<(OrgId, ReapplySummary)>> {
        let mut conn = self.owner_connection().await?;
        let mut restored: Vec<(OrgId, u64)> = Vec::new();
        for org in &saved.organizations {
            let exists: bool =
                sqlx::query_scalar("select exists(select 1 from organizations where id = $1)")
                    .bind(org.org_id)
                    .fetch_one(&mut conn)
                    .await?;
            if !exists {
                continue;
            }
            let mut tx = conn.begin().await?;
            if let Some(key) = org.key.as_deref().and_then(unhex) {
                sqlx::query("insert into erasure_keys (org_id, key) values ($1, $2) on conflict (org_id) do nothing")
                    .bind(org.org_id)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await?;
            }
            let mut n = 0;
            for r in &org.receipts {
                let hashes: Vec<Vec<u8>> = r.email_hashes.iter().filter_map(|h| unhex(h)).collect();
                n += sqlx::query(
                    "insert into erasure_receipts (org_id, id, erased_at, actor_id, subject_id, email_hashes, counts) \
                     values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing",
                )
                .bind(org.org_id)
                .bind(r.id)
                .bind(r.erased_at)
                .bind(r.actor_id)
                .bind(r.subject_id)
                .bind(&hashes)
                .bind(&r.counts)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
            restored.push((org.org_id, n));
        }
        conn.close().await.ok();
        let mut out = Vec::new();
        let pool = self.owner_pool().await?;
        for org in self.organizations().await? {
            let mut tx = Tx::system(pool.begin().await?, org.id).await?;
            let mut summary = reapply(&mut tx).await?;
            tx.commit().await?;
            summary.receipts_restored = restored
                .iter()
                .find(|(o, _)| *o == org.id)
                .map_or(0, |r| r.1);
            out.push((org.id, summary));
        }
        pool.close().await;
        Ok(out)
    }
}

/// Erases again, in the transaction's organization, every contact that one of its erasure
/// receipts names: by the subject's id, or by the keyed hash of any e-mail address (so a
/// record restored from an older backup, or re-imported under another id, goes too), with
/// the whole organization in reach whatever the actor's visibility (the transaction keeps
/// visibility `all` afterwards). Requires [`Permission::Erase`].
pub async fn reapply(tx: &mut Tx) -> Result<ReapplySummary> {
    tx.require(Permission::Erase)?;
    let org = tx.org();
    // An organization-level duty: every record, whatever the actor's visibility.
    sqlx::raw_sql("set local crm.visibility = 'all'")
        .execute(tx.conn())
        .await?;
    let receipts: Vec<(Uuid, Vec<Vec<u8>>)> =
        sqlx::query_as("select subject_id, email_hashes from erasure_receipts where org_id = $1")
            .bind(org)
            .fetch_all(tx.conn())
            .await?;
    let mut summary = ReapplySummary {
        receipts_checked: receipts.len() as u64,
        ..Default::default()
    };
    if receipts.is_empty() {
        return Ok(summary);
    }
    let subjects: Vec<Uuid> = receipts.iter().map(|r| r.0).collect();
    let hashes: HashSet<Vec<u8>> = receipts.into_iter().flat_map(|r| r.1).collect();
    let mut targets: Vec<Uuid> =
        sqlx::query_scalar("select id from contacts where org_id = $1 and id = any($2)")
            .bind(org)
            .bind(&subjects)
            .fetch_all(tx.conn())
            .await?;
    if !hashes.is_empty() {
        let key: Option<Vec<u8>> =
            sqlx::query_scalar("select key from erasure_keys where org_id = $1")
                .bind(org)
                .fetch_optional(tx.conn())
                .await?;
        let Some(key) = key else {
            return Err(Error::Conflict(
                "the organization's erasure key is missing; restore it with the saved erasures file".into(),
            ));
        };
        // Every address of every contact, hashed here (fast) rather than in SQL.
        let emails: Vec<(Uuid, String)> = sqlx::query_as(
            "select contact_id, email_norm from contact_emails where org_id = $1 \
             union select id, email_norm from contacts where org_id = $1 and email_norm is not null",
        )
        .bind(org)
        .fetch_all(tx.conn())
        .await?;
        for (id, email) in emails {
            if hashes.contains(hmac_sha256(&key, email.as_bytes()).as_slice())
                && !targets.contains(&id)
            {
                targets.push(id);
            }
        }
    }
    for id in targets {
        // The contact may already be gone with another record of the same person.
        let exists: bool = sqlx::query_scalar(
            "select exists(select 1 from contacts where org_id = $1 and id = $2)",
        )
        .bind(org)
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
        if exists {
            let receipt = super::erase(tx, &id.to_string(), false).await?;
            summary.contacts_erased += receipt.counts.contacts.max(0) as u64;
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(&hex(&[0, 1, 254, 255])), Some(vec![0, 1, 254, 255]));
        assert_eq!(unhex("abc"), None);
    }
}
