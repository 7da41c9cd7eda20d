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
use crate::domain::{
    CompanySize, Email, EmailKind, EntityStatus, OwnerRole, Phone, PhoneKind, VatId, Website,
    fold_for_search, normalize_name,
};
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{CompanyId, ListEntryId, TagId, UserId};
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

// ---------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------

/// The company columns as stored, industry and account type as keys.
#[derive(sqlx::FromRow)]
struct CompanyRow {
    id: CompanyId,
    name: String,
    domain: Option<String>,
    website: Option<String>,
    industry: Option<String>,
    account_type: Option<String>,
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
    email: Option<String>,
    phone: Option<String>,
    custom: Value,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

/// The select list and joins every company read uses (aliases: `c` company).
const SELECT: &str = "select c.id, c.name, c.domain, c.website, i.key as industry, \
        a.key as account_type, c.vat_id, c.tax_id, c.trade_register_number, \
        c.trade_register_court, c.size, c.status, c.billing_street, c.billing_postal_code, \
        c.billing_city, c.billing_country::text as billing_country, c.delivery_street, \
        c.delivery_postal_code, c.delivery_city, c.delivery_country::text as delivery_country, \
        c.email, c.phone, c.custom, c.version, c.created_at, c.updated_at, c.deleted_at \
    from companies c \
    left join industries i on i.org_id = c.org_id and i.id = c.industry_id \
    left join account_types a on a.org_id = c.org_id and a.id = c.account_type_id";

/// Loads the addresses, numbers, tags, owners and contact counts of `rows` in a fixed
/// number of queries, keeping the order of `rows`.
async fn with_children(tx: &mut Tx, rows: Vec<CompanyRow>) -> Result<Vec<Company>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let org = tx.org();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id.uuid()).collect();

    let emails: Vec<(Uuid, String, EmailKind, bool)> = sqlx::query_as(
        "select company_id, email, kind, is_primary from company_emails \
         where org_id = $1 and company_id = any($2) order by company_id, is_primary desc, id",
    )
    .bind(org)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    let phones: Vec<(Uuid, String, String, PhoneKind, bool)> = sqlx::query_as(
        "select company_id, number_e164, number_raw, kind, is_primary from company_phones \
         where org_id = $1 and company_id = any($2) order by company_id, is_primary desc, id",
    )
    .bind(org)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    let tags: Vec<(Uuid, String)> = sqlx::query_as(
        "select ct.company_id, t.name from company_tags ct \
         join tags t on t.org_id = ct.org_id and t.id = ct.tag_id \
         where ct.org_id = $1 and ct.company_id = any($2) order by ct.company_id, t.name_norm",
    )
    .bind(org)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    let owners: Vec<(Uuid, UserId, OwnerRole)> = sqlx::query_as(
        "select company_id, user_id, role from company_owners \
         where org_id = $1 and company_id = any($2) order by company_id, role, user_id",
    )
    .bind(org)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    let contacts: Vec<(Uuid, i64)> = sqlx::query_as(
        "select company_id, count(*) from contacts \
         where org_id = $1 and company_id = any($2) and deleted_at is null group by company_id",
    )
    .bind(org)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;

    let mut email_map: HashMap<Uuid, Vec<CompanyEmail>> = HashMap::new();
    for (id, email, kind, primary) in emails {
        email_map.entry(id).or_default().push(CompanyEmail {
            email,
            kind,
            primary,
        });
    }
    let mut phone_map: HashMap<Uuid, Vec<CompanyPhone>> = HashMap::new();
    for (id, number, raw, kind, primary) in phones {
        phone_map.entry(id).or_default().push(CompanyPhone {
            number,
            raw,
            kind,
            primary,
        });
    }
    let mut tag_map: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (id, name) in tags {
        tag_map.entry(id).or_default().push(name);
    }
    let mut owner_map: HashMap<Uuid, Vec<Owner>> = HashMap::new();
    for (id, user_id, role) in owners {
        owner_map
            .entry(id)
            .or_default()
            .push(Owner { user_id, role });
    }
    let contact_map: HashMap<Uuid, i64> = contacts.into_iter().collect();

    Ok(rows
        .into_iter()
        .map(|r| {
            let id = r.id.uuid();
            Company {
                id: r.id,
                name: r.name,
                domain: r.domain,
                website: r.website,
                industry: r.industry,
                account_type: r.account_type,
                vat_id: r.vat_id,
                tax_id: r.tax_id,
                trade_register_number: r.trade_register_number,
                trade_register_court: r.trade_register_court,
                size: r.size,
                status: r.status,
                billing_street: r.billing_street,
                billing_postal_code: r.billing_postal_code,
                billing_city: r.billing_city,
                billing_country: r.billing_country,
                delivery_street: r.delivery_street,
                delivery_postal_code: r.delivery_postal_code,
                delivery_city: r.delivery_city,
                delivery_country: r.delivery_country,
                email: r.email,
                emails: email_map.remove(&id).unwrap_or_default(),
                phone: r.phone,
                phones: phone_map.remove(&id).unwrap_or_default(),
                tags: tag_map.remove(&id).unwrap_or_default(),
                owners: owner_map.remove(&id).unwrap_or_default(),
                custom: r.custom,
                contacts: contact_map.get(&id).copied().unwrap_or(0),
                version: r.version,
                created_at: r.created_at,
                updated_at: r.updated_at,
                deleted_at: r.deleted_at,
            }
        })
        .collect())
}

