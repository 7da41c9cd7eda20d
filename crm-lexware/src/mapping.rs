//! The field mapping between Lexware contacts and CRM records, both ways, and the
//! three-way merge that decides what goes where.
//!
//! | mapped field      | Lexware contact                          | CRM company            | CRM contact      |
//! |-------------------|------------------------------------------|------------------------|------------------|
//! | `name`            | `company.name`                           | `name`                 | –                |
//! | `salutation`      | `person.salutation`                      | –                      | `salutation`     |
//! | `first_name`      | `person.firstName`                       | –                      | `first_name`     |
//! | `last_name`       | `person.lastName`                        | –                      | `last_name`      |
//! | `vat_id`          | `company.vatRegistrationId`              | `vat_id`               | –                |
//! | `tax_number`      | `company.taxNumber`                      | `tax_id`               | –                |
//! | `note`            | `note`                                   | `custom.note`          | `custom.note`    |
//! | `billing.street`  | `addresses.billing[0].street`            | `billing_street`       | –                |
//! | `billing.zip`     | `addresses.billing[0].zip`               | `billing_postal_code`  | –                |
//! | `billing.city`    | `addresses.billing[0].city`              | `billing_city`         | `city`           |
//! | `billing.country` | `addresses.billing[0].countryCode`       | `billing_country`      | –                |
//! | `shipping.*`      | `addresses.shipping[0].*`                | `delivery_*`           | –                |
//! | `email.business`  | `emailAddresses.business[0]`             | first `work` e-mail    | same             |
//! | `email.private`   | `emailAddresses.private[0]`              | first `personal` e-mail| same             |
//! | `email.other`     | `emailAddresses.other[0]`                | first `other` e-mail   | same             |
//! | `phone.business`  | `phoneNumbers.business[0]`               | first `office` phone   | same             |
//! | `phone.mobile`    | `phoneNumbers.mobile[0]`                 | first `mobile` phone   | same             |
//! | `phone.fax`       | `phoneNumbers.fax[0]`                    | first `fax` phone      | same             |
//! | `phone.other`     | `phoneNumbers.other[0]`                  | first `other` phone    | same             |
//!
//! Not mapped, and therefore never changed on the other side: Lexware's `office` e-mails,
//! `office` / `private` phones, address supplements, `xRechnung`, roles; the CRM's tags,
//! owners, web site, sizes and further addresses. The customer number is read-only in
//! Lexware: it is copied into the CRM record's `custom.lexware_customer_number` and never
//! pushed. Updates merge onto the record just read, so unmapped Lexware fields survive a
//! push (a contact PUT replaces the whole record).
//!
//! Values are compared after light normalisation (trimmed; e-mails lower-case; VAT ids
//! upper-case without spaces), so formatting alone is never a change.

use std::collections::BTreeMap;

use crm_core::domain::{ContactSource, EmailKind, PhoneKind};
use crm_core::store::company::{
    Company, CompanyPatch, NewCompany, NewCompanyEmail, NewCompanyPhone,
};
use crm_core::store::contact::{
    Contact, ContactPatch, NewContact, NewContactEmail, NewContactPhone,
};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::model::{LxContact, LxContactPerson};

/// Mapped values of one record: field → value; absent means empty.
pub type Fields = BTreeMap<String, String>;
/// The agreed state: field → value (`None`: agreed empty); absent means unknown.
pub type Base = BTreeMap<String, Option<String>>;

const EMAIL_KINDS: [(&str, EmailKind); 3] = [
    ("business", EmailKind::Work),
    ("private", EmailKind::Personal),
    ("other", EmailKind::Other),
];
const PHONE_KINDS: [(&str, PhoneKind); 4] = [
    ("business", PhoneKind::Office),
    ("mobile", PhoneKind::Mobile),
    ("fax", PhoneKind::Fax),
    ("other", PhoneKind::Other),
];
const ADDRESS_PARTS: [(&str, &str); 4] = [
    ("street", "street"),
    ("zip", "zip"),
    ("city", "city"),
    ("country", "countryCode"),
];

