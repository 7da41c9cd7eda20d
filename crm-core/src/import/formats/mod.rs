//! The exports of the tools people move in from, recognised by their headers.
//!
//! Each format is a module holding its header table as data (normalised header key to
//! [`Role`]) and the keys that identify it. [`detect`] picks the format whose identifying
//! headers a file has most of; [`cells`] turns one record into `(column, field, value)`
//! triples with the format's value quirks handled (see [`quirks`]).

pub mod companies;
mod espocrm;
mod generic;
mod google;
mod hubspot;
mod lexware;
mod outlook;
mod pipedrive;
pub mod quirks;
mod salesforce;
mod twenty;
pub mod vcard;

use std::borrow::Cow;

use serde::Serialize;

use super::contacts::Field;
use super::source::field_text;
use crate::error::{Error, Result};

/// A tool whose contact export is understood without a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Outlook desktop contacts CSV (German and English, older and newer layouts; also
    /// Windows Live Mail).
    Outlook,
    /// Google Contacts CSV (current `E-mail 1 - Value` and older `Given Name` layouts).
    Google,
    /// vCard files (`.vcf`, 2.1, 3.0 and 4.0).
    Vcard,
    /// HubSpot contact exports (default view and all properties).
    Hubspot,
    /// Salesforce reports and Data Loader files.
    Salesforce,
    /// Pipedrive person exports (`Person - ...`).
    Pipedrive,
    /// Twenty exports (`Label / Subfield`).
    Twenty,
    /// EspoCRM exports (attribute names).
    Espocrm,
    /// Lexware Office contact exports.
    Lexware,
    /// Any other CSV: English and German column names.
    Generic,
}

/// One line of `crm import formats`.
#[derive(Debug, Clone, Serialize)]
pub struct FormatInfo {
    /// The name `--from` takes.
    pub name: &'static str,
    /// What it reads.
    pub description: &'static str,
}

impl Format {
    /// Every format, in the order detection prefers them on a tie.
    pub const ALL: &'static [Format] = &[
        Format::Outlook,
        Format::Google,
        Format::Vcard,
        Format::Hubspot,
        Format::Salesforce,
        Format::Pipedrive,
        Format::Twenty,
        Format::Espocrm,
        Format::Lexware,
        Format::Generic,
    ];

    /// The name `--from` takes, and the `external_system` of the records it imports.
    pub fn name(self) -> &'static str {
        match self {
            Format::Outlook => "outlook",
            Format::Google => "google",
            Format::Vcard => "vcard",
            Format::Hubspot => "hubspot",
            Format::Salesforce => "salesforce",
            Format::Pipedrive => "pipedrive",
            Format::Twenty => "twenty",
            Format::Espocrm => "espocrm",
            Format::Lexware => "lexware",
            Format::Generic => "generic",
        }
    }

    /// A one-line description.
    pub fn description(self) -> &'static str {
        match self {
            Format::Outlook => "Outlook contacts CSV, German and English (also Windows Live Mail)",
            Format::Google => "Google Contacts CSV (current and older layout)",
            Format::Vcard => "vCard files (.vcf 2.1/3.0/4.0: Apple Contacts, Outlook, Google)",
            Format::Hubspot => "HubSpot contact and company exports",
            Format::Salesforce => {
                "Salesforce reports and Data Loader files (contacts and accounts)"
            }
            Format::Pipedrive => "Pipedrive person and organization exports",
            Format::Twenty => "Twenty people and company exports (`Label / Subfield` headers)",
            Format::Espocrm => "EspoCRM contact and account exports (attribute names)",
            Format::Lexware => "Lexware Office contact exports (people and companies)",
            Format::Generic => "any CSV with English or German column names",
        }
    }

    /// Every format with its description.
    pub fn list() -> Vec<FormatInfo> {
        Format::ALL
            .iter()
            .map(|f| FormatInfo {
                name: f.name(),
                description: f.description(),
            })
            .collect()
    }

    fn table(self) -> &'static [(&'static str, Field)] {
        match self {
            Format::Outlook => outlook::TABLE,
            Format::Google => google::TABLE,
            Format::Hubspot => hubspot::TABLE,
            Format::Salesforce => salesforce::TABLE,
            Format::Pipedrive => pipedrive::TABLE,
            Format::Twenty => twenty::TABLE,
            Format::Espocrm => espocrm::TABLE,
            Format::Lexware => lexware::TABLE,
            Format::Vcard | Format::Generic => &[],
        }
    }

    fn signature(self) -> &'static [&'static str] {
        match self {
            Format::Outlook => outlook::SIGNATURE,
            Format::Google => google::SIGNATURE,
            Format::Hubspot => hubspot::SIGNATURE,
            Format::Salesforce => salesforce::SIGNATURE,
            Format::Pipedrive => pipedrive::SIGNATURE,
            Format::Twenty => twenty::SIGNATURE,
            Format::Espocrm => espocrm::SIGNATURE,
            Format::Lexware => lexware::SIGNATURE,
            Format::Vcard | Format::Generic => &[],
        }
    }

    /// What the column `header` holds in this format (`None`: unknown to it).
    pub fn role(self, header: &str) -> Option<Role> {
        let k = key(header);
        if self == Format::Generic {
            return generic::role(header);
        }
        if self == Format::Vcard {
            return Field::from_name(header).map(Role::Field);
        }
        if self == Format::Google
            && let Some(r) = google::group_role(&k)
        {
            return Some(r);
        }
        if self == Format::Pipedrive && pipedrive::HOUSE_NUMBER.contains(&k.as_str()) {
            return Some(Role::HouseNumber);
        }
        self.table()
            .iter()
            .find(|(h, _)| *h == k)
            .map(|(_, f)| Role::Field(*f))
    }
}