/// Reads one company (live only unless `deleted`), without a permission check.
async fn load(tx: &mut Tx, id: CompanyId, deleted: bool) -> Result<Company> {
    let tail = if deleted {
        " where c.org_id = $1 and c.id = $2"
    } else {
        " where c.org_id = $1 and c.id = $2 and c.deleted_at is null"
    };
    let sql = format!("{SELECT}{tail}");
    let row: Option<CompanyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    let row = row.ok_or(Error::NotFound { entity: "company" })?;
    with_children(tx, vec![row])
        .await?
        .pop()
        .ok_or(Error::NotFound { entity: "company" })
}

/// Live companies matching a fixed condition on `$2`, by id.
async fn load_where(tx: &mut Tx, tail: &'static str, value: &str) -> Result<Vec<Company>> {
    let sql =
        format!("{SELECT} where c.org_id = $1 and c.deleted_at is null and {tail} order by c.id");
    let rows: Vec<CompanyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(value)
        .fetch_all(tx.conn())
        .await?;
    with_children(tx, rows).await
}

/// A live company.
pub async fn get(tx: &mut Tx, id: CompanyId) -> Result<Company> {
    tx.require(Permission::Read)?;
    load(tx, id, false).await
}

/// A company, soft-deleted or not.
pub async fn get_including_deleted(tx: &mut Tx, id: CompanyId) -> Result<Company> {
    tx.require(Permission::Read)?;
    load(tx, id, true).await
}

/// The live company with this VAT id (given in any common spelling: spaces, dots and case
/// are ignored). An invalid VAT id is a validation error.
pub async fn find_by_vat(tx: &mut Tx, vat_id: &str) -> Result<Option<Company>> {
    tx.require(Permission::Read)?;
    let vat = VatId::parse(vat_id).map_err(|e| Error::invalid("vat_id", e.to_string()))?;
    Ok(load_where(tx, "c.vat_id = $2", vat.as_str())
        .await?
        .into_iter()
        .next())
}

/// The live companies with this internet domain (`www.` and a scheme or path are
/// ignored: `https://www.example.com/x` finds `example.com`).
pub async fn find_by_domain(tx: &mut Tx, domain: &str) -> Result<Vec<Company>> {
    tx.require(Permission::Read)?;
    let domain = parse_domain(domain).map_err(|m| Error::invalid("domain", m))?;
    load_where(tx, "c.domain = $2", &domain).await
}

/// The live companies whose name equals `name` once normalised (case, accents, German
/// spellings and surrounding spaces ignored: `Müller GmbH` finds `MUELLER GMBH`).
pub async fn find_by_name(tx: &mut Tx, name: &str) -> Result<Vec<Company>> {
    tx.require(Permission::Read)?;
    let norm = normalize_name(name.trim());
    if norm.is_empty() {
        return Ok(Vec::new());
    }
    load_where(tx, "c.name_norm = $2", &norm).await
}

/// The company a person named by `reference`, for front-ends that take what people type.
/// Tried in this order, the first kind that matches anything wins:
///
/// 1. a full id: that company, live or soft-deleted;
/// 2. at least 4 hex digits (dashes ignored) that begin a company's id, or, when none
///    begins with them, that end one. Ids begin with their creation time, so companies
///    created in the same minute share their first 8 digits; lists therefore show the
///    last 8, and both ends work;
/// 3. a VAT id in any common spelling (`DE 123 456 789`);
/// 4. an internet domain (`example.com`, `https://www.example.com/`);
/// 5. the exact name, case, accents and German spellings ignored (`Mueller GmbH` finds
///    `Müller GmbH`).
///
/// Live companies win: a soft-deleted one is found only when no live one matches (so
/// [`restore`] can be given one). [`Error::NotFound`] when nothing matches; a
/// [`Error::Validation`] on the field `company` listing the candidates' ids when the
/// reference matches several companies.
pub async fn resolve(tx: &mut Tx, reference: &str) -> Result<CompanyId> {
    tx.require(Permission::Read)?;
    let reference = reference.trim();
    let not_found = Error::NotFound { entity: "company" };
    if reference.is_empty() {
        return Err(not_found);
    }
    let org = tx.org();
    if let Ok(id) = Uuid::parse_str(reference) {
        return if super::id_exists(tx.conn(), "companies", org, id).await? {
            Ok(CompanyId(id))
        } else {
            Err(not_found)
        };
    }
    // Up to a few matches per kind, live ones first: enough to tell one from many and to
    // name the candidates.
    let mut matches: Vec<(Uuid, bool)> = match super::id_digits(reference) {
        Some(digits) => super::match_id_digits(tx.conn(), "companies", org, &digits, 6).await?,
        None => Vec::new(),
    };
    if matches.is_empty()
        && let Ok(vat) = VatId::parse(reference)
    {
        matches = sqlx::query_as(
            "select id, deleted_at is null from companies where org_id = $1 and vat_id = $2 \
             order by deleted_at is not null, id limit 6",
        )
        .bind(org)
        .bind(vat.as_str())
        .fetch_all(tx.conn())
        .await?;
    }
    if matches.is_empty()
        && reference.contains('.')
        && let Ok(domain) = parse_domain(reference)
    {
        matches = sqlx::query_as(
            "select id, deleted_at is null from companies where org_id = $1 and domain = $2 \
             order by deleted_at is not null, id limit 6",
        )
        .bind(org)
        .bind(&domain)
        .fetch_all(tx.conn())
        .await?;
    }
    if matches.is_empty() {
        let norm = normalize_name(reference);
        if !norm.is_empty() {
            matches = sqlx::query_as(
                "select id, deleted_at is null from companies \
                 where org_id = $1 and name_norm = $2 \
                 order by deleted_at is not null, id limit 6",
            )
            .bind(org)
            .bind(&norm)
            .fetch_all(tx.conn())
            .await?;
        }
    }
    match super::live_first(&matches).as_slice() {
        [] => Err(not_found),
        [one] => Ok(CompanyId(*one)),
        many => {
            let ids: Vec<String> = many.iter().take(5).map(|id| id.to_string()).collect();
            let more = if many.len() > 5 { ", ..." } else { "" };
            Err(Error::invalid(
                "company",
                format!(
                    "is ambiguous: it matches several companies ({}{more}); give the full id",
                    ids.join(", ")
                ),
            ))
        }
    }
}