/// The mapped fields of a company record.
pub fn company_fields() -> Vec<String> {
    let mut f: Vec<String> = ["name", "vat_id", "tax_number", "note"]
        .map(String::from)
        .into();
    for side in ["billing", "shipping"] {
        f.extend(ADDRESS_PARTS.iter().map(|(p, _)| format!("{side}.{p}")));
    }
    f.extend(contact_channels());
    f
}

/// The mapped fields of a person record.
pub fn person_fields() -> Vec<String> {
    let mut f: Vec<String> = [
        "salutation",
        "first_name",
        "last_name",
        "note",
        "billing.city",
    ]
    .map(String::from)
    .into();
    f.extend(contact_channels());
    f
}

fn contact_channels() -> Vec<String> {
    EMAIL_KINDS
        .iter()
        .map(|(k, _)| format!("email.{k}"))
        .chain(PHONE_KINDS.iter().map(|(k, _)| format!("phone.{k}")))
        .collect()
}

/// Normalises a value of `field` for comparison; `None` when empty.
pub fn normalize(field: &str, value: &str) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    Some(if field.starts_with("email.") {
        v.to_lowercase()
    } else if field == "vat_id" {
        v.chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_uppercase()
    } else if field.ends_with(".country") {
        v.to_uppercase()
    } else {
        v.to_string()
    })
}

fn put(f: &mut Fields, field: &str, value: Option<&str>) {
    if let Some(v) = value.and_then(|v| normalize(field, v)) {
        f.insert(field.to_string(), v);
    }
}

/// The mapped values of a Lexware contact.
pub fn from_lexware(c: &LxContact) -> Fields {
    let mut f = Fields::new();
    if let Some(co) = &c.company {
        put(&mut f, "name", co.name.as_deref());
        put(&mut f, "vat_id", co.vat_registration_id.as_deref());
        put(&mut f, "tax_number", co.tax_number.as_deref());
    }
    if let Some(p) = &c.person {
        put(&mut f, "salutation", p.salutation.as_deref());
        put(&mut f, "first_name", p.first_name.as_deref());
        put(&mut f, "last_name", p.last_name.as_deref());
    }
    put(&mut f, "note", c.note.as_deref());
    if let Some(a) = &c.addresses {
        for (side, list) in [("billing", &a.billing), ("shipping", &a.shipping)] {
            if let Some(addr) = list.first() {
                put(&mut f, &format!("{side}.street"), addr.street.as_deref());
                put(&mut f, &format!("{side}.zip"), addr.zip.as_deref());
                put(&mut f, &format!("{side}.city"), addr.city.as_deref());
                // Extended codes (ES_CN) have no CRM equivalent: left unmapped.
                let cc = addr.country_code.as_deref().filter(|c| c.len() == 2);
                put(&mut f, &format!("{side}.country"), cc);
            }
        }
    }
    for (k, _) in EMAIL_KINDS {
        let v = c
            .email_addresses
            .as_ref()
            .and_then(|m| m.get(k))
            .and_then(|l| l.first());
        put(&mut f, &format!("email.{k}"), v.map(String::as_str));
    }
    for (k, _) in PHONE_KINDS {
        let v = c
            .phone_numbers
            .as_ref()
            .and_then(|m| m.get(k))
            .and_then(|l| l.first());
        put(&mut f, &format!("phone.{k}"), v.map(String::as_str));
    }
    if c.person.is_some() {
        // A person maps only its billing city.
        f.retain(|k, _| !k.starts_with("billing.") || k == "billing.city");
        f.retain(|k, _| !k.starts_with("shipping."));
    }
    f
}

fn custom_note(custom: &Value) -> Option<&str> {
    custom.get("note").and_then(Value::as_str)
}

/// The mapped values of a CRM company.
pub fn from_company(c: &Company) -> Fields {
    let mut f = Fields::new();
    put(&mut f, "name", Some(&c.name));
    put(&mut f, "vat_id", c.vat_id.as_deref());
    put(&mut f, "tax_number", c.tax_id.as_deref());
    put(&mut f, "note", custom_note(&c.custom));
    let addr = [
        ("billing.street", &c.billing_street),
        ("billing.zip", &c.billing_postal_code),
        ("billing.city", &c.billing_city),
        ("billing.country", &c.billing_country),
        ("shipping.street", &c.delivery_street),
        ("shipping.zip", &c.delivery_postal_code),
        ("shipping.city", &c.delivery_city),
        ("shipping.country", &c.delivery_country),
    ];
    for (k, v) in addr {
        put(&mut f, k, v.as_deref());
    }
    for (k, kind) in EMAIL_KINDS {
        let v = c
            .emails
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| e.email.as_str());
        put(&mut f, &format!("email.{k}"), v);
    }
    for (k, kind) in PHONE_KINDS {
        let v = c
            .phones
            .iter()
            .find(|p| p.kind == kind)
            .map(|p| p.raw.as_str());
        put(&mut f, &format!("phone.{k}"), v);
    }
    f
}

