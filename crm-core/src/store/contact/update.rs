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
    let mut errors = FieldErrors::new();
    let mut f = Fields::of(&before);
    if let Some(v) = &patch.first_name {
        f.first_name = check_name(&mut errors, "first_name", v);
    }
    if let Some(v) = &patch.last_name {
        f.last_name = check_name(&mut errors, "last_name", v);
    }
    if let Some(v) = &patch.salutation {
        f.salutation = check_text(&mut errors, "salutation", v.as_deref());
    }
    if let Some(v) = &patch.title {
        f.title = check_text(&mut errors, "title", v.as_deref());
    }
    if let Some(v) = &patch.job_title {
        f.job_title = check_text(&mut errors, "job_title", v.as_deref());
    }
    if let Some(v) = &patch.department {
        f.department = check_text(&mut errors, "department", v.as_deref());
    }
    if let Some(v) = &patch.linkedin_url {
        f.linkedin_url = check_linkedin(&mut errors, v.as_deref());
    }
    if let Some(v) = patch.birthday {
        check_birthday(&mut errors, v);
        f.birthday = v;
    }
    if let Some(v) = patch.source {
        f.source = v;
    }
    if let Some(v) = patch.status {
        f.status = v;
    }
    if let Some(v) = patch.company_id {
        f.company_id = v;
    }
    if let Some(v) = &patch.city {
        f.city = check_text(&mut errors, "city", v.as_deref());
    }
    patch_address(&mut errors, &mut f, &patch);
    if let Some(v) = &patch.custom {
        f.custom = Value::Object(v.clone());
    }

    let emails_changed = patch.emails.is_some() || patch.email.is_some();
    let emails = match (&patch.emails, &patch.email) {
        (Some(list), email) => {
            collect_emails(&mut errors, email.as_ref().and_then(|e| e.as_deref()), list)
        }
        (None, Some(Some(raw))) => {
            let mut rows = email_rows_of(&before);
            if let Some(e) = errors.check("email", Email::parse(raw)) {
                set_primary_email(&mut rows, e);
            }
            rows
        }
        (None, Some(None)) => {
            let mut rows = email_rows_of(&before);
            rows.retain(|r| !r.primary);
            ensure_one_primary(&mut rows, |r| &mut r.primary);
            rows
        }
        (None, None) => email_rows_of(&before),
    };
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
    let phones = match (&patch.phones, &patch.phone) {
        (Some(list), phone) => collect_phones(
            &mut errors,
            &region,
            phone.as_ref().and_then(|p| p.as_deref()),
            list,
        ),
        (None, Some(Some(raw))) => {
            let mut rows = phone_rows_of(&before);
            if let Some(p) = errors.check("phone", Phone::read(raw, &region)) {
                set_primary_phone(&mut rows, p);
            }
            rows
        }
        (None, Some(None)) => {
            let mut rows = phone_rows_of(&before);
            rows.retain(|r| !r.primary);
            ensure_one_primary(&mut rows, |r| &mut r.primary);
            rows
        }
        (None, None) => phone_rows_of(&before),
    };
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

/// Applies the postal address fields of `patch` to `f`, recording problems.
fn patch_address(errors: &mut FieldErrors, f: &mut Fields, patch: &ContactPatch) {
    let texts = [
        ("street", &patch.street, &mut f.street),
        ("postal_code", &patch.postal_code, &mut f.postal_code),
        ("home_street", &patch.home_street, &mut f.home_street),
        (
            "home_postal_code",
            &patch.home_postal_code,
            &mut f.home_postal_code,
        ),
        ("home_city", &patch.home_city, &mut f.home_city),
    ];
    for (field, given, target) in texts {
        if let Some(v) = given {
            *target = check_text(errors, field, v.as_deref());
        }
    }
    let countries = [
        ("country", &patch.country, &mut f.country),
        ("home_country", &patch.home_country, &mut f.home_country),
    ];
    for (field, given, target) in countries {
        if let Some(v) = given {
            *target = check_country(errors, field, v.as_deref());
        }
    }
}
