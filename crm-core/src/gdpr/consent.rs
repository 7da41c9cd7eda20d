//! Consent: every grant and revocation is a row of its own (time, source, purpose, actor),
//! never updated, so the history is the record. A contact's consent for a purpose is its
//! latest row for that purpose.
//!
//! Exports restricted to consenting contacts ([`crate::export::ExportFilter::consenting_only`])
//! read these rows.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::auth::Permission;
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{ContactId, UserId};
use crate::store::{Cursor, Page, PageRequest};
use crate::tenancy::Tx;

/// The purpose used when none is given.
pub const DEFAULT_PURPOSE: &str = "marketing";

/// The longest source text accepted, in characters.
const MAX_SOURCE_LEN: usize = 500;

/// Granted or revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// The person agreed.
    Granted,
    /// The person withdrew (or refused) consent.
    Revoked,
}

impl ConsentStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::Granted => "granted",
            ConsentStatus::Revoked => "revoked",
        }
    }
}

/// One grant or revocation.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Consent {
    /// Its id.
    pub id: Uuid,
    /// The contact.
    pub contact_id: ContactId,
    /// What it is for (`marketing`, `newsletter`, ...).
    pub purpose: String,
    /// `granted` or `revoked`.
    pub status: String,
    /// Where it came from (`web form`, `phone call 2026-03-01`, ...).
    pub source: String,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub actor_id: Option<UserId>,
}

/// A live contact whose latest consent for a purpose is not a grant.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ContactWithoutConsent {
    /// The contact.
    pub id: ContactId,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Primary e-mail address.
    pub email: Option<String>,
    /// `revoked` when consent was withdrawn, `None` when it was never given.
    pub status: Option<String>,
}

/// Checks a purpose: 1 to 64 lower-case letters, digits or underscores (trimmed and lower
/// cased first).
fn check_purpose(errors: &mut FieldErrors, purpose: &str) -> String {
    let p = purpose.trim().to_lowercase();
    if p.is_empty()
        || p.len() > 64
        || !p
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        errors.add(
            "purpose",
            "must be 1 to 64 lower-case letters, digits or underscores",
        );
    }
    p
}

/// A purpose as stored (trimmed, lower case), or a validation error on the field `purpose`.
pub(crate) fn purpose_key(purpose: &str) -> Result<String> {
    let mut errors = FieldErrors::new();
    let p = check_purpose(&mut errors, purpose);
    errors.into_result()?;
    Ok(p)
}

fn check_source(errors: &mut FieldErrors, source: &str) -> String {
    let s = source.trim().to_string();
    if s.is_empty() {
        errors.add("source", "must say where the consent came from");
    } else if s.chars().count() > MAX_SOURCE_LEN {
        errors.add("source", "must be at most 500 characters");
    }
    s
}

async fn record(
    tx: &mut Tx,
    contact: ContactId,
    purpose: &str,
    source: &str,
    status: ConsentStatus,
) -> Result<Consent> {
    tx.require(Permission::Write)?;
    let mut errors = FieldErrors::new();
    let purpose = check_purpose(&mut errors, purpose);
    let source = check_source(&mut errors, source);
    errors.into_result()?;
    let org = tx.org();
    let live: bool = sqlx::query_scalar(
        "select exists (select 1 from contacts \
                        where org_id = $1 and id = $2 and deleted_at is null)",
    )
    .bind(org)
    .bind(contact)
    .fetch_one(tx.conn())
    .await?;
    if !live {
        return Err(Error::NotFound { entity: "contact" });
    }
    // clock_timestamp(): a grant and a revocation in one transaction stay in order.
    let consent: Consent = sqlx::query_as(
        "insert into consents (org_id, id, contact_id, purpose, status, source, recorded_at, \
                               actor_id) \
         values ($1, $2, $3, $4, $5, $6, clock_timestamp(), $7) \
         returning id, contact_id, purpose, status, source, recorded_at, actor_id",
    )
    .bind(org)
    .bind(Uuid::now_v7())
    .bind(contact)
    .bind(&purpose)
    .bind(status.as_str())
    .bind(&source)
    .bind(tx.actor().id)
    .fetch_one(tx.conn())
    .await?;
    let action = match status {
        ConsentStatus::Granted => "consent_granted",
        ConsentStatus::Revoked => "consent_revoked",
    };
    // Audited on the contact (so subject export shows it and erasure redacts it); the event
    // carries no source text.
    tx.record(
        "contact",
        Some(contact.uuid()),
        action,
        &json!({ "consent_id": consent.id, "purpose": purpose, "source": source }),
        Some("contact.consent_changed"),
        &json!({ "id": contact, "purpose": purpose, "status": status }),
    )
    .await?;
    Ok(consent)
}