/// A filter with its names resolved to ids, ready to run page after page.
struct ResolvedFilter {
    owner: Option<UserId>,
    status: Option<EntityStatus>,
    tag: Option<TagId>,
    industry: Option<ListEntryId>,
    account_type: Option<ListEntryId>,
    size: Option<CompanySize>,
    pattern: Option<String>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
    include_deleted: bool,
    only_deleted: bool,
}

/// Resolves a filter; `None` when it cannot match anything (an unknown tag).
async fn resolve_filter(tx: &mut Tx, filter: &CompanyFilter) -> Result<Option<ResolvedFilter>> {
    let tag = match clean(filter.tag.as_deref()) {
        Some(name) => {
            let id: Option<TagId> =
                sqlx::query_scalar("select id from tags where org_id = $1 and name_norm = $2")
                    .bind(tx.org())
                    .bind(normalize_name(&name))
                    .fetch_optional(tx.conn())
                    .await?;
            match id {
                Some(id) => Some(id),
                None => return Ok(None),
            }
        }
        None => None,
    };
    let industry = match clean(filter.industry.as_deref()) {
        Some(s) => Some(list::resolve(tx, ListKind::Industry, &s).await?),
        None => None,
    };
    let account_type = match clean(filter.account_type.as_deref()) {
        Some(s) => Some(list::resolve(tx, ListKind::AccountType, &s).await?),
        None => None,
    };
    let pattern = clean(filter.text.as_deref()).map(|t| {
        let folded = fold_for_search(&t);
        let mut p = String::with_capacity(folded.len() + 2);
        p.push('%');
        for c in folded.chars() {
            if matches!(c, '%' | '_' | '\\') {
                p.push('\\');
            }
            p.push(c);
        }
        p.push('%');
        p
    });
    Ok(Some(ResolvedFilter {
        owner: filter.owner,
        status: filter.status,
        tag,
        industry,
        account_type,
        size: filter.size,
        pattern,
        created_after: filter.created_after,
        created_before: filter.created_before,
        include_deleted: filter.include_deleted,
        only_deleted: filter.only_deleted,
    }))
}

/// One page of companies matching a resolved filter, in id order.
async fn fetch_page(tx: &mut Tx, f: &ResolvedFilter, page: PageRequest) -> Result<Page<Company>> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(SELECT);
    qb.push(" where c.org_id = ").push_bind(tx.org());
    if f.only_deleted {
        qb.push(" and c.deleted_at is not null");
    } else if !f.include_deleted {
        qb.push(" and c.deleted_at is null");
    }
    if let Some(owner) = f.owner {
        qb.push(
            " and exists (select 1 from company_owners o where o.org_id = c.org_id \
             and o.company_id = c.id and o.user_id = ",
        )
        .push_bind(owner)
        .push(")");
    }
    if let Some(status) = f.status {
        qb.push(" and c.status = ").push_bind(status);
    }
    if let Some(tag) = f.tag {
        qb.push(
            " and exists (select 1 from company_tags t where t.org_id = c.org_id \
             and t.company_id = c.id and t.tag_id = ",
        )
        .push_bind(tag)
        .push(")");
    }
    if let Some(industry) = f.industry {
        qb.push(" and c.industry_id = ").push_bind(industry);
    }
    if let Some(account_type) = f.account_type {
        qb.push(" and c.account_type_id = ").push_bind(account_type);
    }
    if let Some(size) = f.size {
        qb.push(" and c.size = ").push_bind(size);
    }
    if let Some(pattern) = &f.pattern {
        qb.push(" and c.search_text ilike ")
            .push_bind(pattern.clone());
    }
    if let Some(after) = f.created_after {
        qb.push(" and c.created_at >= ").push_bind(after);
    }
    if let Some(before) = f.created_before {
        qb.push(" and c.created_at < ").push_bind(before);
    }
    if let Some(cursor) = page.after {
        qb.push(" and c.id > ").push_bind(cursor.0);
    }
    qb.push(" order by c.id limit ").push_bind(page.sql_limit());
    let rows: Vec<CompanyRow> = qb.build_query_as().fetch_all(tx.conn()).await?;
    let page_rows = page.finish(rows, |r| r.id.uuid());
    Ok(Page {
        items: with_children(tx, page_rows.items).await?,
        next: page_rows.next,
    })
}

