//! Contacts: people, with their e-mail addresses and phone numbers (many, typed, one
//! primary), tags, owners and custom fields.
//!
//! The columns `contacts.email`, `contacts.email_norm` and `contacts.phone` mirror the rows
//! marked primary in `contact_emails` and `contact_phones`; every write here keeps them equal
//! in the same transaction. The partial unique index `contacts_email_unique` makes the
//! primary e-mail unique among an organization's live contacts ([`Error::Conflict`]).
//!
//! Contacts written without address rows (older imports, the demo seed) still show their
//! mirrored primary e-mail and phone in [`Contact::emails`] and [`Contact::phones`]; the rows
//! are written the first time those lists change.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::owner::{self, OwnedKind, Owner};
use super::{Page, PageRequest, clean, diff, double_option, stale_or_missing, tag};
use crate::auth::Permission;
use crate::domain::{
    ContactSource, Email, EmailKind, EntityStatus, InvalidValue, OwnerRole, Phone, PhoneKind,
    Website, fold_for_search, normalize_name,
};
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{CompanyId, ContactId, UserId};
use crate::tenancy::Tx;

/// The longest name (first or last) accepted, in characters.
const MAX_NAME_LEN: usize = 200;
/// The longest other text field accepted, in characters.
const MAX_TEXT_LEN: usize = 500;
/// The most e-mail addresses or phone numbers one contact can have.
const MAX_ADDRESSES: usize = 50;

const ENTITY: &str = "contact";

/// Prints `<redacted>` in `Debug` output in place of personal data.
struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `<redacted>` when a value is present, `None` otherwise.
fn redact_opt<T>(v: &Option<T>) -> &'static dyn fmt::Debug {
    if v.is_some() { &Redacted } else { &None::<()> }
}

// ---------------------------------------------------------------------------------------
// Input types
// ---------------------------------------------------------------------------------------

/// One e-mail address of a new contact (or of a patch's replacement list).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContactEmail {
    /// The address.
    pub email: String,
    /// What it is used for (default `work`).
    #[serde(default)]
    pub kind: EmailKind,
    /// Whether it is the primary address (at most one; default: the first).
    #[serde(default)]
    pub primary: bool,
}

impl fmt::Debug for NewContactEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewContactEmail")
            .field("email", &Redacted)
            .field("kind", &self.kind)
            .field("primary", &self.primary)
            .finish()
    }
}

/// One phone number of a new contact (or of a patch's replacement list).
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewContactPhone {
    /// The number as people write it; national numbers are read in the organization's
    /// default region.
    pub number: String,
    /// What kind of line it is (default `office`).
    #[serde(default)]
    pub kind: PhoneKind,
    /// Whether it is the primary number (at most one; default: the first).
    #[serde(default)]
    pub primary: bool,
}

impl fmt::Debug for NewContactPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewContactPhone")
            .field("number", &Redacted)
            .field("kind", &self.kind)
            .field("primary", &self.primary)
            .finish()
    }
}

/// A contact to create. Every field is optional, but a contact needs a first name, a last
/// name or an e-mail address.
///
/// `email` names the primary address; `emails` may list more (an entry equal to `email`
/// only contributes its kind). Without `email`, the entry marked `primary` (or else the first)
/// is primary. `phone` and `phones` work the same way.
#[derive(Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewContact {
    /// First (given) name.
    pub first_name: String,
    /// Last (family) name.
    pub last_name: String,
    /// Salutation (`Frau`, `Herr`, `Mx.`, ...).
    pub salutation: Option<String>,
    /// Academic or honorary title (`Dr.`, `Prof.`).
    pub title: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// LinkedIn profile address (`https://www.linkedin.com/in/...`).
    pub linkedin_url: Option<String>,
    /// Date of birth (`YYYY-MM-DD`), not in the future.
    pub birthday: Option<NaiveDate>,
    /// How the contact came in (default `other`).
    pub source: ContactSource,
    /// Whether the contact is in use (default `active`).
    pub status: EntityStatus,
    /// The company the person works for (a live company of the organization).
    pub company_id: Option<CompanyId>,
    /// The primary e-mail address.
    pub email: Option<String>,
    /// E-mail addresses.
    pub emails: Vec<NewContactEmail>,
    /// The primary phone number.
    pub phone: Option<String>,
    /// Phone numbers.
    pub phones: Vec<NewContactPhone>,
    /// City.
    pub city: Option<String>,
    /// Tag names (created when new).
    pub tags: Vec<String>,
    /// Owners; when empty, the acting user becomes the owner.
    pub owners: Vec<Owner>,
    /// Custom fields (a JSON object).
    pub custom: Map<String, Value>,
}

impl fmt::Debug for NewContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewContact")
            .field("first_name", &Redacted)
            .field("last_name", &Redacted)
            .field("birthday", redact_opt(&self.birthday))
            .field("source", &self.source)
            .field("status", &self.status)
            .field("company_id", &self.company_id)
            .field("email", redact_opt(&self.email))
            .field("emails", &self.emails.len())
            .field("phone", redact_opt(&self.phone))
            .field("phones", &self.phones.len())
            .field("tags", &self.tags.len())
            .field("owners", &self.owners)
            .finish_non_exhaustive()
    }
}

/// A change to a contact. `version` is the version it was read at: a stale one is a
/// [`Error::Conflict`]. Absent fields stay unchanged; for nullable fields `null` clears.
///
/// - `email` replaces the primary address (an address the contact already has is promoted;
///   the previous primary address is removed); `null` removes the primary address and
///   promotes the next one. `phone` works the same way.
/// - `emails`, `phones`, `tags` and `owners` replace the whole list when present (together
///   with `email` / `phone`, those name the primary entry of the new list).
/// - `custom` replaces the whole object.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    /// The version the contact was read at.
    pub version: i32,
    /// New first name (empty clears it).
    #[serde(default)]
    pub first_name: Option<String>,
    /// New last name (empty clears it).
    #[serde(default)]
    pub last_name: Option<String>,
    /// New salutation.
    #[serde(default, deserialize_with = "double_option")]
    pub salutation: Option<Option<String>>,
    /// New title.
    #[serde(default, deserialize_with = "double_option")]
    pub title: Option<Option<String>>,
    /// New job title.
    #[serde(default, deserialize_with = "double_option")]
    pub job_title: Option<Option<String>>,
    /// New department.
    #[serde(default, deserialize_with = "double_option")]
    pub department: Option<Option<String>>,
    /// New LinkedIn profile address.
    #[serde(default, deserialize_with = "double_option")]
    pub linkedin_url: Option<Option<String>>,
    /// New date of birth.
    #[serde(default, deserialize_with = "double_option")]
    pub birthday: Option<Option<NaiveDate>>,
    /// New source.
    #[serde(default)]
    pub source: Option<ContactSource>,
    /// New status.
    #[serde(default)]
    pub status: Option<EntityStatus>,
    /// New company.
    #[serde(default, deserialize_with = "double_option")]
    pub company_id: Option<Option<CompanyId>>,
    /// New primary e-mail address.
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    /// Replacement list of e-mail addresses.
    #[serde(default)]
    pub emails: Option<Vec<NewContactEmail>>,
    /// New primary phone number.
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
    /// Replacement list of phone numbers.
    #[serde(default)]
    pub phones: Option<Vec<NewContactPhone>>,
    /// New city.
    #[serde(default, deserialize_with = "double_option")]
    pub city: Option<Option<String>>,
    /// Replacement list of tag names.
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Replacement list of owners.
    #[serde(default)]
    pub owners: Option<Vec<Owner>>,
    /// Replacement custom fields.
    #[serde(default)]
    pub custom: Option<Map<String, Value>>,
}

impl ContactPatch {
    /// A patch that changes nothing yet, for the contact read at `version`.
    pub fn at(version: i32) -> Self {
        Self {
            version,
            ..Self::default()
        }
    }

    fn is_empty(&self) -> bool {
        self.first_name.is_none()
            && self.last_name.is_none()
            && self.salutation.is_none()
            && self.title.is_none()
            && self.job_title.is_none()
            && self.department.is_none()
            && self.linkedin_url.is_none()
            && self.birthday.is_none()
            && self.source.is_none()
            && self.status.is_none()
            && self.company_id.is_none()
            && self.email.is_none()
            && self.emails.is_none()
            && self.phone.is_none()
            && self.phones.is_none()
            && self.city.is_none()
            && self.tags.is_none()
            && self.owners.is_none()
            && self.custom.is_none()
    }
}