impl std::str::FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let k = s.trim().to_ascii_lowercase();
        Format::ALL
            .iter()
            .copied()
            .find(|f| {
                f.name() == k
                    || (k == "vcf" && *f == Format::Vcard)
                    || (k == "csv" && *f == Format::Generic)
            })
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                Error::invalid(
                    "from",
                    format!("unknown format '{s}'; formats are: {}", names.join(", ")),
                )
            })
    }
}

/// A numbered group of columns whose label says what its values are (Google's
/// `E-mail 1 - Label` / `E-mail 1 - Value`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKind {
    /// E-mail addresses.
    Email,
    /// Phone numbers.
    Phone,
    /// A postal address.
    Address,
}

/// Which part of a group a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The label (`* Work`, `Home`, `Mobile`).
    Label,
    /// The value(s) of an e-mail or phone group.
    Value,
    /// Street.
    Street,
    /// City.
    City,
    /// Postal code.
    PostalCode,
    /// Country.
    Country,
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// One field.
    Field(Field),
    /// The house number of the business street, kept in a column of its own (Pipedrive):
    /// joined to the street with a space.
    HouseNumber,
    /// Part `part` of group `n` of kind `kind`.
    Group {
        /// The kind of group.
        kind: GroupKind,
        /// Its number in the header.
        n: u16,
        /// The part.
        part: Part,
    },
}

impl Role {
    /// The field this column stands for in the summary's mapping and for `--on-duplicate
    /// update` (a group's value stands for the business / work variant).
    pub fn field(self) -> Field {
        match self {
            Role::Field(f) => f,
            Role::HouseNumber => Field::Street,
            Role::Group { kind, part, .. } => match (kind, part) {
                (_, Part::Label) => Field::Ignore,
                (GroupKind::Email, _) => Field::Email,
                (GroupKind::Phone, _) => Field::Phone,
                (GroupKind::Address, Part::Street | Part::Value) => Field::Street,
                (GroupKind::Address, Part::City) => Field::City,
                (GroupKind::Address, Part::PostalCode) => Field::PostalCode,
                (GroupKind::Address, Part::Country) => Field::Country,
            },
        }
    }

