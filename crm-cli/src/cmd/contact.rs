//! `crm contact`: people, with their e-mail addresses, phones, company and tags.
//!
//! Wherever a contact is expected, it can be named by its full id, by at least 4 hex digits
//! of its id (the beginning or, as lists show, the end), or by one of its e-mail addresses.
//! JSON output is the serde form of crm-core's `Contact`; `add --json -` and
//! `edit --json -` read the same keys, so `show | jq ... | edit --json -` round-trips.

use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use crm_core::dedupe::Kind;
use crm_core::domain::DayEnd;
use crm_core::domain::{ContactSource, EntityStatus};
use crm_core::store::contact::{self, Contact, ContactFilter, ContactPatch, NewContact};
use crm_core::store::{Cursor, PageRequest};
use crm_core::{Error, FieldErrors, Tx};
use serde::ser::{SerializeSeq as _, Serializer as _};
use serde_json::{Map, Value};

use crate::cli::Format;
use crate::cmd::dedupe;
use crate::confirm::needs_terminal_or_yes;
use crate::ctx::Ctx;
use crate::exit;
use crate::input::{read_json, redact};
use crate::output::{STREAM_PAGE, io, print_json, short_id, time, write_table};
use crate::resolve::resolve_contact;

#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// List contacts, oldest first, one page at a time (`--all` streams every page).
    ///
    /// The table shows the last 8 digits of each id; `show`, `edit` and the others accept
    /// them.
    List(ListArgs),
    /// Show one contact with all its e-mail addresses, phones, tags and owners.
    Show {
        /// The contact: id, at least 4 digits of it, or an e-mail address.
        #[arg(value_name = "ID|EMAIL")]
        contact: String,
    },
    /// Add a contact from flags, or from one JSON object on stdin (`--json -`) with the keys
    /// `contact show --format json` prints. A likely duplicate of an existing contact is
    /// added too, with a warning naming it (see `contact duplicates`).
    Add(AddArgs),
    /// Change a contact: only the given fields change. `--version` is the version you read
    /// (`contact show`); if someone changed the contact since, nothing is written (exit 4).
    #[command(disable_version_flag = true)]
    Edit(EditArgs),
    /// Delete a contact (soft: `contact restore` brings it back). Asks for confirmation on
    /// a terminal; scripts pass --yes.
    #[command(disable_version_flag = true)]
    Delete {
        /// The contact: id, at least 4 digits of it, or an e-mail address.
        #[arg(value_name = "ID|EMAIL")]
        contact: String,
        /// Only if the contact is still at this version.
        #[arg(long = "version", value_name = "N")]
        at_version: Option<i32>,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show what would be deleted and what depends on it; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Restore a deleted contact (`contact list --deleted` shows them).
    Restore {
        /// The contact's id or at least 4 digits of it.
        #[arg(value_name = "ID")]
        contact: String,
    },
    /// Merge one or more contacts into KEEP, in one transaction: per-field choice with
    /// `--take field=ID`, otherwise KEEP's value, else the newest non-empty one; e-mails,
    /// phones, tags, owners united; deals, activities, consents and a Lexware link move to
    /// KEEP. The others become tombstones pointing at KEEP. Two contacts linked to different
    /// Lexware contacts are refused (exit 4). `--dry-run` shows the result and changes
    /// nothing. JSON: `{merge_id, kind, survivor_id, merged_ids, taken, moved, versions,
    /// dry_run, record}`; `contact unmerge MERGE_ID` undoes it.
    Merge(dedupe::MergeArgs),
    /// Undo a merge: the merged contacts come back, KEEP gets its values back, every moved
    /// record points at its contact again. Refused (exit 4) naming what changed when
    /// anything the merge touched was changed since.
    Unmerge(dedupe::UnmergeArgs),
    /// Groups of contacts that are probably the same person, best first, with a score
    /// (0-1) and the reasons: same e-mail (ignoring case and spaces), same phone (E.164),
    /// similar name (Müller/Mueller, typos, initials, swapped names) at the same company or
    /// e-mail domain. JSON: a list of `{kind, score, reasons, ids, members, pairs}`.
    Duplicates(dedupe::DuplicatesArgs),
    /// Mark two contacts as not the same person: `duplicates` no longer proposes the pair.
    NotDuplicate(dedupe::NotDuplicateArgs),
    /// Change many contacts at once: select them by the filters of `list` (every match, not
    /// one page) or by ids on stdin (--stdin), then --add-tag, --remove-tag and --set
    /// FIELD=VALUE. Each record changes through the same rules as a single edit (one audit
    /// entry each), --batch-size records per transaction; a record that fails is reported
    /// and skipped. Prints a summary; exit 5 when any record failed. Try --dry-run first.
    BulkEdit(BulkEditArgs),
}