/// Records that the contact consents to `purpose` (lower-case key, e.g. `marketing`),
/// saying where the consent came from. The contact must be live.
pub async fn grant(
    tx: &mut Tx,
    contact: ContactId,
    purpose: &str,
    source: &str,
) -> Result<Consent> {
    record(tx, contact, purpose, source, ConsentStatus::Granted).await
}

/// Records that the contact withdrew consent to `purpose`.
pub async fn revoke(
    tx: &mut Tx,
    contact: ContactId,
    purpose: &str,
    source: &str,
) -> Result<Consent> {
    record(tx, contact, purpose, source, ConsentStatus::Revoked).await
}

/// Every grant and revocation of the contact (any purpose), oldest first.
pub async fn history(tx: &mut Tx, contact: ContactId) -> Result<Vec<Consent>> {
    tx.require(Permission::Read)?;
    Ok(sqlx::query_as(
        "select id, contact_id, purpose, status, source, recorded_at, actor_id from consents \
         where org_id = $1 and contact_id = $2 order by recorded_at, id",
    )
    .bind(tx.org())
    .bind(contact)
    .fetch_all(tx.conn())
    .await?)
}

/// The contact's current consent for `purpose`: `None` when never asked.
pub async fn status(
    tx: &mut Tx,
    contact: ContactId,
    purpose: &str,
) -> Result<Option<ConsentStatus>> {
    tx.require(Permission::Read)?;
    let mut errors = FieldErrors::new();
    let purpose = check_purpose(&mut errors, purpose);
    errors.into_result()?;
    let s: Option<String> = sqlx::query_scalar(
        "select status from consents where org_id = $1 and contact_id = $2 and purpose = $3 \
         order by recorded_at desc, id desc limit 1",
    )
    .bind(tx.org())
    .bind(contact)
    .bind(&purpose)
    .fetch_optional(tx.conn())
    .await?;
    Ok(match s.as_deref() {
        Some("granted") => Some(ConsentStatus::Granted),
        Some(_) => Some(ConsentStatus::Revoked),
        None => None,
    })
}

/// One page of live contacts without consent to `purpose` (never given, or revoked), by
/// id.
pub async fn without_consent(
    tx: &mut Tx,
    purpose: &str,
    page: PageRequest,
) -> Result<Page<ContactWithoutConsent>> {
    tx.require(Permission::Read)?;
    let mut errors = FieldErrors::new();
    let purpose = check_purpose(&mut errors, purpose);
    errors.into_result()?;
    let rows: Vec<ContactWithoutConsent> = sqlx::query_as(
        "select c.id, c.first_name, c.last_name, c.email, k.status \
         from contacts c \
         left join lateral ( \
             select status from consents k \
             where k.org_id = c.org_id and k.contact_id = c.id and k.purpose = $2 \
             order by k.recorded_at desc, k.id desc limit 1) k on true \
         where c.org_id = $1 and c.deleted_at is null \
           and ($3::uuid is null or c.id > $3) \
           and k.status is distinct from 'granted' \
         order by c.id limit $4",
    )
    .bind(tx.org())
    .bind(&purpose)
    .bind(page.after.map(|c: Cursor| c.0))
    .bind(page.sql_limit())
    .fetch_all(tx.conn())
    .await?;
    Ok(page.finish(rows, |r| r.id.uuid()))
}
