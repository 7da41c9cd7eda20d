//! Checking a [`NewCompany`] or applying a [`CompanyPatch`] to the company as read, without
//! the database: every field error is recorded (all at once, in field order), the values to
//! write are returned. The checks that need the database (list entries, owners, a free VAT
//! id) are the caller's, between these steps.

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

/// The patched name, web site and domain. A new web site also re-derives the domain when
/// the domain was derived from the old web site (or empty) and is not part of the patch.
pub(super) fn patch_names(
    errors: &mut FieldErrors,
    before: &Company,
    patch: &CompanyPatch,
) -> Names {
    let name = match &patch.name {
        Some(n) => check_name(errors, n),
        None => before.name.clone(),
    };
    let website = patch_parsed(errors, "website", &before.website, &patch.website, |s| {
        Website::parse(s)
            .map(|w| w.as_str().to_string())
            .map_err(|e| e.to_string())
    });
    let site_domain = |w: Option<&str>| {
        w.and_then(|w| Website::parse(w).ok())
            .map(|w| w.domain().to_string())
    };
    let domain = match &patch.domain {
        Some(_) => patch_parsed(errors, "domain", &before.domain, &patch.domain, |s| {
            parse_domain(s).map_err(str::to_string)
        }),
        None => {
            let derived =
                before.domain.is_none() || before.domain == site_domain(before.website.as_deref());
            match (&patch.website, derived) {
                (Some(Some(_)), true) => site_domain(website.as_deref()).or(before.domain.clone()),
                _ => before.domain.clone(),
            }
        }
    };
    Names {
        name,
        website,
        domain,
    }
}

/// A company's patched name, web site and domain.
pub(super) struct Names {
    pub(super) name: String,
    pub(super) website: Option<String>,
    pub(super) domain: Option<String>,
}

/// The patched values of a company that need no database.
pub(super) struct Patched {
    pub(super) names: Names,
    pub(super) vat_id: Option<String>,
    pub(super) billing_country: Option<String>,
    pub(super) delivery_country: Option<String>,
    /// Settled: each address once, the primary first.
    pub(super) emails: Vec<EmailRow>,
    /// Settled: each number once, the primary first.
    pub(super) phones: Vec<PhoneRow>,
    /// The new tags (`None`: unchanged).
    pub(super) tags: Option<Vec<String>>,
}

/// Applies the patch's VAT id, countries, e-mails, phones and tags (after the `names`).
/// Phone numbers are read in the company's own address country, else `default_region`
/// (the organization's).
pub(super) fn patch_values(
    errors: &mut FieldErrors,
    before: &Company,
    patch: &CompanyPatch,
    names: Names,
    default_region: &str,
) -> Result<Patched> {
    let vat_id = patch_parsed(errors, "vat_id", &before.vat_id, &patch.vat_id, |s| {
        VatId::parse(s)
            .map(|v| v.as_str().to_string())
            .map_err(|e| e.to_string())
    });
    let country = |s: &str| parse_country(s).map_err(str::to_string);
    let billing_country = patch_parsed(
        errors,
        "billing_country",
        &before.billing_country,
        &patch.billing_country,
        country,
    );
    let delivery_country = patch_parsed(
        errors,
        "delivery_country",
        &before.delivery_country,
        &patch.delivery_country,
        country,
    );
    let emails = patch_emails(errors, email_rows_of(before), patch);
    // The phone-country rule: the company's own address country, else the organization's.
    let region = billing_country
        .clone()
        .or_else(|| delivery_country.clone())
        .unwrap_or_else(|| default_region.to_string());
    let phones = patch_phones(errors, phone_rows_of(before), patch, &region);
    let tags = match &patch.tags {
        Some(t) => Some(check_tags(errors, t)?),
        None => None,
    };
    Ok(Patched {
        names,
        vat_id,
        billing_country,
        delivery_country,
        emails,
        phones,
        tags,
    })
}

/// The e-mail rows of the company as read.
pub(super) fn email_rows_of(c: &Company) -> Vec<EmailRow> {
    c.emails
        .iter()
        .map(|e| EmailRow {
            email: e.email.clone(),
            norm: e.email.to_lowercase(),
            kind: e.kind,
            primary: e.primary,
        })
        .collect()
}