/// Filters and paging of `contact list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only contacts with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Only contacts this user owns, works on or watches.
    #[arg(long, value_name = "EMAIL")]
    pub owner: Option<String>,
    /// Only contacts with this status: active, inactive, blocked.
    #[arg(long)]
    pub status: Option<EntityStatus>,
    /// Only contacts of this company.
    #[arg(long, value_name = "ID|NAME")]
    pub company: Option<String>,
    /// Only contacts from this source: website, referral, event, cold_outreach, partner,
    /// import, lexware, other.
    #[arg(long)]
    pub source: Option<ContactSource>,
    /// Only contacts whose name, primary e-mail or phone contain every word (case and
    /// accents do not matter: Müller = Mueller).
    #[arg(long, value_name = "QUERY")]
    pub text: Option<String>,
    /// Only contacts created at or after this time (RFC 3339, or a date YYYY-MM-DD).
    #[arg(long, value_name = "TIME", value_parser = crate::time::time_arg)]
    pub created_after: Option<crate::time::TimeArg>,
    /// Only contacts created before this time (RFC 3339, or a date YYYY-MM-DD).
    #[arg(long, value_name = "TIME", value_parser = crate::time::time_arg)]
    pub created_before: Option<crate::time::TimeArg>,
    /// Only deleted contacts (to restore one).
    #[arg(long)]
    pub deleted: bool,
    /// Contacts per page (1 to 10000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Continue after this cursor (printed on stderr under a page that has more).
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<Cursor>,
    /// Every page, streamed with constant memory (one JSON array, one CSV header).
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

/// The fields `add` and `edit` take as flags.
#[derive(Debug, Args, Default)]
#[command(next_help_heading = "Fields")]
pub struct FieldArgs {
    /// First (given) name.
    #[arg(long)]
    pub first_name: Option<String>,
    /// Last (family) name.
    #[arg(long)]
    pub last_name: Option<String>,
    /// E-mail address, optionally with its kind: `--email work:a@b.de` (work, personal,
    /// other; default work). Repeatable: the first is primary. On edit one address replaces
    /// the primary address; several (or a kind) replace every address.
    #[arg(long, value_name = "[KIND:]EMAIL")]
    pub email: Vec<String>,
    /// Phone number, optionally with its kind: `--phone mobile:+49 170 1234567` (office,
    /// mobile, fax, other; default office). Repeatable: the first is primary; on edit as
    /// --email. National numbers are read in the contact's country (address, else its
    /// company's, else the organization's region); one that cannot be placed is kept as
    /// written, with a warning.
    #[arg(long, value_name = "[KIND:]NUMBER")]
    pub phone: Vec<String>,
    /// The company: its id or its exact name.
    #[arg(long, value_name = "ID|NAME")]
    pub company: Option<String>,
    /// Job title.
    #[arg(long)]
    pub job_title: Option<String>,
    /// City (business address).
    #[arg(long)]
    pub city: Option<String>,
    /// Street and number (business address).
    #[arg(long)]
    pub street: Option<String>,
    /// Postal code (business address).
    #[arg(long)]
    pub postal_code: Option<String>,
    /// Country (business address): a two-letter code (DE) or a name (Deutschland).
    #[arg(long)]
    pub country: Option<String>,
    /// Street and number (private address).
    #[arg(long)]
    pub home_street: Option<String>,
    /// Postal code (private address).
    #[arg(long)]
    pub home_postal_code: Option<String>,
    /// City (private address).
    #[arg(long)]
    pub home_city: Option<String>,
    /// Country (private address): a two-letter code (DE) or a name (Deutschland).
    #[arg(long)]
    pub home_country: Option<String>,
    /// A tag (repeatable; on edit the given tags replace the contact's tags).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// How the contact came in: website, referral, event, cold_outreach, partner, import,
    /// lexware, other.
    #[arg(long)]
    pub source: Option<ContactSource>,
    /// Status: active, inactive, blocked.
    #[arg(long)]
    pub status: Option<EntityStatus>,
    /// Salutation (Frau, Herr, Mx., ...).
    #[arg(long)]
    pub salutation: Option<String>,
    /// Academic or honorary title (Dr., Prof.).
    #[arg(long)]
    pub title: Option<String>,
    /// Department.
    #[arg(long)]
    pub department: Option<String>,
    /// LinkedIn profile address.
    #[arg(long, value_name = "URL")]
    pub linkedin: Option<String>,
    /// Date of birth.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub birthday: Option<String>,
}