    /// How the column is shown in the summary's mapping.
    pub fn describe(self) -> String {
        match self {
            Role::Field(f) => f.name().to_string(),
            Role::HouseNumber => "street (house number)".to_string(),
            Role::Group { kind, n, part } => {
                let k = match kind {
                    GroupKind::Email => "email",
                    GroupKind::Phone => "phone",
                    GroupKind::Address => "address",
                };
                let p = match part {
                    Part::Label => "label",
                    Part::Value => "value",
                    Part::Street => "street",
                    Part::City => "city",
                    Part::PostalCode => "postal_code",
                    Part::Country => "country",
                };
                format!("{k} {n} ({p}, by its label)")
            }
        }
    }
}

/// A header reduced to what identifies it: folded (`ä` → `ae`, `ß` → `ss`), lower case,
/// letters and digits only (`E-Mail 2: Adresse` → `email2adresse`).
pub fn key(header: &str) -> String {
    crate::domain::fold_for_search(header.trim().trim_start_matches('\u{feff}'))
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// Headers that name their tool on their own (they count twice in [`detect`]).
const STRONG: &[&str] = &[
    "recordid",
    "contactowner",
    "emailangezeigtername",
    "emaildisplayname",
    "strassegeschaeftlich",
    "businessstreet",
    "email1value",
    "givenname",
    "mailingzippostalcode",
    "mailingpostalcode",
    "personid",
    "personname",
    "namefirstname",
    "emailsprimaryemail",
    "salutationname",
    "assignedusername",
    "kundennummer",
];

/// The format of a file with these headers: the one with the most identifying headers
/// (at least two, a header that names its tool on its own counting twice), else generic.
pub fn detect(headers: &[String]) -> Format {
    let keys: Vec<String> = headers.iter().map(|h| key(h)).collect();
    let mut best = (Format::Generic, 1usize);
    for f in Format::ALL {
        let score = keys
            .iter()
            .filter(|k| f.signature().contains(&k.as_str()))
            .map(|k| if STRONG.contains(&k.as_str()) { 2 } else { 1 })
            .sum::<usize>();
        if score > best.1 {
            best = (*f, score);
        }
    }
    best.0
}

/// The role of every column under `format` (`None`: unknown). A non-generic format lets
/// several columns hold one field: values add up where the field takes several, else the
/// first non-empty one wins.
pub fn roles(format: Format, headers: &[String]) -> Vec<Option<Role>> {
    headers.iter().map(|h| format.role(h)).collect()
}

/// One value of a record, understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell<'a> {
    /// The column it came from (0-based).
    pub col: usize,
    /// The field it goes to.
    pub field: Field,
    /// The value, trimmed, its quirks undone.
    pub value: Cow<'a, str>,
}