/// One page of companies matching `filter`, in id (creation) order. Children are loaded
/// with a fixed number of queries per page.
pub async fn list(tx: &mut Tx, filter: &CompanyFilter, page: PageRequest) -> Result<Page<Company>> {
    tx.require(Permission::Read)?;
    match resolve_filter(tx, filter).await? {
        Some(f) => fetch_page(tx, &f, page).await,
        None => Ok(Page {
            items: Vec::new(),
            next: None,
        }),
    }
}

/// Streams every company matching `filter` to `f` in batches of `batch_size` (keyset
/// pagination, so memory stays constant however many there are). Returns how many were
/// passed; an error from `f` stops the stream and is returned.
pub async fn for_each_batch<F>(
    tx: &mut Tx,
    filter: &CompanyFilter,
    batch_size: u32,
    mut f: F,
) -> Result<u64>
where
    F: AsyncFnMut(Vec<Company>) -> Result<()>,
{
    tx.require(Permission::Read)?;
    let Some(resolved) = resolve_filter(tx, filter).await? else {
        return Ok(0);
    };
    let mut page = PageRequest {
        limit: batch_size,
        after: None,
    };
    let mut total = 0u64;
    loop {
        let batch = fetch_page(tx, &resolved, page).await?;
        total += batch.items.len() as u64;
        let next = batch.next;
        if !batch.items.is_empty() {
            f(batch.items).await?;
        }
        match next {
            Some(cursor) => page.after = Some(cursor),
            None => return Ok(total),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------------------

/// An e-mail row being assembled.
#[derive(Clone, PartialEq, Eq)]
struct EmailRow {
    email: String,
    norm: String,
    kind: EmailKind,
    primary: bool,
}

/// A phone row being assembled.
#[derive(Clone, PartialEq, Eq)]
struct PhoneRow {
    e164: String,
    raw: String,
    kind: PhoneKind,
    primary: bool,
}

/// A domain from user input: the host of what [`Website::parse`] accepts, without `www.`.
fn parse_domain(raw: &str) -> std::result::Result<String, &'static str> {
    Website::parse(raw)
        .map(|w| w.domain().to_string())
        .map_err(|_| "is not a valid domain name")
}

/// A two-letter country code, upper-cased.
fn parse_country(raw: &str) -> std::result::Result<String, &'static str> {
    let c = raw.trim();
    if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(c.to_ascii_uppercase())
    } else {
        Err("must be a two-letter country code (ISO 3166-1, e.g. DE)")
    }
}

/// Checks a name: trimmed, 1 to 300 characters.
fn check_name(errors: &mut FieldErrors, raw: &str) -> String {
    let name = raw.trim().to_string();
    if name.is_empty() {
        errors.add("name", "must not be empty");
    } else if name.chars().count() > MAX_NAME {
        errors.add("name", "is longer than 300 characters");
    }
    name
}

/// Parses an optional validated text field, recording its error.
fn optional<T>(
    errors: &mut FieldErrors,
    field: &str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> std::result::Result<T, String>,
) -> Option<T> {
    let raw = clean(raw)?;
    errors.check(field, parse(&raw))
}

/// Parses the e-mail inputs of `list` into rows, recording errors as `emails[i].email`.
fn parse_emails(errors: &mut FieldErrors, list: &[NewCompanyEmail]) -> Vec<EmailRow> {
    let primaries = list.iter().filter(|e| e.primary).count();
    if primaries > 1 {
        errors.add("emails", "only one address may be primary");
    }
    list.iter()
        .enumerate()
        .filter_map(|(i, e)| {
            let email = errors.check(&format!("emails[{i}].email"), Email::parse(&e.email))?;
            Some(EmailRow {
                norm: email.normalized(),
                email: email.into_string(),
                kind: e.kind,
                primary: e.primary,
            })
        })
        .collect()
}

/// Parses the phone inputs of `list` into rows, recording errors as `phones[i].number`.
fn parse_phones(errors: &mut FieldErrors, list: &[NewCompanyPhone], region: &str) -> Vec<PhoneRow> {
    let primaries = list.iter().filter(|p| p.primary).count();
    if primaries > 1 {
        errors.add("phones", "only one number may be primary");
    }
    list.iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let phone = errors.check(
                &format!("phones[{i}].number"),
                Phone::parse(&p.number, region),
            )?;
            Some(PhoneRow {
                e164: phone.e164().to_string(),
                raw: phone.raw().to_string(),
                kind: p.kind,
                primary: p.primary,
            })
        })
        .collect()
}

/// Makes `primary` the primary address of `rows` (added in front when new; an address
/// already listed keeps its kind and takes the spelling of `primary`).
fn set_primary_email(rows: &mut Vec<EmailRow>, primary: EmailRow) {
    for r in rows.iter_mut() {
        r.primary = false;
    }
    match rows.iter_mut().find(|r| r.norm == primary.norm) {
        Some(r) => {
            r.email = primary.email;
            r.primary = true;
        }
        None => rows.insert(
            0,
            EmailRow {
                primary: true,
                ..primary
            },
        ),
    }
}

