//! Importing contacts (with their companies, e-mails, phones and tags) from CSV.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash as _, Hasher as _};
use std::io::{Read, Write};

use futures_util::StreamExt as _;
use serde_json::json;
use uuid::Uuid;

use super::extras::{Extra, ExtraEmail, ExtraPhone};
use super::formats::{self, Format, Role};
use super::lines::LineCounter;
use super::source::{Source, field_text};
use super::{
    ImportOptions, ImportSummary, MappingEntry, OnDuplicate, Progress, RowChange, RowError,
};
use crate::auth::Permission;
use crate::domain::{ContactSource, Email, EntityStatus, Phone, VatId, Website, normalize_name};
use crate::error::{Error, Result};
use crate::ids::ImportRunId;
use crate::tenancy::{Scope, Tx};

pub mod check;

/// A field a CSV column can map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// "First Last" in one column (split at the last space).
    FullName,
    /// Herr / Frau / Mr / Ms.
    Salutation,
    /// Academic title (Dr., Prof.).
    Title,
    /// Job title / position.
    JobTitle,
    /// Department.
    Department,
    /// Primary e-mail.
    Email,
    /// A second e-mail.
    Email2,
    /// Office phone.
    Phone,
    /// Mobile phone.
    Mobile,
    /// Company name (linked, or created when missing).
    Company,
    /// The company's VAT id (used when the company is created).
    VatId,
    /// The company's website.
    Website,
    /// Street (the company's billing address, else a custom field of the contact).
    Street,
    /// Postal code (likewise).
    PostalCode,
    /// City.
    City,
    /// Country (ISO code or name).
    Country,
    /// Tags, separated by `|` (or `,` / `;` when that is not the delimiter).
    Tags,
    /// Lead source.
    Source,
    /// LinkedIn profile URL.
    LinkedIn,
    /// Birthday (YYYY-MM-DD or DD.MM.YYYY).
    Birthday,
    /// active / inactive / blocked.
    Status,
    /// A private e-mail (kind `personal`; the primary when the row has no other).
    EmailHome,
    /// A further e-mail (kind `other`).
    EmailOther,
    /// A fax number.
    Fax,
    /// A further phone (home, other; kind `other`).
    PhoneOther,
    /// Private address: street.
    HomeStreet,
    /// Private address: postal code.
    HomePostalCode,
    /// Private address: city.
    HomeCity,
    /// Private address: country.
    HomeCountry,
    /// Free text, kept as a note activity on the contact.
    Notes,
    /// The owning user, by e-mail or name.
    Owner,
    /// The record's id in the system it comes from (recognises a second import).
    ExternalId,
    /// The id the contact's company has in the system it comes from (links the contact to
    /// the company imported from there, before or after).
    CompanyId,
    /// The calling code of the primary phone (`+49`), when the number is national.
    CallingCode,
    /// Known to the detected format and deliberately not kept (e-mail type, display name).
    Ignore,
}

impl Field {
    /// The field's canonical name (as `--map COLUMN=FIELD` takes it).
    pub fn name(self) -> &'static str {
        match self {
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::FullName => "full_name",
            Field::Salutation => "salutation",
            Field::Title => "title",
            Field::JobTitle => "job_title",
            Field::Department => "department",
            Field::Email => "email",
            Field::Email2 => "email2",
            Field::Phone => "phone",
            Field::Mobile => "mobile",
            Field::Company => "company",
            Field::VatId => "vat_id",
            Field::Website => "website",
            Field::Street => "street",
            Field::PostalCode => "postal_code",
            Field::City => "city",
            Field::Country => "country",
            Field::Tags => "tags",
            Field::Source => "source",
            Field::LinkedIn => "linkedin_url",
            Field::Birthday => "birthday",
            Field::Status => "status",
            Field::EmailHome => "email_home",
            Field::EmailOther => "email_other",
            Field::Fax => "fax",
            Field::PhoneOther => "phone_other",
            Field::HomeStreet => "home_street",
            Field::HomePostalCode => "home_postal_code",
            Field::HomeCity => "home_city",
            Field::HomeCountry => "home_country",
            Field::Notes => "notes",
            Field::Owner => "owner",
            Field::ExternalId => "external_id",
            Field::CompanyId => "company_external_id",
            Field::CallingCode => "phone_calling_code",
            Field::Ignore => "ignore",
        }
    }

    const ALL: &'static [Field] = &[
        Field::FirstName,
        Field::LastName,
        Field::FullName,
        Field::Salutation,
        Field::Title,
        Field::JobTitle,
        Field::Department,
        Field::Email,
        Field::Email2,
        Field::Phone,
        Field::Mobile,
        Field::Company,
        Field::VatId,
        Field::Website,
        Field::Street,
        Field::PostalCode,
        Field::City,
        Field::Country,
        Field::Tags,
        Field::Source,
        Field::LinkedIn,
        Field::Birthday,
        Field::Status,
        Field::EmailHome,
        Field::EmailOther,
        Field::Fax,
        Field::PhoneOther,
        Field::HomeStreet,
        Field::HomePostalCode,
        Field::HomeCity,
        Field::HomeCountry,
        Field::Notes,
        Field::Owner,
        Field::ExternalId,
        Field::CompanyId,
        Field::CallingCode,
        Field::Ignore,
    ];

    /// Whether several columns (or several values of one cell) of this field add up
    /// instead of the last one winning.
    pub fn accumulates(self) -> bool {
        matches!(
            self,
            Field::Email
                | Field::Email2
                | Field::EmailHome
                | Field::EmailOther
                | Field::Phone
                | Field::Mobile
                | Field::Fax
                | Field::PhoneOther
                | Field::Street
                | Field::HomeStreet
                | Field::Tags
                | Field::Notes
                | Field::Ignore
        )
    }

    /// The field for a header (English or German, any case, punctuation ignored).
    pub fn from_header(header: &str) -> Option<Field> {
        let key: String = crate::domain::fold_for_search(header.trim())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let f = match key.as_str() {
            "firstname" | "vorname" | "givenname" | "first" | "forename" => Field::FirstName,
            "lastname" | "nachname" | "surname" | "familyname" | "familienname" | "name"
            | "last" => Field::LastName,
            "fullname" | "vollername" | "kontakt" | "contact" | "contactname" | "person" => {
                Field::FullName
            }
            "salutation" | "anrede" => Field::Salutation,
            "title" | "titel" | "akademischertitel" => Field::Title,
            "jobtitle" | "position" | "jobtitel" | "funktion" | "rolle" | "beruf" | "job" => {
                Field::JobTitle
            }
            "department" | "abteilung" => Field::Department,
            "email" | "mail" | "emailaddress" | "emailadresse" | "mailadresse" | "email1"
            | "emailgeschaeftlich" | "primaryemail" => Field::Email,
            "email2" | "emailprivat" | "secondaryemail" | "weitereemail" => Field::Email2,
            "phone"
            | "telefon"
            | "tel"
            | "telephone"
            | "phonenumber"
            | "telefonnummer"
            | "festnetz"
            | "telefongeschaeftlich"
            | "officephone" => Field::Phone,
            "mobile" | "mobil" | "handy" | "mobiltelefon" | "cell" | "cellphone"
            | "mobilenumber" | "mobilnummer" => Field::Mobile,
            "company" | "firma" | "unternehmen" | "organisation" | "organization" | "account"
            | "firmenname" | "companyname" => Field::Company,
            "vatid" | "vat" | "ustidnr" | "ustid" | "umsatzsteuerid" | "ustidnummer"
            | "vatnumber" => Field::VatId,
            "website" | "webseite" | "homepage" | "url" | "internet" | "web" => Field::Website,
            "street" | "strasse" | "adresse" | "address" | "anschrift" | "streetaddress" => {
                Field::Street
            }
            "postalcode" | "zip" | "zipcode" | "plz" | "postleitzahl" | "postcode" => {
                Field::PostalCode
            }
            "city" | "ort" | "stadt" | "town" | "wohnort" => Field::City,
            "country" | "land" | "staat" => Field::Country,
            "tags" | "tag" | "schlagworte" | "labels" | "stichworte" => Field::Tags,
            "source" | "quelle" | "leadsource" | "herkunft" => Field::Source,
            "linkedin" | "linkedinurl" | "linkedinprofil" => Field::LinkedIn,
            "birthday" | "geburtstag" | "dateofbirth" | "geburtsdatum" | "dob" => Field::Birthday,
            "status" => Field::Status,
            "notes" | "note" | "notizen" | "notiz" | "bemerkung" | "bemerkungen" | "kommentar"
            | "comments" => Field::Notes,
            "fax" | "telefax" | "faxnummer" => Field::Fax,
            "owner" | "besitzer" | "betreuer" | "zustaendig" | "contactowner" => Field::Owner,
            _ => return None,
        };
        Some(f)
    }

    /// The field named `name` (canonical names only).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name.trim())
    }
}