/// Turns one record into cells: empty cells left out, values cleaned, multi-values split,
/// Google's labelled groups resolved, and only the first non-empty value of a field that
/// takes one.
pub fn cells<'a>(
    format: Format,
    roles: &[Option<Role>],
    rec: &'a csv::ByteRecord,
) -> Vec<Cell<'a>> {
    let mut out: Vec<Cell<'a>> = Vec::with_capacity(rec.len());
    if format == Format::Generic {
        for (col, raw) in rec.iter().enumerate() {
            if let Some(Some(Role::Field(field))) = roles.get(col) {
                let v = quirks::clean(field_text(raw));
                if !v.is_empty() {
                    out.push(Cell {
                        col,
                        field: *field,
                        value: v,
                    });
                }
            }
        }
        return out;
    }
    let labels = google::labels(roles, rec);
    let mut grouped: Vec<(bool, u16, Cell<'a>)> = Vec::new();
    let mut taken: Vec<Field> = Vec::new();
    let mut house: Option<(usize, Cow<'a, str>)> = None;
    for (col, raw) in rec.iter().enumerate() {
        let Some(Some(role)) = roles.get(col) else {
            continue;
        };
        let v = quirks::clean(field_text(raw));
        if v.is_empty() {
            continue;
        }
        match *role {
            Role::Field(Field::Ignore) => {}
            Role::HouseNumber => house = Some((col, v)),
            Role::Field(field) => {
                if !field.accumulates() {
                    if taken.contains(&field) {
                        continue;
                    }
                    taken.push(field);
                }
                push_values(&mut out, col, field, v);
            }
            Role::Group { kind, n, part } => {
                let (label, primary) = labels.get(&(kind, n)).cloned().unwrap_or_default();
                let Some(field) = google::group_field(kind, part, &label) else {
                    continue;
                };
                let mut vals = Vec::new();
                push_values(&mut vals, col, field, v);
                grouped.extend(vals.into_iter().map(|c| (!primary, n, c)));
            }
        }
    }
    // The main e-mail column first, wherever the export puts it (HubSpot's "all
    // properties" are alphabetical: `Additional email addresses` comes before `Email`), so
    // the first e-mail of a row, which becomes its primary, is the main one.
    out.sort_by_key(|c| u8::from(c.field != Field::Email));
    if let Some((col, no)) = house {
        match out.iter_mut().find(|c| c.field == Field::Street) {
            Some(street) => street.value = Cow::Owned(format!("{} {no}", street.value)),
            None => out.push(Cell {
                col,
                field: Field::Street,
                value: no,
            }),
        }
    }
    // Primary groups first: the first e-mail / phone of a row becomes its primary.
    grouped.sort_by_key(|(not_primary, _, c)| (*not_primary, c.col));
    // Only the first address of each kind (business, private) is kept.
    let (mut business, mut home): (Option<u16>, Option<u16>) = (None, None);
    for (_, n, c) in grouped {
        let side = match c.field {
            Field::Street | Field::City | Field::PostalCode | Field::Country => &mut business,
            Field::HomeStreet | Field::HomeCity | Field::HomePostalCode | Field::HomeCountry => {
                &mut home
            }
            _ => {
                out.push(c);
                continue;
            }
        };
        if *side.get_or_insert(n) == n && !taken.contains(&c.field) {
            out.push(c);
        }
    }
    out
}

/// Splits a multi-value cell (` ::: `, a JSON array, `;`-separated e-mails) and pushes
/// one cell per value.
fn push_values<'a>(out: &mut Vec<Cell<'a>>, col: usize, field: Field, v: Cow<'a, str>) {
    if !field.accumulates() {
        out.push(Cell {
            col,
            field,
            value: v,
        });
        return;
    }
    for value in quirks::split_multi(&v, field) {
        if !value.is_empty() {
            out.push(Cell {
                col,
                field,
                value: Cow::Owned(value),
            });
        }
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    /// Parses a CSV text (header + rows) and returns the detected format, the mapping and
    /// the cells of every row as (field name, value).
    pub fn read(text: &str, delimiter: u8) -> (Format, Vec<Vec<(String, String)>>) {
        let mut r = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(false)
            .from_reader(text.as_bytes());
        let mut recs = r.byte_records();
        let header = recs.next().unwrap().unwrap();
        let headers: Vec<String> = header.iter().map(|h| field_text(h).into_owned()).collect();
        let format = detect(&headers);
        let roles = roles(format, &headers);
        let rows = recs
            .map(|rec| {
                let rec = rec.unwrap();
                cells(format, &roles, &rec)
                    .into_iter()
                    .map(|c| (c.field.name().to_string(), c.value.into_owned()))
                    .collect()
            })
            .collect();
        (format, rows)
    }

    /// The value of the first cell of `field` in `row`.
    pub fn get<'a>(row: &'a [(String, String)], field: &str) -> Option<&'a str> {
        row.iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `field` in `row`.
    pub fn all<'a>(row: &'a [(String, String)], field: &str) -> Vec<&'a str> {
        row.iter()
            .filter(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}