impl FieldArgs {
    fn any(&self) -> bool {
        self.first_name.is_some()
            || self.last_name.is_some()
            || !self.email.is_empty()
            || !self.phone.is_empty()
            || self.company.is_some()
            || self.job_title.is_some()
            || self.city.is_some()
            || self.street.is_some()
            || self.postal_code.is_some()
            || self.country.is_some()
            || self.home_street.is_some()
            || self.home_postal_code.is_some()
            || self.home_city.is_some()
            || self.home_country.is_some()
            || !self.tags.is_empty()
            || self.source.is_some()
            || self.status.is_some()
            || self.salutation.is_some()
            || self.title.is_some()
            || self.department.is_some()
            || self.linkedin.is_some()
            || self.birthday.is_some()
    }
}

/// Arguments of `contact add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub fields: FieldArgs,
    /// Read the contact as one JSON object from this file, or `-` for stdin.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

/// A field `edit --clear` empties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Clearable {
    /// The primary e-mail address (the next address becomes primary).
    Email,
    /// The primary phone number (the next number becomes primary).
    Phone,
    /// The company.
    Company,
    /// The job title.
    JobTitle,
    /// The city.
    City,
    /// The street (business address).
    Street,
    /// The postal code (business address).
    PostalCode,
    /// The country (business address).
    Country,
    /// The street (private address).
    HomeStreet,
    /// The postal code (private address).
    HomePostalCode,
    /// The city (private address).
    HomeCity,
    /// The country (private address).
    HomeCountry,
    /// Every tag.
    Tags,
    /// The salutation.
    Salutation,
    /// The title.
    Title,
    /// The department.
    Department,
    /// The LinkedIn profile address.
    Linkedin,
    /// The date of birth.
    Birthday,
}

/// Arguments of `contact edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The contact: id, at least 4 digits of it, or an e-mail address.
    #[arg(value_name = "ID|EMAIL")]
    pub contact: String,
    /// The version you read (`contact show`); required unless the JSON has `version`.
    #[arg(long = "version", value_name = "N")]
    pub at_version: Option<i32>,
    #[command(flatten)]
    pub fields: FieldArgs,
    /// Empty this field (repeatable).
    #[arg(long, value_enum, value_name = "FIELD")]
    pub clear: Vec<Clearable>,
    /// Read the change as one JSON object from this file, or `-` for stdin: the keys to
    /// change (`null` clears), as `contact show --format json` prints them.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Resolving what people type
// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------

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
    let company = obj.remove("company");
    if obj.contains_key("company_id") {
        return None;
    }
    match company {
        Some(Value::String(name)) => Some(Some(name)),
        Some(Value::Null) => Some(None),
        Some(other) => {
            // Let the strict parse report it under its own name.
            obj.insert("company".into(), other);
            None
        }
        None => None,
    }
}