/// The mapped values of a CRM contact.
pub fn from_contact(c: &Contact) -> Fields {
    let mut f = Fields::new();
    put(&mut f, "salutation", c.salutation.as_deref());
    put(&mut f, "first_name", Some(&c.first_name));
    put(&mut f, "last_name", Some(&c.last_name));
    put(&mut f, "note", custom_note(&c.custom));
    put(&mut f, "billing.city", c.city.as_deref());
    for (k, kind) in EMAIL_KINDS {
        let v = c
            .emails
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| e.email.as_str());
        put(&mut f, &format!("email.{k}"), v);
    }
    for (k, kind) in PHONE_KINDS {
        let v = c
            .phones
            .iter()
            .find(|p| p.kind == kind)
            .map(|p| p.raw.as_str());
        put(&mut f, &format!("phone.{k}"), v);
    }
    f
}

/// Why a Lexware contact cannot be updated through the API: the first list with more
/// than one entry (`None`: it can be updated).
pub fn not_updatable(c: &LxContact) -> Option<String> {
    if let Some(a) = &c.addresses {
        if a.billing.len() > 1 {
            return Some("billing address".into());
        }
        if a.shipping.len() > 1 {
            return Some("shipping address".into());
        }
    }
    for (what, map) in [
        ("e-mail address", &c.email_addresses),
        ("phone number", &c.phone_numbers),
    ] {
        if let Some((kind, _)) = map.iter().flatten().find(|(_, l)| l.len() > 1) {
            return Some(format!("{what} of kind '{kind}'"));
        }
    }
    if c.company
        .as_ref()
        .is_some_and(|co| co.contact_persons.len() > 1)
    {
        return Some("contact person".into());
    }
    None
}

/// A field changed on both sides since the last sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Conflict {
    /// The mapped field.
    pub field: String,
    /// The CRM's value.
    pub crm: Option<String>,
    /// Lexware's value.
    pub lexware: Option<String>,
}

/// Which side wins a conflict, when the user said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefer {
    /// Nobody: conflicts are reported.
    Neither,
    /// The CRM's value (an explicit push).
    Crm,
    /// Lexware's value (an explicit import).
    Lexware,
}

/// What a three-way merge decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Values to write to Lexware (`None`: clear).
    pub to_lexware: BTreeMap<String, Option<String>>,
    /// Values to write to the CRM (`None`: clear).
    pub to_crm: BTreeMap<String, Option<String>>,
    /// Fields changed on both sides to different values.
    pub conflicts: Vec<Conflict>,
    /// The agreed state once the plan is applied.
    pub base: Base,
}