impl fmt::Debug for ContactPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContactPatch")
            .field("version", &self.version)
            .field("first_name", redact_opt(&self.first_name))
            .field("last_name", redact_opt(&self.last_name))
            .field("birthday", redact_opt(&self.birthday))
            .field("source", &self.source)
            .field("status", &self.status)
            .field("company_id", &self.company_id)
            .field("email", redact_opt(&self.email))
            .field("emails", &self.emails.as_ref().map(Vec::len))
            .field("phone", redact_opt(&self.phone))
            .field("phones", &self.phones.as_ref().map(Vec::len))
            .field("tags", &self.tags.as_ref().map(Vec::len))
            .field("owners", &self.owners)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------
// Row types
// ---------------------------------------------------------------------------------------

/// An e-mail address of a contact.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct ContactEmail {
    /// The address as entered.
    pub email: String,
    /// What it is used for.
    pub kind: EmailKind,
    /// Whether it is the primary address.
    pub primary: bool,
}

impl fmt::Debug for ContactEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContactEmail")
            .field("email", &Redacted)
            .field("kind", &self.kind)
            .field("primary", &self.primary)
            .finish()
    }
}

/// A phone number of a contact.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct ContactPhone {
    /// The number in E.164 form.
    pub number: String,
    /// The number as entered.
    pub raw: String,
    /// What kind of line it is.
    pub kind: PhoneKind,
    /// Whether it is the primary number.
    pub primary: bool,
}

impl fmt::Debug for ContactPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContactPhone")
            .field("number", &Redacted)
            .field("kind", &self.kind)
            .field("primary", &self.primary)
            .finish()
    }
}

/// A contact as stored, with its addresses, tags and owners. Serialises to the stable JSON
/// output of the CLI. `Debug` redacts personal data.
#[derive(Clone, PartialEq, Serialize)]
pub struct Contact {
    /// Its id.
    pub id: ContactId,
    /// First name (may be empty).
    pub first_name: String,
    /// Last name (may be empty).
    pub last_name: String,
    /// Salutation.
    pub salutation: Option<String>,
    /// Academic or honorary title.
    pub title: Option<String>,
    /// Job title.
    pub job_title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// LinkedIn profile address.
    pub linkedin_url: Option<String>,
    /// Date of birth.
    pub birthday: Option<NaiveDate>,
    /// How the contact came in.
    pub source: ContactSource,
    /// Whether the contact is in use.
    pub status: EntityStatus,
    /// The company.
    pub company_id: Option<CompanyId>,
    /// The company's name.
    pub company: Option<String>,
    /// The primary e-mail address.
    pub email: Option<String>,
    /// The primary phone number, E.164.
    pub phone: Option<String>,
    /// Every e-mail address, the primary first.
    pub emails: Vec<ContactEmail>,
    /// Every phone number, the primary first.
    pub phones: Vec<ContactPhone>,
    /// City (of the business address).
    pub city: Option<String>,
    /// Business address: street.
    pub street: Option<String>,
    /// Business address: postal code.
    pub postal_code: Option<String>,
    /// Business address: country (ISO code).
    pub country: Option<String>,
    /// Private address: street.
    pub home_street: Option<String>,
    /// Private address: postal code.
    pub home_postal_code: Option<String>,
    /// Private address: city.
    pub home_city: Option<String>,
    /// Private address: country (ISO code).
    pub home_country: Option<String>,
    /// The system an import took the contact from (`outlook`, `hubspot`, ...).
    pub external_system: Option<String>,
    /// The contact's id in that system.
    pub external_id: Option<String>,
    /// Tag names, alphabetically.
    pub tags: Vec<String>,
    /// Owners, owners before members before watchers.
    pub owners: Vec<Owner>,
    /// Custom fields (a JSON object).
    pub custom: Value,
    /// Version for optimistic locking.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was soft-deleted.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contact")
            .field("id", &self.id)
            .field("first_name", &Redacted)
            .field("last_name", &Redacted)
            .field("birthday", redact_opt(&self.birthday))
            .field("source", &self.source)
            .field("status", &self.status)
            .field("company_id", &self.company_id)
            .field("email", redact_opt(&self.email))
            .field("phone", redact_opt(&self.phone))
            .field("emails", &self.emails.len())
            .field("phones", &self.phones.len())
            .field("tags", &self.tags)
            .field("owners", &self.owners)
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("deleted_at", &self.deleted_at)
            .finish_non_exhaustive()
    }
}

/// Which contacts a [`list`] returns. Everything unset matches all live contacts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactFilter {
    /// Only contacts this user owns, works on or watches.
    pub owner: Option<UserId>,
    /// Only contacts with this status.
    pub status: Option<EntityStatus>,
    /// Only contacts carrying this tag (by name, ignoring case and accents).
    pub tag: Option<String>,
    /// Only contacts of this company.
    pub company_id: Option<CompanyId>,
    /// Only contacts created at or after this time.
    pub created_after: Option<DateTime<Utc>>,
    /// Only contacts created before this time.
    pub created_before: Option<DateTime<Utc>>,
    /// Only contacts changed at or after this time.
    pub updated_after: Option<DateTime<Utc>>,
    /// Only contacts from this source.
    pub source: Option<ContactSource>,
    /// Free text: every word must occur in the name, primary e-mail or primary phone
    /// (ignoring case and accents; `Müller` finds `Mueller`).
    pub text: Option<String>,
    /// Soft-deleted contacts too.
    pub include_deleted: bool,
    /// Only soft-deleted contacts.
    pub only_deleted: bool,
}

/// Why contacts were grouped as likely duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateReason {
    /// They share an e-mail address (any of their addresses, ignoring case).
    Email,
    /// They have the same first and last name (ignoring case and accents) and company.
    NameAndCompany,
}

impl DuplicateReason {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(Self::Email),
            "name_and_company" => Some(Self::NameAndCompany),
            _ => None,
        }
    }
}

/// Live contacts that are probably the same person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuplicateGroup {
    /// What they share.
    pub reason: DuplicateReason,
    /// The contacts, oldest first.
    pub contact_ids: Vec<ContactId>,
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/// One e-mail row as it will be written.
#[derive(Clone, PartialEq, Eq)]
struct EmailRow {
    email: String,
    norm: String,
    kind: EmailKind,
    primary: bool,
}

/// One phone row as it will be written.
#[derive(Clone, PartialEq, Eq)]
struct PhoneRow {
    e164: String,
    raw: String,
    kind: PhoneKind,
    primary: bool,
}

/// The scalar columns of a contact as they will be written.
#[derive(Clone)]
struct Fields {
    first_name: String,
    last_name: String,
    salutation: Option<String>,
    title: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    linkedin_url: Option<String>,
    birthday: Option<NaiveDate>,
    source: ContactSource,
    status: EntityStatus,
    company_id: Option<CompanyId>,
    city: Option<String>,
    custom: Value,
}

impl Fields {
    fn of(c: &Contact) -> Self {
        Self {
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            salutation: c.salutation.clone(),
            title: c.title.clone(),
            job_title: c.job_title.clone(),
            department: c.department.clone(),
            linkedin_url: c.linkedin_url.clone(),
            birthday: c.birthday,
            source: c.source,
            status: c.status,
            company_id: c.company_id,
            city: c.city.clone(),
            custom: c.custom.clone(),
        }
    }
}