/// Makes `primary` the primary number of `rows` (added in front when new; a number already
/// listed keeps its kind and takes the spelling of `primary`).
fn set_primary_phone(rows: &mut Vec<PhoneRow>, primary: PhoneRow) {
    for r in rows.iter_mut() {
        r.primary = false;
    }
    match rows.iter_mut().find(|r| r.e164 == primary.e164) {
        Some(r) => {
            r.raw = primary.raw;
            r.primary = true;
        }
        None => rows.insert(
            0,
            PhoneRow {
                primary: true,
                ..primary
            },
        ),
    }
}

/// Removes duplicates (the first occurrence stays, taking over a later one's primary
/// flag), keeps at most one primary and makes the first row primary when none is; the
/// primary comes first.
fn settle<T, K: Eq + std::hash::Hash + Clone>(
    rows: Vec<T>,
    key: impl Fn(&T) -> K,
    primary: impl Fn(&mut T) -> &mut bool,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(rows.len());
    let mut index: HashMap<K, usize> = HashMap::new();
    for mut r in rows {
        let k = key(&r);
        match index.get(&k) {
            Some(&i) => {
                if *primary(&mut r) {
                    *primary(&mut out[i]) = true;
                }
            }
            None => {
                index.insert(k, out.len());
                out.push(r);
            }
        }
    }
    let mut seen = false;
    for r in out.iter_mut() {
        let p = primary(r);
        if *p && seen {
            *p = false;
        }
        seen |= *p;
    }
    if !seen && let Some(first) = out.first_mut() {
        *primary(first) = true;
    }
    if let Some(pos) = out.iter_mut().position(|r| *primary(r)) {
        let p = out.remove(pos);
        out.insert(0, p);
    }
    out
}

fn settle_emails(rows: Vec<EmailRow>) -> Vec<EmailRow> {
    settle(rows, |r| r.norm.clone(), |r| &mut r.primary)
}

fn settle_phones(rows: Vec<PhoneRow>) -> Vec<PhoneRow> {
    settle(rows, |r| r.e164.clone(), |r| &mut r.primary)
}