/// Three-way merge of `fields` from the agreed `base`, the CRM's and Lexware's values.
/// A field changed on one side is carried to the other; a field changed on both sides to
/// different values is a conflict (unless `prefer` names the winner) and keeps its base.
/// A field without base (never synced) is taken from the side that has it; when both have
/// different values it is a conflict.
pub fn merge(
    fields: &[String],
    base: &Base,
    crm: &Fields,
    lexware: &Fields,
    prefer: Prefer,
) -> Plan {
    let mut plan = Plan::default();
    for f in fields {
        let l = crm.get(f).cloned();
        let r = lexware.get(f).cloned();
        if l == r {
            plan.base.insert(f.clone(), l);
            continue;
        }
        let known = base.get(f);
        let crm_changed = known.is_none_or(|b| *b != l);
        let lex_changed = known.is_none_or(|b| *b != r);
        let take_lexware = |plan: &mut Plan| {
            plan.to_crm.insert(f.clone(), r.clone());
            plan.base.insert(f.clone(), r.clone());
        };
        let take_crm = |plan: &mut Plan| {
            plan.to_lexware.insert(f.clone(), l.clone());
            plan.base.insert(f.clone(), l.clone());
        };
        match (crm_changed, lex_changed) {
            (false, _) => take_lexware(&mut plan),
            (_, false) => take_crm(&mut plan),
            // Never synced and one side empty: fill the blank.
            _ if known.is_none() && l.is_none() => take_lexware(&mut plan),
            _ if known.is_none() && r.is_none() => take_crm(&mut plan),
            _ => match prefer {
                Prefer::Crm => take_crm(&mut plan),
                Prefer::Lexware => take_lexware(&mut plan),
                Prefer::Neither => {
                    plan.conflicts.push(Conflict {
                        field: f.clone(),
                        crm: l,
                        lexware: r,
                    });
                    if let Some(b) = known {
                        plan.base.insert(f.clone(), b.clone());
                    }
                }
            },
        }
    }
    plan
}

/// Writes mapped values into a Lexware contact's JSON (the record just read, so unmapped
/// fields are sent back unchanged). A new billing or shipping address gets
/// `default_country` when the CRM has no country for it (the API requires one).
pub fn apply_to_lexware(
    raw: &mut Value,
    changes: &BTreeMap<String, Option<String>>,
    default_country: &str,
) {
    if !raw.is_object() {
        *raw = json!({});
    }
    for (field, value) in changes {
        let v = value.clone().map(Value::String).unwrap_or(Value::Null);
        match field.as_str() {
            "name" => obj(raw, "company")["name"] = v,
            "vat_id" => obj(raw, "company")["vatRegistrationId"] = v,
            "tax_number" => obj(raw, "company")["taxNumber"] = v,
            "salutation" | "first_name" | "last_name" => {
                let key = match field.as_str() {
                    "salutation" => "salutation",
                    "first_name" => "firstName",
                    _ => "lastName",
                };
                obj(raw, "person")[key] = v;
            }
            "note" => raw["note"] = v,
            f if f.starts_with("email.") || f.starts_with("phone.") => {
                let (group, kind) = f.split_once('.').unwrap_or((f, ""));
                let key = if group == "email" {
                    "emailAddresses"
                } else {
                    "phoneNumbers"
                };
                obj(raw, key)[kind] = json!(value.iter().collect::<Vec<_>>());
            }
            f => {
                let Some((side, part)) = f.split_once('.') else {
                    continue;
                };
                let Some((_, key)) = ADDRESS_PARTS.iter().find(|(p, _)| *p == part) else {
                    continue;
                };
                let addresses = obj(raw, "addresses");
                if !addresses[side].is_array() {
                    addresses[side] = json!([]);
                }
                let list = addresses[side].as_array_mut().expect("made an array above");
                if list.is_empty() {
                    if value.is_none() {
                        continue;
                    }
                    list.push(json!({ "countryCode": default_country }));
                }
                list[0][*key] = if *key == "countryCode" && value.is_none() {
                    Value::String(default_country.to_string())
                } else {
                    v
                };
            }
        }
    }
}

fn obj<'a>(raw: &'a mut Value, key: &str) -> &'a mut Value {
    if !raw[key].is_object() {
        raw[key] = json!({});
    }
    &mut raw[key]
}

/// The JSON of a new Lexware contact (a customer) from CRM values.
pub fn create_body(fields: &Fields, company: bool, default_country: &str) -> Value {
    let mut raw = json!({ "version": 0, "roles": { "customer": {} } });
    raw[if company { "company" } else { "person" }] = json!({});
    let changes: BTreeMap<String, Option<String>> = fields
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect();
    apply_to_lexware(&mut raw, &changes, default_country);
    raw
}

fn merged_custom(
    current: &Value,
    note: Option<&Option<String>>,
    number: Option<i64>,
) -> Option<Map<String, Value>> {
    if note.is_none()
        && number.is_none_or(|n| current.get("lexware_customer_number") == Some(&json!(n)))
    {
        return None;
    }
    let mut m = current.as_object().cloned().unwrap_or_default();
    match note {
        Some(Some(n)) => {
            m.insert("note".into(), Value::String(n.clone()));
        }
        Some(None) => {
            m.remove("note");
        }
        None => {}
    }
    if let Some(n) = number {
        m.insert("lexware_customer_number".into(), json!(n));
    }
    Some(m)
}

