//! Reading a contact from flags or JSON: `NewContact` for `add`, `ContactPatch` for `edit`.

use anyhow::Result;
use chrono::NaiveDate;
use crm_core::store::contact::{ContactPatch, NewContact};
use crm_core::{FieldErrors, Tx};
use serde_json::{Map, Value};

use super::{Clearable, FieldArgs};
use crate::cmd::channels;
use crate::input::{
    from_json, refuse_given_and_cleared, set, set_list, take_reference, version_required,
};
use crate::resolve::{resolve_company_opt, resolve_company_taken};

/// Drops the keys `contact show` prints that the CRM sets (id, timestamps, the phone numbers
/// as entered), and takes out `company` (the company's name) unless `company_id` is given.
/// Returns the company name to resolve, or `Some(None)` for `"company": null`.
fn strip_read_only(obj: &mut Map<String, Value>) -> Option<Option<String>> {
    // The source id is written by imports only.
    for key in [
        "id",
        "created_at",
        "updated_at",
        "deleted_at",
        "external_system",
        "external_id",
    ] {
        obj.remove(key);
    }
    if let Some(Value::Array(phones)) = obj.get_mut("phones") {
        for p in phones {
            if let Value::Object(p) = p {
                p.remove("raw");
            }
        }
    }
    take_reference(obj, "company", "company_id")
}

/// `--birthday` as a date; a malformed one is a field error.
fn parse_birthday(errors: &mut FieldErrors, raw: Option<&str>) -> Option<NaiveDate> {
    let raw = raw?.trim();
    errors.check(
        "birthday",
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| "must be a date YYYY-MM-DD"),
    )
}

/// The contact `add` makes from its flags (the company resolved).
pub(super) async fn new_from_flags(tx: &mut Tx, f: FieldArgs) -> Result<NewContact> {
    let mut errors = FieldErrors::new();
    let birthday = parse_birthday(&mut errors, f.birthday.as_deref());
    errors.into_result()?;
    let company_id = resolve_company_opt(tx, f.company.as_deref()).await?;
    Ok(NewContact {
        first_name: f.first_name.unwrap_or_default(),
        last_name: f.last_name.unwrap_or_default(),
        salutation: f.salutation,
        title: f.title,
        job_title: f.job_title,
        department: f.department,
        linkedin_url: f.linkedin,
        birthday,
        source: f.source.unwrap_or_default(),
        status: f.status.unwrap_or_default(),
        company_id,
        emails: channels::emails(&f.email)?,
        phones: channels::phones(&f.phone)?,
        city: f.city,
        street: f.street,
        postal_code: f.postal_code,
        country: f.country,
        home_street: f.home_street,
        home_postal_code: f.home_postal_code,
        home_city: f.home_city,
        home_country: f.home_country,
        tags: f.tags,
        ..NewContact::default()
    })
}

/// The contact `add --json` reads: the keys `contact show` prints, read-only ones dropped.
pub(super) async fn new_from_json(tx: &mut Tx, mut obj: Map<String, Value>) -> Result<NewContact> {
    obj.remove("version");
    let company = strip_read_only(&mut obj);
    let mut new: NewContact = from_json(obj)?;
    if let Some(Some(id)) = resolve_company_taken(tx, company).await? {
        new.company_id = Some(id);
    }
    Ok(new)
}

/// The change `edit` makes from its flags and `--clear`, at `version`.
pub(super) async fn patch_from_flags(
    tx: &mut Tx,
    version: i32,
    f: FieldArgs,
    clear: &[Clearable],
) -> Result<ContactPatch> {
    let cleared = |c: Clearable| clear.contains(&c);
    let given = [
        (Clearable::Email, !f.email.is_empty()),
        (Clearable::Phone, !f.phone.is_empty()),
        (Clearable::Company, f.company.is_some()),
        (Clearable::JobTitle, f.job_title.is_some()),
        (Clearable::City, f.city.is_some()),
        (Clearable::Street, f.street.is_some()),
        (Clearable::PostalCode, f.postal_code.is_some()),
        (Clearable::Country, f.country.is_some()),
        (Clearable::HomeStreet, f.home_street.is_some()),
        (Clearable::HomePostalCode, f.home_postal_code.is_some()),
        (Clearable::HomeCity, f.home_city.is_some()),
        (Clearable::HomeCountry, f.home_country.is_some()),
        (Clearable::Tags, !f.tags.is_empty()),
        (Clearable::Salutation, f.salutation.is_some()),
        (Clearable::Title, f.title.is_some()),
        (Clearable::Department, f.department.is_some()),
        (Clearable::Linkedin, f.linkedin.is_some()),
        (Clearable::Birthday, f.birthday.is_some()),
    ];
    refuse_given_and_cleared(&given, clear)?;
    let mut errors = FieldErrors::new();
    let birthday = parse_birthday(&mut errors, f.birthday.as_deref());
    errors.into_result()?;
    let company_id = resolve_company_opt(tx, f.company.as_deref()).await?;
    Ok(ContactPatch {
        version,
        first_name: f.first_name,
        last_name: f.last_name,
        salutation: set(f.salutation, cleared(Clearable::Salutation)),
        title: set(f.title, cleared(Clearable::Title)),
        job_title: set(f.job_title, cleared(Clearable::JobTitle)),
        department: set(f.department, cleared(Clearable::Department)),
        linkedin_url: set(f.linkedin, cleared(Clearable::Linkedin)),
        birthday: set(birthday, cleared(Clearable::Birthday)),
        source: f.source,
        status: f.status,
        company_id: set(company_id, cleared(Clearable::Company)),
        email: match f.email.as_slice() {
            [one] if !channels::any_kind_prefix(&f.email) => Some(Some(one.clone())),
            _ => set(None, cleared(Clearable::Email)),
        },
        emails: if f.email.len() > 1 || channels::any_kind_prefix(&f.email) {
            Some(channels::emails(&f.email)?)
        } else {
            None
        },
        phone: match f.phone.as_slice() {
            [one] if !channels::any_kind_prefix(&f.phone) => Some(Some(one.clone())),
            _ => set(None, cleared(Clearable::Phone)),
        },
        phones: if f.phone.len() > 1 || channels::any_kind_prefix(&f.phone) {
            Some(channels::phones(&f.phone)?)
        } else {
            None
        },
        city: set(f.city, cleared(Clearable::City)),
        street: set(f.street, cleared(Clearable::Street)),
        postal_code: set(f.postal_code, cleared(Clearable::PostalCode)),
        country: set(f.country, cleared(Clearable::Country)),
        home_street: set(f.home_street, cleared(Clearable::HomeStreet)),
        home_postal_code: set(f.home_postal_code, cleared(Clearable::HomePostalCode)),
        home_city: set(f.home_city, cleared(Clearable::HomeCity)),
        home_country: set(f.home_country, cleared(Clearable::HomeCountry)),
        tags: set_list(f.tags, cleared(Clearable::Tags)),
        ..ContactPatch::at(version)
    })
}

/// The change `edit --json` reads: the keys to change, with the version (flag or key).
pub(super) async fn patch_from_json(
    tx: &mut Tx,
    mut obj: Map<String, Value>,
    version: Option<i32>,
) -> Result<ContactPatch> {
    if let Some(v) = version {
        obj.insert("version".into(), v.into());
    } else if !obj.contains_key("version") {
        return Err(version_required("contact"));
    }
    let company = strip_read_only(&mut obj);
    let mut patch: ContactPatch = from_json(obj)?;
    if let Some(id) = resolve_company_taken(tx, company).await? {
        patch.company_id = Some(id);
    }
    Ok(patch)
}
