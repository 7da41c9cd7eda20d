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
use crate::dedupe::Kind;
use crate::domain::{
    ContactSource, Email, EmailKind, EntityStatus, InvalidValue, OwnerRole, Phone, PhoneKind,
    PhoneReading, Website, fold_for_search, normalize_name,
};
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{CompanyId, ContactId, UserId};
use crate::search::words;
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
    /// The number as people write it; national numbers are read in the contact's country
    /// (its address, else its company's, else the organization's region). One that cannot
    /// be placed there is kept as written ([`ContactPhone::valid`] false).
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
    /// City (of the business address).
    pub city: Option<String>,
    /// Business address: street and number.
    pub street: Option<String>,
    /// Business address: postal code.
    pub postal_code: Option<String>,
    /// Business address: country, an ISO 3166-1 alpha-2 code or a country name the import
    /// knows (`Deutschland`, `Austria`), stored as the code.
    pub country: Option<String>,
    /// Private address: street and number.
    pub home_street: Option<String>,
    /// Private address: postal code.
    pub home_postal_code: Option<String>,
    /// Private address: city.
    pub home_city: Option<String>,
    /// Private address: country (as `country`).
    pub home_country: Option<String>,
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
    /// New business street.
    #[serde(default, deserialize_with = "double_option")]
    pub street: Option<Option<String>>,
    /// New business postal code.
    #[serde(default, deserialize_with = "double_option")]
    pub postal_code: Option<Option<String>>,
    /// New business country (code or name, as in [`NewContact::country`]).
    #[serde(default, deserialize_with = "double_option")]
    pub country: Option<Option<String>>,
    /// New private street.
    #[serde(default, deserialize_with = "double_option")]
    pub home_street: Option<Option<String>>,
    /// New private postal code.
    #[serde(default, deserialize_with = "double_option")]
    pub home_postal_code: Option<Option<String>>,
    /// New private city.
    #[serde(default, deserialize_with = "double_option")]
    pub home_city: Option<Option<String>>,
    /// New private country (as `country`).
    #[serde(default, deserialize_with = "double_option")]
    pub home_country: Option<Option<String>>,
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
            && self.street.is_none()
            && self.postal_code.is_none()
            && self.country.is_none()
            && self.home_street.is_none()
            && self.home_postal_code.is_none()
            && self.home_city.is_none()
            && self.home_country.is_none()
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
    /// The number in E.164 form; as written when it could not be placed in a country
    /// (`valid` is then false).
    pub number: String,
    /// The number as entered.
    pub raw: String,
    /// What kind of line it is.
    pub kind: PhoneKind,
    /// Whether it is the primary number.
    pub primary: bool,
    /// Whether the number was read as a valid number of a country (it has an E.164 form).
    /// A number that could not be placed (issue 15: never moved to another country) is
    /// kept as written, with a warning.
    pub valid: bool,
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

/// One e-mail row as it will be written (shared with the other kind).
use super::children::EmailRow;

/// One phone row as it will be written.
#[derive(Clone, PartialEq, Eq)]
struct PhoneRow {
    /// `None` for a number that could not be placed in a country (kept as written).
    e164: Option<String>,
    raw: String,
    kind: PhoneKind,
    primary: bool,
}

impl PhoneRow {
    /// What tells two numbers apart: the E.164 form, else the text as written.
    fn key(&self) -> &str {
        self.e164.as_deref().unwrap_or(&self.raw)
    }
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
    street: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    home_street: Option<String>,
    home_postal_code: Option<String>,
    home_city: Option<String>,
    home_country: Option<String>,
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
            street: c.street.clone(),
            postal_code: c.postal_code.clone(),
            country: c.country.clone(),
            home_street: c.home_street.clone(),
            home_postal_code: c.home_postal_code.clone(),
            home_city: c.home_city.clone(),
            home_country: c.home_country.clone(),
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
            e164: p.valid.then(|| p.number.clone()),
            raw: p.raw.clone(),
            kind: p.kind,
            primary: p.primary,
        })
        .collect()
}

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

// One file per operation; they share the types and imports above (`use super::*`).
mod create;
mod duplicates;
mod input;
mod merge;
mod read;
mod update;
mod validate;
mod write;

#[cfg(test)]
mod tests;

pub use create::create;
pub use duplicates::duplicates;
pub use merge::merge;
pub use read::{find_by_email, for_each_batch, get, get_including_deleted, list, resolve};
pub use update::{delete, restore, update};
pub use validate::parse_linkedin_url;

use input::*;
use read::*;
use validate::*;
use write::*;