fn channel_lists<E, P>(
    changes: &BTreeMap<String, Option<String>>,
    emails: Vec<(String, EmailKind, bool)>,
    phones: Vec<(String, PhoneKind, bool)>,
    make_email: impl Fn(String, EmailKind, bool) -> E,
    make_phone: impl Fn(String, PhoneKind, bool) -> P,
) -> (Option<Vec<E>>, Option<Vec<P>>) {
    let mut emails = emails;
    let mut phones = phones;
    let mut e_changed = false;
    let mut p_changed = false;
    for (k, kind) in EMAIL_KINDS {
        if let Some(v) = changes.get(&format!("email.{k}")) {
            e_changed = true;
            replace_first(&mut emails, kind, v.clone());
        }
    }
    for (k, kind) in PHONE_KINDS {
        if let Some(v) = changes.get(&format!("phone.{k}")) {
            p_changed = true;
            replace_first(&mut phones, kind, v.clone());
        }
    }
    let fix_primary = |n: usize, has: bool| n > 0 && !has;
    if fix_primary(emails.len(), emails.iter().any(|e| e.2)) {
        emails[0].2 = true;
    }
    if fix_primary(phones.len(), phones.iter().any(|p| p.2)) {
        phones[0].2 = true;
    }
    (
        e_changed.then(|| {
            emails
                .into_iter()
                .map(|(a, k, p)| make_email(a, k, p))
                .collect()
        }),
        p_changed.then(|| {
            phones
                .into_iter()
                .map(|(a, k, p)| make_phone(a, k, p))
                .collect()
        }),
    )
}

fn replace_first<K: PartialEq + Copy>(
    list: &mut Vec<(String, K, bool)>,
    kind: K,
    value: Option<String>,
) {
    match (list.iter().position(|e| e.1 == kind), value) {
        (Some(i), Some(v)) => list[i].0 = v,
        (Some(i), None) => {
            list.remove(i);
        }
        (None, Some(v)) => list.push((v, kind, false)),
        (None, None) => {}
    }
}

fn text(changes: &BTreeMap<String, Option<String>>, f: &str) -> Option<Option<String>> {
    changes.get(f).cloned()
}

/// The patch that writes Lexware values into a CRM company read at its version.
pub fn company_patch(
    c: &Company,
    changes: &BTreeMap<String, Option<String>>,
    customer_number: Option<i64>,
) -> CompanyPatch {
    let mut p = CompanyPatch::at(c.version);
    if let Some(Some(n)) = text(changes, "name") {
        p.name = Some(n);
    }
    p.vat_id = text(changes, "vat_id");
    p.tax_id = text(changes, "tax_number");
    p.billing_street = text(changes, "billing.street");
    p.billing_postal_code = text(changes, "billing.zip");
    p.billing_city = text(changes, "billing.city");
    p.billing_country = text(changes, "billing.country");
    p.delivery_street = text(changes, "shipping.street");
    p.delivery_postal_code = text(changes, "shipping.zip");
    p.delivery_city = text(changes, "shipping.city");
    p.delivery_country = text(changes, "shipping.country");
    let (emails, phones) = channel_lists(
        changes,
        c.emails
            .iter()
            .map(|e| (e.email.clone(), e.kind, e.primary))
            .collect(),
        c.phones
            .iter()
            .map(|p| (p.raw.clone(), p.kind, p.primary))
            .collect(),
        |email, kind, primary| NewCompanyEmail {
            email,
            kind,
            primary,
        },
        |number, kind, primary| NewCompanyPhone {
            number,
            kind,
            primary,
        },
    );
    p.emails = emails;
    p.phones = phones;
    p.custom = merged_custom(&c.custom, changes.get("note"), customer_number);
    p
}

