//! Reading one CSV record into a validated [`Row`].

use std::collections::HashMap;

use serde_json::json;
use uuid::Uuid;

use super::{Columns, Field, MAX_KEPT_VALUE, MAX_TAG_LEN, MAX_TAGS};
use crate::domain::{ContactSource, Email, EntityStatus, Phone, VatId, Website, normalize_name};
use crate::import::extras::{Extra, ExtraEmail, ExtraPhone};
use crate::import::formats::{self, Format};
use crate::import::source::field_text;

/// One validated row, ready for staging.
#[derive(Default)]
pub(super) struct Row {
    pub(super) first_name: Option<String>,
    pub(super) last_name: Option<String>,
    pub(super) salutation: Option<String>,
    pub(super) title: Option<String>,
    pub(super) job_title: Option<String>,
    pub(super) department: Option<String>,
    pub(super) email: Option<(String, String)>,
    pub(super) email2: Option<(String, String)>,
    /// (E.164 form when the number could be placed, as written).
    pub(super) phone: Option<(Option<String>, String)>,
    pub(super) mobile: Option<(Option<String>, String)>,
    pub(super) company: Option<(String, String)>,
    pub(super) vat_id: Option<String>,
    pub(super) website: Option<(String, String)>,
    pub(super) street: Option<String>,
    pub(super) postal_code: Option<String>,
    pub(super) city: Option<String>,
    pub(super) country: Option<String>,
    pub(super) tags: Vec<String>,
    pub(super) source: Option<&'static str>,
    pub(super) linkedin: Option<String>,
    pub(super) birthday: Option<chrono::NaiveDate>,
    pub(super) status: Option<&'static str>,
    pub(super) custom: serde_json::Map<String, serde_json::Value>,
    /// Addresses, further e-mails and phones, note, owner, source id.
    pub(super) extra: Extra,
    /// Problems that do not fail the row: (field, message).
    pub(super) warnings: Vec<(String, String)>,
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

/// What every row of an import shares.
pub(super) struct RowEnv {
    /// The organization's region, for national phone numbers without an address country.
    pub(super) region: String,
    /// The address country of the organization's companies by normalised name, for the
    /// phones of contacts of a company (phone-country rule).
    pub(super) company_countries: HashMap<String, String>,
    /// Tag separators (those that are not the file's delimiter).
    pub(super) tag_split: Vec<char>,
    pub(super) keep_unknown: bool,
    /// Active users by normalised e-mail and by folded full name (owner columns).
    pub(super) users: HashMap<String, Uuid>,
}

/// Validates one record. Collects every problem of the row.
pub(super) fn parse_row(
    cols: &Columns,
    rec: &csv::ByteRecord,
    env: &RowEnv,
) -> std::result::Result<Row, Vec<(String, String)>> {
    // A NUL byte or another control character (other than tab and line breaks) in a column
    // that is read fails this row alone: PostgreSQL refuses NUL in text, and terminal
    // escapes must not reach anyone's screen.
    let errs = control_byte_errors(cols, rec, env);
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut r = Reading::default();
    if env.keep_unknown {
        r.keep_unknown_columns(cols, rec);
    }
    for cell in formats::cells(cols.format, &cols.roles, rec) {
        // Line breaks in a single-line cell (a spreadsheet's Alt+Enter) become spaces.
        let folded = if cell.field == Field::Notes {
            std::borrow::Cow::Borrowed(cell.value.as_ref())
        } else {
            crate::domain::text::fold_line_breaks(&cell.value)
        };
        r.cell(cell.field, &folded, cols, env);
    }
    let Reading {
        mut row,
        mut errs,
        phones,
        calling_code,
    } = r;
    place_phones(&mut row, phones, calling_code.as_deref(), env);
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

/// The problems of control characters in the columns that are read.
fn control_byte_errors(
    cols: &Columns,
    rec: &csv::ByteRecord,
    env: &RowEnv,
) -> Vec<(String, String)> {
    let mut errs = Vec::new();
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
    errs
}

/// A row being read: the row, its problems, and its phones (read last, see
/// [`place_phones`]).
#[derive(Default)]
struct Reading {
    row: Row,
    errs: Vec<(String, String)>,
    phones: Vec<(Field, String)>,
    calling_code: Option<String>,
}

impl Reading {
    /// Keeps the columns that map to no field as custom fields (`--keep-unknown`).
    fn keep_unknown_columns(&mut self, cols: &Columns, rec: &csv::ByteRecord) {
        for &i in &cols.unknown {
            if let (Some(raw), Some(h)) = (rec.get(i), cols.headers.get(i)) {
                let text = field_text(raw);
                let v = text.trim();
                if v.chars().count() > MAX_KEPT_VALUE {
                    self.errs.push((
                        h.trim().to_string(),
                        format!("is longer than {MAX_KEPT_VALUE} characters"),
                    ));
                } else if !v.is_empty() {
                    self.row.custom.insert(h.trim().to_string(), json!(v));
                }
            }
        }
    }

    /// Reads one cell of `field` into the row, or records its problem.
    fn cell(&mut self, field: Field, v: &str, cols: &Columns, env: &RowEnv) {
        let Reading {
            row,
            errs,
            phones,
            calling_code,
        } = self;
        let mut err = |msg: &str| errs.push((field.name().to_string(), msg.to_string()));
        let long = v.chars().count() > 500 && field != Field::Notes;
        let control = field != Field::Notes && crate::domain::text::check_single_line(v).is_err();
        match field {
            _ if long => err("is longer than 500 characters"),
            _ if control => err(crate::domain::text::CONTROL_MESSAGE),
            Field::Notes if v.chars().count() > 20_000 => err("is longer than 20000 characters"),
            Field::Email | Field::Email2 | Field::EmailHome | Field::EmailOther => {
                add_email(row, field, v, cols.format, errs)
            }
            Field::Phone | Field::Mobile | Field::Fax | Field::PhoneOther => {
                phones.push((field, v.to_string()))
            }
            Field::CallingCode => *calling_code = Some(v.to_string()),
            Field::Tags => {
                if let Err(message) = add_tags(&mut row.tags, v, &env.tag_split) {
                    err(&message);
                }
            }
            Field::Owner => match env.users.get(&owner_key(v)) {
                Some(id) => row.extra.owner = Some(*id),
                None => row.warnings.push((
                    "owner".into(),
                    "names no user of this organization (by e-mail or name); the importing user owns the contact".into(),
                )),
            },
            Field::ExternalId => {
                row.extra.external_system = Some(cols.format.name().to_string());
                row.extra.external_id = Some(v.to_string());
            }
            Field::CompanyId => {
                row.extra.company_external_system = Some(cols.format.name().to_string());
                row.extra.company_external_id = Some(v.to_string());
            }
            _ => {
                if let Err(message) = set_value(row, field, v) {
                    err(&message);
                }
            }
        }
    }
}

/// Sets a field of the row that one cell holds; fails with the problem's message when the
/// value cannot be read.
fn set_value(row: &mut Row, field: Field, v: &str) -> std::result::Result<(), String> {
    match field {
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
        Field::Company => row.company = Some((v.to_string(), normalize_name(v))),
        Field::VatId => match VatId::parse(v) {
            Ok(vat) => row.vat_id = Some(vat.as_str().to_string()),
            Err(e) => return Err(e.message().to_string()),
        },
        Field::Website => match Website::parse(v) {
            Ok(w) => row.website = Some((w.as_str().to_string(), w.domain().to_string())),
            Err(e) => return Err(e.message().to_string()),
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
                return Err(
                    "is not a known country; use a two-letter ISO code such as DE, AT or CH"
                        .into(),
                );
            }
        },
        Field::Source => match v.parse::<ContactSource>() {
            Ok(s) => row.source = Some(s.as_str()),
            Err(_) => return Err(
                "is not a known source (website, referral, event, cold_outreach, partner, import, lexware, other)"
                    .into(),
            ),
        },
        Field::LinkedIn => match linkedin_url(v) {
            Some(url) => row.linkedin = Some(url),
            None => return Err("is not a LinkedIn profile URL".into()),
        },
        Field::Birthday if formats::quirks::is_empty_date(v) => {}
        Field::Birthday => match parse_date(v) {
            Some(d) if d <= chrono::Utc::now().date_naive() => row.birthday = Some(d),
            Some(_) => return Err("is in the future".into()),
            None => return Err("is not a date (YYYY-MM-DD or DD.MM.YYYY)".into()),
        },
        Field::Status => match v.parse::<EntityStatus>() {
            Ok(s) => row.status = Some(s.as_str()),
            Err(_) => return Err("must be active, inactive or blocked".into()),
        },
        Field::Notes => row.extra.add_note(v),
        // Read by the caller (addresses, numbers, tags, owner, ids) or not at all.
        _ => {}
    }
    Ok(())
}

/// Adds the tags of one cell (split at the separators that are not the delimiter). Stops at
/// the first tag too long or one too many, with the problem.
fn add_tags(tags: &mut Vec<String>, v: &str, split: &[char]) -> Result<(), String> {
    for t in v
        .split(|c: char| split.contains(&c))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if t.chars().count() > MAX_TAG_LEN {
            return Err(format!("has a tag longer than {MAX_TAG_LEN} characters"));
        }
        if tags.len() >= MAX_TAGS {
            return Err(format!("has more than {MAX_TAGS} tags"));
        }
        tags.push(t.to_string());
    }
    Ok(())
}