/// Resolves a list entry for a company field, recording unknown or deactivated entries as
/// field errors. `keep` is the entry's key the company has now: it stays acceptable even
/// when deactivated.
async fn list_entry(
    tx: &mut Tx,
    errors: &mut FieldErrors,
    kind: ListKind,
    field: &str,
    raw: &str,
    keep: Option<&str>,
) -> Result<Option<ListEntryId>> {
    match list::find(tx, kind, raw).await {
        Ok(entry) if entry.active || keep == Some(entry.key.as_str()) => Ok(Some(entry.id)),
        Ok(_) => {
            errors.add(
                field,
                format!("is deactivated in the {} list", kind.plural()),
            );
            Ok(None)
        }
        Err(Error::NotFound { .. }) => {
            errors.add(
                field,
                format!("is not an entry of the {} list", kind.plural()),
            );
            Ok(None)
        }
        Err(Error::Validation(fe)) => {
            errors.0.extend(fe.0.into_iter().map(|mut e| {
                e.field = field.to_string();
                e
            }));
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Validates tag names into `errors`.
fn check_tags(errors: &mut FieldErrors, tags: &[String]) -> Result<Vec<String>> {
    match super::tag::clean_names(tags) {
        Ok(names) => Ok(names),
        Err(Error::Validation(fe)) => {
            errors.0.extend(fe.0);
            Ok(Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// Records an error when an owner is not a live user of the organization.
async fn check_owners(tx: &mut Tx, errors: &mut FieldErrors, owners: &[Owner]) -> Result<()> {
    if owners.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = owners.iter().map(|o| o.user_id.uuid()).collect();
    let known: i64 = sqlx::query_scalar(
        "select count(distinct id) from users \
         where org_id = $1 and id = any($2) and deleted_at is null",
    )
    .bind(tx.org())
    .bind(&ids)
    .fetch_one(tx.conn())
    .await?;
    let wanted = ids.iter().collect::<HashSet<_>>().len() as i64;
    if known != wanted {
        errors.add("owners", "names a user who is not in this organization");
    }
    Ok(())
}

/// Fails with a conflict when a live company other than `except` has `vat`.
async fn check_vat_free(tx: &mut Tx, vat: Option<&str>, except: Option<CompanyId>) -> Result<()> {
    let Some(vat) = vat else {
        return Ok(());
    };
    let taken: bool = sqlx::query_scalar(
        "select exists(select 1 from companies where org_id = $1 and vat_id = $2 \
         and deleted_at is null and ($3::uuid is null or id <> $3))",
    )
    .bind(tx.org())
    .bind(vat)
    .bind(except)
    .fetch_one(tx.conn())
    .await?;
    if taken {
        return Err(Error::Conflict(
            "another company already has this VAT id".to_string(),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

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

/// Replaces the e-mail rows of a company (one statement each way).
async fn write_emails(tx: &mut Tx, id: CompanyId, rows: &[EmailRow]) -> Result<()> {
    let org = tx.org();
    sqlx::query("delete from company_emails where org_id = $1 and company_id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    // UUIDv7 ids made in order keep the given order when read back by id.
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
    let norms: Vec<&str> = rows.iter().map(|r| r.norm.as_str()).collect();
    let kinds: Vec<_> = rows.iter().map(|r| r.kind).collect();
    let primaries: Vec<bool> = rows.iter().map(|r| r.primary).collect();
    sqlx::query(
        "insert into company_emails (org_id, id, company_id, email, email_norm, kind, is_primary) \
         select $1, u.id, $2, u.email, u.norm, u.kind, u.prim \
         from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bool[]) \
              as u(id, email, norm, kind, prim)",
    )
    .bind(org)
    .bind(id)
    .bind(&ids)
    .bind(&emails)
    .bind(&norms)
    .bind(&kinds)
    .bind(&primaries)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces the phone rows of a company.
async fn write_phones(tx: &mut Tx, id: CompanyId, rows: &[PhoneRow]) -> Result<()> {
    let org = tx.org();
    sqlx::query("delete from company_phones where org_id = $1 and company_id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let numbers: Vec<&str> = rows.iter().map(|r| r.e164.as_str()).collect();
    let raws: Vec<&str> = rows.iter().map(|r| r.raw.as_str()).collect();
    let kinds: Vec<_> = rows.iter().map(|r| r.kind).collect();
    let primaries: Vec<bool> = rows.iter().map(|r| r.primary).collect();
    sqlx::query(
        "insert into company_phones (org_id, id, company_id, number_e164, number_raw, kind, is_primary) \
         select $1, u.id, $2, u.num, u.raw, u.kind, u.prim \
         from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bool[]) \
              as u(id, num, raw, kind, prim)",
    )
    .bind(org)
    .bind(id)
    .bind(&ids)
    .bind(&numbers)
    .bind(&raws)
    .bind(&kinds)
    .bind(&primaries)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces the tags of a company.
async fn write_tags(tx: &mut Tx, id: CompanyId, names: &[String]) -> Result<()> {
    let tag_ids: Vec<Uuid> = super::tag::resolve(tx, names)
        .await?
        .into_iter()
        .map(TagId::uuid)
        .collect();
    let org = tx.org();
    sqlx::query("delete from company_tags where org_id = $1 and company_id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if tag_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into company_tags (org_id, company_id, tag_id) \
         select $1, $2, t from unnest($3::uuid[]) as t on conflict do nothing",
    )
    .bind(org)
    .bind(id)
    .bind(&tag_ids)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The primary value of settled rows (the first, when primary).
fn primary_email(rows: &[EmailRow]) -> Option<String> {
    rows.iter().find(|r| r.primary).map(|r| r.email.clone())
}

fn primary_phone(rows: &[PhoneRow]) -> Option<String> {
    rows.iter().find(|r| r.primary).map(|r| r.e164.clone())
}

/// Creates a company with its addresses, numbers, tags and owners. Every invalid field is
/// reported at once; a VAT id used by another live company is a conflict.
pub async fn create(tx: &mut Tx, new: NewCompany) -> Result<Company> {
    tx.require(Permission::Write)?;
    let mut errors = FieldErrors::new();
    let name = check_name(&mut errors, &new.name);
    let website = optional(&mut errors, "website", new.website.as_deref(), |s| {
        Website::parse(s).map_err(|e| e.to_string())
    });
    let domain = optional(&mut errors, "domain", new.domain.as_deref(), |s| {
        parse_domain(s).map_err(str::to_string)
    })
    .or_else(|| website.as_ref().map(|w| w.domain().to_string()));
    let industry_id = match clean(new.industry.as_deref()) {
        Some(s) => list_entry(tx, &mut errors, ListKind::Industry, "industry", &s, None).await?,
        None => None,
    };
    let account_type_id = match clean(new.account_type.as_deref()) {
        Some(s) => {
            list_entry(
                tx,
                &mut errors,
                ListKind::AccountType,
                "account_type",
                &s,
                None,
            )
            .await?
        }
        None => None,
    };
    let vat_id = optional(&mut errors, "vat_id", new.vat_id.as_deref(), |s| {
        VatId::parse(s)
            .map(|v| v.as_str().to_string())
            .map_err(|e| e.to_string())
    });
    let billing_country = optional(
        &mut errors,
        "billing_country",
        new.billing_country.as_deref(),
        |s| parse_country(s).map_err(str::to_string),
    );
    let delivery_country = optional(
        &mut errors,
        "delivery_country",
        new.delivery_country.as_deref(),
        |s| parse_country(s).map_err(str::to_string),
    );

    let mut emails = parse_emails(&mut errors, &new.emails);
    if let Some(email) = optional(&mut errors, "email", new.email.as_deref(), |s| {
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
    let emails = settle_emails(emails);

    let region = tx.default_region().to_string();
    let mut phones = parse_phones(&mut errors, &new.phones, &region);
    if let Some(phone) = optional(&mut errors, "phone", new.phone.as_deref(), |s| {
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
    let phones = settle_phones(phones);

    let tags = check_tags(&mut errors, &new.tags)?;
    check_owners(tx, &mut errors, &new.owners).await?;
    errors.into_result()?;

    let fields = Fields {
        name,
        domain,
        website: website.map(|w| w.as_str().to_string()),
        industry_id,
        account_type_id,
        vat_id,
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
        billing_country,
        delivery_street: clean(new.delivery_street.as_deref()),
        delivery_postal_code: clean(new.delivery_postal_code.as_deref()),
        delivery_city: clean(new.delivery_city.as_deref()),
        delivery_country,
        custom: new.custom,
    };
    check_vat_free(tx, fields.vat_id.as_deref(), None).await?;

    let id = CompanyId::new();
    sqlx::query(
        "insert into companies (org_id, id, name, domain, website, industry_id, account_type_id, \
             vat_id, tax_id, trade_register_number, trade_register_court, size, status, \
             billing_street, billing_postal_code, billing_city, billing_country, \
             delivery_street, delivery_postal_code, delivery_city, delivery_country, \
             email, phone, custom) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
                 $18, $19, $20, $21, $22, $23, $24)",
    )
    .bind(tx.org())
    .bind(id)
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
    if !emails.is_empty() {
        write_emails(tx, id, &emails).await?;
    }
    if !phones.is_empty() {
        write_phones(tx, id, &phones).await?;
    }
    if !tags.is_empty() {
        write_tags(tx, id, &tags).await?;
    }
    if !new.owners.is_empty() {
        owner::set(tx, OwnedKind::Company, id.uuid(), &new.owners).await?;
    }

    let company = load(tx, id, false).await?;
    tx.record(
        "company",
        Some(id.uuid()),
        "create",
        &diff(None, Some(&company)),
        Some("company.created"),
        &json!({ "id": id }),
    )
    .await?;
    Ok(company)
}

/// Applies a patch of a nullable free-text field.
fn patch_text(current: &Option<String>, patch: &Option<Option<String>>) -> Option<String> {
    match patch {
        None => current.clone(),
        Some(v) => clean(v.as_deref()),
    }
}

/// Applies a patch of a nullable validated field, recording its error.
fn patch_parsed(
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
    let region = tx.default_region().to_string();
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

// ---------------------------------------------------------------------------------------
// Relationships
// ---------------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct RelationshipRow {
    id: Uuid,
    from_company_id: CompanyId,
    to_company_id: CompanyId,
    type_key: String,
    type_label_en: String,
    type_label_de: String,
    note: Option<String>,
    created_at: DateTime<Utc>,
    outgoing: bool,
    other_company_id: CompanyId,
    other_company_name: String,
}

impl From<RelationshipRow> for Relationship {
    fn from(r: RelationshipRow) -> Self {
        Relationship {
            id: r.id,
            from_company_id: r.from_company_id,
            to_company_id: r.to_company_id,
            type_key: r.type_key,
            type_label_en: r.type_label_en,
            type_label_de: r.type_label_de,
            note: r.note,
            created_at: r.created_at,
            direction: if r.outgoing {
                Direction::Outgoing
            } else {
                Direction::Incoming
            },
            other_company_id: r.other_company_id,
            other_company_name: r.other_company_name,
        }
    }
}

/// Relationships of company `$2` in both directions, seen from it; `$3` narrows to one
/// relationship when not null. Relationships to soft-deleted companies are hidden.
const RELATIONSHIPS: &str = "select r.id, r.from_company_id, r.to_company_id, \
        t.key as type_key, t.label_en as type_label_en, t.label_de as type_label_de, r.note, \
        r.created_at, (r.from_company_id = $2) as outgoing, o.id as other_company_id, \
        o.name as other_company_name \
    from company_relationships r \
    join relationship_types t on t.org_id = r.org_id and t.id = r.type_id \
    join companies o on o.org_id = r.org_id and o.deleted_at is null \
        and o.id = case when r.from_company_id = $2 then r.to_company_id else r.from_company_id end \
    where r.org_id = $1 and (r.from_company_id = $2 or r.to_company_id = $2) \
      and ($3::uuid is null or r.id = $3) \
    order by t.position, t.key, o.name_norm, r.id";

/// Relates two live companies: `from` is `type_key` of `to` (type by key or label of the
/// relationship types list). Relating a company to itself is a validation error; the same
/// relationship twice is a conflict.
pub async fn relate(
    tx: &mut Tx,
    from: CompanyId,
    to: CompanyId,
    type_key: &str,
    note: Option<String>,
) -> Result<Relationship> {
    tx.require(Permission::Write)?;
    let mut errors = FieldErrors::new();
    if from == to {
        errors.add("to_company_id", "a company cannot be related to itself");
    }
    let note = clean(note.as_deref());
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        errors.add("note", "is longer than 2000 characters");
    }
    let type_id = list_entry(
        tx,
        &mut errors,
        ListKind::RelationshipType,
        "type",
        type_key,
        None,
    )
    .await?;
    errors.into_result()?;
    let Some(type_id) = type_id else {
        return Err(Error::invalid("type", "is required"));
    };
    let org = tx.org();
    let live: i64 = sqlx::query_scalar(
        "select count(*) from companies where org_id = $1 and id = any($2) and deleted_at is null",
    )
    .bind(org)
    .bind(vec![from.uuid(), to.uuid()])
    .fetch_one(tx.conn())
    .await?;
    if live != 2 {
        return Err(Error::NotFound { entity: "company" });
    }
    let id: Option<Uuid> = sqlx::query_scalar(
        "insert into company_relationships (org_id, id, from_company_id, to_company_id, type_id, note) \
         values ($1, $2, $3, $4, $5, $6) \
         on conflict (org_id, from_company_id, to_company_id, type_id) do nothing returning id",
    )
    .bind(org)
    .bind(Uuid::now_v7())
    .bind(from)
    .bind(to)
    .bind(type_id)
    .bind(&note)
    .fetch_optional(tx.conn())
    .await?;
    let Some(id) = id else {
        return Err(Error::Conflict(
            "the companies already have this relationship".to_string(),
        ));
    };
    let row: RelationshipRow = sqlx::query_as(RELATIONSHIPS)
        .bind(org)
        .bind(from)
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    let rel = Relationship::from(row);
    tx.record(
        "company",
        Some(from.uuid()),
        "relate",
        &json!({
            "relationship_id": id,
            "from_company_id": from,
            "to_company_id": to,
            "type": rel.type_key,
            "note": rel.note,
        }),
        Some("company.related"),
        &json!({
            "id": id,
            "from_company_id": from,
            "to_company_id": to,
            "type": rel.type_key,
        }),
    )
    .await?;
    Ok(rel)
}

/// Removes a relationship.
pub async fn unrelate(tx: &mut Tx, relationship_id: Uuid) -> Result<()> {
    tx.require(Permission::Write)?;
    let removed: Option<(CompanyId, CompanyId, String, Option<String>)> = sqlx::query_as(
        "delete from company_relationships r using relationship_types t \
         where r.org_id = $1 and r.id = $2 and t.org_id = r.org_id and t.id = r.type_id \
         returning r.from_company_id, r.to_company_id, t.key, r.note",
    )
    .bind(tx.org())
    .bind(relationship_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some((from, to, type_key, note)) = removed else {
        return Err(Error::NotFound {
            entity: "relationship",
        });
    };
    tx.record(
        "company",
        Some(from.uuid()),
        "unrelate",
        &json!({
            "relationship_id": relationship_id,
            "from_company_id": from,
            "to_company_id": to,
            "type": type_key,
            "note": note,
        }),
        Some("company.unrelated"),
        &json!({
            "id": relationship_id,
            "from_company_id": from,
            "to_company_id": to,
            "type": type_key,
        }),
    )
    .await
}

/// The relationships of a live company in both directions, with the other company's name
/// and the type's key and labels; relationships to soft-deleted companies are left out.
pub async fn relationships(tx: &mut Tx, company: CompanyId) -> Result<Vec<Relationship>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let exists: bool = sqlx::query_scalar(
        "select exists(select 1 from companies where org_id = $1 and id = $2 and deleted_at is null)",
    )
    .bind(org)
    .bind(company)
    .fetch_one(tx.conn())
    .await?;
    if !exists {
        return Err(Error::NotFound { entity: "company" });
    }
    let rows: Vec<RelationshipRow> = sqlx::query_as(RELATIONSHIPS)
        .bind(org)
        .bind(company)
        .bind(None::<Uuid>)
        .fetch_all(tx.conn())
        .await?;
    Ok(rows.into_iter().map(Relationship::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(e: &str, primary: bool) -> EmailRow {
        EmailRow {
            email: e.to_string(),
            norm: e.to_lowercase(),
            kind: EmailKind::Work,
            primary,
        }
    }

    #[test]
    fn settle_dedupes_and_keeps_one_primary_first() {
        let rows = vec![
            email("a@x.de", false),
            email("B@x.de", false),
            email("b@x.de", true),
        ];
        let out = settle_emails(rows);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].email, "B@x.de");
        assert!(out[0].primary && !out[1].primary);

        let none = settle_emails(vec![email("a@x.de", false), email("c@x.de", false)]);
        assert!(none[0].primary && none[0].email == "a@x.de");
        assert!(settle_emails(Vec::new()).is_empty());
    }

    #[test]
    fn set_primary_adds_or_switches() {
        let mut rows = vec![email("a@x.de", true), email("b@x.de", false)];
        set_primary_email(&mut rows, email("B@X.de", true));
        let rows = settle_emails(rows);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0].email, "B@X.de",
            "the spelling given as primary wins"
        );
        assert!(rows[0].primary && !rows[1].primary);
        let mut rows = vec![email("a@x.de", true)];
        set_primary_email(&mut rows, email("new@x.de", true));
        let rows = settle_emails(rows);
        assert_eq!(
            rows.iter()
                .map(|r| (r.email.as_str(), r.primary))
                .collect::<Vec<_>>(),
            [("new@x.de", true), ("a@x.de", false)]
        );
    }

    #[test]
    fn countries_and_domains() {
        assert_eq!(parse_country(" de "), Ok("DE".to_string()));
        assert!(parse_country("DEU").is_err());
        assert!(parse_country("1A").is_err());
        assert_eq!(
            parse_domain("https://www.Example.com/x"),
            Ok("example.com".into())
        );
        assert!(parse_domain("not a domain").is_err());
    }

    #[test]
    fn patch_distinguishes_absent_null_and_value() {
        let p: CompanyPatch =
            serde_json::from_str(r#"{"version": 3, "tax_id": null, "billing_city": "Köln"}"#)
                .unwrap();
        assert_eq!(p.version, 3);
        assert_eq!(p.tax_id, Some(None));
        assert_eq!(p.billing_city, Some(Some("Köln".into())));
        assert_eq!(p.website, None);
        assert!(
            serde_json::from_str::<CompanyPatch>("{}").is_err(),
            "version is required"
        );
    }
}