fn email_rows_of(c: &Contact) -> Vec<EmailRow> {
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

fn phone_rows_of(c: &Contact) -> Vec<PhoneRow> {
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

/// A name: trimmed, at most [`MAX_NAME_LEN`] characters.
fn check_name(errors: &mut FieldErrors, field: &str, value: &str) -> String {
    let v = value.trim();
    if v.chars().count() > MAX_NAME_LEN {
        errors.add(field, format!("is longer than {MAX_NAME_LEN} characters"));
    }
    v.to_string()
}

/// An optional text: trimmed, empty as `None`, at most [`MAX_TEXT_LEN`] characters.
fn check_text(errors: &mut FieldErrors, field: &str, value: Option<&str>) -> Option<String> {
    let v = clean(value);
    if v.as_ref().is_some_and(|v| v.chars().count() > MAX_TEXT_LEN) {
        errors.add(field, format!("is longer than {MAX_TEXT_LEN} characters"));
    }
    v
}

/// A LinkedIn profile address: an http(s) address on `linkedin.com` (or a country
/// subdomain) whose path is `/in/<name>` or `/pub/<name>`. Without a scheme, `https://` is
/// added.
pub fn parse_linkedin_url(raw: &str) -> std::result::Result<String, InvalidValue> {
    let site = Website::parse(raw)?;
    let host_ok = site.domain() == "linkedin.com" || site.domain().ends_with(".linkedin.com");
    if !host_ok {
        return Err(InvalidValue::new("must be an address on linkedin.com"));
    }
    let url = site.as_str();
    let after_scheme = url.split_once("://").map(|(_, rest)| rest).unwrap_or(url);
    let path = after_scheme
        .find('/')
        .map(|i| &after_scheme[i..])
        .unwrap_or("");
    let profile = path
        .strip_prefix("/in/")
        .or_else(|| path.strip_prefix("/pub/"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(""));
    match profile {
        Some(name) if !name.is_empty() => Ok(url.to_string()),
        _ => Err(InvalidValue::new(
            "must be a LinkedIn profile address (linkedin.com/in/...)",
        )),
    }
}

/// Cleans tag names, recording problems under `tags`.
fn check_tags(errors: &mut FieldErrors, names: &[String]) -> Vec<String> {
    match tag::clean_names(names) {
        Ok(names) => names,
        Err(Error::Validation(e)) => {
            errors.0.extend(e.0);
            Vec::new()
        }
        Err(e) => {
            errors.add("tags", e.to_string());
            Vec::new()
        }
    }
}

fn check_birthday(errors: &mut FieldErrors, birthday: Option<NaiveDate>) {
    if birthday.is_some_and(|b| b > Utc::now().date_naive()) {
        errors.add("birthday", "must not be in the future");
    }
}

fn check_linkedin(errors: &mut FieldErrors, raw: Option<&str>) -> Option<String> {
    let raw = clean(raw)?;
    errors.check("linkedin_url", parse_linkedin_url(&raw))
}

/// Builds the e-mail rows from a primary address and a list, recording every problem.
fn collect_emails(
    errors: &mut FieldErrors,
    primary: Option<&str>,
    list: &[NewContactEmail],
) -> Vec<EmailRow> {
    if list.len() > MAX_ADDRESSES {
        errors.add("emails", format!("has more than {MAX_ADDRESSES} addresses"));
    }
    let primary = clean(primary).and_then(|raw| errors.check("email", Email::parse(&raw)));
    let mut parsed: Vec<EmailRow> = Vec::new();
    for (i, e) in list.iter().enumerate() {
        if let Some(email) = errors.check(&format!("emails[{i}].email"), Email::parse(&e.email)) {
            parsed.push(EmailRow {
                norm: email.normalized(),
                email: email.into_string(),
                kind: e.kind,
                primary: e.primary,
            });
        }
    }
    let mut rows: Vec<EmailRow> = Vec::new();
    match primary {
        Some(p) => {
            let norm = p.normalized();
            if parsed.iter().any(|r| r.primary && r.norm != norm) {
                errors.add(
                    "emails",
                    "an address other than the primary e-mail is marked primary",
                );
            }
            let kind = parsed
                .iter()
                .find(|r| r.norm == norm)
                .map(|r| r.kind)
                .unwrap_or_default();
            rows.push(EmailRow {
                email: p.into_string(),
                norm,
                kind,
                primary: true,
            });
        }
        None => {
            let marked: HashSet<&str> = parsed
                .iter()
                .filter(|r| r.primary)
                .map(|r| r.norm.as_str())
                .collect();
            if marked.len() > 1 {
                errors.add("emails", "more than one address is marked primary");
            }
        }
    }
    for r in parsed {
        if rows.iter().any(|x| x.norm == r.norm) {
            continue;
        }
        let primary = r.primary && !rows.iter().any(|x| x.primary);
        rows.push(EmailRow { primary, ..r });
    }
    ensure_one_primary(&mut rows, |r| &mut r.primary);
    rows.sort_by_key(|r| !r.primary);
    rows
}

/// Builds the phone rows from a primary number and a list, recording every problem.
fn collect_phones(
    errors: &mut FieldErrors,
    region: &str,
    primary: Option<&str>,
    list: &[NewContactPhone],
) -> Vec<PhoneRow> {
    if list.len() > MAX_ADDRESSES {
        errors.add("phones", format!("has more than {MAX_ADDRESSES} numbers"));
    }
    let primary = clean(primary).and_then(|raw| errors.check("phone", Phone::parse(&raw, region)));
    let mut parsed: Vec<PhoneRow> = Vec::new();
    for (i, p) in list.iter().enumerate() {
        let field = format!("phones[{i}].number");
        if let Some(phone) = errors.check(&field, Phone::parse(&p.number, region)) {
            parsed.push(PhoneRow {
                e164: phone.e164().to_string(),
                raw: phone.raw().to_string(),
                kind: p.kind,
                primary: p.primary,
            });
        }
    }
    let mut rows: Vec<PhoneRow> = Vec::new();
    match primary {
        Some(p) => {
            if parsed.iter().any(|r| r.primary && r.e164 != p.e164()) {
                errors.add(
                    "phones",
                    "a number other than the primary phone is marked primary",
                );
            }
            let kind = parsed
                .iter()
                .find(|r| r.e164 == p.e164())
                .map(|r| r.kind)
                .unwrap_or_default();
            rows.push(PhoneRow {
                e164: p.e164().to_string(),
                raw: p.raw().to_string(),
                kind,
                primary: true,
            });
        }
        None => {
            let marked: HashSet<&str> = parsed
                .iter()
                .filter(|r| r.primary)
                .map(|r| r.e164.as_str())
                .collect();
            if marked.len() > 1 {
                errors.add("phones", "more than one number is marked primary");
            }
        }
    }
    for r in parsed {
        if rows.iter().any(|x| x.e164 == r.e164) {
            continue;
        }
        let primary = r.primary && !rows.iter().any(|x| x.primary);
        rows.push(PhoneRow { primary, ..r });
    }
    ensure_one_primary(&mut rows, |r| &mut r.primary);
    rows.sort_by_key(|r| !r.primary);
    rows
}

/// Marks the first row primary when none is.
fn ensure_one_primary<T>(rows: &mut [T], mut primary: impl FnMut(&mut T) -> &mut bool) {
    if !rows.iter_mut().any(|r| *primary(r))
        && let Some(first) = rows.first_mut()
    {
        *primary(first) = true;
    }
}

/// Replaces the primary address with `new` (promoting it if the contact has it already).
fn set_primary_email(rows: &mut Vec<EmailRow>, new: Email) {
    let norm = new.normalized();
    let old_kind = rows.iter().find(|r| r.primary).map(|r| r.kind);
    rows.retain(|r| !r.primary || r.norm == norm);
    if let Some(r) = rows.iter_mut().find(|r| r.norm == norm) {
        r.email = new.into_string();
        r.primary = true;
    } else {
        rows.push(EmailRow {
            email: new.into_string(),
            norm,
            kind: old_kind.unwrap_or_default(),
            primary: true,
        });
    }
    rows.sort_by_key(|r| !r.primary);
}

/// Replaces the primary number with `new` (promoting it if the contact has it already).
fn set_primary_phone(rows: &mut Vec<PhoneRow>, new: Phone) {
    let old_kind = rows.iter().find(|r| r.primary).map(|r| r.kind);
    rows.retain(|r| !r.primary || r.e164 == new.e164());
    if let Some(r) = rows.iter_mut().find(|r| r.e164 == new.e164()) {
        r.raw = new.raw().to_string();
        r.primary = true;
    } else {
        rows.push(PhoneRow {
            e164: new.e164().to_string(),
            raw: new.raw().to_string(),
            kind: old_kind.unwrap_or_default(),
            primary: true,
        });
    }
    rows.sort_by_key(|r| !r.primary);
}

/// The rule of the schema's CHECK, as a field error: a first name, a last name or an e-mail.
fn check_identity(errors: &mut FieldErrors, f: &Fields, emails: &[EmailRow]) {
    if f.first_name.is_empty() && f.last_name.is_empty() && emails.is_empty() {
        errors.add(
            "first_name",
            "a contact needs a first name, a last name or an e-mail address",
        );
    }
}

/// Checks that the company is a live company of the organization and that the owners are
/// users of it, recording problems as field errors.
async fn check_references(
    tx: &mut Tx,
    errors: &mut FieldErrors,
    company: Option<CompanyId>,
    owners: Option<&[Owner]>,
) -> Result<()> {
    let org = tx.org();
    let users: Vec<Uuid> = owners
        .unwrap_or_default()
        .iter()
        .map(|o| o.user_id.uuid())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let (company_ok, known_users): (bool, i64) = sqlx::query_as(
        "select $2::uuid is null or exists (select 1 from companies \
                where org_id = $1 and id = $2 and deleted_at is null), \
                (select count(*) from users where org_id = $1 and id = any($3) \
                 and deleted_at is null)",
    )
    .bind(org)
    .bind(company)
    .bind(&users)
    .fetch_one(tx.conn())
    .await?;
    if !company_ok {
        errors.add("company_id", "is not a company of this organization");
    }
    if usize::try_from(known_users).unwrap_or(0) != users.len() {
        errors.add("owners", "names a user who is not in this organization");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// The select list of a contact row (children are loaded separately).
macro_rules! select_contacts {
    () => {
        "select c.id, c.first_name, c.last_name, c.salutation, c.title, c.job_title, \
                c.department, c.linkedin_url, c.birthday, c.source, c.status, c.company_id, \
                co.name as company, c.email, c.phone, c.city, c.street, c.postal_code, \
                c.country, c.home_street, c.home_postal_code, c.home_city, c.home_country, \
                c.external_system, c.external_id, c.custom, c.version, \
                c.created_at, c.updated_at, c.deleted_at \
         from contacts c \
         left join companies co on co.org_id = c.org_id and co.id = c.company_id "
    };
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    id: ContactId,
    first_name: String,
    last_name: String,
    salutation: Option<String>,
    title: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    linkedin_url: Option<String>,
    birthday: Option<NaiveDate>,
    source: String,
    status: String,
    company_id: Option<CompanyId>,
    company: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    city: Option<String>,
    street: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    home_street: Option<String>,
    home_postal_code: Option<String>,
    home_city: Option<String>,
    home_country: Option<String>,
    external_system: Option<String>,
    external_id: Option<String>,
    custom: Value,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

fn stored<T: std::str::FromStr>(value: &str, what: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| Error::Database(format!("a contact has an unknown stored {what}")))
}

/// Loads e-mails, phones, tags and owners for `rows` in four queries and builds the
/// contacts, in the order of `rows`.
async fn attach(tx: &mut Tx, rows: Vec<ContactRow>) -> Result<Vec<Contact>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let org = tx.org();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id.uuid()).collect();
    let emails: Vec<(Uuid, String, String, bool)> = sqlx::query_as(
        "select contact_id, email, kind, is_primary from contact_emails \
         where org_id = $1 and contact_id = any($2) order by contact_id, is_primary desc, id",
    )
    .bind(org)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    let phones: Vec<(Uuid, String, String, String, bool)> = sqlx::query_as(
        "select contact_id, number_e164, number_raw, kind, is_primary from contact_phones \
         where org_id = $1 and contact_id = any($2) order by contact_id, is_primary desc, id",
    )
    .bind(org)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    let tags: Vec<(Uuid, String)> = sqlx::query_as(
        "select ct.contact_id, t.name from contact_tags ct \
         join tags t on t.org_id = ct.org_id and t.id = ct.tag_id \
         where ct.org_id = $1 and ct.contact_id = any($2) order by ct.contact_id, t.name_norm",
    )
    .bind(org)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    let owners: Vec<(Uuid, UserId, String)> = sqlx::query_as(
        "select contact_id, user_id, role from contact_owners \
         where org_id = $1 and contact_id = any($2) \
         order by contact_id, case role when 'owner' then 0 when 'member' then 1 else 2 end, \
                  user_id",
    )
    .bind(org)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;

    let mut email_map: HashMap<Uuid, Vec<ContactEmail>> = HashMap::new();
    for (id, email, kind, primary) in emails {
        email_map.entry(id).or_default().push(ContactEmail {
            email,
            kind: stored(&kind, "e-mail kind")?,
            primary,
        });
    }
    let mut phone_map: HashMap<Uuid, Vec<ContactPhone>> = HashMap::new();
    for (id, number, raw, kind, primary) in phones {
        phone_map.entry(id).or_default().push(ContactPhone {
            number,
            raw,
            kind: stored(&kind, "phone kind")?,
            primary,
        });
    }
    let mut tag_map: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (id, name) in tags {
        tag_map.entry(id).or_default().push(name);
    }
    let mut owner_map: HashMap<Uuid, Vec<Owner>> = HashMap::new();
    for (id, user_id, role) in owners {
        let role: OwnerRole = stored(&role, "owner role")?;
        owner_map
            .entry(id)
            .or_default()
            .push(Owner { user_id, role });
    }

    rows.into_iter()
        .map(|r| {
            let id = r.id.uuid();
            // A contact written without address rows shows its mirrored primary values.
            let emails = email_map.remove(&id).unwrap_or_else(|| {
                r.email
                    .iter()
                    .map(|e| ContactEmail {
                        email: e.clone(),
                        kind: EmailKind::default(),
                        primary: true,
                    })
                    .collect()
            });
            let phones = phone_map.remove(&id).unwrap_or_else(|| {
                r.phone
                    .iter()
                    .map(|p| ContactPhone {
                        number: p.clone(),
                        raw: p.clone(),
                        kind: PhoneKind::default(),
                        primary: true,
                    })
                    .collect()
            });
            Ok(Contact {
                id: r.id,
                first_name: r.first_name,
                last_name: r.last_name,
                salutation: r.salutation,
                title: r.title,
                job_title: r.job_title,
                department: r.department,
                linkedin_url: r.linkedin_url,
                birthday: r.birthday,
                source: stored(&r.source, "source")?,
                status: stored(&r.status, "status")?,
                company_id: r.company_id,
                company: r.company,
                email: r.email,
                phone: r.phone,
                emails,
                phones,
                city: r.city,
                street: r.street,
                postal_code: r.postal_code,
                country: r.country,
                home_street: r.home_street,
                home_postal_code: r.home_postal_code,
                home_city: r.home_city,
                home_country: r.home_country,
                external_system: r.external_system,
                external_id: r.external_id,
                tags: tag_map.remove(&id).unwrap_or_default(),
                owners: owner_map.remove(&id).unwrap_or_default(),
                custom: r.custom,
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
                deleted_at: r.deleted_at,
            })
        })
        .collect()
}

/// Loads one contact; `live_only` hides soft-deleted ones.
async fn load(tx: &mut Tx, id: ContactId, live_only: bool) -> Result<Contact> {
    let org = tx.org();
    let row: Option<ContactRow> = sqlx::query_as(concat!(
        select_contacts!(),
        "where c.org_id = $1 and c.id = $2 and (not $3 or c.deleted_at is null)"
    ))
    .bind(org)
    .bind(id)
    .bind(live_only)
    .fetch_optional(tx.conn())
    .await?;
    let row = row.ok_or(Error::NotFound { entity: ENTITY })?;
    attach(tx, vec![row])
        .await?
        .pop()
        .ok_or(Error::NotFound { entity: ENTITY })
}

/// The contact `id`; [`Error::NotFound`] if it does not exist or is soft-deleted.
pub async fn get(tx: &mut Tx, id: ContactId) -> Result<Contact> {
    tx.require(Permission::Read)?;
    load(tx, id, true).await
}

/// The contact `id`, soft-deleted or not.
pub async fn get_including_deleted(tx: &mut Tx, id: ContactId) -> Result<Contact> {
    tx.require(Permission::Read)?;
    load(tx, id, false).await
}

/// The live contact that has the e-mail address `email` (any of its addresses, ignoring
/// case). When several have it, the one whose primary address it is, else the oldest.
pub async fn find_by_email(tx: &mut Tx, email: &str) -> Result<Contact> {
    tx.require(Permission::Read)?;
    let norm = Email::parse(email)
        .map_err(|e| Error::invalid("email", e.message()))?
        .normalized();
    let org = tx.org();
    let id: Option<ContactId> = sqlx::query_scalar(
        "select c.id from contacts c \
         where c.org_id = $1 and c.deleted_at is null \
           and c.id in (select id from contacts where org_id = $1 and email_norm = $2 \
                        union all \
                        select contact_id from contact_emails where org_id = $1 and email_norm = $2) \
         order by c.email_norm is not distinct from $2 desc, c.id \
         limit 1",
    )
    .bind(org)
    .bind(&norm)
    .fetch_optional(tx.conn())
    .await?;
    let id = id.ok_or(Error::NotFound { entity: ENTITY })?;
    load(tx, id, true).await
}

/// The contact a person named by `reference`, for front-ends that take what people type:
///
/// - an e-mail address (anything with `@`): the live contact that has it ([`find_by_email`]);
/// - a full id: that contact, live or soft-deleted;
/// - at least 4 hex digits (dashes ignored) that begin exactly one contact's id, or, when
///   none begins with them, that end exactly one. Ids begin with their creation time, so
///   contacts created in the same minute share their first 8 digits; lists therefore show
///   the last 8, and both ends work.
///
/// Live contacts win: a soft-deleted contact is found by digits only when no live one
/// matches (so [`restore`] can be given one). [`Error::NotFound`] when nothing matches; a
/// [`Error::Validation`] on the field `id` when the digits match several contacts or the
/// reference is none of the above.
pub async fn resolve(tx: &mut Tx, reference: &str) -> Result<ContactId> {
    tx.require(Permission::Read)?;
    let reference = reference.trim();
    if reference.contains('@') {
        return Ok(find_by_email(tx, reference).await?.id);
    }
    let org = tx.org();
    if let Ok(id) = Uuid::parse_str(reference) {
        return if super::id_exists(tx.conn(), "contacts", org, id).await? {
            Ok(ContactId(id))
        } else {
            Err(Error::NotFound { entity: ENTITY })
        };
    }
    let Some(digits) = super::id_digits(reference) else {
        return Err(Error::invalid(
            "id",
            "must be a contact id, at least 4 of its hex digits, or an e-mail address",
        ));
    };
    let matches = super::match_id_digits(tx.conn(), "contacts", org, &digits, 4).await?;
    match super::live_first(&matches).as_slice() {
        [] => Err(Error::NotFound { entity: ENTITY }),
        [one] => Ok(ContactId(*one)),
        _ => Err(Error::invalid(
            "id",
            "is ambiguous: it matches several contacts; give more digits or the full id",
        )),
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE` pattern.
fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One page of contacts matching `filter`, ordered by id (creation order). Pass the page's
/// `next` cursor as `after` for the following page.
pub async fn list(tx: &mut Tx, filter: &ContactFilter, page: PageRequest) -> Result<Page<Contact>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let mut qb = QueryBuilder::<Postgres>::new(select_contacts!());
    qb.push("where c.org_id = ").push_bind(org);
    if filter.only_deleted {
        qb.push(" and c.deleted_at is not null");
    } else if !filter.include_deleted {
        qb.push(" and c.deleted_at is null");
    }
    if let Some(after) = page.after {
        qb.push(" and c.id > ").push_bind(after.0);
    }
    if let Some(owner) = filter.owner {
        qb.push(
            " and exists (select 1 from contact_owners o where o.org_id = c.org_id \
              and o.contact_id = c.id and o.user_id = ",
        )
        .push_bind(owner)
        .push(")");
    }
    if let Some(status) = filter.status {
        qb.push(" and c.status = ").push_bind(status.as_str());
    }
    if let Some(tag) = filter.tag.as_deref().and_then(|t| clean(Some(t))) {
        qb.push(
            " and exists (select 1 from contact_tags ct join tags t \
              on t.org_id = ct.org_id and t.id = ct.tag_id \
              where ct.org_id = c.org_id and ct.contact_id = c.id and t.name_norm = ",
        )
        .push_bind(normalize_name(&tag))
        .push(")");
    }
    if let Some(company) = filter.company_id {
        qb.push(" and c.company_id = ").push_bind(company);
    }
    if let Some(t) = filter.created_after {
        qb.push(" and c.created_at >= ").push_bind(t);
    }
    if let Some(t) = filter.created_before {
        qb.push(" and c.created_at < ").push_bind(t);
    }
    if let Some(t) = filter.updated_after {
        qb.push(" and c.updated_at >= ").push_bind(t);
    }
    if let Some(source) = filter.source {
        qb.push(" and c.source = ").push_bind(source.as_str());
    }
    if let Some(text) = filter.text.as_deref() {
        for word in fold_for_search(text).split_whitespace() {
            qb.push(" and c.search_text ilike ")
                .push_bind(format!("%{}%", like_escape(word)));
        }
    }
    qb.push(" order by c.id limit ").push_bind(page.sql_limit());
    let rows: Vec<ContactRow> = qb.build_query_as().fetch_all(tx.conn()).await?;
    let page_rows = page.finish(rows, |r| r.id.uuid());
    let items = attach(tx, page_rows.items).await?;
    Ok(Page {
        items,
        next: page_rows.next,
    })
}

/// Walks every contact matching `filter` in pages of `batch_size` (keyset pagination, so
/// memory stays constant however many there are) and hands each page to `f`. Stops at the
/// first error of `f`. Returns the number of contacts visited.
pub async fn for_each_batch<F>(
    tx: &mut Tx,
    filter: &ContactFilter,
    batch_size: u32,
    mut f: F,
) -> Result<u64>
where
    F: AsyncFnMut(Vec<Contact>) -> Result<()>,
{
    let mut request = PageRequest {
        limit: batch_size,
        after: None,
    };
    let mut seen = 0u64;
    loop {
        let page = list(tx, filter, request).await?;
        seen += page.items.len() as u64;
        if !page.items.is_empty() {
            f(page.items).await?;
        }
        match page.next {
            Some(next) => request.after = Some(next),
            None => return Ok(seen),
        }
    }
}

/// Groups of live contacts that are probably the same person: sharing an e-mail address
/// (any of their addresses, ignoring case) or having the same first and last name (ignoring
/// case and accents) and the same company (or both none). At most `limit` groups, the
/// groups with the oldest contacts first.
pub async fn duplicates(tx: &mut Tx, limit: u32) -> Result<Vec<DuplicateGroup>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let rows: Vec<(String, Vec<ContactId>)> = sqlx::query_as(
        "with live as ( \
             select id, email_norm, first_name, last_name, company_id from contacts \
             where org_id = $1 and deleted_at is null), \
         addresses as ( \
             select l.id, l.email_norm as norm from live l where l.email_norm is not null \
             union \
             select l.id, e.email_norm from live l \
             join contact_emails e on e.org_id = $1 and e.contact_id = l.id), \
         groups as ( \
             select 'email' as reason, array_agg(id order by id) as ids from addresses \
             group by norm having count(*) > 1 \
             union all \
             select 'name_and_company', array_agg(id order by id) from live \
             where btrim(first_name) <> '' and btrim(last_name) <> '' \
             group by crm_fold(btrim(first_name)), crm_fold(btrim(last_name)), company_id \
             having count(*) > 1) \
         select reason, ids from (select distinct reason, ids from groups) g \
         order by ids[1], reason, ids limit $2",
    )
    .bind(org)
    .bind(i64::from(limit.clamp(1, 10_000)))
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter()
        .map(|(reason, contact_ids)| {
            let reason = DuplicateReason::parse(&reason)
                .ok_or_else(|| Error::Database("unknown duplicate reason".into()))?;
            Ok(DuplicateGroup {
                reason,
                contact_ids,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

fn primary_email(rows: &[EmailRow]) -> (Option<&str>, Option<&str>) {
    rows.iter()
        .find(|r| r.primary)
        .map(|r| (Some(r.email.as_str()), Some(r.norm.as_str())))
        .unwrap_or((None, None))
}

fn primary_phone(rows: &[PhoneRow]) -> Option<&str> {
    rows.iter().find(|r| r.primary).map(|r| r.e164.as_str())
}

/// Replaces the contact's e-mail rows (one statement each for delete and insert).
async fn write_emails(tx: &mut Tx, id: ContactId, rows: &[EmailRow]) -> Result<()> {
    let org = tx.org();
    sqlx::query("delete from contact_emails where org_id = $1 and contact_id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
    let norms: Vec<&str> = rows.iter().map(|r| r.norm.as_str()).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    let primary: Vec<bool> = rows.iter().map(|r| r.primary).collect();
    sqlx::query(
        "insert into contact_emails (org_id, id, contact_id, email, email_norm, kind, is_primary) \
         select $1, u.id, $2, u.email, u.norm, u.kind, u.is_primary \
         from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bool[]) \
              as u(id, email, norm, kind, is_primary)",
    )
    .bind(org)
    .bind(id)
    .bind(&ids)
    .bind(&emails)
    .bind(&norms)
    .bind(&kinds)
    .bind(&primary)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces the contact's phone rows.
async fn write_phones(tx: &mut Tx, id: ContactId, rows: &[PhoneRow]) -> Result<()> {
    let org = tx.org();
    sqlx::query("delete from contact_phones where org_id = $1 and contact_id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let e164: Vec<&str> = rows.iter().map(|r| r.e164.as_str()).collect();
    let raw: Vec<&str> = rows.iter().map(|r| r.raw.as_str()).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    let primary: Vec<bool> = rows.iter().map(|r| r.primary).collect();
    sqlx::query(
        "insert into contact_phones (org_id, id, contact_id, number_e164, number_raw, kind, is_primary) \
         select $1, u.id, $2, u.e164, u.raw, u.kind, u.is_primary \
         from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bool[]) \
              as u(id, e164, raw, kind, is_primary)",
    )
    .bind(org)
    .bind(id)
    .bind(&ids)
    .bind(&e164)
    .bind(&raw)
    .bind(&kinds)
    .bind(&primary)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces the contact's tags with `names` (creating missing tags).
async fn write_tags(tx: &mut Tx, id: ContactId, names: &[String]) -> Result<()> {
    let tag_ids: Vec<Uuid> = tag::resolve(tx, names)
        .await?
        .into_iter()
        .map(|t| t.uuid())
        .collect();
    let org = tx.org();
    sqlx::query("delete from contact_tags where org_id = $1 and contact_id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if !tag_ids.is_empty() {
        sqlx::query(
            "insert into contact_tags (org_id, contact_id, tag_id) \
             select $1, $2, unnest($3::uuid[]) on conflict do nothing",
        )
        .bind(org)
        .bind(id)
        .bind(&tag_ids)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Writes the scalar columns and the primary e-mail / phone mirror of an existing contact.
async fn write_fields(
    tx: &mut Tx,
    id: ContactId,
    f: &Fields,
    emails: &[EmailRow],
    phones: &[PhoneRow],
) -> Result<()> {
    let org = tx.org();
    let (email, email_norm) = primary_email(emails);
    sqlx::query(
        "update contacts set first_name = $3, last_name = $4, salutation = $5, title = $6, \
                job_title = $7, department = $8, linkedin_url = $9, birthday = $10, \
                source = $11, status = $12, company_id = $13, city = $14, custom = $15, \
                email = $16, email_norm = $17, phone = $18 \
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
    .bind(f.source.as_str())
    .bind(f.status.as_str())
    .bind(f.company_id)
    .bind(&f.city)
    .bind(&f.custom)
    .bind(email)
    .bind(email_norm)
    .bind(primary_phone(phones))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// What the statement of [`create`] returns: the outcome of the reference checks and, when
/// they passed, the values the database set.
#[derive(sqlx::FromRow)]
struct Created {
    company_ok: bool,
    owners_ok: bool,
    company: Option<String>,
    tags: Vec<String>,
    version: Option<i32>,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
    custom: Option<Value>,
}

/// Creates a contact with its addresses, tags and owners (the actor as owner when none are
/// given). Every invalid field is reported at once; a primary e-mail that another live
/// contact has is a [`Error::Conflict`].
///
/// One statement checks the company and the owners, writes the contact with its addresses,
/// owners and tag links, and appends the audit entry and the `contact.created` event; the
/// contact is built from what was written (no reload).
pub async fn create(tx: &mut Tx, new: NewContact) -> Result<Contact> {
    tx.require(Permission::Write)?;
    let mut errors = FieldErrors::new();
    let fields = Fields {
        first_name: check_name(&mut errors, "first_name", &new.first_name),
        last_name: check_name(&mut errors, "last_name", &new.last_name),
        salutation: check_text(&mut errors, "salutation", new.salutation.as_deref()),
        title: check_text(&mut errors, "title", new.title.as_deref()),
        job_title: check_text(&mut errors, "job_title", new.job_title.as_deref()),
        department: check_text(&mut errors, "department", new.department.as_deref()),
        linkedin_url: check_linkedin(&mut errors, new.linkedin_url.as_deref()),
        birthday: new.birthday,
        source: new.source,
        status: new.status,
        company_id: new.company_id,
        city: check_text(&mut errors, "city", new.city.as_deref()),
        custom: Value::Object(new.custom),
    };
    check_birthday(&mut errors, new.birthday);
    let emails = collect_emails(&mut errors, new.email.as_deref(), &new.emails);
    let phones = collect_phones(
        &mut errors,
        tx.default_region(),
        new.phone.as_deref(),
        &new.phones,
    );
    let tags = check_tags(&mut errors, &new.tags);
    let owners = if new.owners.is_empty() {
        vec![Owner {
            user_id: tx.actor().id,
            role: OwnerRole::Owner,
        }]
    } else {
        owner::dedup(&new.owners)
    };
    check_identity(&mut errors, &fields, &emails);
    // The statement below checks the company and the owners itself. They are checked
    // beforehand when there are other errors (every field error is reported at once) and
    // when tags are to be created (nothing is written before the checks pass).
    if !errors.is_empty() || !tags.is_empty() {
        check_references(tx, &mut errors, fields.company_id, Some(&owners)).await?;
    }
    errors.into_result()?;
    let tag_ids: Vec<Uuid> = if tags.is_empty() {
        Vec::new()
    } else {
        tag::resolve(tx, &tags)
            .await?
            .into_iter()
            .map(|t| t.uuid())
            .collect()
    };

    let org = tx.org();
    let id = ContactId::new();
    let (email, email_norm) = primary_email(&emails);
    let (email, email_norm) = (email.map(str::to_string), email_norm.map(str::to_string));
    let phone = primary_phone(&phones).map(str::to_string);
    // Child rows in the order `load` lists them: primary first, then by id.
    let mut emails: Vec<(Uuid, EmailRow)> =
        emails.into_iter().map(|r| (Uuid::now_v7(), r)).collect();
    emails.sort_by_key(|(id, r)| (!r.primary, *id));
    let mut phones: Vec<(Uuid, PhoneRow)> =
        phones.into_iter().map(|r| (Uuid::now_v7(), r)).collect();
    phones.sort_by_key(|(id, r)| (!r.primary, *id));
    let mut owners = owners;
    owner::sort(&mut owners);

    let mut contact = Contact {
        id,
        first_name: fields.first_name,
        last_name: fields.last_name,
        salutation: fields.salutation,
        title: fields.title,
        job_title: fields.job_title,
        department: fields.department,
        linkedin_url: fields.linkedin_url,
        birthday: fields.birthday,
        source: fields.source,
        status: fields.status,
        company_id: fields.company_id,
        // Set from the statement's result below (also in the audit entry).
        company: None,
        email,
        phone,
        emails: emails
            .iter()
            .map(|(_, r)| ContactEmail {
                email: r.email.clone(),
                kind: r.kind,
                primary: r.primary,
            })
            .collect(),
        phones: phones
            .iter()
            .map(|(_, r)| ContactPhone {
                number: r.e164.clone(),
                raw: r.raw.clone(),
                kind: r.kind,
                primary: r.primary,
            })
            .collect(),
        city: fields.city,
        // Addresses and source ids are written by the import (not by create yet).
        street: None,
        postal_code: None,
        country: None,
        home_street: None,
        home_postal_code: None,
        home_city: None,
        home_country: None,
        external_system: None,
        external_id: None,
        // Set from the statement's result below (also in the audit entry).
        tags: Vec::new(),
        owners,
        custom: fields.custom,
        // The database's values replace these; `diff` leaves them out.
        version: 1,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        deleted_at: None,
    };
    // The audit diff of the new contact without its company name and tag names, which the
    // statement adds (`diff` reports a creation as `{"field": {"before": null, "after": v}}`
    // for every non-null field).
    let audit = diff(None, Some(&contact));

    let email_ids: Vec<Uuid> = emails.iter().map(|(id, _)| *id).collect();
    let email_values: Vec<&str> = emails.iter().map(|(_, r)| r.email.as_str()).collect();
    let email_norms: Vec<&str> = emails.iter().map(|(_, r)| r.norm.as_str()).collect();
    let email_kinds: Vec<&str> = emails.iter().map(|(_, r)| r.kind.as_str()).collect();
    let email_primary: Vec<bool> = emails.iter().map(|(_, r)| r.primary).collect();
    let phone_ids: Vec<Uuid> = phones.iter().map(|(id, _)| *id).collect();
    let phone_e164: Vec<&str> = phones.iter().map(|(_, r)| r.e164.as_str()).collect();
    let phone_raw: Vec<&str> = phones.iter().map(|(_, r)| r.raw.as_str()).collect();
    let phone_kinds: Vec<&str> = phones.iter().map(|(_, r)| r.kind.as_str()).collect();
    let phone_primary: Vec<bool> = phones.iter().map(|(_, r)| r.primary).collect();
    let owner_users: Vec<Uuid> = contact.owners.iter().map(|o| o.user_id.uuid()).collect();
    let owner_roles: Vec<&str> = contact.owners.iter().map(|o| o.role.as_str()).collect();

    // Every insert is conditional on the checks in `chk`; when they fail nothing is written
    // and the flags say why. Foreign keys are checked at the end of the statement, when the
    // contact row exists.
    let created: Created = sqlx::query_as(
        "with chk as ( \
             select co.name as company, \
                    ($13::uuid is null or co.id is not null) as company_ok, \
                    (select count(*) from users u where u.org_id = $1 and u.id = any($29) \
                       and u.deleted_at is null) = cardinality($29) as owners_ok \
             from (select 1) one \
             left join companies co on co.org_id = $1 and co.id = $13 \
                                   and co.deleted_at is null), \
         gate as (select company_ok and owners_ok as ok from chk), \
         c as ( \
             insert into contacts (org_id, id, first_name, last_name, salutation, title, \
                    job_title, department, linkedin_url, birthday, source, status, company_id, \
                    city, custom, email, email_norm, phone) \
             select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                    $17, $18 \
             from gate where gate.ok \
             returning version, created_at, updated_at, custom), \
         e as ( \
             insert into contact_emails (org_id, id, contact_id, email, email_norm, kind, \
                    is_primary) \
             select $1, u.id, $2, u.email, u.norm, u.kind, u.is_primary \
             from unnest($19::uuid[], $20::text[], $21::text[], $22::text[], $23::bool[]) \
                  as u(id, email, norm, kind, is_primary) \
             where (select ok from gate)), \
         p as ( \
             insert into contact_phones (org_id, id, contact_id, number_e164, number_raw, kind, \
                    is_primary) \
             select $1, u.id, $2, u.e164, u.raw, u.kind, u.is_primary \
             from unnest($24::uuid[], $25::text[], $26::text[], $27::text[], $28::bool[]) \
                  as u(id, e164, raw, kind, is_primary) \
             where (select ok from gate)), \
         o as ( \
             insert into contact_owners (org_id, contact_id, user_id, role) \
             select $1, $2, u.user_id, u.role \
             from unnest($29::uuid[], $30::text[]) as u(user_id, role) \
             where (select ok from gate)), \
         t as ( \
             insert into contact_tags (org_id, contact_id, tag_id) \
             select $1, $2, u.tag_id from unnest($31::uuid[]) as u(tag_id) \
             where (select ok from gate) \
             on conflict do nothing), \
         tg as ( \
             select coalesce(array_agg(t.name order by t.name_norm), '{}') as names \
             from tags t where t.org_id = $1 and t.id = any($31)) \
         select chk.company_ok, chk.owners_ok, chk.company, tg.names as tags, \
                c.version, c.created_at, c.updated_at, c.custom, \
                case when c.version is not null then crm_audit('contact', $2, 'create', \
                    $32::jsonb \
                    || jsonb_build_object('tags', \
                           jsonb_build_object('before', null, 'after', to_jsonb(tg.names))) \
                    || case when chk.company is null then '{}'::jsonb \
                            else jsonb_build_object('company', \
                                     jsonb_build_object('before', null, 'after', chk.company)) \
                       end) \
                end as audit_seq, \
                case when c.version is not null \
                     then crm_emit('contact.created', 'contact', $2, $33) end as event_seq \
         from chk cross join tg left join c on true",
    )
    .bind(org)
    .bind(id)
    .bind(&contact.first_name)
    .bind(&contact.last_name)
    .bind(&contact.salutation)
    .bind(&contact.title)
    .bind(&contact.job_title)
    .bind(&contact.department)
    .bind(&contact.linkedin_url)
    .bind(contact.birthday)
    .bind(contact.source.as_str())
    .bind(contact.status.as_str())
    .bind(contact.company_id)
    .bind(&contact.city)
    .bind(&contact.custom)
    .bind(&contact.email)
    .bind(&email_norm)
    .bind(&contact.phone)
    .bind(&email_ids)
    .bind(&email_values)
    .bind(&email_norms)
    .bind(&email_kinds)
    .bind(&email_primary)
    .bind(&phone_ids)
    .bind(&phone_e164)
    .bind(&phone_raw)
    .bind(&phone_kinds)
    .bind(&phone_primary)
    .bind(&owner_users)
    .bind(&owner_roles)
    .bind(&tag_ids)
    .bind(&audit)
    .bind(json!({ "id": id }))
    .fetch_one(tx.conn())
    .await?;

    let mut errors = FieldErrors::new();
    if !created.company_ok {
        errors.add("company_id", "is not a company of this organization");
    }
    if !created.owners_ok {
        errors.add("owners", "names a user who is not in this organization");
    }
    errors.into_result()?;
    let (Some(version), Some(created_at), Some(updated_at), Some(custom)) = (
        created.version,
        created.created_at,
        created.updated_at,
        created.custom,
    ) else {
        return Err(Error::Database("the new contact was not written".into()));
    };
    contact.company = created.company;
    contact.tags = created.tags;
    contact.version = version;
    contact.created_at = created_at;
    contact.updated_at = updated_at;
    contact.custom = custom;
    Ok(contact)
}

/// Locks the live contact `id` if it is at `version`: [`Error::NotFound`] when it is
/// missing or deleted, [`Error::Conflict`] when the version is stale.
async fn lock_at_version(tx: &mut Tx, id: ContactId, version: Option<i32>) -> Result<()> {
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
    let region = tx.default_region().to_string();
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
    let phones = match (&patch.phones, &patch.phone) {
        (Some(list), phone) => collect_phones(
            &mut errors,
            &region,
            phone.as_ref().and_then(|p| p.as_deref()),
            list,
        ),
        (None, Some(Some(raw))) => {
            let mut rows = phone_rows_of(&before);
            if let Some(p) = errors.check("phone", Phone::parse(raw, &region)) {
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
        &json!({ "id": id, "fields": super::changed_fields(&changes) }),
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

/// Keep's value if it has one, else remove's.
fn fill<T: Clone>(keep: &Option<T>, remove: &Option<T>) -> Option<T> {
    keep.clone().or_else(|| remove.clone())
}

/// Merges contact `remove` into `keep`: moves `remove`'s e-mail addresses and phone
/// numbers (those `keep` lacks), tags, owners, deals, activities and consents to `keep`,
/// fills `keep`'s empty fields (and missing custom fields) from `remove`, and soft-deletes
/// `remove` with `{"merged_into": keep}` in its custom fields. Both contacts are audited;
/// one `contact.merged` event is written. Returns `keep` as merged.
pub async fn merge(tx: &mut Tx, keep: ContactId, remove: ContactId) -> Result<Contact> {
    tx.require(Permission::Write)?;
    tx.require(Permission::Delete)?;
    if keep == remove {
        return Err(Error::invalid(
            "remove",
            "a contact cannot be merged into itself",
        ));
    }
    let org = tx.org();
    // Locks both, in id order (no deadlock with a concurrent merge of the same pair).
    let locked: Vec<ContactId> = sqlx::query_scalar(
        "select id from contacts where org_id = $1 and id = any($2) and deleted_at is null \
         order by id for update",
    )
    .bind(org)
    .bind(vec![keep.uuid(), remove.uuid()])
    .fetch_all(tx.conn())
    .await?;
    if locked.len() != 2 {
        return Err(Error::NotFound { entity: ENTITY });
    }
    let keep_before = load(tx, keep, true).await?;
    let remove_before = load(tx, remove, true).await?;

    // The merged field values.
    let (k, r) = (&keep_before, &remove_before);
    let mut custom = match &r.custom {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    custom.remove("merged_into");
    if let Value::Object(m) = &k.custom {
        custom.extend(m.clone());
    }
    let f = Fields {
        first_name: if k.first_name.is_empty() {
            r.first_name.clone()
        } else {
            k.first_name.clone()
        },
        last_name: if k.last_name.is_empty() {
            r.last_name.clone()
        } else {
            k.last_name.clone()
        },
        salutation: fill(&k.salutation, &r.salutation),
        title: fill(&k.title, &r.title),
        job_title: fill(&k.job_title, &r.job_title),
        department: fill(&k.department, &r.department),
        linkedin_url: fill(&k.linkedin_url, &r.linkedin_url),
        birthday: k.birthday.or(r.birthday),
        source: k.source,
        status: k.status,
        company_id: k.company_id.or(r.company_id),
        city: fill(&k.city, &r.city),
        custom: Value::Object(custom),
    };
    let mut emails = email_rows_of(k);
    let keep_has_primary_email = emails.iter().any(|e| e.primary);
    for e in email_rows_of(r) {
        if !emails.iter().any(|x| x.norm == e.norm) {
            let primary = e.primary && !keep_has_primary_email;
            emails.push(EmailRow { primary, ..e });
        }
    }
    let mut phones = phone_rows_of(k);
    let keep_has_primary_phone = phones.iter().any(|p| p.primary);
    for p in phone_rows_of(r) {
        if !phones.iter().any(|x| x.e164 == p.e164) {
            let primary = p.primary && !keep_has_primary_phone;
            phones.push(PhoneRow { primary, ..p });
        }
    }

    // First retire `remove`: its primary e-mail may become keep's, and the unique index
    // only allows that once `remove` is deleted. Its address rows move, so its mirror
    // columns are cleared (the e-mail stays only when it is all that identifies the row).
    sqlx::query(
        "update contacts set deleted_at = now(), \
                custom = custom || jsonb_build_object('merged_into', $3::uuid), \
                email = case when btrim(first_name) = '' and btrim(last_name) = '' \
                             then email end, \
                email_norm = case when btrim(first_name) = '' and btrim(last_name) = '' \
                                  then email_norm end, \
                phone = null \
         where org_id = $1 and id = $2",
    )
    .bind(org)
    .bind(remove)
    .bind(keep)
    .execute(tx.conn())
    .await?;
    write_emails(tx, remove, &[]).await?;
    write_phones(tx, remove, &[]).await?;
    write_fields(tx, keep, &f, &emails, &phones).await?;
    write_emails(tx, keep, &emails).await?;
    write_phones(tx, keep, &phones).await?;

    // Tags and owners (keep's role wins), then the records pointing at `remove`.
    sqlx::query(
        "with moved as (delete from contact_tags where org_id = $1 and contact_id = $2 \
                        returning tag_id) \
         insert into contact_tags (org_id, contact_id, tag_id) \
         select $1, $3, tag_id from moved on conflict do nothing",
    )
    .bind(org)
    .bind(remove)
    .bind(keep)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "with moved as (delete from contact_owners where org_id = $1 and contact_id = $2 \
                        returning user_id, role) \
         insert into contact_owners (org_id, contact_id, user_id, role) \
         select $1, $3, user_id, role from moved on conflict do nothing",
    )
    .bind(org)
    .bind(remove)
    .bind(keep)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "with d as (update deals set contact_id = $3 where org_id = $1 and contact_id = $2 \
                    returning 1), \
              a as (update activities set contact_id = $3 where org_id = $1 and contact_id = $2 \
                    returning 1) \
         update consents set contact_id = $3 where org_id = $1 and contact_id = $2",
    )
    .bind(org)
    .bind(remove)
    .bind(keep)
    .execute(tx.conn())
    .await?;

    let keep_after = load(tx, keep, true).await?;
    let remove_after = load(tx, remove, false).await?;
    tx.record(
        ENTITY,
        Some(remove.uuid()),
        "merge",
        &diff(Some(&remove_before), Some(&remove_after)),
        None,
        &Value::Null,
    )
    .await?;
    tx.record(
        ENTITY,
        Some(keep.uuid()),
        "merge",
        &diff(Some(&keep_before), Some(&keep_after)),
        Some("contact.merged"),
        &json!({ "id": keep, "merged_id": remove }),
    )
    .await?;
    Ok(keep_after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(e: &str, primary: bool) -> NewContactEmail {
        NewContactEmail {
            email: e.into(),
            kind: EmailKind::Work,
            primary,
        }
    }

    #[test]
    fn linkedin_profiles_are_accepted_other_addresses_not() {
        for ok in [
            "https://www.linkedin.com/in/anna-schmidt",
            "linkedin.com/in/anna",
            "http://de.linkedin.com/pub/anna/1/2/3",
            "https://www.linkedin.com/in/anna/?locale=de_DE",
        ] {
            assert!(parse_linkedin_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            parse_linkedin_url("linkedin.com/in/anna").unwrap(),
            "https://linkedin.com/in/anna"
        );
        for bad in [
            "https://example.com/in/anna",
            "https://www.linkedin.com/",
            "https://www.linkedin.com/in/",
            "https://www.linkedin.com/company/acme",
            "https://notlinkedin.com/in/anna",
            "ftp://linkedin.com/in/anna",
            "anna schmidt",
        ] {
            assert!(parse_linkedin_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn primary_email_comes_from_email_then_marked_then_first() {
        let mut errors = FieldErrors::new();
        let rows = collect_emails(
            &mut errors,
            Some("B@x.de"),
            &[email("a@x.de", false), email("b@x.de", false)],
        );
        assert!(errors.is_empty());
        assert_eq!(rows.len(), 2);
        assert!(rows[0].primary && rows[0].email == "B@x.de");
        assert!(!rows[1].primary);

        let rows = collect_emails(
            &mut errors,
            None,
            &[email("a@x.de", false), email("b@x.de", true)],
        );
        assert_eq!(rows[0].norm, "b@x.de");
        assert_eq!(rows.iter().filter(|r| r.primary).count(), 1);

        let rows = collect_emails(&mut errors, None, &[email("a@x.de", false)]);
        assert!(rows[0].primary);
        assert!(errors.is_empty());
    }

    #[test]
    fn email_list_errors_are_all_reported() {
        let mut errors = FieldErrors::new();
        collect_emails(
            &mut errors,
            Some("bad"),
            &[email("also-bad", false), email("c@x.de", true)],
        );
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "emails[0].email"]);

        let mut errors = FieldErrors::new();
        collect_emails(
            &mut errors,
            None,
            &[email("a@x.de", true), email("b@x.de", true)],
        );
        assert_eq!(errors.0[0].field, "emails");
    }

    #[test]
    fn phones_dedupe_by_e164() {
        let mut errors = FieldErrors::new();
        let rows = collect_phones(
            &mut errors,
            "DE",
            Some("030 1234567"),
            &[
                NewContactPhone {
                    number: "+49 30 1234567".into(),
                    kind: PhoneKind::Mobile,
                    primary: false,
                },
                NewContactPhone {
                    number: "0171 1234567".into(),
                    kind: PhoneKind::Mobile,
                    primary: false,
                },
            ],
        );
        assert!(errors.is_empty(), "{errors}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].e164, "+49301234567");
        assert_eq!(rows[0].kind, PhoneKind::Mobile);
        assert!(rows[0].primary && !rows[1].primary);
    }

    #[test]
    fn setting_the_primary_email_replaces_or_promotes() {
        let row = |e: &str, p: bool| EmailRow {
            email: e.into(),
            norm: e.to_lowercase(),
            kind: EmailKind::Personal,
            primary: p,
        };
        let mut rows = vec![row("a@x.de", true), row("b@x.de", false)];
        set_primary_email(&mut rows, Email::parse("B@X.de").unwrap());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].email, "B@X.de");
        assert!(rows[0].primary);

        let mut rows = vec![row("a@x.de", true)];
        set_primary_email(&mut rows, Email::parse("n@x.de").unwrap());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].norm, "n@x.de");
        assert_eq!(rows[0].kind, EmailKind::Personal);
    }

    #[test]
    fn debug_redacts_personal_data() {
        let new = NewContact {
            first_name: "Geheim".into(),
            email: Some("geheim@example.com".into()),
            phone: Some("030 1234567".into()),
            birthday: NaiveDate::from_ymd_opt(1980, 5, 17),
            ..NewContact::default()
        };
        let s = format!("{new:?}");
        assert!(
            !s.contains("Geheim") && !s.contains("geheim") && !s.contains("1980"),
            "{s}"
        );
        assert!(!s.contains("1234567"), "{s}");
    }

    #[test]
    fn new_contact_reads_from_json_and_rejects_unknown_keys() {
        let new: NewContact = serde_json::from_str(
            r#"{"first_name": "Anna", "birthday": "1990-02-03", "source": "event",
                "emails": [{"email": "a@x.de", "kind": "personal", "primary": true}],
                "phones": [{"number": "030 1234567"}],
                "owners": [], "tags": ["VIP"], "custom": {"shoe_size": 38}}"#,
        )
        .unwrap();
        assert_eq!(new.source, ContactSource::Event);
        assert_eq!(new.birthday, NaiveDate::from_ymd_opt(1990, 2, 3));
        assert_eq!(new.emails[0].kind, EmailKind::Personal);
        assert_eq!(new.phones[0].kind, PhoneKind::Office);
        assert!(serde_json::from_str::<NewContact>(r#"{"firstname": "Anna"}"#).is_err());
        let patch: ContactPatch =
            serde_json::from_str(r#"{"version": 3, "city": null, "job_title": "CTO"}"#).unwrap();
        assert_eq!(patch.city, Some(None));
        assert_eq!(patch.job_title, Some(Some("CTO".into())));
        assert!(serde_json::from_str::<ContactPatch>(r#"{"city": "Bern"}"#).is_err());
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
