//! The child writes create and update share: e-mails, phones and tags, and the primary values mirrored on the company row.

use super::*;
use crate::store::children::{self, Parent, PhoneValues};

/// Replaces the e-mail rows of a company.
pub(super) async fn write_emails(tx: &mut Tx, id: CompanyId, rows: &[EmailRow]) -> Result<()> {
    children::replace_emails(tx, Parent::Company, id.uuid(), rows).await
}

/// Replaces the phone rows of a company.
pub(super) async fn write_phones(tx: &mut Tx, id: CompanyId, rows: &[PhoneRow]) -> Result<()> {
    let rows: Vec<PhoneValues<'_>> = rows
        .iter()
        .map(|r| PhoneValues {
            e164: Some(&r.e164),
            raw: &r.raw,
            kind: r.kind,
            primary: r.primary,
        })
        .collect();
    children::replace_phones(tx, Parent::Company, id.uuid(), &rows).await
}

/// Replaces the tags of a company.
pub(super) async fn write_tags(tx: &mut Tx, id: CompanyId, names: &[String]) -> Result<()> {
    children::replace_tags(tx, Parent::Company, id.uuid(), names).await
}

/// The primary value of settled rows (the first, when primary).
pub(super) fn primary_email(rows: &[EmailRow]) -> Option<String> {
    rows.iter().find(|r| r.primary).map(|r| r.email.clone())
}

pub(super) fn primary_phone(rows: &[PhoneRow]) -> Option<String> {
    rows.iter().find(|r| r.primary).map(|r| r.e164.clone())
}