fn from_json<T: serde::de::DeserializeOwned>(obj: Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(obj))
        .map_err(|e| Error::invalid("json", redact(&e.to_string())).into())
}

fn parse_birthday(errors: &mut FieldErrors, raw: Option<&str>) -> Option<NaiveDate> {
    let raw = raw?.trim();
    errors.check(
        "birthday",
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| "must be a date YYYY-MM-DD"),
    )
}

async fn new_from_flags(tx: &mut Tx, f: FieldArgs) -> Result<NewContact> {
    let mut errors = FieldErrors::new();
    let birthday = parse_birthday(&mut errors, f.birthday.as_deref());
    errors.into_result()?;
    let company_id = match &f.company {
        Some(c) => Some(crate::resolve::resolve_company(tx, c).await?),
        None => None,
    };
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
        emails: super::channels::emails(&f.email)?,
        phones: super::channels::phones(&f.phone)?,
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

async fn new_from_json(tx: &mut Tx, mut obj: Map<String, Value>) -> Result<NewContact> {
    obj.remove("version");
    let company = strip_read_only(&mut obj);
    let mut new: NewContact = from_json(obj)?;
    if let Some(Some(name)) = company {
        new.company_id = Some(crate::resolve::resolve_company(tx, &name).await?);
    }
    Ok(new)
}

/// `Some(Some(v))` when given, `Some(None)` when cleared.
fn set<T>(value: Option<T>, cleared: bool) -> Option<Option<T>> {
    match value {
        Some(v) => Some(Some(v)),
        None if cleared => Some(None),
        None => None,
    }
}

async fn patch_from_flags(
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
    if let Some((c, _)) = given.iter().find(|(c, g)| *g && cleared(*c)) {
        let name = c
            .to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        return Err(exit::usage(format!(
            "--{name} and --clear {name} contradict each other; give one"
        )));
    }
    let mut errors = FieldErrors::new();
    let birthday = parse_birthday(&mut errors, f.birthday.as_deref());
    errors.into_result()?;
    let company_id = match &f.company {
        Some(c) => Some(crate::resolve::resolve_company(tx, c).await?),
        None => None,
    };
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
            [one] if !super::channels::any_kind_prefix(&f.email) => Some(Some(one.clone())),
            _ => set(None, cleared(Clearable::Email)),
        },
        emails: if f.email.len() > 1 || super::channels::any_kind_prefix(&f.email) {
            Some(super::channels::emails(&f.email)?)
        } else {
            None
        },
        phone: match f.phone.as_slice() {
            [one] if !super::channels::any_kind_prefix(&f.phone) => Some(Some(one.clone())),
            _ => set(None, cleared(Clearable::Phone)),
        },
        phones: if f.phone.len() > 1 || super::channels::any_kind_prefix(&f.phone) {
            Some(super::channels::phones(&f.phone)?)
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
        tags: if !f.tags.is_empty() {
            Some(f.tags)
        } else if cleared(Clearable::Tags) {
            Some(Vec::new())
        } else {
            None
        },
        ..ContactPatch::at(version)
    })
}

async fn patch_from_json(
    tx: &mut Tx,
    mut obj: Map<String, Value>,
    version: Option<i32>,
) -> Result<ContactPatch> {
    if let Some(v) = version {
        obj.insert("version".into(), v.into());
    } else if !obj.contains_key("version") {
        return Err(exit::usage(
            "give the version you read: --version N or \"version\" in the JSON \
             (`crm contact show` prints it)",
        ));
    }
    let company = strip_read_only(&mut obj);
    let mut patch: ContactPatch = from_json(obj)?;
    match company {
        Some(Some(name)) => {
            patch.company_id = Some(Some(crate::resolve::resolve_company(tx, &name).await?))
        }
        Some(None) => patch.company_id = Some(None),
        None => {}
    }
    Ok(patch)
}

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn full_name(c: &Contact) -> String {
    format!("{} {}", c.first_name, c.last_name)
        .trim()
        .to_string()
}