/// The patch that writes Lexware values into a CRM contact read at its version.
pub fn contact_patch(
    c: &Contact,
    changes: &BTreeMap<String, Option<String>>,
    customer_number: Option<i64>,
) -> ContactPatch {
    let mut p = ContactPatch::at(c.version);
    p.first_name = text(changes, "first_name").map(Option::unwrap_or_default);
    p.last_name = text(changes, "last_name").map(Option::unwrap_or_default);
    p.salutation = text(changes, "salutation");
    p.city = text(changes, "billing.city");
    let (emails, phones) = channel_lists(
        changes,
        c.emails
            .iter()
            .map(|e| (e.email.clone(), e.kind, e.primary))
            .collect(),
        c.phones
            .iter()
            .map(|p| (p.raw.clone(), p.kind, p.primary))
            .collect(),
        |email, kind, primary| NewContactEmail {
            email,
            kind,
            primary,
        },
        |number, kind, primary| NewContactPhone {
            number,
            kind,
            primary,
        },
    );
    p.emails = emails;
    p.phones = phones;
    p.custom = merged_custom(&c.custom, changes.get("note"), customer_number);
    p
}

fn all(fields: &Fields) -> BTreeMap<String, Option<String>> {
    fields
        .iter()
        .map(|(k, v)| (k.clone(), Some(v.clone())))
        .collect()
}

/// A new CRM company from a Lexware company contact.
pub fn new_company(c: &LxContact) -> NewCompany {
    let f = from_lexware(c);
    let get = |k: &str| f.get(k).cloned();
    let changes = all(&f);
    let (emails, phones) = channel_lists(
        &changes,
        Vec::new(),
        Vec::new(),
        |email, kind, primary| NewCompanyEmail {
            email,
            kind,
            primary,
        },
        |number, kind, primary| NewCompanyPhone {
            number,
            kind,
            primary,
        },
    );
    NewCompany {
        name: get("name").unwrap_or_default(),
        vat_id: get("vat_id"),
        tax_id: get("tax_number"),
        billing_street: get("billing.street"),
        billing_postal_code: get("billing.zip"),
        billing_city: get("billing.city"),
        billing_country: get("billing.country"),
        delivery_street: get("shipping.street"),
        delivery_postal_code: get("shipping.zip"),
        delivery_city: get("shipping.city"),
        delivery_country: get("shipping.country"),
        emails: emails.unwrap_or_default(),
        phones: phones.unwrap_or_default(),
        custom: merged_custom(&json!({}), changes.get("note"), c.customer_number())
            .unwrap_or_default(),
        ..NewCompany::default()
    }
}

/// A new CRM contact from a Lexware person contact.
pub fn new_contact(c: &LxContact) -> NewContact {
    let f = from_lexware(c);
    let get = |k: &str| f.get(k).cloned();
    let changes = all(&f);
    let (emails, phones) = channel_lists(
        &changes,
        Vec::new(),
        Vec::new(),
        |email, kind, primary| NewContactEmail {
            email,
            kind,
            primary,
        },
        |number, kind, primary| NewContactPhone {
            number,
            kind,
            primary,
        },
    );
    NewContact {
        first_name: get("first_name").unwrap_or_default(),
        last_name: get("last_name").unwrap_or_default(),
        salutation: get("salutation"),
        city: get("billing.city"),
        source: ContactSource::Lexware,
        emails: emails.unwrap_or_default(),
        phones: phones.unwrap_or_default(),
        custom: merged_custom(&json!({}), changes.get("note"), c.customer_number())
            .unwrap_or_default(),
        ..NewContact::default()
    }
}

/// A new CRM contact from a contact person of a Lexware company (not linked itself: the
/// API gives contact persons no id).
pub fn new_contact_person(p: &LxContactPerson, company: crm_core::CompanyId) -> NewContact {
    let clean = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    NewContact {
        first_name: clean(&p.first_name).unwrap_or_default(),
        last_name: clean(&p.last_name).unwrap_or_default(),
        salutation: clean(&p.salutation),
        company_id: Some(company),
        source: ContactSource::Lexware,
        email: clean(&p.email_address),
        phone: clean(&p.phone_number),
        ..NewContact::default()
    }
}

/// The agreed state after a fresh import or create: every field as given.
pub fn base_of(fields: &[String], values: &Fields) -> Base {
    fields
        .iter()
        .map(|f| (f.clone(), values.get(f).cloned()))
        .collect()
}

#[cfg(test)]
mod tests;
