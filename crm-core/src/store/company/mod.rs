//! Companies: their master data, e-mail addresses and phone numbers (many, typed, one
//! primary), tags, owners and custom fields, and company-to-company relationships.
//!
//! `companies.email` and `companies.phone` always equal the rows marked primary in
//! `company_emails` / `company_phones` (written in the same transaction); search, dedup and
//! exports read them there. A VAT id is unique among the organization's live companies.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use super::list::{self, ListKind};
use super::owner::{self, OwnedKind, Owner};
use super::{Page, PageRequest, changed_fields, clean, diff, double_option, stale_or_missing};
use crate::auth::Permission;
use crate::dedupe::Kind;
use crate::domain::{
    CompanySize, Email, EmailKind, EntityStatus, OwnerRole, Phone, PhoneKind, VatId, Website,
    fold_for_search, normalize_name,
};
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{CompanyId, ListEntryId, TagId, UserId};
use crate::search::words;
use crate::tenancy::Tx;

/// The longest company name, in characters (as the schema checks).
const MAX_NAME: usize = 300;
/// The longest relationship note, in characters.
const MAX_NOTE: usize = 2000;

// ---------------------------------------------------------------------------------------
// Input and row types
// ---------------------------------------------------------------------------------------

/// An e-mail address of a company, as given on input.
#[derive(Clone, Default, Deserialize)]
pub struct NewCompanyEmail {
    /// The address.
    pub email: String,
    /// What it is used for (default `work`).
    #[serde(default)]
    pub kind: EmailKind,
    /// Whether it is the primary address.
    #[serde(default)]
    pub primary: bool,
}

impl fmt::Debug for NewCompanyEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCompanyEmail")
            .field("email", &"<redacted>")
            .field("kind", &self.kind)
            .field("primary", &self.primary)
            .finish()
    }
}

/// A phone number of a company, as given on input.
#[derive(Clone, Default, Deserialize)]
pub struct NewCompanyPhone {
    /// The number as written; national numbers are read in the organization's default
    /// region.
    pub number: String,
    /// What kind of line it is (default `office`).
    #[serde(default)]
    pub kind: PhoneKind,
    /// Whether it is the primary number.
    #[serde(default)]
    pub primary: bool,
}

impl fmt::Debug for NewCompanyPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCompanyPhone")
            .field("number", &"<redacted>")
            .field("kind", &self.kind)
            .field("primary", &self.primary)
            .finish()
    }
}

/// What is needed to create a company. Only `name` is required.
///
/// `email` and `phone` are shorthands for a primary address or number; they are merged
/// with `emails` / `phones` (same address listed twice counts once). Without a primary,
/// the first address or number becomes primary.
#[derive(Clone, Default, Deserialize)]
pub struct NewCompany {
    /// The company's name (1 to 300 characters).
    #[serde(default)]
    pub name: String,
    /// Its internet domain (`example.com`); derived from `website` when absent.
    pub domain: Option<String>,
    /// Its web site; `https://` is added when no scheme is given.
    pub website: Option<String>,
    /// Industry: key or English/German label of an active entry of the industries list.
    pub industry: Option<String>,
    /// Account type: key or label of an active entry of the account types list.
    pub account_type: Option<String>,
    /// VAT identification number (checked per country, stored normalised).
    pub vat_id: Option<String>,
    /// Tax number (Steuernummer).
    pub tax_id: Option<String>,
    /// Trade register number (e.g. `HRB 12345`).
    pub trade_register_number: Option<String>,
    /// Register court (e.g. `Amtsgericht Köln`).
    pub trade_register_court: Option<String>,
    /// Size class; when absent, derived from `employees`, else `unknown`.
    pub size: Option<CompanySize>,
    /// Head count, used to derive `size` when `size` is absent.
    pub employees: Option<u32>,
    /// Status (default `active`).
    pub status: Option<EntityStatus>,
    /// Billing address: street and number.
    pub billing_street: Option<String>,
    /// Billing address: postal code.
    pub billing_postal_code: Option<String>,
    /// Billing address: city.
    pub billing_city: Option<String>,
    /// Billing address: two-letter country code (ISO 3166-1 alpha-2).
    pub billing_country: Option<String>,
    /// Delivery address: street and number.
    pub delivery_street: Option<String>,
    /// Delivery address: postal code.
    pub delivery_postal_code: Option<String>,
    /// Delivery address: city.
    pub delivery_city: Option<String>,
    /// Delivery address: two-letter country code.
    pub delivery_country: Option<String>,
    /// The primary e-mail address.
    pub email: Option<String>,
    /// All e-mail addresses.
    #[serde(default)]
    pub emails: Vec<NewCompanyEmail>,
    /// The primary phone number.
    pub phone: Option<String>,
    /// All phone numbers.
    #[serde(default)]
    pub phones: Vec<NewCompanyPhone>,
    /// Tag names (created when new).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Owners (users of the organization with a role).
    #[serde(default)]
    pub owners: Vec<Owner>,
    /// Custom fields.
    #[serde(default)]
    pub custom: Map<String, Value>,
}

