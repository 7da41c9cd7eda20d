//! Reading a company from flags or JSON: `NewCompany` for `add`, `CompanyPatch` for `edit`.

use anyhow::Result;
use crm_core::Error;
use crm_core::store::company::{CompanyPatch, NewCompany};
use serde_json::{Map, Value};

use super::{Clearable, FieldArgs};
use crate::exit;
use crate::input::{redact, refuse_given_and_cleared, set, set_list, version_required};

/// The keys a company is written with (`NewCompany`; `CompanyPatch` adds `version`).
const INPUT_KEYS: &[&str] = &[
    "name",
    "domain",
    "website",
    "industry",
    "account_type",
    "vat_id",
    "tax_id",
    "trade_register_number",
    "trade_register_court",
    "size",
    "employees",
    "status",
    "billing_street",
    "billing_postal_code",
    "billing_city",
    "billing_country",
    "delivery_street",
    "delivery_postal_code",
    "delivery_city",
    "delivery_country",
    "email",
    "emails",
    "phone",
    "phones",
    "tags",
    "owners",
    "custom",
];

/// Keys `company show` prints that the CRM sets; ignored on input.
const READ_ONLY_KEYS: &[&str] = &[
    "id",
    "contacts",
    "created_at",
    "updated_at",
    "deleted_at",
    "relationships",
    "lexware_open_amounts",
];

/// Drops read-only keys and refuses unknown ones (a typo must not be silently ignored).
fn check_keys(obj: &mut Map<String, Value>, with_version: bool) -> Result<()> {
    obj.retain(|k, _| !READ_ONLY_KEYS.contains(&k.as_str()));
    if !with_version {
        obj.remove("version");
    }
    let mut errors = crm_core::FieldErrors::new();
    for key in obj.keys() {
        let known = INPUT_KEYS.contains(&key.as_str()) || (with_version && key == "version");
        if !known {
            errors.add(key.clone(), "is not a company field");
        }
    }
    Ok(errors.into_result()?)
}

/// Deserializes `obj`; on failure, names the field that failed (each key is tried alone).
fn from_json<T: serde::de::DeserializeOwned>(
    obj: Map<String, Value>,
    base: &Map<String, Value>,
) -> Result<T> {
    match serde_json::from_value(Value::Object(obj.clone())) {
        Ok(v) => Ok(v),
        Err(all) => {
            let mut errors = crm_core::FieldErrors::new();
            for (k, v) in &obj {
                let mut one = base.clone();
                one.insert(k.clone(), v.clone());
                if let Err(e) = serde_json::from_value::<T>(Value::Object(one)) {
                    errors.add(k.clone(), redact(&e.to_string()));
                }
            }
            if errors.is_empty() {
                errors.add("json", redact(&all.to_string()));
            }
            Err(Error::Validation(errors).into())
        }
    }
}

/// The company `add` makes from its flags (`--name` is required).
pub(super) fn new_from_flags(f: FieldArgs) -> Result<NewCompany> {
    let Some(name) = f.name else {
        return Err(exit::usage(
            "--name is required (or give the whole company with --json -)",
        ));
    };
    Ok(NewCompany {
        name,
        domain: f.domain,
        website: f.website,
        industry: f.industry,
        account_type: f.account_type,
        vat_id: f.vat_id,
        tax_id: f.tax_id,
        trade_register_number: f.trade_register,
        trade_register_court: f.court,
        size: f.size,
        employees: f.employees,
        status: f.status,
        billing_street: f.street,
        billing_postal_code: f.postal_code,
        billing_city: f.city,
        billing_country: f.country,
        email: f.email,
        phone: f.phone,
        tags: f.tags,
        ..NewCompany::default()
    })
}

/// The company `add --json` reads: the keys `company show` prints, read-only ones dropped.
pub(super) fn new_from_json(mut obj: Map<String, Value>) -> Result<NewCompany> {
    check_keys(&mut obj, false)?;
    from_json(obj, &Map::new())
}

/// The change `edit` makes from its flags and `--clear`, at `version`.
pub(super) fn patch_from_flags(
    version: i32,
    f: FieldArgs,
    clear: &[Clearable],
) -> Result<CompanyPatch> {
    let cleared = |c: Clearable| clear.contains(&c);
    let given = [
        (Clearable::Domain, f.domain.is_some()),
        (Clearable::Website, f.website.is_some()),
        (Clearable::Industry, f.industry.is_some()),
        (Clearable::AccountType, f.account_type.is_some()),
        (Clearable::VatId, f.vat_id.is_some()),
        (Clearable::TaxId, f.tax_id.is_some()),
        (Clearable::TradeRegister, f.trade_register.is_some()),
        (Clearable::Court, f.court.is_some()),
        (Clearable::Email, f.email.is_some()),
        (Clearable::Phone, f.phone.is_some()),
        (Clearable::Street, f.street.is_some()),
        (Clearable::PostalCode, f.postal_code.is_some()),
        (Clearable::City, f.city.is_some()),
        (Clearable::Country, f.country.is_some()),
        (Clearable::Tags, !f.tags.is_empty()),
    ];
    refuse_given_and_cleared(&given, clear)?;
    Ok(CompanyPatch {
        name: f.name,
        domain: set(f.domain, cleared(Clearable::Domain)),
        website: set(f.website, cleared(Clearable::Website)),
        industry: set(f.industry, cleared(Clearable::Industry)),
        account_type: set(f.account_type, cleared(Clearable::AccountType)),
        vat_id: set(f.vat_id, cleared(Clearable::VatId)),
        tax_id: set(f.tax_id, cleared(Clearable::TaxId)),
        trade_register_number: set(f.trade_register, cleared(Clearable::TradeRegister)),
        trade_register_court: set(f.court, cleared(Clearable::Court)),
        size: f.size,
        employees: f.employees,
        status: f.status,
        billing_street: set(f.street, cleared(Clearable::Street)),
        billing_postal_code: set(f.postal_code, cleared(Clearable::PostalCode)),
        billing_city: set(f.city, cleared(Clearable::City)),
        billing_country: set(f.country, cleared(Clearable::Country)),
        email: set(f.email, cleared(Clearable::Email)),
        phone: set(f.phone, cleared(Clearable::Phone)),
        tags: set_list(f.tags, cleared(Clearable::Tags)),
        ..CompanyPatch::at(version)
    })
}

/// The change `edit --json` reads: the keys to change, with the version (flag or key).
pub(super) fn patch_from_json(
    mut obj: Map<String, Value>,
    version: Option<i32>,
) -> Result<CompanyPatch> {
    if let Some(v) = version {
        obj.insert("version".into(), v.into());
    } else if !obj.contains_key("version") {
        return Err(version_required("company"));
    }
    check_keys(&mut obj, true)?;
    let mut base = Map::new();
    base.insert("version".into(), 0.into());
    from_json(obj, &base)
}