/// How the columns of a file map to fields.
#[derive(Debug, Clone)]
struct Columns {
    fields: Vec<Option<Field>>,
    roles: Vec<Option<Role>>,
    headers: Vec<String>,
    unknown: Vec<usize>,
    format: Format,
}

impl Columns {
    fn new(headers: Vec<String>, opts: &ImportOptions, from: Option<Format>) -> Result<Self> {
        let format = from.unwrap_or_else(|| formats::detect(&headers));
        let mut roles: Vec<Option<Role>> = if format == Format::Generic {
            generic_fields(&headers)
                .into_iter()
                .map(|f| f.map(Role::Field))
                .collect()
        } else {
            formats::roles(format, &headers)
        };
        for (col, f) in &opts.mappings {
            let field = Field::from_name(f).ok_or_else(|| {
                Error::invalid(
                    "map",
                    format!("unknown field '{f}'; fields are: {}", field_names()),
                )
            })?;
            let Some(i) = headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(col.trim()))
            else {
                return Err(Error::invalid(
                    "map",
                    format!("the file has no column '{col}'"),
                ));
            };
            roles[i] = Some(Role::Field(field));
        }
        let fields: Vec<Option<Field>> = roles
            .iter()
            .map(|r| r.map(Role::field).filter(|f| *f != Field::Ignore))
            .collect();
        let unknown = roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_none())
            .map(|(i, _)| i)
            .collect();
        let has = |f: Field| fields.contains(&Some(f));
        if !(has(Field::FirstName)
            || has(Field::LastName)
            || has(Field::FullName)
            || has(Field::Email)
            || has(Field::EmailHome)
            || has(Field::EmailOther))
        {
            return Err(Error::invalid(
                "header",
                "no name or e-mail column found; name them (Vorname, Nachname, E-Mail, ...), name the tool with --from FORMAT (see `crm import formats`) or use --map COLUMN=FIELD",
            ));
        }
        Ok(Self {
            fields,
            roles,
            headers,
            unknown,
            format,
        })
    }

    fn has(&self, f: Field) -> bool {
        self.fields.contains(&Some(f))
    }

    /// The summary's mapping: every understood column with the field it goes to.
    fn mapping(&self) -> Vec<MappingEntry> {
        self.roles
            .iter()
            .zip(&self.headers)
            .filter_map(|(r, h)| {
                r.map(|r| MappingEntry {
                    column: h.clone(),
                    field: r.describe(),
                })
            })
            .collect()
    }
}

/// The fields of a generic file's columns: a second e-mail column is the second e-mail, a
/// second phone column the mobile; further columns for one field are unknown.
fn generic_fields(headers: &[String]) -> Vec<Option<Field>> {
    let mut taken: HashSet<Field> = HashSet::new();
    headers
        .iter()
        .map(|h| {
            let field = match Field::from_header(h) {
                Some(f) if taken.contains(&f) => {
                    if f == Field::Email && !taken.contains(&Field::Email2) {
                        Some(Field::Email2)
                    } else if f == Field::Phone && !taken.contains(&Field::Mobile) {
                        Some(Field::Mobile)
                    } else {
                        None
                    }
                }
                f => f,
            };
            if let Some(f) = field {
                taken.insert(f);
            }
            field
        })
        .collect()
}

fn field_names() -> String {
    Field::ALL
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One validated row, ready for staging.
#[derive(Default)]
struct Row {
    first_name: Option<String>,
    last_name: Option<String>,
    salutation: Option<String>,
    title: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    email: Option<(String, String)>,
    email2: Option<(String, String)>,
    /// (E.164 form when the number could be placed, as written).
    phone: Option<(Option<String>, String)>,
    mobile: Option<(Option<String>, String)>,
    company: Option<(String, String)>,
    vat_id: Option<String>,
    website: Option<(String, String)>,
    street: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    country: Option<String>,
    tags: Vec<String>,
    source: Option<&'static str>,
    linkedin: Option<String>,
    birthday: Option<chrono::NaiveDate>,
    status: Option<&'static str>,
    custom: serde_json::Map<String, serde_json::Value>,
    /// Addresses, further e-mails and phones, note, owner, source id.
    extra: Extra,
    /// Problems that do not fail the row: (field, message).
    warnings: Vec<(String, String)>,
}

/// A date as typed (`31.12.2026`, `2026-12-31`), read by the one date parser; then the
/// forms other tools' exports write (`9/10/2007`, `19900101`, `2024-03-12 09:14`).
fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    crate::domain::parse_date(s, crate::domain::Zone::default(), chrono::Utc::now())
        .ok()
        .or_else(|| formats::quirks::parse_date(s))
}

/// A country name or code (English, German, French, Italian) as an ISO code.
pub(crate) fn parse_country(s: &str) -> Option<String> {
    let key = crate::domain::fold_for_search(s.trim());
    let code = match key.as_str() {
        "de" | "deu" | "deutschland" | "germany" => "DE",
        "at" | "aut" | "oesterreich" | "austria" => "AT",
        "ch" | "che" | "schweiz" | "switzerland" | "suisse" | "svizzera" => "CH",
        "li" | "liechtenstein" => "LI",
        "fr" | "frankreich" | "france" => "FR",
        "it" | "italien" | "italy" | "italia" => "IT",
        "nl" | "niederlande" | "netherlands" => "NL",
        "be" | "belgien" | "belgium" => "BE",
        "lu" | "luxemburg" | "luxembourg" => "LU",
        "pl" | "polen" | "poland" => "PL",
        "cz" | "tschechien" | "czechia" => "CZ",
        "dk" | "daenemark" | "denmark" => "DK",
        "es" | "spanien" | "spain" => "ES",
        "gb" | "uk" | "grossbritannien" | "vereinigtes koenigreich" | "united kingdom" => "GB",
        "us" | "usa" | "vereinigte staaten" | "united states" => "US",
        k if k.len() == 2 && k.chars().all(|c| c.is_ascii_alphabetic()) => {
            return Some(k.to_ascii_uppercase());
        }
        _ => return None,
    };
    Some(code.to_string())
}

/// The most bytes one record (row) may have; reading stops with an error at a larger one.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;
/// The most columns a file may have.
pub const MAX_COLUMNS: usize = 500;
/// The most unknown columns `--keep-unknown` keeps as custom fields.
pub const MAX_KEPT_UNKNOWN: usize = 50;
/// The longest value of a kept unknown column, in characters.
pub const MAX_KEPT_VALUE: usize = 500;
/// The most tags a row may carry.
pub const MAX_TAGS: usize = 50;
/// The longest tag, in characters.
pub const MAX_TAG_LEN: usize = 100;

/// What every row of an import shares.
struct RowEnv {
    /// The organization's region, for national phone numbers without an address country.
    region: String,
    /// The address country of the organization's companies by normalised name, for the
    /// phones of contacts of a company (phone-country rule).
    company_countries: HashMap<String, String>,
    /// Tag separators (those that are not the file's delimiter).
    tag_split: Vec<char>,
    keep_unknown: bool,
    /// Active users by normalised e-mail and by folded full name (owner columns).
    users: HashMap<String, Uuid>,
}

