//! Changing, soft-deleting and restoring a company.

use super::*;

/// Applies a patch of a nullable free-text field.
pub(super) fn patch_text(
    current: &Option<String>,
    patch: &Option<Option<String>>,
) -> Option<String> {
    match patch {
        None => current.clone(),
        Some(v) => clean(v.as_deref()),
    }
}

/// Applies a patch of a nullable validated field, recording its error.
pub(super) fn patch_parsed(
    errors: &mut FieldErrors,
    field: &str,
    current: &Option<String>,
    patch: &Option<Option<String>>,
    parse: impl FnOnce(&str) -> std::result::Result<String, String>,
) -> Option<String> {
    match patch {
        None => current.clone(),
        Some(v) => optional(errors, field, v.as_deref(), parse),
    }
}

/// Changes a company. The patch must name the version read: a stale one is a conflict.
/// Every invalid field is reported at once. Writes an audit diff and a `company.updated`
/// event naming the changed fields.
pub async fn update(tx: &mut Tx, id: CompanyId, patch: CompanyPatch) -> Result<Company> {
    tx.require(Permission::Write)?;
    let org = tx.org();
    // Lock the row first: concurrent updates of one company run one after the other.
    let locked: Option<(i32, Option<ListEntryId>, Option<ListEntryId>)> = sqlx::query_as(
        "select version, industry_id, account_type_id from companies \
         where org_id = $1 and id = $2 and deleted_at is null for update",
    )
    .bind(org)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let (current_industry, current_account_type) = match locked {
        None => return Err(Error::NotFound { entity: "company" }),
        Some((v, _, _)) if v != patch.version => return Err(Error::stale("company")),
        Some((_, industry, account_type)) => (industry, account_type),
    };
    let before = load(tx, id, false).await?;
    if patch.is_empty() {
        return Ok(before);
    }

    let mut errors = FieldErrors::new();
    let name = match &patch.name {
        Some(n) => check_name(&mut errors, n),
        None => before.name.clone(),
    };
    let website = patch_parsed(
        &mut errors,
        "website",
        &before.website,
        &patch.website,
        |s| {
            Website::parse(s)
                .map(|w| w.as_str().to_string())
                .map_err(|e| e.to_string())
        },
    );
    let domain = match &patch.domain {
        Some(_) => patch_parsed(&mut errors, "domain", &before.domain, &patch.domain, |s| {
            parse_domain(s).map_err(str::to_string)
        }),
        None => {
            // Follow a new web site when the domain was derived from the old one.
            let old_site_domain = before
                .website
                .as_deref()
                .and_then(|w| Website::parse(w).ok())
                .map(|w| w.domain().to_string());
            let derived = before.domain.is_none() || before.domain == old_site_domain;
            match (&patch.website, derived) {
                (Some(Some(_)), true) => website
                    .as_deref()
                    .and_then(|w| Website::parse(w).ok())
                    .map(|w| w.domain().to_string())
                    .or(before.domain.clone()),
                _ => before.domain.clone(),
            }
        }
    };
    let industry_id = match &patch.industry {
        None => current_industry,
        Some(v) => match clean(v.as_deref()) {
            Some(s) => {
                let keep = before.industry.as_deref();
                list_entry(tx, &mut errors, ListKind::Industry, "industry", &s, keep).await?
            }
            None => None,
        },
    };
    let account_type_id = match &patch.account_type {
        None => current_account_type,
        Some(v) => match clean(v.as_deref()) {
            Some(s) => {
                let keep = before.account_type.as_deref();
                list_entry(
                    tx,
                    &mut errors,
                    ListKind::AccountType,
                    "account_type",
                    &s,
                    keep,
                )
                .await?
            }
            None => None,
        },
    };
    let vat_id = patch_parsed(&mut errors, "vat_id", &before.vat_id, &patch.vat_id, |s| {
        VatId::parse(s)
            .map(|v| v.as_str().to_string())
            .map_err(|e| e.to_string())
    });
    let country = |s: &str| parse_country(s).map_err(str::to_string);
    let billing_country = patch_parsed(
        &mut errors,
        "billing_country",
        &before.billing_country,
        &patch.billing_country,
        country,
    );
    let delivery_country = patch_parsed(
        &mut errors,
        "delivery_country",
        &before.delivery_country,
        &patch.delivery_country,
        country,
    );

    let current_emails: Vec<EmailRow> = before
        .emails
        .iter()
        .map(|e| EmailRow {
            email: e.email.clone(),
            norm: e.email.to_lowercase(),
            kind: e.kind,
            primary: e.primary,
        })
        .collect();
    let mut emails = match &patch.emails {
        Some(list) => parse_emails(&mut errors, list),
        None => current_emails.clone(),
    };
    match &patch.email {
        None => {}
        Some(None) => emails.retain(|e| !e.primary),
        Some(Some(raw)) => {
            if let Some(email) = optional(&mut errors, "email", Some(raw), |s| {
                Email::parse(s).map_err(|e| e.to_string())
            }) {
                let row = EmailRow {
                    norm: email.normalized(),
                    email: email.into_string(),
                    kind: EmailKind::Work,
                    primary: true,
                };
                set_primary_email(&mut emails, row);
            } else if clean(Some(raw)).is_none() {
                emails.retain(|e| !e.primary);
            }
        }
    }
    let emails = settle_emails(emails);

    let current_phones: Vec<PhoneRow> = before
        .phones
        .iter()
        .map(|p| PhoneRow {
            e164: p.number.clone(),
            raw: p.raw.clone(),
            kind: p.kind,
            primary: p.primary,
        })
        .collect();
    // The phone-country rule: the company's own address country, else the organization's.
    let region = billing_country
        .clone()
        .or_else(|| delivery_country.clone())
        .unwrap_or_else(|| tx.default_region().to_string());
    let mut phones = match &patch.phones {
        Some(list) => parse_phones(&mut errors, list, &region),
        None => current_phones.clone(),
    };
    match &patch.phone {
        None => {}
        Some(None) => phones.retain(|p| !p.primary),
        Some(Some(raw)) => {
            if let Some(phone) = optional(&mut errors, "phone", Some(raw), |s| {
                Phone::parse(s, &region).map_err(|e| e.to_string())
            }) {
                let row = PhoneRow {
                    e164: phone.e164().to_string(),
                    raw: phone.raw().to_string(),
                    kind: PhoneKind::Office,
                    primary: true,
                };
                set_primary_phone(&mut phones, row);
            } else if clean(Some(raw)).is_none() {
                phones.retain(|p| !p.primary);
            }
        }
    }
    let phones = settle_phones(phones);

    let tags = match &patch.tags {
        Some(t) => Some(check_tags(&mut errors, t)?),
        None => None,
    };
    if let Some(owners) = &patch.owners {
        check_owners(tx, &mut errors, owners).await?;
    }
    let custom = match (&patch.custom, &before.custom) {
        (Some(m), _) => m.clone(),
        (None, Value::Object(m)) => m.clone(),
        (None, _) => Map::new(),
    };
    check_single_lines(
        &mut errors,
        [
            (
                "trade_register_number",
                patch
                    .trade_register_number
                    .as_ref()
                    .and_then(|v| v.as_deref()),
            ),
            (
                "trade_register_court",
                patch
                    .trade_register_court
                    .as_ref()
                    .and_then(|v| v.as_deref()),
            ),
            (
                "billing_street",
                patch.billing_street.as_ref().and_then(|v| v.as_deref()),
            ),
            (
                "billing_postal_code",
                patch
                    .billing_postal_code
                    .as_ref()
                    .and_then(|v| v.as_deref()),
            ),
            (
                "billing_city",
                patch.billing_city.as_ref().and_then(|v| v.as_deref()),
            ),
            (
                "delivery_street",
                patch.delivery_street.as_ref().and_then(|v| v.as_deref()),
            ),
            (
                "delivery_postal_code",
                patch
                    .delivery_postal_code
                    .as_ref()
                    .and_then(|v| v.as_deref()),
            ),
            (
                "delivery_city",
                patch.delivery_city.as_ref().and_then(|v| v.as_deref()),
            ),
        ],
    );
    errors.into_result()?;

    let fields = Fields {
        name,
        domain,
        website,
        industry_id,
        account_type_id,
        vat_id,
        tax_id: patch_text(&before.tax_id, &patch.tax_id),
        trade_register_number: patch_text(
            &before.trade_register_number,
            &patch.trade_register_number,
        ),
        trade_register_court: patch_text(&before.trade_register_court, &patch.trade_register_court),
        size: patch
            .size
            .or(patch.employees.map(CompanySize::from_employees))
            .unwrap_or(before.size),
        status: patch.status.unwrap_or(before.status),
        billing_street: patch_text(&before.billing_street, &patch.billing_street),
        billing_postal_code: patch_text(&before.billing_postal_code, &patch.billing_postal_code),
        billing_city: patch_text(&before.billing_city, &patch.billing_city),
        billing_country,
        delivery_street: patch_text(&before.delivery_street, &patch.delivery_street),
        delivery_postal_code: patch_text(&before.delivery_postal_code, &patch.delivery_postal_code),
        delivery_city: patch_text(&before.delivery_city, &patch.delivery_city),
        delivery_country,
        custom,
    };
    if fields.vat_id != before.vat_id {
        check_vat_free(tx, fields.vat_id.as_deref(), Some(id)).await?;
    }

    let held = words::held(tx, Kind::Company, &[id.uuid()]).await?;
    let done = sqlx::query(
        "update companies set name = $4, domain = $5, website = $6, industry_id = $7, \
             account_type_id = $8, vat_id = $9, tax_id = $10, trade_register_number = $11, \
             trade_register_court = $12, size = $13, status = $14, billing_street = $15, \
             billing_postal_code = $16, billing_city = $17, billing_country = $18, \
             delivery_street = $19, delivery_postal_code = $20, delivery_city = $21, \
             delivery_country = $22, email = $23, phone = $24, custom = $25 \
         where org_id = $1 and id = $2 and version = $3 and deleted_at is null",
    )
    .bind(org)
    .bind(id)
    .bind(patch.version)
    .bind(&fields.name)
    .bind(&fields.domain)
    .bind(&fields.website)
    .bind(fields.industry_id)
    .bind(fields.account_type_id)
    .bind(&fields.vat_id)
    .bind(&fields.tax_id)
    .bind(&fields.trade_register_number)
    .bind(&fields.trade_register_court)
    .bind(fields.size)
    .bind(fields.status)
    .bind(&fields.billing_street)
    .bind(&fields.billing_postal_code)
    .bind(&fields.billing_city)
    .bind(&fields.billing_country)
    .bind(&fields.delivery_street)
    .bind(&fields.delivery_postal_code)
    .bind(&fields.delivery_city)
    .bind(&fields.delivery_country)
    .bind(primary_email(&emails))
    .bind(primary_phone(&phones))
    .bind(Value::Object(fields.custom))
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(stale_or_missing(tx.conn(), "companies", "company", org, id.uuid()).await);
    }
    words::changed(tx, Kind::Company, &[id.uuid()], held).await?;
    if emails != current_emails {
        write_emails(tx, id, &emails).await?;
    }
    if phones != current_phones {
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
