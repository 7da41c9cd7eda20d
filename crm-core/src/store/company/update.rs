//! Changing, soft-deleting and restoring a company.

use super::*;

/// Changes a company. The patch must name the version read: a stale one is a conflict.
/// Every invalid field is reported at once. Writes an audit diff and a `company.updated`
/// event naming the changed fields.
pub async fn update(tx: &mut Tx, id: CompanyId, patch: CompanyPatch) -> Result<Company> {
    tx.require(Permission::Write)?;
    let (current_industry, current_account_type) = lock_at_version(tx, id, patch.version).await?;
    let before = load(tx, id, false).await?;
    if patch.is_empty() {
        return Ok(before);
    }

    // Every field error at once, in field order: the pure checks of the patch around the
    // ones that need the database (list entries, owners).
    let mut errors = FieldErrors::new();
    let names = patch_names(&mut errors, &before, &patch);
    let industry_id = match &patch.industry {
        None => current_industry,
        Some(v) => {
            patch_list_entry(
                tx,
                &mut errors,
                ListKind::Industry,
                "industry",
                v,
                before.industry.as_deref(),
            )
            .await?
        }
    };
    let account_type_id = match &patch.account_type {
        None => current_account_type,
        Some(v) => {
            patch_list_entry(
                tx,
                &mut errors,
                ListKind::AccountType,
                "account_type",
                v,
                before.account_type.as_deref(),
            )
            .await?
        }
    };
    let default_region = tx.default_region().to_string();
    let patched = patch_values(&mut errors, &before, &patch, names, &default_region)?;
    if let Some(owners) = &patch.owners {
        check_owners(tx, &mut errors, owners).await?;
    }
    check_patch_lines(&mut errors, &patch);
    errors.into_result()?;

    let (emails, phones, tags) = (
        patched.emails.clone(),
        patched.phones.clone(),
        patched.tags.clone(),
    );
    let fields = patched_fields(&before, &patch, patched, industry_id, account_type_id);
    if fields.vat_id != before.vat_id {
        check_vat_free(tx, fields.vat_id.as_deref(), Some(id)).await?;
    }
    write_update(tx, id, patch.version, fields, &emails, &phones).await?;
    if emails != email_rows_of(&before) {
        write_emails(tx, id, &emails).await?;
    }
    if phones != phone_rows_of(&before) {
        write_phones(tx, id, &phones).await?;
    }
    if let Some(tags) = &tags {
        write_tags(tx, id, tags).await?;
    }
    if let Some(owners) = &patch.owners {
        owner::set(tx, OwnedKind::Company, id.uuid(), owners).await?;
    }

    let after = load(tx, id, false).await?;
    let changes = diff(Some(&before), Some(&after));
    let fields = changed_fields(&changes);
    tx.record(
        "company",
        Some(id.uuid()),
        "update",
        &changes,
        Some("company.updated"),
        &json!({ "id": id, "fields": fields }),
    )
    .await?;
    Ok(after)
}

/// Locks the live company `id` (concurrent updates of one company run one after the other)
/// if it is at `version`. Returns its industry and account type entries.
async fn lock_at_version(
    tx: &mut Tx,
    id: CompanyId,
    version: i32,
) -> Result<(Option<ListEntryId>, Option<ListEntryId>)> {
    let locked: Option<(i32, Option<ListEntryId>, Option<ListEntryId>)> = sqlx::query_as(
        "select version, industry_id, account_type_id from companies \
         where org_id = $1 and id = $2 and deleted_at is null for update",
    )
    .bind(tx.org())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    match locked {
        None => Err(Error::NotFound { entity: "company" }),
        Some((v, _, _)) if v != version => Err(Error::stale("company")),
        Some((_, industry, account_type)) => Ok((industry, account_type)),
    }
}

/// Writes the company row at `version` with its primary e-mail / phone mirror.
async fn write_update(
    tx: &mut Tx,
    id: CompanyId,
    version: i32,
    fields: Fields,
    emails: &[EmailRow],
    phones: &[PhoneRow],
) -> Result<()> {
    let org = tx.org();
    let held = words::held(tx, Kind::Company, &[id.uuid()]).await?;
    let q = sqlx::query(UPDATE_COMPANY).bind(org).bind(id).bind(version);
    let done = fields.bind_to(q, emails, phones).execute(tx.conn()).await?;
    if done.rows_affected() == 0 {
        return Err(stale_or_missing(tx.conn(), "companies", "company", org, id.uuid()).await);
    }
    words::changed(tx, Kind::Company, &[id.uuid()], held).await
}

/// The update of a company's columns at a version.
const UPDATE_COMPANY: &str = "update companies set name = $4, domain = $5, website = $6, \
         industry_id = $7, account_type_id = $8, vat_id = $9, tax_id = $10, \
         trade_register_number = $11, trade_register_court = $12, size = $13, status = $14, \
         billing_street = $15, billing_postal_code = $16, billing_city = $17, \
         billing_country = $18, delivery_street = $19, delivery_postal_code = $20, \
         delivery_city = $21, delivery_country = $22, email = $23, phone = $24, custom = $25 \
     where org_id = $1 and id = $2 and version = $3 and deleted_at is null";

/// Soft-deletes a company: lists and lookups no longer show it; [`restore`] brings it
/// back. Its contacts keep their link. With `version`, a stale one is a conflict.
pub async fn delete(tx: &mut Tx, id: CompanyId, version: Option<i32>) -> Result<()> {
    tx.require(Permission::Delete)?;
    let org = tx.org();
    let found: Option<i32> = sqlx::query_scalar(
        "select version from companies where org_id = $1 and id = $2 and deleted_at is null \
           and ($3::int is null or version = $3) for update",
    )
    .bind(org)
    .bind(id)
    .bind(version)
    .fetch_optional(tx.conn())
    .await?;
    if found.is_none() {
        return Err(stale_or_missing(tx.conn(), "companies", "company", org, id.uuid()).await);
    }
    let before = load(tx, id, false).await?;
    sqlx::query("update companies set deleted_at = now() where org_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    let after = load(tx, id, true).await?;
    tx.record(
        "company",
        Some(id.uuid()),
        "delete",
        &diff(Some(&before), Some(&after)),
        Some("company.deleted"),
        &json!({ "id": id }),
    )
    .await
}

/// Restores a soft-deleted company. [`Error::Conflict`] when another live company has
/// taken its VAT id in the meantime, or when it is not deleted.
pub async fn restore(tx: &mut Tx, id: CompanyId) -> Result<Company> {
    tx.require(Permission::Delete)?;
    let before = load(tx, id, true).await?;
    if before.deleted_at.is_none() {
        return Err(Error::Conflict("the company is not deleted".to_string()));
    }
    check_vat_free(tx, before.vat_id.as_deref(), Some(id)).await?;
    sqlx::query("update companies set deleted_at = null where org_id = $1 and id = $2")
        .bind(tx.org())
        .bind(id)
        .execute(tx.conn())
        .await?;
    let after = load(tx, id, false).await?;
    tx.record(
        "company",
        Some(id.uuid()),
        "restore",
        &diff(Some(&before), Some(&after)),
        Some("company.restored"),
        &json!({ "id": id }),
    )
    .await?;
    Ok(after)
}