impl fmt::Debug for NewCompany {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewCompany")
            .field("industry", &self.industry)
            .field("account_type", &self.account_type)
            .field("size", &self.size)
            .field("status", &self.status)
            .field("emails", &self.emails.len())
            .field("phones", &self.phones.len())
            .field("tags", &self.tags.len())
            .finish_non_exhaustive()
    }
}

/// A company's e-mail address.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct CompanyEmail {
    /// The address as entered.
    pub email: String,
    /// What it is used for.
    pub kind: EmailKind,
    /// Whether it is the primary address (equal to [`Company::email`]).
    pub primary: bool,
}

impl fmt::Debug for CompanyEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompanyEmail")
            .field("kind", &self.kind)
            .field("primary", &self.primary)
            .finish_non_exhaustive()
    }
}

/// A company's phone number.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct CompanyPhone {
    /// The number in E.164 form (`+4922112345`).
    pub number: String,
    /// The number as entered.
    pub raw: String,
    /// What kind of line it is.
    pub kind: PhoneKind,
    /// Whether it is the primary number (equal to [`Company::phone`]).
    pub primary: bool,
}

impl fmt::Debug for CompanyPhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompanyPhone")
            .field("kind", &self.kind)
            .field("primary", &self.primary)
            .finish_non_exhaustive()
    }
}

/// A company as read, with its addresses, numbers, tags, owners and contact count.
#[derive(Clone, Serialize)]
pub struct Company {
    /// Its id.
    pub id: CompanyId,
    /// Name.
    pub name: String,
    /// Internet domain without `www.`.
    pub domain: Option<String>,
    /// Web site.
    pub website: Option<String>,
    /// Key of its industry.
    pub industry: Option<String>,
    /// Key of its account type.
    pub account_type: Option<String>,
    /// VAT id, normalised.
    pub vat_id: Option<String>,
    /// Tax number.
    pub tax_id: Option<String>,
    /// Trade register number.
    pub trade_register_number: Option<String>,
    /// Register court.
    pub trade_register_court: Option<String>,
    /// Size class.
    pub size: CompanySize,
    /// Status.
    pub status: EntityStatus,
    /// Billing street.
    pub billing_street: Option<String>,
    /// Billing postal code.
    pub billing_postal_code: Option<String>,
    /// Billing city.
    pub billing_city: Option<String>,
    /// Billing country code.
    pub billing_country: Option<String>,
    /// Delivery street.
    pub delivery_street: Option<String>,
    /// Delivery postal code.
    pub delivery_postal_code: Option<String>,
    /// Delivery city.
    pub delivery_city: Option<String>,
    /// Delivery country code.
    pub delivery_country: Option<String>,
    /// The primary e-mail address.
    pub email: Option<String>,
    /// All e-mail addresses, the primary first.
    pub emails: Vec<CompanyEmail>,
    /// The primary phone number (E.164).
    pub phone: Option<String>,
    /// All phone numbers, the primary first.
    pub phones: Vec<CompanyPhone>,
    /// Tag names, sorted.
    pub tags: Vec<String>,
    /// Owners.
    pub owners: Vec<Owner>,
    /// Custom fields.
    pub custom: Value,
    /// Number of live contacts working there.
    pub contacts: i64,
    /// Version to name in the next update.
    pub version: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Soft-deleted at, if deleted.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for Company {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Company")
            .field("id", &self.id)
            .field("industry", &self.industry)
            .field("account_type", &self.account_type)
            .field("size", &self.size)
            .field("status", &self.status)
            .field("version", &self.version)
            .field("deleted_at", &self.deleted_at)
            .finish_non_exhaustive()
    }
}