/// The phone rows of the company as read.
pub(super) fn phone_rows_of(c: &Company) -> Vec<PhoneRow> {
    c.phones
        .iter()
        .map(|p| PhoneRow {
            e164: p.number.clone(),
            raw: p.raw.clone(),
            kind: p.kind,
            primary: p.primary,
        })
        .collect()
}

/// Applies `emails` (the whole list) and then `email` (the primary address; cleared by
/// `null` or an empty value) to the current rows.
pub(super) fn patch_emails(
    errors: &mut FieldErrors,
    current: Vec<EmailRow>,
    patch: &CompanyPatch,
) -> Vec<EmailRow> {
    let mut emails = match &patch.emails {
        Some(list) => parse_emails(errors, list),
        None => current,
    };
    match &patch.email {
        None => {}
        Some(None) => emails.retain(|e| !e.primary),
        Some(Some(raw)) => {
            if let Some(email) = optional(errors, "email", Some(raw), |s| {
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
    settle_emails(emails)
}

/// Applies `phones` (the whole list) and then `phone` (the primary number) to the current
/// rows, reading numbers in `region`.
pub(super) fn patch_phones(
    errors: &mut FieldErrors,
    current: Vec<PhoneRow>,
    patch: &CompanyPatch,
    region: &str,
) -> Vec<PhoneRow> {
    let mut phones = match &patch.phones {
        Some(list) => parse_phones(errors, list, region),
        None => current,
    };
    match &patch.phone {
        None => {}
        Some(None) => phones.retain(|p| !p.primary),
        Some(Some(raw)) => {
            if let Some(phone) = optional(errors, "phone", Some(raw), |s| {
                Phone::parse(s, region).map_err(|e| e.to_string())
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
    settle_phones(phones)
}

/// The new text of a patched nullable field (`None` when unchanged or cleared).
fn value(v: &Option<Option<String>>) -> Option<&str> {
    v.as_ref().and_then(|v| v.as_deref())
}

/// Checks that the patched address and register texts are single lines.
pub(super) fn check_patch_lines(errors: &mut FieldErrors, patch: &CompanyPatch) {
    check_single_lines(
        errors,
        [
            ("trade_register_number", value(&patch.trade_register_number)),
            ("trade_register_court", value(&patch.trade_register_court)),
            ("billing_street", value(&patch.billing_street)),
            ("billing_postal_code", value(&patch.billing_postal_code)),
            ("billing_city", value(&patch.billing_city)),
            ("delivery_street", value(&patch.delivery_street)),
            ("delivery_postal_code", value(&patch.delivery_postal_code)),
            ("delivery_city", value(&patch.delivery_city)),
        ],
    );
}

/// The company's columns after the (checked) patch.
pub(super) fn patched_fields(
    before: &Company,
    patch: &CompanyPatch,
    patched: Patched,
    industry_id: Option<ListEntryId>,
    account_type_id: Option<ListEntryId>,
) -> Fields {
    let custom = match (&patch.custom, &before.custom) {
        (Some(m), _) => m.clone(),
        (None, Value::Object(m)) => m.clone(),
        (None, _) => Map::new(),
    };
    Fields {
        name: patched.names.name,
        domain: patched.names.domain,
        website: patched.names.website,
        industry_id,
        account_type_id,
        vat_id: patched.vat_id,
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
        billing_country: patched.billing_country,
        delivery_street: patch_text(&before.delivery_street, &patch.delivery_street),
        delivery_postal_code: patch_text(&before.delivery_postal_code, &patch.delivery_postal_code),
        delivery_city: patch_text(&before.delivery_city, &patch.delivery_city),
        delivery_country: patched.delivery_country,
        custom,
    }
}

/// The name, web site and domain of a new company (the domain from the web site when none
/// is given).
pub(super) fn new_names(errors: &mut FieldErrors, new: &NewCompany) -> Names {
    let name = check_name(errors, &new.name);
    let website = optional(errors, "website", new.website.as_deref(), |s| {
        Website::parse(s).map_err(|e| e.to_string())
    });
    let domain = optional(errors, "domain", new.domain.as_deref(), |s| {
        parse_domain(s).map_err(str::to_string)
    })
    .or_else(|| website.as_ref().map(|w| w.domain().to_string()));
    Names {
        name,
        website: website.map(|w| w.as_str().to_string()),
        domain,
    }
}

/// The VAT id, countries, e-mails, phones and tags of a new company (after its `names`).
/// Phone numbers are read in the company's own address country, else `default_region`.
pub(super) fn new_values(
    errors: &mut FieldErrors,
    new: &NewCompany,
    names: Names,
    default_region: &str,
) -> Result<Patched> {
    let vat_id = optional(errors, "vat_id", new.vat_id.as_deref(), |s| {
        VatId::parse(s)
            .map(|v| v.as_str().to_string())
            .map_err(|e| e.to_string())
    });
    let country = |s: &str| parse_country(s).map_err(str::to_string);
    let billing_country = optional(
        errors,
        "billing_country",
        new.billing_country.as_deref(),
        country,
    );
    let delivery_country = optional(
        errors,
        "delivery_country",
        new.delivery_country.as_deref(),
        country,
    );

    let mut emails = parse_emails(errors, &new.emails);
    if let Some(email) = optional(errors, "email", new.email.as_deref(), |s| {
        Email::parse(s).map_err(|e| e.to_string())
    }) {
        let row = EmailRow {
            norm: email.normalized(),
            email: email.into_string(),
            kind: EmailKind::Work,
            primary: true,
        };
        set_primary_email(&mut emails, row);
    }

    // The phone-country rule: the company's own address country, else the organization's.
    let region = billing_country
        .clone()
        .or_else(|| delivery_country.clone())
        .unwrap_or_else(|| default_region.to_string());
    let mut phones = parse_phones(errors, &new.phones, &region);
    if let Some(phone) = optional(errors, "phone", new.phone.as_deref(), |s| {
        Phone::parse(s, &region).map_err(|e| e.to_string())
    }) {
        let row = PhoneRow {
            e164: phone.e164().to_string(),
            raw: phone.raw().to_string(),
            kind: PhoneKind::Office,
            primary: true,
        };
        set_primary_phone(&mut phones, row);
    }
    let tags = check_tags(errors, &new.tags)?;
    Ok(Patched {
        names,
        vat_id,
        billing_country,
        delivery_country,
        emails: settle_emails(emails),
        phones: settle_phones(phones),
        tags: Some(tags),
    })
}

/// Checks that the new company's address and register texts are single lines.
pub(super) fn check_new_lines(errors: &mut FieldErrors, new: &NewCompany) {
    check_single_lines(
        errors,
        [
            (
                "trade_register_number",
                new.trade_register_number.as_deref(),
            ),
            ("trade_register_court", new.trade_register_court.as_deref()),
            ("billing_street", new.billing_street.as_deref()),
            ("billing_postal_code", new.billing_postal_code.as_deref()),
            ("billing_city", new.billing_city.as_deref()),
            ("delivery_street", new.delivery_street.as_deref()),
            ("delivery_postal_code", new.delivery_postal_code.as_deref()),
            ("delivery_city", new.delivery_city.as_deref()),
        ],
    );
}

/// The new company's columns (checked).
pub(super) fn new_fields(
    new: &NewCompany,
    checked: Patched,
    industry_id: Option<ListEntryId>,
    account_type_id: Option<ListEntryId>,
) -> Fields {
    Fields {
        name: checked.names.name,
        domain: checked.names.domain,
        website: checked.names.website,
        industry_id,
        account_type_id,
        vat_id: checked.vat_id,
        tax_id: clean(new.tax_id.as_deref()),
        trade_register_number: clean(new.trade_register_number.as_deref()),
        trade_register_court: clean(new.trade_register_court.as_deref()),
        size: new
            .size
            .or(new.employees.map(CompanySize::from_employees))
            .unwrap_or_default(),
        status: new.status.unwrap_or_default(),
        billing_street: clean(new.billing_street.as_deref()),
        billing_postal_code: clean(new.billing_postal_code.as_deref()),
        billing_city: clean(new.billing_city.as_deref()),
        billing_country: checked.billing_country,
        delivery_street: clean(new.delivery_street.as_deref()),
        delivery_postal_code: clean(new.delivery_postal_code.as_deref()),
        delivery_city: clean(new.delivery_city.as_deref()),
        delivery_country: checked.delivery_country,
        custom: new.custom.clone(),
    }
}