/// Validates one record. Collects every problem of the row.
fn parse_row(
    cols: &Columns,
    rec: &csv::ByteRecord,
    env: &RowEnv,
) -> std::result::Result<Row, Vec<(String, String)>> {
    let mut row = Row::default();
    let mut errs: Vec<(String, String)> = Vec::new();
    let mut phones: Vec<(Field, String)> = Vec::new();
    let mut calling_code: Option<String> = None;
    // A NUL byte or another control character (other than tab and line breaks) in a column
    // that is read fails this row alone: PostgreSQL refuses NUL in text, and terminal
    // escapes must not reach anyone's screen.
    for (i, raw) in rec.iter().enumerate() {
        let used = match cols.roles.get(i) {
            Some(Some(_)) => true,
            Some(None) => env.keep_unknown,
            None => false,
        };
        if used && has_control_byte(raw) {
            let field = match cols.fields.get(i) {
                Some(Some(f)) => f.name().to_string(),
                _ => cols.headers.get(i).cloned().unwrap_or_default(),
            };
            errs.push((
                field,
                "contains a control character (such as a NUL byte); remove it".into(),
            ));
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    if env.keep_unknown {
        for &i in &cols.unknown {
            if let (Some(raw), Some(h)) = (rec.get(i), cols.headers.get(i)) {
                let text = field_text(raw);
                let v = text.trim();
                if v.chars().count() > MAX_KEPT_VALUE {
                    errs.push((
                        h.trim().to_string(),
                        format!("is longer than {MAX_KEPT_VALUE} characters"),
                    ));
                } else if !v.is_empty() {
                    row.custom.insert(h.trim().to_string(), json!(v));
                }
            }
        }
    }
    for cell in formats::cells(cols.format, &cols.roles, rec) {
        let field = cell.field;
        // Line breaks in a single-line cell (a spreadsheet's Alt+Enter) become spaces.
        let folded = if field == Field::Notes {
            std::borrow::Cow::Borrowed(cell.value.as_ref())
        } else {
            crate::domain::text::fold_line_breaks(&cell.value)
        };
        let v: &str = &folded;
        let mut err = |msg: &str| errs.push((field.name().to_string(), msg.to_string()));
        let long = v.chars().count() > 500 && field != Field::Notes;
        let control = field != Field::Notes && crate::domain::text::check_single_line(v).is_err();
        match field {
            _ if long => err("is longer than 500 characters"),
            _ if control => err(crate::domain::text::CONTROL_MESSAGE),
            Field::Notes if v.chars().count() > 20_000 => err("is longer than 20000 characters"),
            Field::FirstName => row.first_name = Some(v.to_string()),
            Field::LastName => row.last_name = Some(v.to_string()),
            Field::FullName => match v.rsplit_once(' ') {
                Some((first, last)) => {
                    row.first_name
                        .get_or_insert_with(|| first.trim().to_string());
                    row.last_name.get_or_insert_with(|| last.trim().to_string());
                }
                None => {
                    row.last_name.get_or_insert_with(|| v.to_string());
                }
            },
            Field::Salutation => row.salutation = Some(v.to_string()),
            Field::Title => row.title = Some(v.to_string()),
            Field::JobTitle => row.job_title = Some(v.to_string()),
            Field::Department => row.department = Some(v.to_string()),
            Field::Email | Field::Email2 | Field::EmailHome | Field::EmailOther => {
                add_email(&mut row, field, v, cols.format, &mut errs)
            }
            Field::Phone | Field::Mobile | Field::Fax | Field::PhoneOther => {
                phones.push((field, v.to_string()))
            }
            Field::CallingCode => calling_code = Some(v.to_string()),
            Field::Company => row.company = Some((v.to_string(), normalize_name(v))),
            Field::VatId => match VatId::parse(v) {
                Ok(vat) => row.vat_id = Some(vat.as_str().to_string()),
                Err(e) => err(e.message()),
            },
            Field::Website => match Website::parse(v) {
                Ok(w) => row.website = Some((w.as_str().to_string(), w.domain().to_string())),
                Err(e) => err(e.message()),
            },
            Field::Street => join_to(&mut row.street, v),
            Field::HomeStreet => join_to(&mut row.extra.home_street, v),
            Field::PostalCode => row.postal_code = Some(v.to_string()),
            Field::HomePostalCode => row.extra.home_postal_code = Some(v.to_string()),
            Field::City => row.city = Some(v.to_string()),
            Field::HomeCity => row.extra.home_city = Some(v.to_string()),
            Field::Country | Field::HomeCountry => match parse_country(v) {
                Some(c) if field == Field::Country => row.country = Some(c),
                Some(c) => row.extra.home_country = Some(c),
                None => {
                    err("is not a known country; use a two-letter ISO code such as DE, AT or CH")
                }
            },
            Field::Tags => {
                for t in v
                    .split(|c: char| env.tag_split.contains(&c))
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                {
                    if t.chars().count() > MAX_TAG_LEN {
                        err(&format!("has a tag longer than {MAX_TAG_LEN} characters"));
                        break;
                    }
                    if row.tags.len() >= MAX_TAGS {
                        err(&format!("has more than {MAX_TAGS} tags"));
                        break;
                    }
                    row.tags.push(t.to_string());
                }
            }
            Field::Source => match v.parse::<ContactSource>() {
                Ok(s) => row.source = Some(s.as_str()),
                Err(_) => err(
                    "is not a known source (website, referral, event, cold_outreach, partner, import, lexware, other)",
                ),
            },
            Field::LinkedIn => {
                let lower = v.to_ascii_lowercase();
                if lower.contains("linkedin.com/") && !v.contains(char::is_whitespace) {
                    row.linkedin = Some(if lower.starts_with("http") {
                        v.to_string()
                    } else {
                        format!("https://{v}")
                    });
                } else {
                    err("is not a LinkedIn profile URL");
                }
            }
            Field::Birthday if formats::quirks::is_empty_date(v) => {}
            Field::Birthday => match parse_date(v) {
                Some(d) if d <= chrono::Utc::now().date_naive() => row.birthday = Some(d),
                Some(_) => err("is in the future"),
                None => err("is not a date (YYYY-MM-DD or DD.MM.YYYY)"),
            },
            Field::Status => match v.parse::<EntityStatus>() {
                Ok(s) => row.status = Some(s.as_str()),
                Err(_) => err("must be active, inactive or blocked"),
            },
            Field::Notes => row.extra.add_note(v),
            Field::Owner => {
                let key = if v.contains('@') {
                    v.trim().to_lowercase()
                } else {
                    crate::domain::fold_for_search(v.trim())
                };
                match env.users.get(&key) {
                    Some(id) => row.extra.owner = Some(*id),
                    None => row.warnings.push((
                        "owner".into(),
                        "names no user of this organization (by e-mail or name); the importing user owns the contact".into(),
                    )),
                }
            }
            Field::ExternalId => {
                row.extra.external_system = Some(cols.format.name().to_string());
                row.extra.external_id = Some(v.to_string());
            }
            Field::CompanyId => {
                row.extra.company_external_system = Some(cols.format.name().to_string());
                row.extra.company_external_id = Some(v.to_string());
            }
            Field::Ignore => {}
        }
    }
    // Phones last: a national number is read in the country of the contact's address, else
    // its company's, else the organization's region (DESIGN.md's phone-country rule).
    let region = row
        .country
        .clone()
        .or_else(|| row.extra.home_country.clone())
        .or_else(|| {
            row.company
                .as_ref()
                .and_then(|(_, norm)| env.company_countries.get(norm).cloned())
        })
        .unwrap_or_else(|| env.region.clone());
    for (field, raw) in phones {
        let text = match &calling_code {
            Some(code) if !raw.starts_with('+') && !raw.starts_with("00") => {
                format!("{} {raw}", code.trim())
            }
            _ => raw,
        };
        add_phone(&mut row, field, &text, &region);
    }
    // A contact whose only numbers are further ones gets the first (not a fax) as primary.
    if row.phone.is_none()
        && row.mobile.is_none()
        && let Some(i) = row.extra.phones.iter().position(|p| p.kind != "fax")
    {
        let p = row.extra.phones.remove(i);
        row.phone = Some((p.e164, p.raw));
    }
    if row.first_name.is_none() && row.last_name.is_none() && row.email.is_none() {
        errs.push((
            "name".into(),
            "a contact needs a first name, last name or e-mail".into(),
        ));
    }
    row.extra.street = row.street.clone();
    row.extra.postal_code = row.postal_code.clone();
    row.extra.country = row.country.clone();
    if errs.is_empty() { Ok(row) } else { Err(errs) }
}

/// A byte of a C0 control character other than tab, line feed and carriage return, or DEL.
/// (Bytes of multi-byte UTF-8 characters are all 0x80 and above.)
fn is_control_byte(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0b | 0x0c | 0x0e..=0x1f | 0x7f)
}

/// Whether a raw cell holds a control character (see [`is_control_byte`]).
pub(crate) fn has_control_byte(raw: &[u8]) -> bool {
    raw.iter().any(|b| is_control_byte(*b))
}

/// Appends `v` to a multi-line value (a second street line).
fn join_to(slot: &mut Option<String>, v: &str) {
    match slot {
        Some(s) => {
            s.push_str(", ");
            s.push_str(v);
        }
        None => *slot = Some(v.to_string()),
    }
}

/// The primary e-mail (the first one of the row), the second e-mail column, or a further
/// e-mail. A malformed further e-mail of a tool's export is a warning, not a failed row.
fn add_email(
    row: &mut Row,
    field: Field,
    v: &str,
    format: Format,
    errs: &mut Vec<(String, String)>,
) {
    let e = match Email::parse(v) {
        Ok(e) => e,
        Err(e) => {
            let primary = matches!(field, Field::Email | Field::Email2)
                && format == Format::Generic
                || (field == Field::Email && row.email.is_none());
            if primary {
                errs.push((field.name().to_string(), e.message().to_string()));
            } else {
                row.warnings.push((
                    field.name().to_string(),
                    format!("{}; not kept", e.message()),
                ));
            }
            return;
        }
    };
    let pair = (e.as_str().to_string(), e.normalized());
    let known = |r: &Row| {
        r.email.as_ref().is_some_and(|x| x.1 == pair.1)
            || r.email2.as_ref().is_some_and(|x| x.1 == pair.1)
            || r.extra.emails.iter().any(|x| x.norm == pair.1)
    };
    if known(row) {
        return;
    }
    if row.email.is_none() && field != Field::Email2 {
        row.email = Some(pair);
    } else if field == Field::Email2 && row.email2.is_none() {
        row.email2 = Some(pair);
    } else {
        row.extra.emails.push(ExtraEmail {
            id: Uuid::now_v7(),
            email: pair.0,
            norm: pair.1,
            kind: match field {
                Field::EmailHome => "personal",
                Field::Email => "work",
                _ => "other",
            },
        });
    }
}

/// The office phone and mobile (the first of each), or a further typed phone. A phone never
/// fails the row (it does not make the contact unusable): a number written like one that
/// cannot be placed in the row's country is kept as written (no E.164 form) with a warning;
/// anything else (letters, too long) is kept as written in a custom field, with a warning.
fn add_phone(row: &mut Row, field: Field, v: &str, region: &str) {
    let p = match Phone::read(v, region) {
        Ok(p) => p,
        Err(e) => {
            row.warnings.push((
                field.name().to_string(),
                format!("{}; kept as written in a custom field", e.message()),
            ));
            let slot = row
                .custom
                .entry(field.name().to_string())
                .or_insert_with(|| json!(""));
            let joined = match slot.as_str() {
                Some("") | None => v.to_string(),
                Some(s) => format!("{s}; {v}"),
            };
            *slot = json!(joined);
            return;
        }
    };
    if let Some(w) = p.warning(region) {
        row.warnings.push((field.name().to_string(), w));
    }
    let e164 = p.e164().map(str::to_string);
    let key = |pair: &(Option<String>, String)| -> String {
        pair.0.clone().unwrap_or_else(|| pair.1.clone())
    };
    let mine = e164.clone().unwrap_or_else(|| p.raw().to_string());
    let known = row.phone.as_ref().is_some_and(|x| key(x) == mine)
        || row.mobile.as_ref().is_some_and(|x| key(x) == mine)
        || row
            .extra
            .phones
            .iter()
            .any(|x| x.e164.clone().unwrap_or_else(|| x.raw.clone()) == mine);
    if known {
        return;
    }
    let pair = (e164, p.raw().to_string());
    match field {
        Field::Phone if row.phone.is_none() => row.phone = Some(pair),
        Field::Mobile if row.mobile.is_none() => row.mobile = Some(pair),
        _ => row.extra.phones.push(ExtraPhone {
            id: Uuid::now_v7(),
            e164: pair.0,
            raw: pair.1,
            kind: match field {
                Field::Phone => "office",
                Field::Mobile => "mobile",
                Field::Fax => "fax",
                _ => "other",
            },
        }),
    }
}

/// Appends one value in `COPY ... (format text)` form.
fn copy_text(buf: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => buf.extend_from_slice(b"\\N"),
        Some(s) => {
            for b in s.bytes() {
                match b {
                    b'\\' => buf.extend_from_slice(b"\\\\"),
                    b'\t' => buf.extend_from_slice(b"\\t"),
                    b'\n' => buf.extend_from_slice(b"\\n"),
                    b'\r' => buf.extend_from_slice(b"\\r"),
                    _ => buf.push(b),
                }
            }
        }
    }
}