const TABLE_HEADERS: [&str; 6] = ["id", "name", "email", "company", "tags", "created"];

fn table_cells(c: &Contact) -> Vec<String> {
    vec![
        short_id(c.id),
        full_name(c),
        opt(&c.email),
        opt(&c.company),
        c.tags.join(", "),
        c.created_at.format("%Y-%m-%d").to_string(),
    ]
}

/// The CSV columns: those of `crm export contacts`, then `company_id` and `version`.
const CSV_HEADERS: [&str; 18] = [
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "job_title",
    "department",
    "salutation",
    "title",
    "city",
    "source",
    "status",
    "tags",
    "created_at",
    "updated_at",
    "company_id",
    "version",
];

fn csv_cells(c: &Contact) -> Vec<String> {
    vec![
        c.id.to_string(),
        c.first_name.clone(),
        c.last_name.clone(),
        opt(&c.email),
        opt(&c.phone),
        opt(&c.company),
        opt(&c.job_title),
        opt(&c.department),
        opt(&c.salutation),
        opt(&c.title),
        opt(&c.city),
        c.source.to_string(),
        c.status.to_string(),
        c.tags.join("|"),
        time(&c.created_at),
        time(&c.updated_at),
        c.company_id.map(|i| i.to_string()).unwrap_or_default(),
        c.version.to_string(),
    ]
}

/// Prints one contact: the whole object as JSON, field / value pairs as a table, one CSV row.
fn print_contact(format: Format, c: &Contact) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => print_json(format, c),
        Format::Csv => {
            let stdout = crate::pipe::stdout();
            let mut w = crate::output::csv_writer(stdout.lock())?;
            w.write_row(CSV_HEADERS)?;
            w.write_row(csv_cells(c))?;
            w.flush()?;
            Ok(())
        }
        Format::Table => {
            let name = [
                c.salutation.as_deref(),
                c.title.as_deref(),
                Some(c.first_name.as_str()),
                Some(c.last_name.as_str()),
            ]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
            let emails = c
                .emails
                .iter()
                .map(|e| {
                    let star = if e.primary { " *" } else { "" };
                    format!("{} ({}){star}", e.email, e.kind)
                })
                .collect::<Vec<_>>()
                .join("\n");
            let phones = c
                .phones
                .iter()
                .map(|p| {
                    let star = if p.primary { " *" } else { "" };
                    format!("{} ({}){star}", p.number, p.kind)
                })
                .collect::<Vec<_>>()
                .join("\n");
            let mut rows: Vec<Vec<String>> = vec![
                vec!["id".into(), c.id.to_string()],
                vec!["name".into(), name],
                vec!["company".into(), opt(&c.company)],
                vec!["job title".into(), opt(&c.job_title)],
                vec!["department".into(), opt(&c.department)],
                vec!["e-mail".into(), emails],
                vec!["phone".into(), phones],
                vec!["city".into(), opt(&c.city)],
                vec![
                    "address".into(),
                    address(&c.street, &c.postal_code, &c.city, &c.country),
                ],
                vec![
                    "home address".into(),
                    address(
                        &c.home_street,
                        &c.home_postal_code,
                        &c.home_city,
                        &c.home_country,
                    ),
                ],
                vec!["tags".into(), c.tags.join(", ")],
                vec!["linkedin".into(), opt(&c.linkedin_url)],
                vec![
                    "birthday".into(),
                    c.birthday.map(|d| d.to_string()).unwrap_or_default(),
                ],
                vec!["source".into(), c.source.to_string()],
                vec!["status".into(), c.status.to_string()],
                vec!["owners".into(), c.owners.len().to_string()],
            ];
            if c.custom.as_object().is_some_and(|m| !m.is_empty()) {
                rows.push(vec!["custom".into(), c.custom.to_string()]);
            }
            rows.push(vec!["version".into(), c.version.to_string()]);
            rows.push(vec!["created".into(), time(&c.created_at)]);
            rows.push(vec!["updated".into(), time(&c.updated_at)]);
            if let Some(d) = &c.deleted_at {
                rows.push(vec!["deleted".into(), time(d)]);
            }
            let stdout = crate::pipe::stdout();
            let mut out = stdout.lock();
            write_table(&mut out, &["field", "value"], rows)?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Pages of a contact list in one transaction: one page, or every page with `all`.
struct Pages<'t> {
    tx: &'t mut Tx,
    filter: ContactFilter,
    request: PageRequest,
    all: bool,
    done: bool,
    /// Where the next page starts, once a page stopped short of the end.
    more: Option<Cursor>,
}