/// Changes to a company. `None` leaves a field unchanged; for nullable fields `Some(None)`
/// (JSON `null`) clears it. `version` must be the version read.
///
/// - `emails` / `phones` replace all addresses / numbers; `email` / `phone` set the
///   primary one (added when new), and `null` removes the primary one (the next becomes
///   primary).
/// - `tags` and `owners` replace the current ones.
/// - `custom` replaces the whole object.
/// - A new `website` also re-derives `domain` when the domain was derived from the old
///   web site (or empty) and `domain` is not part of the patch.
#[derive(Clone, Default, Deserialize)]
pub struct CompanyPatch {
    /// The version the company was read at.
    pub version: i32,
    /// New name.
    pub name: Option<String>,
    /// Domain.
    #[serde(default, deserialize_with = "double_option")]
    pub domain: Option<Option<String>>,
    /// Web site.
    #[serde(default, deserialize_with = "double_option")]
    pub website: Option<Option<String>>,
    /// Industry key or label.
    #[serde(default, deserialize_with = "double_option")]
    pub industry: Option<Option<String>>,
    /// Account type key or label.
    #[serde(default, deserialize_with = "double_option")]
    pub account_type: Option<Option<String>>,
    /// VAT id.
    #[serde(default, deserialize_with = "double_option")]
    pub vat_id: Option<Option<String>>,
    /// Tax number.
    #[serde(default, deserialize_with = "double_option")]
    pub tax_id: Option<Option<String>>,
    /// Trade register number.
    #[serde(default, deserialize_with = "double_option")]
    pub trade_register_number: Option<Option<String>>,
    /// Register court.
    #[serde(default, deserialize_with = "double_option")]
    pub trade_register_court: Option<Option<String>>,
    /// Size class (wins over `employees`).
    pub size: Option<CompanySize>,
    /// Head count, sets the size class.
    pub employees: Option<u32>,
    /// Status.
    pub status: Option<EntityStatus>,
    /// Billing street.
    #[serde(default, deserialize_with = "double_option")]
    pub billing_street: Option<Option<String>>,
    /// Billing postal code.
    #[serde(default, deserialize_with = "double_option")]
    pub billing_postal_code: Option<Option<String>>,
    /// Billing city.
    #[serde(default, deserialize_with = "double_option")]
    pub billing_city: Option<Option<String>>,
    /// Billing country code.
    #[serde(default, deserialize_with = "double_option")]
    pub billing_country: Option<Option<String>>,
    /// Delivery street.
    #[serde(default, deserialize_with = "double_option")]
    pub delivery_street: Option<Option<String>>,
    /// Delivery postal code.
    #[serde(default, deserialize_with = "double_option")]
    pub delivery_postal_code: Option<Option<String>>,
    /// Delivery city.
    #[serde(default, deserialize_with = "double_option")]
    pub delivery_city: Option<Option<String>>,
    /// Delivery country code.
    #[serde(default, deserialize_with = "double_option")]
    pub delivery_country: Option<Option<String>>,
    /// The primary e-mail address.
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    /// All e-mail addresses (replaces them).
    pub emails: Option<Vec<NewCompanyEmail>>,
    /// The primary phone number.
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
    /// All phone numbers (replaces them).
    pub phones: Option<Vec<NewCompanyPhone>>,
    /// Tag names (replaces them).
    pub tags: Option<Vec<String>>,
    /// Owners (replaces them).
    pub owners: Option<Vec<Owner>>,
    /// Replacement custom fields.
    pub custom: Option<Map<String, Value>>,
}

impl CompanyPatch {
    /// A patch that changes nothing yet, for the company read at `version`.
    pub fn at(version: i32) -> Self {
        Self {
            version,
            ..Self::default()
        }
    }

    /// Whether the patch changes nothing.
    fn is_empty(&self) -> bool {
        let Self {
            version: _,
            name,
            domain,
            website,
            industry,
            account_type,
            vat_id,
            tax_id,
            trade_register_number,
            trade_register_court,
            size,
            employees,
            status,
            billing_street,
            billing_postal_code,
            billing_city,
            billing_country,
            delivery_street,
            delivery_postal_code,
            delivery_city,
            delivery_country,
            email,
            emails,
            phone,
            phones,
            tags,
            owners,
            custom,
        } = self;
        name.is_none()
            && [
                domain,
                website,
                industry,
                account_type,
                vat_id,
                tax_id,
                trade_register_number,
                trade_register_court,
                billing_street,
                billing_postal_code,
                billing_city,
                billing_country,
                delivery_street,
                delivery_postal_code,
                delivery_city,
                delivery_country,
                email,
                phone,
            ]
            .iter()
            .all(|f| f.is_none())
            && size.is_none()
            && employees.is_none()
            && status.is_none()
            && emails.is_none()
            && phones.is_none()
            && tags.is_none()
            && owners.is_none()
            && custom.is_none()
    }
}