/// A LinkedIn profile URL as written (with `https://` when it has no scheme), or `None`
/// when the value is not one.
fn linkedin_url(v: &str) -> Option<String> {
    let lower = v.to_ascii_lowercase();
    if lower.contains("linkedin.com/") && !v.contains(char::is_whitespace) {
        Some(if lower.starts_with("http") {
            v.to_string()
        } else {
            format!("https://{v}")
        })
    } else {
        None
    }
}

/// The key an owner cell names a user by: the e-mail (lower case), else the folded name.
fn owner_key(v: &str) -> String {
    if v.contains('@') {
        v.trim().to_lowercase()
    } else {
        crate::domain::fold_for_search(v.trim())
    }
}

/// Reads the row's phones, after every other cell: a national number is read in the country
/// of the contact's address, else its company's, else the organization's region
/// (DESIGN.md's phone-country rule). A contact whose only numbers are further ones gets the
/// first (not a fax) as primary.
fn place_phones(
    row: &mut Row,
    phones: Vec<(Field, String)>,
    calling_code: Option<&str>,
    env: &RowEnv,
) {
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
        let text = match calling_code {
            Some(code) if !raw.starts_with('+') && !raw.starts_with("00") => {
                format!("{} {raw}", code.trim())
            }
            _ => raw,
        };
        add_phone(row, field, &text, &region);
    }
    if row.phone.is_none()
        && row.mobile.is_none()
        && let Some(i) = row.extra.phones.iter().position(|p| p.kind != "fax")
    {
        let p = row.extra.phones.remove(i);
        row.phone = Some((p.e164, p.raw));
    }
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