impl Pages<'_> {
    async fn next(&mut self) -> crm_core::Result<Option<Vec<Contact>>> {
        if self.done {
            return Ok(None);
        }
        let page = contact::list(self.tx, &self.filter, self.request).await?;
        match page.next {
            Some(next) if self.all => self.request.after = Some(next),
            next => {
                self.done = true;
                self.more = next;
            }
        }
        Ok(Some(page.items))
    }
}

/// Prints the pages as they arrive (memory stays at one page); returns the cursor of the
/// following page when there is one and not every page was asked for.
async fn print_pages(format: Format, mut pages: Pages<'_>) -> Result<Option<Cursor>> {
    let stdout = crate::pipe::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Json => {
            let mut ser = serde_json::Serializer::pretty(&mut out);
            let mut seq = ser.serialize_seq(None).map_err(io)?;
            while let Some(items) = pages.next().await? {
                for c in &items {
                    seq.serialize_element(c).map_err(io)?;
                }
            }
            seq.end().map_err(io)?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            while let Some(items) = pages.next().await? {
                for c in &items {
                    serde_json::to_writer(&mut out, c).map_err(io)?;
                    writeln!(out)?;
                }
            }
        }
        Format::Csv => {
            let mut w = crate::output::csv_writer(&mut out)?;
            w.write_row(CSV_HEADERS)?;
            while let Some(items) = pages.next().await? {
                for c in &items {
                    w.write_row(csv_cells(c))?;
                }
                w.flush()?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut shown = 0;
            while let Some(items) = pages.next().await? {
                if items.is_empty() && shown > 0 {
                    continue;
                }
                shown += items.len();
                write_table(&mut out, &TABLE_HEADERS, items.iter().map(table_cells))?;
                out.flush()?;
            }
            if shown == 0 {
                crate::output::write_none(&mut out, "contacts")?;
            }
        }
    }
    out.flush()?;
    Ok(pages.more)
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

pub async fn run(cmd: ContactCommand, ctx: &Ctx) -> Result<u8> {
    match cmd {
        ContactCommand::List(args) => list(args, ctx).await,
        ContactCommand::BulkEdit(args) => bulk_edit(args, ctx).await,
        ContactCommand::Show { contact: reference } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_contact(&mut tx, &reference).await?;
            let c = contact::get(&mut tx, id).await?;
            tx.commit().await?;
            print_contact(ctx.format(), &c)?;
            Ok(exit::OK)
        }
        ContactCommand::Add(args) => {
            if args.json.is_some() && args.fields.any() {
                return Err(exit::usage(
                    "give the contact either as flags or as --json, not both",
                ));
            }
            let json = args.json.as_deref().map(read_json).transpose()?;
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let new = match json {
                Some(obj) => new_from_json(&mut tx, obj).await?,
                None => new_from_flags(&mut tx, args.fields).await?,
            };
            let c = contact::create(&mut tx, new).await?;
            let likely = crm_core::dedupe::likely_duplicates(
                &mut tx,
                crm_core::dedupe::Kind::Contact,
                &[c.id.uuid()],
                None,
            )
            .await?;
            tx.commit().await?;
            warn_unplaced_phones(ctx, &c);
            for l in &likely {
                ctx.note(format!(
                    "warning: this contact is {}",
                    l.describe(crm_core::dedupe::Kind::Contact)
                ));
            }
            print_contact(ctx.format(), &c)?;
            Ok(exit::OK)
        }
        ContactCommand::Edit(args) => {
            if args.json.is_some() && (args.fields.any() || !args.clear.is_empty()) {
                return Err(exit::usage(
                    "give the change either as flags or as --json, not both",
                ));
            }
            if args.json.is_none() {
                if args.at_version.is_none() {
                    return Err(exit::usage(
                        "--version N is required: the version you read (`crm contact show` \
                         prints it)",
                    ));
                }
                if !args.fields.any() && args.clear.is_empty() {
                    return Err(exit::usage(
                        "nothing to change: give the fields to change as flags (see \
                         `crm contact edit --help`) or --json -",
                    ));
                }
            }
            let json = args.json.as_deref().map(read_json).transpose()?;
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_contact(&mut tx, &args.contact).await?;
            let patch = match json {
                Some(obj) => patch_from_json(&mut tx, obj, args.at_version).await?,
                None => {
                    let version = args.at_version.unwrap_or_default();
                    patch_from_flags(&mut tx, version, args.fields, &args.clear).await?
                }
            };
            let c = contact::update(&mut tx, id, patch).await?;
            tx.commit().await?;
            warn_unplaced_phones(ctx, &c);
            print_contact(ctx.format(), &c)?;
            Ok(exit::OK)
        }
        ContactCommand::Delete {
            contact: reference,
            at_version,
            yes,
            dry_run,
        } => {
            needs_terminal_or_yes(yes || dry_run)?;
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_contact(&mut tx, &reference).await?;
            let c = contact::get(&mut tx, id).await?;
            let dependents = crm_core::store::dependents::of_contact(&mut tx, id).await?;
            tx.commit().await?;
            // The confirmed state is the one deleted: a change in between is a conflict.
            let version = at_version.or(if yes { None } else { Some(c.version) });
            let target = format!("contact {} ({})", full_name(&c), short_id(id));
            if !crate::confirm::before_destroying(
                ctx,
                yes,
                dry_run,
                "delete",
                &target,
                &dependents,
            )? {
                return Ok(exit::OK);
            }
            scope
                .run(async |tx| contact::delete(tx, id, version).await)
                .await?;
            if matches!(ctx.format(), Format::Json | Format::Ndjson) {
                let receipt = serde_json::json!({ "id": id, "deleted": true });
                print_json(ctx.format(), &receipt)?;
            }
            ctx.note(format!(
                "contact deleted; `crm contact restore {id}` brings it back"
            ));
            Ok(exit::OK)
        }
        ContactCommand::Restore { contact: reference } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_contact(&mut tx, &reference).await?;
            let c = contact::restore(&mut tx, id).await?;
            tx.commit().await?;
            print_contact(ctx.format(), &c)?;
            Ok(exit::OK)
        }
        ContactCommand::Merge(args) => dedupe::merge(Kind::Contact, args, ctx).await,
        ContactCommand::Unmerge(args) => dedupe::unmerge(Kind::Contact, args, ctx).await,
        ContactCommand::Duplicates(args) => dedupe::duplicates(Kind::Contact, args, ctx).await,
        ContactCommand::NotDuplicate(args) => dedupe::not_duplicate(Kind::Contact, args, ctx).await,
    }
}