const STAGE_DDL: &str = "create temp table import_stage (
    line bigint not null, id uuid not null, first_name text, last_name text, salutation text,
    title text, job_title text, department text, email text, email_norm text, email_id uuid,
    email2 text, email2_norm text, email2_id uuid, phone text, phone_raw text, phone_id uuid,
    mobile text, mobile_raw text, mobile_id uuid, company text, company_norm text,
    company_new_id uuid, vat_id text, website text, domain text, street text, postal_code text,
    city text, country text, tags text, source text, linkedin text, birthday date, status text,
    custom jsonb, name_norm text, extras jsonb, company_id uuid, existing_id uuid,
    existing_version integer
) on commit drop";

const STAGE_COPY: &str = "copy import_stage (line, id, first_name, last_name, salutation, title, \
    job_title, department, email, email_norm, email_id, email2, email2_norm, email2_id, phone, \
    phone_raw, phone_id, mobile, mobile_raw, mobile_id, company, company_norm, company_new_id, \
    vat_id, website, domain, street, postal_code, city, country, tags, source, linkedin, \
    birthday, status, custom, name_norm, extras) from stdin";

/// Columns of `contacts` that an update may overwrite, with the staging expression for each
/// and the file field that makes them present.
const UPDATABLE: &[(&str, &str, Field)] = &[
    ("first_name", "s.first_name", Field::FirstName),
    ("last_name", "s.last_name", Field::LastName),
    ("salutation", "s.salutation", Field::Salutation),
    ("title", "s.title", Field::Title),
    ("job_title", "s.job_title", Field::JobTitle),
    ("department", "s.department", Field::Department),
    (
        "phone",
        "(case when s.phone_raw is not null then coalesce(s.phone, s.phone_raw) \
          else coalesce(s.mobile, s.mobile_raw) end)",
        Field::Phone,
    ),
    ("city", "s.city", Field::City),
    ("street", "s.street", Field::Street),
    ("postal_code", "s.postal_code", Field::PostalCode),
    ("country", "s.country", Field::Country),
    ("linkedin_url", "s.linkedin", Field::LinkedIn),
    ("birthday", "s.birthday", Field::Birthday),
    ("status", "s.status", Field::Status),
    ("company_id", "s.company_id", Field::Company),
];

struct Batch {
    copy: Vec<u8>,
    lines: Vec<(u64, csv::ByteRecord)>,
    tags: HashSet<String>,
    rows: usize,
    /// The batch's companies by normalised name (first row's details win).
    companies: HashMap<String, CompanyRow>,
    /// Rows read when this batch was complete (for the run's progress).
    rows_read: u64,
    /// The batch's first and last line in the file.
    first_line: Option<u64>,
    last_line: Option<u64>,
    /// Whether a row carries extras (addresses, further e-mails, note, ...).
    has_extras: bool,
    /// Whether a row carries the id of its source record.
    has_external: bool,
}

/// A company named by a contact row, created when no live company has its name.
struct CompanyRow {
    id: Uuid,
    name: String,
    vat_id: Option<String>,
    website: Option<String>,
    domain: Option<String>,
    street: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    country: Option<String>,
}

/// What a batch did, merged into the summary by the reading loop.
#[derive(Default)]
struct Outcome {
    created: u64,
    updated: u64,
    skipped: u64,
    companies_created: u64,
    rejects: Vec<(u64, &'static str, &'static str)>,
    changes: Vec<RowChange>,
    lines: Vec<(u64, csv::ByteRecord)>,
    /// New contacts that look like existing ones: (line, message).
    likely_duplicates: Vec<(u64, String)>,
}

/// What every batch shares (read-only).
struct Shared<'a> {
    scope: &'a Scope,
    opts: &'a ImportOptions,
    cols: &'a Columns,
    run: ImportRunId,
    actor: crate::ids::UserId,
}

impl Batch {
    fn new() -> Self {
        Self {
            copy: Vec::with_capacity(8 << 20),
            lines: Vec::new(),
            tags: HashSet::new(),
            rows: 0,
            companies: HashMap::new(),
            rows_read: 0,
            first_line: None,
            last_line: None,
            has_extras: false,
            has_external: false,
        }
    }
}

struct Ctx<'a> {
    cols: &'a Columns,
    summary: ImportSummary,
    errors_out: Option<crate::csv_out::CsvWriter<Box<dyn Write + Send + 'a>>>,
    batch_no: u64,
}

impl Ctx<'_> {
    /// Merges a finished batch into the summary and the error file.
    fn apply(&mut self, out: Outcome) -> Result<()> {
        self.summary.created += out.created;
        self.summary.updated += out.updated;
        self.summary.skipped += out.skipped;
        self.summary.companies_created += out.companies_created;
        for (line, message) in out.likely_duplicates {
            let field = "duplicate".to_string();
            self.summary.push_warning(RowError {
                line,
                field,
                message,
            });
        }
        for c in out.changes {
            if self.summary.changes.len() < 10 {
                self.summary.changes.push(c);
            }
        }
        if !out.rejects.is_empty() {
            let by_line: HashMap<u64, &csv::ByteRecord> =
                out.lines.iter().map(|(l, r)| (*l, r)).collect();
            for (line, field, message) in &out.rejects {
                self.reject(*line, by_line.get(line).copied(), field, message)?;
            }
        }
        self.summary.errors.sort_by_key(|e| e.line);
        Ok(())
    }

    fn reject(
        &mut self,
        line: u64,
        rec: Option<&csv::ByteRecord>,
        field: &str,
        message: &str,
    ) -> Result<()> {
        self.summary.failed += 1;
        self.summary.push_error(RowError {
            line,
            field: field.into(),
            message: message.into(),
        });
        if let Some(w) = self.errors_out.as_mut() {
            let mut out: Vec<String> = rec
                .map(|r| r.iter().map(|f| field_text(f).into_owned()).collect())
                .unwrap_or_default();
            out.resize(self.cols.headers.len(), String::new());
            out.extend([line.to_string(), field.to_string(), message.to_string()]);
            w.write_row(&out)
                .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?;
        }
        Ok(())
    }
}