impl fmt::Debug for CompanyPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompanyPatch")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Which companies a list returns. Every given filter must hold.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CompanyFilter {
    /// Companies this user owns (any owner role).
    pub owner: Option<UserId>,
    /// With this status.
    pub status: Option<EntityStatus>,
    /// Carrying this tag (by name, case and accents ignored).
    pub tag: Option<String>,
    /// In this industry (key or label).
    pub industry: Option<String>,
    /// Of this account type (key or label).
    pub account_type: Option<String>,
    /// Of this size class.
    pub size: Option<CompanySize>,
    /// Whose name, domain, primary e-mail or phone, VAT id or billing city contains this
    /// text (case, accents and German spellings ignored).
    pub text: Option<String>,
    /// Created at or after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before.
    pub created_before: Option<DateTime<Utc>>,
    /// Soft-deleted companies too.
    #[serde(default)]
    pub include_deleted: bool,
    /// Only soft-deleted companies.
    #[serde(default)]
    pub only_deleted: bool,
}

/// Which way a relationship points, seen from the company it was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The company is the relationship's `from` side (`A parent_of B`, seen from A).
    Outgoing,
    /// The company is the `to` side.
    Incoming,
}

/// A company-to-company relationship (`from` is `type` of `to`, e.g. parent of).
#[derive(Clone, Serialize)]
pub struct Relationship {
    /// Its id.
    pub id: Uuid,
    /// The `from` company.
    pub from_company_id: CompanyId,
    /// The `to` company.
    pub to_company_id: CompanyId,
    /// Key of the relationship type.
    pub type_key: String,
    /// English label of the type.
    pub type_label_en: String,
    /// German label of the type.
    pub type_label_de: String,
    /// Free note.
    pub note: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Direction seen from the company asked about.
    pub direction: Direction,
    /// The other company.
    pub other_company_id: CompanyId,
    /// The other company's name.
    pub other_company_name: String,
}

impl fmt::Debug for Relationship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relationship")
            .field("id", &self.id)
            .field("from_company_id", &self.from_company_id)
            .field("to_company_id", &self.to_company_id)
            .field("type_key", &self.type_key)
            .finish_non_exhaustive()
    }
}

/// One e-mail row as it will be written (shared with the other kind).
use super::children::EmailRow;

/// A phone row being assembled.
#[derive(Clone, PartialEq, Eq)]
struct PhoneRow {
    e164: String,
    raw: String,
    kind: PhoneKind,
    primary: bool,
}

/// The scalar columns of a company, validated.
struct Fields {
    name: String,
    domain: Option<String>,
    website: Option<String>,
    industry_id: Option<ListEntryId>,
    account_type_id: Option<ListEntryId>,
    vat_id: Option<String>,
    tax_id: Option<String>,
    trade_register_number: Option<String>,
    trade_register_court: Option<String>,
    size: CompanySize,
    status: EntityStatus,
    billing_street: Option<String>,
    billing_postal_code: Option<String>,
    billing_city: Option<String>,
    billing_country: Option<String>,
    delivery_street: Option<String>,
    delivery_postal_code: Option<String>,
    delivery_city: Option<String>,
    delivery_country: Option<String>,
    custom: Map<String, Value>,
}

impl Fields {
    /// Binds the stored columns after the statement's leading keys, in the column order
    /// `INSERT_COMPANY` and `UPDATE_COMPANY` share, with the primary e-mail / phone mirror.
    fn bind_to<'q>(
        self,
        q: sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>,
        emails: &[EmailRow],
        phones: &[PhoneRow],
    ) -> sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments> {
        q.bind(self.name)
            .bind(self.domain)
            .bind(self.website)
            .bind(self.industry_id)
            .bind(self.account_type_id)
            .bind(self.vat_id)
            .bind(self.tax_id)
            .bind(self.trade_register_number)
            .bind(self.trade_register_court)
            .bind(self.size)
            .bind(self.status)
            .bind(self.billing_street)
            .bind(self.billing_postal_code)
            .bind(self.billing_city)
            .bind(self.billing_country)
            .bind(self.delivery_street)
            .bind(self.delivery_postal_code)
            .bind(self.delivery_city)
            .bind(self.delivery_country)
            .bind(write::primary_email(emails))
            .bind(write::primary_phone(phones))
            .bind(Value::Object(self.custom))
    }
}

// One file per operation; they share the types and imports above (`use super::*`).
mod create;
mod input;
mod read;
mod relationship;
mod update;
mod validate;
mod write;

#[cfg(test)]
mod tests;

pub use create::create;
pub use read::{
    find_by_domain, find_by_name, find_by_vat, for_each_batch, get, get_including_deleted, list,
    resolve,
};
pub use relationship::{relate, relationships, unrelate};
pub use update::{delete, restore, update};

use input::*;
use read::*;
use validate::*;
use write::*;