async fn list(args: ListArgs, ctx: &Ctx) -> Result<u8> {
    let (crm, org, scope) = ctx.scope().await?;
    let zone = crate::time::zone_of(&scope).await?;
    let mut tx = scope.begin().await?;
    let filter = list_filter(&args, &crm, &org, zone, &mut tx).await?;
    let pages = Pages {
        tx: &mut tx,
        filter,
        request: PageRequest {
            limit: if args.all { STREAM_PAGE } else { args.limit },
            after: args.after,
        },
        all: args.all,
        done: false,
        more: None,
    };
    let more = print_pages(ctx.format(), pages).await?;
    tx.commit().await?;
    if let Some(cursor) = more {
        ctx.note(format!(
            "more contacts: continue with --after {cursor} (or --all for every page)"
        ));
    }
    Ok(exit::OK)
}

/// The filter of `contact list` (and `contact bulk-edit`) from its flags.
async fn list_filter(
    args: &ListArgs,
    crm: &crm_core::Crm,
    org: &crm_core::Organization,
    zone: crm_core::domain::Zone,
    tx: &mut Tx,
) -> Result<ContactFilter> {
    let owner = match &args.owner {
        Some(email) => match crm.user_by_email(org.id, email).await {
            Ok((id, _)) => Some(id),
            Err(Error::NotFound { .. }) => {
                return Err(exit::coded(
                    exit::NOT_FOUND,
                    "--owner: no user with that e-mail in this organization (`crm user list`)",
                ));
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let company_id = match &args.company {
        Some(c) => Some(crate::resolve::resolve_company(tx, c).await?),
        None => None,
    };
    Ok(ContactFilter {
        owner,
        status: args.status,
        tag: args.tag.clone(),
        company_id,
        created_after: crate::time::opt_time(&args.created_after, zone, DayEnd::Start)?,
        created_before: crate::time::opt_time(&args.created_before, zone, DayEnd::End)?,
        source: args.source,
        text: args.text.clone(),
        only_deleted: args.deleted,
        ..ContactFilter::default()
    })
}

/// A postal address on one line: `Hauptstraße 1, 10115 Berlin, DE`.
fn address(
    street: &Option<String>,
    postal_code: &Option<String>,
    city: &Option<String>,
    country: &Option<String>,
) -> String {
    let place = [postal_code.as_deref(), city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    [street.as_deref(), Some(place.as_str()), country.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Warns (on stderr) about phone numbers kept as written because they could not be read as
/// numbers of the contact's country (DESIGN.md's phone-country rule); never quotes them.
fn warn_unplaced_phones(ctx: &Ctx, c: &crm_core::store::contact::Contact) {
    for (i, _) in c.phones.iter().enumerate().filter(|(_, p)| !p.valid) {
        ctx.note(format!(
            "warning: phone {} is not a valid number of the contact's country (its address, \
             else its company's, else the organization's region, see `crm org show`); kept as \
             written, without an international form: give it with its country code (+41 ...)",
            i + 1
        ));
    }
}

/// Arguments of `contact bulk-edit`: the selection (the list filters, every match: the paging
/// flags are hidden and not used) and the edit.
#[derive(Debug, Args)]
#[command(
    mut_arg("limit", |a| a.hide(true)),
    mut_arg("after", |a| a.hide(true)),
    mut_arg("all", |a| a.hide(true))
)]
pub struct BulkEditArgs {
    #[command(flatten)]
    pub filters: ListArgs,
    #[command(flatten)]
    pub edit: crate::cmd::bulk_edit::EditArgs,
}

async fn bulk_edit(args: BulkEditArgs, ctx: &Ctx) -> Result<u8> {
    use crm_core::bulk::BulkKind;
    let kind = BulkKind::Contacts;
    let edit = args.edit.edit(kind)?;
    let (crm, org, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let ids = if args.edit.stdin {
        let refs = crate::cmd::bulk_edit::stdin_references()?;
        crate::cmd::bulk_edit::resolve_all(&mut tx, refs, async |tx, r| {
            Ok(resolve_contact(tx, r).await?.uuid())
        })
        .await?
    } else {
        let zone = crate::time::zone_of(&scope).await?;
        let filter = list_filter(&args.filters, &crm, &org, zone, &mut tx).await?;
        let mut ids = Vec::new();
        contact::for_each_batch(
            &mut tx,
            &filter,
            crate::output::STREAM_PAGE,
            async |page: Vec<contact::Contact>| {
                ids.extend(page.iter().map(|r| r.id.uuid()));
                Ok(())
            },
        )
        .await?;
        ids
    };
    tx.commit().await?;
    crate::cmd::bulk_edit::run(ctx, &scope, kind, ids, &args.edit, edit).await
}