/// Imports contacts from `input` (CSV) into the scope's organization.
///
/// `errors_out`, when given, receives every rejected row as CSV: the original columns plus
/// `line`, `field` and `error`, so the file can be fixed and imported again. `progress` is
/// called after every batch.
pub async fn import_contacts<'a, R: Read + Send + 'a>(
    scope: &Scope,
    input: R,
    opts: &ImportOptions,
    errors_out: Option<Box<dyn Write + Send + 'a>>,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<ImportSummary> {
    let (region, actor, erased, users, company_countries) = {
        let mut tx = scope.begin().await?;
        tx.require(Permission::Import)?;
        if opts.on_duplicate == OnDuplicate::Update {
            tx.require(Permission::Write)?;
        }
        let region = tx.default_region().to_string();
        let actor = tx.actor().id;
        // Keyed hashes of erased persons' addresses, to flag them when they come back.
        let erased: Vec<Vec<u8>> = sqlx::query_scalar(
            "select distinct unnest(email_hashes) from erasure_receipts where org_id = $1",
        )
        .bind(tx.org())
        .fetch_all(tx.conn())
        .await?;
        let key: Option<Vec<u8>> = if erased.is_empty() {
            None
        } else {
            sqlx::query_scalar("select key from erasure_keys where org_id = $1")
                .bind(tx.org())
                .fetch_optional(tx.conn())
                .await?
        };
        let users = owner_keys(&mut tx).await?;
        let company_countries: Vec<(String, String)> = sqlx::query_as(
            "select distinct on (name_norm) name_norm, \
                    coalesce(billing_country, delivery_country)::text from companies \
             where org_id = $1 and deleted_at is null \
               and coalesce(billing_country, delivery_country) is not null \
             order by name_norm, id",
        )
        .bind(tx.org())
        .fetch_all(tx.conn())
        .await?;
        tx.commit().await?;
        (
            region,
            actor,
            key.map(|k| (k, erased.into_iter().collect::<HashSet<Vec<u8>>>())),
            users,
            company_countries
                .into_iter()
                .map(|(n, c)| (n, c.trim().to_string()))
                .collect::<HashMap<String, String>>(),
        )
    };
    // A vCard file is read whole and turned into rows of its fields; its line numbers are
    // those of each card's BEGIN line.
    let (input, card_lines): (Box<dyn Read + Send + 'a>, Option<Vec<u64>>) =
        match formats::vcard::sniff(input, opts.from)? {
            formats::vcard::Sniffed::Cards(csv, lines) => {
                (Box::new(std::io::Cursor::new(csv)), Some(lines))
            }
            formats::vcard::Sniffed::Other(r) => (r, None),
        };
    let vcard = card_lines.is_some();
    let source = Source::open(
        input,
        opts.encoding,
        if vcard { Some(b',') } else { opts.delimiter },
    )?;
    let delimiter = source.delimiter();
    let encoding = source.encoding();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(LineCounter::new(source).with_record_cap(MAX_RECORD_BYTES));
    let mut header = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut header).map_err(csv_error)? {
        return Err(Error::invalid("file", "the file is empty"));
    }
    let pos = reader.position().byte();
    reader.get_mut().start_record(pos);
    let headers: Vec<String> = header
        .iter()
        .map(|h| field_text(h).trim().to_string())
        .collect();
    if headers.len() > MAX_COLUMNS {
        return Err(Error::invalid(
            "header",
            format!("the file has more than {MAX_COLUMNS} columns"),
        ));
    }
    let cols = Columns::new(
        headers.clone(),
        opts,
        if vcard {
            Some(Format::Vcard)
        } else {
            opts.from
        },
    )?;
    if opts.keep_unknown && cols.unknown.len() > MAX_KEPT_UNKNOWN {
        return Err(Error::invalid(
            "keep_unknown",
            format!(
                "the file has {} columns that map to no field; --keep-unknown keeps at most \
                 {MAX_KEPT_UNKNOWN}: map the ones you need with --map COLUMN=FIELD, or drop \
                 --keep-unknown",
                cols.unknown.len()
            ),
        ));
    }
    let tag_split: Vec<char> = ['|', ';', ',']
        .into_iter()
        .filter(|c| *c as u32 != u32::from(delimiter))
        .collect();

    let run = opts.run_id.unwrap_or_default();
    let options = json!({
        "on_duplicate": opts.on_duplicate,
        "dry_run": opts.dry_run,
        "mappings": opts.mappings,
    });
    let guard = super::runs::start(
        scope,
        run,
        (!opts.dry_run).then_some(super::runs::NewRun {
            kind: "contacts",
            file_name: opts.file_name.as_deref(),
            actor,
            options,
        }),
    )
    .await?;
    let result = async {
    let mut ctx = Ctx {
        cols: &cols,
        summary: ImportSummary {
            run_id: (!opts.dry_run).then_some(run),
            dry_run: opts.dry_run,
            encoding: Some(encoding),
            delimiter: (delimiter as char).to_string(),
            unknown_columns: cols
                .unknown
                .iter()
                .filter_map(|i| cols.headers.get(*i).cloned())
                .collect(),
            columns: cols
                .fields
                .iter()
                .zip(&cols.headers)
                .filter_map(|(f, h)| f.map(|f| (h.clone(), f.name().to_string())))
                .collect(),
            format: Some(cols.format),
            mapping: cols.mapping(),
            ..ImportSummary::default()
        },
        errors_out: errors_out
            .map(|w| crate::csv_out::CsvWriter::new(w, crate::csv_out::CsvOptions::default()))
            .transpose()
            .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?,
        batch_no: 0,
    };
    if let Some(w) = ctx.errors_out.as_mut() {
        let mut h = headers.clone();
        h.extend(["line".to_string(), "field".to_string(), "error".to_string()]);
        w.write_row(&h)
            .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?;
    }

    // Within-file dedup: a hash of the key to the first line that had it.
    let mut seen: HashMap<u64, u64> = HashMap::new();
    let mut batch = Batch::new();
    let mut rec = csv::ByteRecord::new();
    let batch_size = opts.batch_size.max(1);
    let keep_lines = ctx.errors_out.is_some();
    let shared = Shared {
        scope,
        opts,
        cols: &cols,
        run,
        actor,
    };
    let max_in_flight = if opts.dry_run { 1 } else { 2 };
    let mut env = RowEnv {
        company_countries,
        region: region.clone(),
        tag_split: tag_split.clone(),
        keep_unknown: opts.keep_unknown,
        users,
    };
    let mut card_no = 0usize;
    let mut in_flight = futures_util::stream::FuturesUnordered::new();
    loop {
        let more = match reader.read_byte_record(&mut rec) {
            Ok(more) => {
                let pos = reader.position().byte();
                reader.get_mut().start_record(pos);
                more
            }
            Err(e)
                if matches!(e.kind(), csv::ErrorKind::Io(io) if LineCounter::<()>::is_record_too_large(io)) =>
            {
                let start = reader.get_ref().record_start();
                let line = reader.get_mut().line_at(start);
                ctx.summary.rows += 1;
                ctx.reject(
                    line,
                    None,
                    "file",
                    &format!(
                        "a record here is larger than {} MiB (an unbalanced quote?); reading stopped here",
                        MAX_RECORD_BYTES >> 20
                    ),
                )?;
                false
            }
            Err(e) => {
                // A malformed record (e.g. an unterminated quote): report it and stop reading,
                // keeping what was imported.
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                ctx.summary.rows += 1;
                ctx.reject(
                    line,
                    None,
                    "file",
                    "malformed CSV (unbalanced quotes?); reading stopped here",
                )?;
                false
            }
        };
        if more {
            let line = match &card_lines {
                Some(lines) => {
                    card_no += 1;
                    lines.get(card_no - 1).copied().unwrap_or(0)
                }
                None => {
                    let byte = rec.position().map(|p| p.byte()).unwrap_or(0);
                    reader.get_mut().line_at(byte)
                }
            };
            if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            ctx.summary.rows += 1;
            match parse_row(&cols, &rec, &env) {
                Err(errs) => {
                    ctx.summary.failed += 1;
                    if let Some(w) = ctx.errors_out.as_mut() {
                        let mut out: Vec<String> =
                            rec.iter().map(|f| field_text(f).into_owned()).collect();
                        out.resize(cols.headers.len(), String::new());
                        let fields: Vec<&str> = errs.iter().map(|e| e.0.as_str()).collect();
                        let msgs: Vec<&str> = errs.iter().map(|e| e.1.as_str()).collect();
                        out.extend([line.to_string(), fields.join("; "), msgs.join("; ")]);
                        w.write_row(&out).map_err(|e| {
                            Error::Io(format!("writing the error file failed: {e}"))
                        })?;
                    }
                    for (field, message) in errs {
                        ctx.summary.push_error(RowError {
                            line,
                            field,
                            message,
                        });
                    }
                }
                Ok(row) => {
                    // A company this file names with a country places the numbers of the
                    // later rows of its contacts that name none.
                    if let (Some((_, norm)), Some(country)) = (&row.company, &row.country) {
                        env.company_countries
                            .entry(norm.clone())
                            .or_insert_with(|| country.clone());
                    }
                    for (field, message) in &row.warnings {
                        ctx.summary.push_warning(RowError {
                            line,
                            field: field.clone(),
                            message: message.clone(),
                        });
                    }
                    let name_norm = normalize_name(&format!(
                        "{} {}",
                        row.first_name.as_deref().unwrap_or(""),
                        row.last_name.as_deref().unwrap_or("")
                    ));
                    let key = match (&row.extra.external_id, &row.email) {
                        (Some(id), _) => hash_key(&["x", id]),
                        (None, Some((_, norm))) => hash_key(&["e", norm]),
                        (None, None) => hash_key(&[
                            "n",
                            &name_norm,
                            row.company.as_ref().map_or("", |c| c.1.as_str()),
                        ]),
                    };
                    if let Some(first) = seen.get(&key) {
                        ctx.summary.skipped += 1;
                        let _ = first;
                        continue;
                    }
                    seen.insert(key, line);
                    if let (Some((erasure_key, hashes)), Some((_, norm))) = (&erased, &row.email)
                        && hashes.contains(
                            crate::gdpr::reapply::hmac_sha256(erasure_key, norm.as_bytes())
                                .as_slice(),
                        )
                    {
                        ctx.summary.previously_erased.push(line);
                    }
                    stage_row(&mut batch, line, &row, &name_norm);
                    if let Some((name, norm)) = &row.company
                        && !batch.companies.contains_key(norm)
                    {
                        batch.companies.insert(
                            norm.clone(),
                            CompanyRow {
                                id: Uuid::now_v7(),
                                name: name.clone(),
                                vat_id: row.vat_id.clone(),
                                website: row.website.as_ref().map(|w| w.0.clone()),
                                domain: row.website.as_ref().map(|w| w.1.clone()),
                                street: row.street.clone(),
                                postal_code: row.postal_code.clone(),
                                city: row.city.clone(),
                                country: row.country.clone(),
                            },
                        );
                    }
                    // The original record is kept only to write rejected rows to an
                    // error file (memory: two batches of records otherwise).
                    if keep_lines {
                        batch.lines.push((line, rec.clone()));
                    }
                    batch.first_line.get_or_insert(line);
                    batch.last_line = Some(line);
                    batch.tags.extend(row.tags.iter().cloned());
                }
            }
        }
        if batch.rows >= batch_size || (!more && batch.rows > 0) {
            let mut b = std::mem::replace(&mut batch, Batch::new());
            b.rows_read = ctx.summary.rows;
            // Two batches in flight use both cores (the within-file dedup above keeps them
            // disjoint); a dry run goes one at a time.
            while in_flight.len() >= max_in_flight {
                if let Some(out) = in_flight.next().await {
                    ctx.apply(out?)?;
                    progress(Progress {
                        rows: ctx.summary.rows,
                        bytes: reader.get_ref().inner().bytes_read(),
                    });
                }
            }
            ctx.batch_no += 1;
            in_flight.push(flush(&shared, ctx.batch_no, b));
        }
        if !more {
            break;
        }
    }
    while let Some(out) = in_flight.next().await {
        ctx.apply(out?)?;
        progress(Progress {
            rows: ctx.summary.rows,
            bytes: reader.get_ref().inner().bytes_read(),
        });
    }
    let digest = reader.get_ref().inner().digest();
    drop(reader);
    if let Some(mut w) = ctx.errors_out.take() {
        w.flush()
            .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?;
    }
    let summary = ctx.summary;
    if !opts.dry_run && summary.created + summary.updated >= 10_000 {
        // Fresh planner statistics, so searches right after a large import use the indexes.
        scope
            .run(async |tx| {
                sqlx::query("select crm_analyze_after_import()")
                    .execute(tx.conn())
                    .await?;
                Ok(())
            })
            .await?;
    }
    if !opts.dry_run {
        let counts = json!({
            "rows": summary.rows, "created": summary.created, "updated": summary.updated,
            "skipped": summary.skipped, "failed": summary.failed,
            "companies_created": summary.companies_created,
        });
        scope
            .run(async |tx| {
                sqlx::query(
                    "update import_runs set status = 'finished', finished_at = now(), file_digest = $3, \
                     counts = $4, rows_done = $5 where org_id = $1 and id = $2",
                )
                .bind(tx.org())
                .bind(run)
                .bind(&digest)
                .bind(&counts)
                .bind(summary.rows as i64)
                .execute(tx.conn())
                .await?;
                tx.record("import", Some(run.uuid()), "finish", &counts, Some("import.finished"), &json!({"run_id": run, "counts": counts}))
                    .await
            })
            .await?;
    }
    Ok(summary)
    }
    .await;
    match result {
        Ok(summary) => {
            guard.release().await?;
            Ok(summary)
        }
        Err(e) => Err(guard.fail(scope, e).await),
    }
}

