//! The writes that create, update and merge share: child e-mails, phones and tags, the mirrored primary columns, the plain fields, and the lock at a version.

use super::*;
use crate::store::children::{self, Parent, PhoneValues};

pub(super) fn primary_email(rows: &[EmailRow]) -> (Option<&str>, Option<&str>) {
    rows.iter()
        .find(|r| r.primary)
        .map(|r| (Some(r.email.as_str()), Some(r.norm.as_str())))
        .unwrap_or((None, None))
}

pub(super) fn primary_phone(rows: &[PhoneRow]) -> Option<&str> {
    rows.iter().find(|r| r.primary).map(PhoneRow::key)
}

/// Replaces the contact's e-mail rows.
pub(super) async fn write_emails(tx: &mut Tx, id: ContactId, rows: &[EmailRow]) -> Result<()> {
    children::replace_emails(tx, Parent::Contact, id.uuid(), rows).await
}

/// Replaces the contact's phone rows.
pub(super) async fn write_phones(tx: &mut Tx, id: ContactId, rows: &[PhoneRow]) -> Result<()> {
    let rows: Vec<PhoneValues<'_>> = rows
        .iter()
        .map(|r| PhoneValues {
            e164: r.e164.as_deref(),
            raw: &r.raw,
            kind: r.kind,
            primary: r.primary,
        })
        .collect();
    children::replace_phones(tx, Parent::Contact, id.uuid(), &rows).await
}

/// Replaces the contact's tags with `names` (creating missing tags).
pub(super) async fn write_tags(tx: &mut Tx, id: ContactId, names: &[String]) -> Result<()> {
    children::replace_tags(tx, Parent::Contact, id.uuid(), names).await
}

/// Writes the scalar columns and the primary e-mail / phone mirror of an existing contact.
pub(super) async fn write_fields(
    tx: &mut Tx,
    id: ContactId,
    f: &Fields,
    emails: &[EmailRow],
    phones: &[PhoneRow],
) -> Result<()> {
    let org = tx.org();
    let (email, email_norm) = primary_email(emails);
    let held = words::held(tx, Kind::Contact, &[id.uuid()]).await?;
    sqlx::query(
        "update contacts set first_name = $3, last_name = $4, salutation = $5, title = $6, \
                job_title = $7, department = $8, linkedin_url = $9, birthday = $10, \
                source = $11, status = $12, company_id = $13, city = $14, custom = $15, \
                email = $16, email_norm = $17, phone = $18, street = $19, \
                postal_code = $20, country = $21, home_street = $22, \
                home_postal_code = $23, home_city = $24, home_country = $25 \
         where org_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.salutation)
    .bind(&f.title)
    .bind(&f.job_title)
    .bind(&f.department)
    .bind(&f.linkedin_url)
    .bind(f.birthday)
    .bind(f.source)
    .bind(f.status)
    .bind(f.company_id)
    .bind(&f.city)
    .bind(&f.custom)
    .bind(email)
    .bind(email_norm)
    .bind(primary_phone(phones))
    .bind(&f.street)
    .bind(&f.postal_code)
    .bind(&f.country)
    .bind(&f.home_street)
    .bind(&f.home_postal_code)
    .bind(&f.home_city)
    .bind(&f.home_country)
    .execute(tx.conn())
    .await?;
    words::changed(tx, Kind::Contact, &[id.uuid()], held).await
}

/// Locks the live contact `id` if it is at `version`: [`Error::NotFound`] when it is
/// missing or deleted, [`Error::Conflict`] when the version is stale.
pub(super) async fn lock_at_version(
    tx: &mut Tx,
    id: ContactId,
    version: Option<i32>,
) -> Result<()> {
    let org = tx.org();
    let found: Option<i32> = sqlx::query_scalar(
        "select version from contacts \
         where org_id = $1 and id = $2 and deleted_at is null \
           and ($3::int is null or version = $3) \
         for update",
    )
    .bind(org)
    .bind(id)
    .bind(version)
    .fetch_optional(tx.conn())
    .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(stale_or_missing(tx.conn(), "contacts", ENTITY, org, id.uuid()).await),
    }
}
