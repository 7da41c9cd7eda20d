//! Changing, soft-deleting and restoring a contact.

use super::*;

/// Changes a contact. `patch.version` must be the current version, else
/// [`Error::Conflict`] and nothing changes. Every invalid field is reported at once. The
/// audit entry holds the field-level diff; the `contact.updated` event names the changed
/// fields only.
pub async fn update(tx: &mut Tx, id: ContactId, patch: ContactPatch) -> Result<Contact> {
    tx.require(Permission::Write)?;
    lock_at_version(tx, id, Some(patch.version)).await?;
    let before = load(tx, id, true).await?;
    if patch.is_empty() {
        return Ok(before);
    }
    // Every field error at once, in field order; the phone region and the references need
    // the database.
    let mut errors = FieldErrors::new();
    let f = patch_fields(&mut errors, &before, &patch);
    let emails_changed = patch.emails.is_some() || patch.email.is_some();
    let emails = patch_emails(&mut errors, &before, &patch);
    let phones_changed = patch.phones.is_some() || patch.phone.is_some();
    let region = if phones_changed {
        crate::region::contact_phone_region(
            tx,
            f.country.as_deref(),
            f.home_country.as_deref(),
            f.company_id,
        )
        .await?
    } else {
        tx.default_region().to_string()
    };
    let phones = patch_phones(&mut errors, &before, &patch, &region);
    let tags = patch.tags.as_ref().map(|t| check_tags(&mut errors, t));
    check_identity(&mut errors, &f, &emails);
    let company_changed = patch.company_id.is_some_and(|c| c.is_some());
    if company_changed || patch.owners.is_some() {
        let company = if company_changed { f.company_id } else { None };
        check_references(tx, &mut errors, company, patch.owners.as_deref()).await?;
    }
    errors.into_result()?;

    write_fields(tx, id, &f, &emails, &phones).await?;
    if emails_changed {
        write_emails(tx, id, &emails).await?;
    }
    if phones_changed {
        write_phones(tx, id, &phones).await?;
    }
    if let Some(tags) = &tags {
        write_tags(tx, id, tags).await?;
    }
    if let Some(owners) = &patch.owners {
        owner::set(tx, OwnedKind::Contact, id.uuid(), owners).await?;
    }

    let after = load(tx, id, true).await?;
    let changes = diff(Some(&before), Some(&after));
    tx.record(
        ENTITY,
        Some(id.uuid()),
        "update",
        &changes,
        Some("contact.updated"),
        &json!({ "id": id, "fields": crate::store::changed_fields(&changes) }),
    )
    .await?;
    Ok(after)
}

/// Soft-deletes a contact (lists and [`get`] no longer show it; [`restore`] brings it back).
/// With `version`, a stale one is a [`Error::Conflict`].
pub async fn delete(tx: &mut Tx, id: ContactId, version: Option<i32>) -> Result<()> {
    tx.require(Permission::Delete)?;
    lock_at_version(tx, id, version).await?;
    let before = load(tx, id, true).await?;
    let org = tx.org();
    sqlx::query("update contacts set deleted_at = now() where org_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    let after = load(tx, id, false).await?;
    tx.record(
        ENTITY,
        Some(id.uuid()),
        "delete",
        &diff(Some(&before), Some(&after)),
        Some("contact.deleted"),
        &json!({ "id": id }),
    )
    .await
}

/// Restores a soft-deleted contact. [`Error::Conflict`] when another live contact now has
/// its primary e-mail address, or when it is not deleted.
pub async fn restore(tx: &mut Tx, id: ContactId) -> Result<Contact> {
    tx.require(Permission::Delete)?;
    let org = tx.org();
    let row: Option<(bool, bool)> = sqlx::query_as(
        "select c.deleted_at is not null, \
                c.email_norm is not null and exists (select 1 from contacts o \
                    where o.org_id = c.org_id and o.email_norm = c.email_norm \
                      and o.deleted_at is null and o.id <> c.id) \
         from contacts c where c.org_id = $1 and c.id = $2 for update of c",
    )
    .bind(org)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    match row {
        None => return Err(Error::NotFound { entity: ENTITY }),
        Some((false, _)) => return Err(Error::Conflict("the contact is not deleted".into())),
        Some((true, true)) => {
            return Err(Error::Conflict(
                "another contact now has this contact's primary e-mail address".into(),
            ));
        }
        Some((true, false)) => {}
    }
    let before = load(tx, id, false).await?;
    sqlx::query("update contacts set deleted_at = null where org_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    let after = load(tx, id, true).await?;
    tx.record(
        ENTITY,
        Some(id.uuid()),
        "restore",
        &diff(Some(&before), Some(&after)),
        Some("contact.restored"),
        &json!({ "id": id }),
    )
    .await?;
    Ok(after)
}