/// Active users by normalised e-mail and by folded full name, for owner columns.
pub(crate) async fn owner_keys(tx: &mut Tx) -> Result<HashMap<String, Uuid>> {
    let rows: Vec<(Uuid, String, String, String)> = sqlx::query_as(
        "select id, email_norm, first_name, last_name from users where org_id = $1 and active",
    )
    .bind(tx.org())
    .fetch_all(tx.conn())
    .await?;
    let mut out = HashMap::new();
    for (id, email, first, last) in rows {
        out.insert(email, id);
        let name = crate::domain::fold_for_search(format!("{first} {last}").trim());
        if !name.is_empty() {
            out.entry(name).or_insert(id);
        }
    }
    Ok(out)
}

fn hash_key(parts: &[&str]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

fn csv_error(e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    Error::invalid("file", format!("unreadable CSV near line {line}"))
}

fn stage_row(batch: &mut Batch, line: u64, r: &Row, name_norm: &str) {
    let b = &mut batch.copy;
    let id = || Some(Uuid::now_v7().to_string());
    let company_new = r.company.as_ref().map(|_| Uuid::now_v7().to_string());
    let tags = (!r.tags.is_empty()).then(|| r.tags.join("\u{1f}"));
    let custom =
        (!r.custom.is_empty()).then(|| serde_json::Value::Object(r.custom.clone()).to_string());
    let extras = r.extra.to_json();
    batch.has_extras |= extras.is_some();
    batch.has_external |= r.extra.external_id.is_some();
    let birthday = r.birthday.map(|d| d.to_string());
    let vals: [Option<String>; 38] = [
        Some(line.to_string()),
        Some(Uuid::now_v7().to_string()),
        r.first_name.clone(),
        r.last_name.clone(),
        r.salutation.clone(),
        r.title.clone(),
        r.job_title.clone(),
        r.department.clone(),
        r.email.as_ref().map(|e| e.0.clone()),
        r.email.as_ref().map(|e| e.1.clone()),
        r.email.as_ref().and_then(|_| id()),
        r.email2.as_ref().map(|e| e.0.clone()),
        r.email2.as_ref().map(|e| e.1.clone()),
        r.email2.as_ref().and_then(|_| id()),
        r.phone.as_ref().and_then(|p| p.0.clone()),
        r.phone.as_ref().map(|p| p.1.clone()),
        r.phone.as_ref().and_then(|_| id()),
        r.mobile.as_ref().and_then(|p| p.0.clone()),
        r.mobile.as_ref().map(|p| p.1.clone()),
        r.mobile.as_ref().and_then(|_| id()),
        r.company.as_ref().map(|c| c.0.clone()),
        r.company.as_ref().map(|c| c.1.clone()),
        company_new,
        r.vat_id.clone(),
        r.website.as_ref().map(|w| w.0.clone()),
        r.website.as_ref().map(|w| w.1.clone()),
        r.street.clone(),
        r.postal_code.clone(),
        r.city.clone(),
        r.country.clone(),
        tags,
        r.source.map(str::to_string),
        r.linkedin.clone(),
        birthday,
        r.status.map(str::to_string),
        custom,
        Some(name_norm.to_string()),
        extras,
    ];
    for (i, v) in vals.iter().enumerate() {
        if i > 0 {
            b.push(b'\t');
        }
        copy_text(b, v.as_deref());
    }
    b.push(b'\n');
    batch.rows += 1;
}

async fn flush(sh: &Shared<'_>, batch_no: u64, batch: Batch) -> Result<Outcome> {
    let mut out = Outcome::default();
    let run = sh.run;
    let actor = sh.actor;
    // Companies first, in a short transaction of their own that serialises concurrent
    // batches (two batches naming the same new company create it once). A dry run keeps
    // them in the batch's transaction, which is rolled back.
    let mut mapping: (Vec<String>, Vec<Uuid>) = (Vec::new(), Vec::new());
    if !batch.companies.is_empty() && !sh.opts.dry_run {
        let mut ctx_tx = sh.scope.begin().await?;
        let (m, created) = company_step(&mut ctx_tx, run, &batch.companies).await?;
        ctx_tx.commit().await?;
        mapping = m;
        out.companies_created = created;
    }
    let mut tx = sh.scope.begin().await?;
    let org = tx.org();
    if !batch.companies.is_empty() && sh.opts.dry_run {
        let (m, created) = company_step(&mut tx, run, &batch.companies).await?;
        mapping = m;
        out.companies_created = created;
    }
    sqlx::query(STAGE_DDL).execute(tx.conn()).await?;
    let mut copy = tx.conn().copy_in_raw(STAGE_COPY).await?;
    for chunk in batch.copy.chunks(1 << 20) {
        copy.send(chunk).await?;
    }
    copy.finish().await?;
    // Statistics for the joins below (a temporary table has none until analysed).
    sqlx::query("analyze import_stage")
        .execute(tx.conn())
        .await?;

    if !mapping.0.is_empty() {
        sqlx::query(
            "update import_stage s set company_id = m.id \
             from unnest($1::text[], $2::uuid[]) as m(norm, id) where s.company_norm = m.norm",
        )
        .bind(&mapping.0)
        .bind(&mapping.1)
        .execute(tx.conn())
        .await?;
    }

    // Existing contacts: by any e-mail, else by name and company.
    sqlx::query(
        "update import_stage s set existing_id = c.id, existing_version = c.version \
         from contact_emails e join contacts c on c.org_id = e.org_id and c.id = e.contact_id \
         where e.org_id = $1 and c.deleted_at is null and s.email_norm is not null \
           and e.email_norm = s.email_norm",
    )
    .bind(org)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "update import_stage s set existing_id = c.id, existing_version = c.version \
         from contacts c \
         where s.email_norm is null and s.existing_id is null and c.org_id = $1 \
           and c.deleted_at is null and c.last_name = coalesce(s.last_name, '') \
           and crm_fold(btrim(c.first_name || ' ' || c.last_name)) = s.name_norm \
           and c.company_id is not distinct from s.company_id",
    )
    .bind(org)
    .execute(tx.conn())
    .await?;

    if batch.has_external {
        super::extras::match_external(&mut tx).await?;
    }

    let existing: Vec<(i64, Uuid)> = sqlx::query_as(
        "select line, existing_id from import_stage where existing_id is not null order by line",
    )
    .fetch_all(tx.conn())
    .await?;
    match sh.opts.on_duplicate {
        OnDuplicate::Skip => out.skipped += existing.len() as u64,
        OnDuplicate::Error => {
            for (line, _) in &existing {
                out.rejects.push((
                    *line as u64,
                    "email",
                    "a contact with this e-mail (or name and company) already exists",
                ));
            }
        }
        OnDuplicate::Update => update_existing(sh, &mut tx, &mut out).await?,
    }

    // Tags used by this batch.
    if !batch.tags.is_empty() {
        let names: Vec<String> = batch.tags.iter().cloned().collect();
        let ids: Vec<Uuid> = names.iter().map(|_| Uuid::now_v7()).collect();
        sqlx::query(
            "insert into tags (org_id, id, name, name_norm) \
             select distinct on (crm_fold(btrim(u.name))) $1, u.id, btrim(u.name), crm_fold(btrim(u.name)) \
             from unnest($2::uuid[], $3::text[]) as u(id, name) \
             order by crm_fold(btrim(u.name)) \
             on conflict (org_id, name_norm) do nothing",
        )
        .bind(org)
        .bind(&ids)
        .bind(&names)
        .execute(tx.conn())
        .await?;
    }

    // New contacts with their e-mails, phones, owner and tags, in one statement.
    let created: i64 = sqlx::query_scalar(
        "with ins as ( \
            insert into contacts (org_id, id, company_id, salutation, title, first_name, last_name, \
                job_title, department, linkedin_url, birthday, source, status, email, email_norm, \
                phone, city, custom, import_run_id) \
            select $1, s.id, s.company_id, s.salutation, s.title, coalesce(s.first_name, ''), \
                coalesce(s.last_name, ''), s.job_title, s.department, s.linkedin, s.birthday, \
                coalesce(s.source, 'import'), coalesce(s.status, 'active'), s.email, s.email_norm, \
                case when s.phone_raw is not null then coalesce(s.phone, s.phone_raw) \
                     else coalesce(s.mobile, s.mobile_raw) end, \
                s.city, coalesce(s.custom, '{}'), $2 \
            from import_stage s where s.existing_id is null \
            order by s.email_norm, s.id \
            on conflict do nothing returning id), \
         new as (select s.* from import_stage s join ins on ins.id = s.id), \
         em as ( \
            insert into contact_emails (org_id, id, contact_id, email, email_norm, kind, is_primary) \
            select $1, email_id, id, email, email_norm, 'work', true from new where email is not null \
            union all \
            select $1, email2_id, id, email2, email2_norm, 'other', email is null from new \
            where email2 is not null and email2_norm is distinct from email_norm), \
         ph as ( \
            insert into contact_phones (org_id, id, contact_id, number_e164, number_raw, kind, is_primary) \
            select $1, phone_id, id, phone, phone_raw, 'office', true from new where phone_raw is not null \
            union all \
            select $1, mobile_id, id, mobile, mobile_raw, 'mobile', phone_raw is null from new \
            where mobile_raw is not null), \
         ow as ( \
            insert into contact_owners (org_id, contact_id, user_id, role) \
            select $1, id, $3, 'owner' from ins), \
         tg as ( \
            insert into contact_tags (org_id, contact_id, tag_id) \
            select distinct $1, n.id, t.id from new n \
            cross join lateral unnest(string_to_array(n.tags, E'\\x1f')) as tn(name) \
            join tags t on t.org_id = $1 and t.name_norm = crm_fold(btrim(tn.name)) \
            where n.tags is not null) \
         select count(*) from ins",
    )
    .bind(org)
    .bind(run)
    .bind(actor)
    .fetch_one(tx.conn())
    .await?;
    if batch.has_extras {
        let update = sh.opts.on_duplicate == OnDuplicate::Update;
        super::extras::apply(&mut tx, update, run, actor).await?;
    }
    // New contacts without a company: the one company whose domain their e-mail has.
    super::links::contacts_by_domain(&mut tx).await?;
    out.likely_duplicates = crate::dedupe::import_warnings(&mut tx, run.uuid()).await?;
    let new_rows = batch.rows as u64 - existing.len() as u64;
    out.created += created as u64;
    // Rows a concurrent writer created in the meantime were not inserted: skipped.
    out.skipped += new_rows.saturating_sub(created as u64);
    let companies_created = out.companies_created;

    let payload = json!({
        "run_id": run,
        "batch": batch_no,
        "first_line": batch.first_line,
        "last_line": batch.last_line,
        "created": created,
        "companies_created": companies_created,
    });
    if sh.opts.dry_run {
        tx.rollback().await?;
    } else {
        sqlx::query(
            "update import_runs set rows_done = greatest(rows_done, $3) where org_id = $1 and id = $2",
        )
        .bind(org)
        .bind(run)
        .bind(batch.rows_read as i64)
            .execute(tx.conn())
            .await?;
        tx.record(
            "import",
            Some(run.uuid()),
            "import_batch",
            &payload,
            Some("import.batch"),
            &payload,
        )
        .await?;
        tx.commit().await?;
    }
    out.lines = batch.lines;
    Ok(out)
}

/// Updates the matched contacts with the columns present in the file (fill and overwrite,
/// never blank), only where a value differs, checked against the version read.
async fn update_existing(sh: &Shared<'_>, tx: &mut Tx, out: &mut Outcome) -> Result<()> {
    let org = tx.org();
    let present: Vec<&(&str, &str, Field)> = UPDATABLE
        .iter()
        .filter(|(_, _, f)| sh.cols.has(*f) || (*f == Field::Phone && sh.cols.has(Field::Mobile)))
        .collect();
    if present.is_empty() {
        let n: i64 =
            sqlx::query_scalar("select count(*) from import_stage where existing_id is not null")
                .fetch_one(tx.conn())
                .await?;
        out.skipped += n as u64;
        return Ok(());
    }
    // Field-level changes of the first few, for the summary (and the dry run).
    let diff_exprs: Vec<String> = present
        .iter()
        .map(|(col, expr, _)| {
            format!(
                "case when {expr} is not null and {expr} is distinct from c.{col} \
                 then jsonb_build_object('{col}', jsonb_build_object('before', c.{col}, 'after', {expr})) \
                 else '{{}}'::jsonb end"
            )
        })
        .collect();
    let changes_sql = format!(
        "select s.line, c.id, {} as changes from import_stage s \
         join contacts c on c.org_id = $1 and c.id = s.existing_id order by s.line limit 50",
        diff_exprs.join(" || ")
    );
    let rows: Vec<(i64, Uuid, serde_json::Value)> =
        sqlx::query_as(sqlx::AssertSqlSafe(changes_sql))
            .bind(org)
            .fetch_all(tx.conn())
            .await?;
    for (line, id, changes) in rows {
        if out.changes.len() >= 10 {
            break;
        }
        if changes.as_object().is_some_and(|m| !m.is_empty()) {
            out.changes.push(RowChange {
                line: line as u64,
                id,
                changes,
            });
        }
    }
    let sets: Vec<String> = present
        .iter()
        .map(|(col, expr, _)| format!("{col} = coalesce({expr}, c.{col})"))
        .collect();
    let differs: Vec<String> = present
        .iter()
        .map(|(col, expr, _)| format!("({expr} is not null and {expr} is distinct from c.{col})"))
        .collect();
    let update_sql = format!(
        "update contacts c set {}, import_run_id = $2 from import_stage s \
         where c.org_id = $1 and c.id = s.existing_id and c.version = s.existing_version \
           and ({}) returning c.id",
        sets.join(", "),
        differs.join(" or ")
    );
    // Row locks in one order (by id), so that the two batches in flight never wait for each
    // other crosswise (two keys of a file, say a source id and an e-mail, can name one
    // contact).
    sqlx::query(
        "select c.id from contacts c join import_stage s on c.id = s.existing_id \
         where c.org_id = $1 order by c.id for update of c",
    )
    .bind(org)
    .execute(tx.conn())
    .await?;
    let updated: Vec<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(update_sql))
        .bind(org)
        .bind(sh.run)
        .fetch_all(tx.conn())
        .await?;
    // Keep the primary phone row in step with contacts.phone.
    if present.iter().any(|(c, _, _)| *c == "phone") {
        sqlx::query(
            "update contact_phones p \
             set number_e164 = case when s.phone_raw is not null then s.phone else s.mobile end, \
                 number_raw = coalesce(s.phone_raw, s.mobile_raw) \
             from contacts c join import_stage s on s.existing_id = c.id \
             where p.org_id = $1 and c.org_id = $1 and p.contact_id = c.id and p.is_primary \
               and c.id = any($2) and coalesce(p.number_e164, p.number_raw) is distinct from c.phone \
               and c.phone is not null and coalesce(s.phone_raw, s.mobile_raw) is not null",
        )
        .bind(org)
        .bind(&updated)
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "insert into contact_phones (org_id, id, contact_id, number_e164, number_raw, kind, is_primary) \
             select $1, coalesce(s.phone_id, s.mobile_id), c.id, \
                    case when s.phone_raw is not null then s.phone else s.mobile end, \
                    coalesce(s.phone_raw, s.mobile_raw), \
                    case when s.phone_raw is null then 'mobile' else 'office' end, true \
             from contacts c join import_stage s on s.existing_id = c.id \
             where c.org_id = $1 and c.id = any($2) and c.phone is not null \
               and coalesce(s.phone_raw, s.mobile_raw) is not null \
               and not exists (select 1 from contact_phones p where p.org_id = $1 and p.contact_id = c.id and p.is_primary)",
        )
        .bind(org)
        .bind(&updated)
        .execute(tx.conn())
        .await?;
    }
    // Rows whose record changed since it was read: conflicts, not overwritten.
    let conflicts: Vec<i64> = sqlx::query_scalar(
        "select s.line from import_stage s join contacts c on c.org_id = $1 and c.id = s.existing_id \
         where c.version <> s.existing_version and not (c.id = any($2)) order by s.line",
    )
    .bind(org)
    .bind(&updated)
    .fetch_all(tx.conn())
    .await?;
    let total: i64 =
        sqlx::query_scalar("select count(*) from import_stage where existing_id is not null")
            .fetch_one(tx.conn())
            .await?;
    for line in &conflicts {
        let line = *line as u64;
        out.rejects.push((
            line,
            "version",
            "the contact was changed by someone else during the import; import the row again",
        ));
    }
    out.updated += updated.len() as u64;
    out.skipped += (total as u64).saturating_sub(updated.len() as u64 + conflicts.len() as u64);
    Ok(())
}

/// Links the batch's companies by normalised name and creates the missing ones, under a
/// transaction-level advisory lock of the organization so concurrent batches never create
/// the same company twice. Returns (normalised names, ids) and how many were created.
async fn company_step(
    tx: &mut Tx,
    run: ImportRunId,
    companies: &HashMap<String, CompanyRow>,
) -> Result<((Vec<String>, Vec<Uuid>), u64)> {
    let org = tx.org();
    sqlx::query(
        "select pg_advisory_xact_lock(hashtextextended('crm.import.companies:' || $1::text, 0))",
    )
    .bind(org)
    .execute(tx.conn())
    .await?;
    let norms: Vec<String> = companies.keys().cloned().collect();
    let col = |f: &dyn Fn(&CompanyRow) -> Option<String>| -> Vec<Option<String>> {
        norms.iter().map(|n| companies.get(n).and_then(f)).collect()
    };
    let ids: Vec<Uuid> = norms
        .iter()
        .map(|n| companies.get(n).map_or_else(Uuid::now_v7, |c| c.id))
        .collect();
    let names = col(&|c| Some(c.name.clone()));
    let vats = col(&|c| c.vat_id.clone());
    let websites = col(&|c| c.website.clone());
    let domains = col(&|c| c.domain.clone());
    let streets = col(&|c| c.street.clone());
    let postals = col(&|c| c.postal_code.clone());
    let cities = col(&|c| c.city.clone());
    let countries = col(&|c| c.country.clone());
    let rows: Vec<(String, Option<Uuid>, bool)> = sqlx::query_as(
        "with wanted as ( \
            select * from unnest($2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], \
                                 $8::text[], $9::text[], $10::text[], $11::text[]) \
              as w(norm, id, name, vat_id, website, domain, street, postal_code, city, country)), \
         existing as ( \
            select distinct on (name_norm) name_norm, id from companies \
            where org_id = $1 and deleted_at is null and name_norm = any($2) order by name_norm, id), \
         ins as ( \
            insert into companies (org_id, id, name, vat_id, website, domain, billing_street, \
                                   billing_postal_code, billing_city, billing_country, import_run_id) \
            select $1, w.id, w.name, w.vat_id, w.website, w.domain, w.street, w.postal_code, w.city, \
                   w.country, $12 \
            from wanted w where not exists (select 1 from existing e where e.name_norm = w.norm) \
            on conflict do nothing returning id, name_norm) \
         select w.norm, coalesce(e.id, i.id), i.id is not null \
         from wanted w left join existing e on e.name_norm = w.norm left join ins i on i.name_norm = w.norm",
    )
    .bind(org)
    .bind(&norms)
    .bind(&ids)
    .bind(&names)
    .bind(&vats)
    .bind(&websites)
    .bind(&domains)
    .bind(&streets)
    .bind(&postals)
    .bind(&cities)
    .bind(&countries)
    .bind(run)
    .fetch_all(tx.conn())
    .await?;
    let created = rows.iter().filter(|r| r.2).count() as u64;
    let (mut n, mut i) = (Vec::new(), Vec::new());
    for (norm, id, _) in rows {
        if let Some(id) = id {
            n.push(norm);
            i.push(id);
        }
    }
    Ok(((n, i), created))
}
