//! `crm company`: companies with their master data, addresses, tags and company-to-company
//! relationships.
//!
//! Wherever a company is expected it can be named by its full id, by at least 4 hex digits
//! of its id (the beginning or, as lists show, the end), by its VAT id, its domain or its
//! exact name (see `crm_core::store::company::resolve`). JSON output of one company is the
//! serde form of crm-core's `Company` with one more key, `relationships`; `add --json -`
//! and `edit --json -` read the same keys (read-only ones such as `id` or `contacts` are
//! ignored), so `show | jq ... | edit --json -` round-trips.

use std::io::Write;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use crm_core::dedupe::Kind as DedupeKind;
use crm_core::domain::DayEnd;
use crm_core::domain::{CompanySize, EntityStatus};
use crm_core::store::company::{
    self, Company, CompanyFilter, CompanyPatch, NewCompany, Relationship,
};
use crm_core::store::{Cursor, PageRequest};
use crm_core::{CompanyId, Error, Tx};
use serde::Serialize;
use serde::ser::{SerializeSeq as _, Serializer as _};
use serde_json::{Map, Value};

use crate::cli::Format;
use crate::confirm::needs_terminal_or_yes;
use crate::ctx::Ctx;
use crate::exit;
use crate::input::{read_json, redact};
use crate::output::{self, Row};
use crate::output::{STREAM_PAGE, io, print_json, short_id, time, write_table};
use crate::resolve::resolve_company;

/// What names a company on the command line.
const REF_HELP: &str = "ID|NAME|VAT|DOMAIN";

#[derive(Debug, Subcommand)]
pub enum CompanyCommand {
    /// List companies, oldest first, one page at a time (`--all` streams every page).
    ///
    /// JSON: an array of company objects (as `company show` prints them, without
    /// `relationships`). The table shows the last 8 digits of each id; `show`, `edit` and
    /// the others accept them.
    List(ListArgs),
    /// Show one company with its e-mail addresses, phones, tags, owners and relationships.
    ///
    /// The company can be named by its full id, at least 4 digits of it (beginning or end),
    /// its VAT id, its domain or its exact name (case and accents ignored). A reference that
    /// matches several companies is refused (exit 2) listing their ids.
    ///
    /// JSON: the company object with one more key, `relationships`: a list of
    /// `{id, from_company_id, to_company_id, type_key, type_label_en, type_label_de, note,
    /// created_at, direction (outgoing|incoming), other_company_id, other_company_name}`.
    Show {
        /// The company: id, at least 4 digits of it, VAT id, domain or exact name.
        #[arg(value_name = REF_HELP)]
        company: String,
    },
    /// Add a company from flags, or from one JSON object on stdin (`--json -`) with the keys
    /// `company show --format json` prints (only `name` is required). A likely duplicate of
    /// an existing company is added too, with a warning naming it (see `company duplicates`).
    Add(AddArgs),
    /// Change a company: only the given fields change. `--version` is the version you read
    /// (`company show`); if someone changed the company since, nothing is written (exit 4).
    #[command(disable_version_flag = true)]
    Edit(EditArgs),
    /// Delete a company (soft: `company restore` brings it back; its contacts keep their
    /// link). Asks for confirmation on a terminal; scripts pass --yes.
    #[command(disable_version_flag = true)]
    Delete {
        /// The company: id, at least 4 digits of it, VAT id, domain or exact name.
        #[arg(value_name = REF_HELP)]
        company: String,
        /// Only if the company is still at this version (else exit 4).
        #[arg(long = "version", value_name = "N")]
        at_version: Option<i32>,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show what would be deleted and what depends on it (contacts, deals with their
        /// sums, activities); change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Restore a deleted company (`company list --deleted` shows them). Refused (exit 4)
    /// when another company has taken its VAT id in the meantime.
    Restore {
        /// The company: id, at least 4 digits of it, VAT id, domain or exact name.
        #[arg(value_name = REF_HELP)]
        company: String,
    },
    /// Relate two companies: FROM is TYPE of TO (e.g. `relate "Holding AG" "Tochter GmbH"
    /// --type parent_of`). `crm list show relationship-types` shows the types.
    Relate {
        /// The `from` company.
        #[arg(value_name = "FROM")]
        from: String,
        /// The `to` company.
        #[arg(value_name = "TO")]
        to: String,
        /// The relationship type: key or label (parent_of, partner_of, supplier_of, ...).
        #[arg(long = "type", value_name = "KEY")]
        kind: String,
        /// A free note.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Remove a relationship (`company relationships` shows the ids). Asks on a terminal;
    /// scripts pass --yes.
    Unrelate {
        /// The relationship's id.
        #[arg(value_name = "RELATIONSHIP_ID")]
        relationship: uuid::Uuid,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Check that it can be removed, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// A company's relationships in both directions, seen from it.
    Relationships {
        /// The company: id, at least 4 digits of it, VAT id, domain or exact name.
        #[arg(value_name = REF_HELP)]
        company: String,
    },
    /// Groups of companies that are probably the same, best first, with a score (0-1) and
    /// the reasons: same VAT id, same web domain, same or similar name ignoring the legal
    /// form (GmbH, AG, GmbH & Co. KG, e.K., ...). JSON: a list of `{kind, score, reasons,
    /// ids, members, pairs}`.
    Duplicates(crate::cmd::dedupe::DuplicatesArgs),
    /// Merge one or more companies into KEEP, in one transaction: per-field choice with
    /// `--take field=ID`, otherwise KEEP's value, else the newest non-empty one; e-mails,
    /// phones, tags, owners united; contacts, deals, activities, relationships and a Lexware
    /// link move to KEEP. The others become tombstones pointing at KEEP. `--dry-run` changes
    /// nothing. JSON: `{merge_id, ...}`; `company unmerge MERGE_ID` undoes it.
    Merge(crate::cmd::dedupe::MergeArgs),
    /// Undo a company merge exactly, unless something it touched changed since (exit 4,
    /// naming what changed).
    Unmerge(crate::cmd::dedupe::UnmergeArgs),
    /// Mark two companies as not the same: `duplicates` no longer proposes the pair.
    NotDuplicate(crate::cmd::dedupe::NotDuplicateArgs),
    /// Change many companies at once: select them by the filters of `list` (every match, not
    /// one page) or by ids on stdin (--stdin), then --add-tag, --remove-tag and --set
    /// FIELD=VALUE. Each record changes through the same rules as a single edit (one audit
    /// entry each), --batch-size records per transaction; a record that fails is reported
    /// and skipped. Prints a summary; exit 5 when any record failed. Try --dry-run first.
    BulkEdit(BulkEditArgs),
}

/// Filters and paging of `company list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only companies with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Only companies this user owns (any owner role).
    #[arg(long, value_name = "EMAIL")]
    pub owner: Option<String>,
    /// Only companies with this status: active, inactive, blocked.
    #[arg(long)]
    pub status: Option<EntityStatus>,
    /// Only companies in this industry (key or label; `crm list show industries`).
    #[arg(long, value_name = "KEY")]
    pub industry: Option<String>,
    /// Only companies of this account type (key or label; `crm list show account-types`).
    #[arg(long, value_name = "KEY")]
    pub account_type: Option<String>,
    /// Only companies of this size: micro, small, medium, large, unknown.
    #[arg(long)]
    pub size: Option<CompanySize>,
    /// Only companies whose name, domain, e-mail, phone, VAT id or city contains this text
    /// (case and accents do not matter: Müller = Mueller).
    #[arg(long, value_name = "QUERY")]
    pub text: Option<String>,
    /// Only companies created at or after this time (RFC 3339, or a date YYYY-MM-DD).
    #[arg(long, value_name = "TIME", value_parser = crate::time::time_arg)]
    pub created_after: Option<crate::time::TimeArg>,
    /// Only companies created before this time (RFC 3339, or a date YYYY-MM-DD).
    #[arg(long, value_name = "TIME", value_parser = crate::time::time_arg)]
    pub created_before: Option<crate::time::TimeArg>,
    /// Only deleted companies (to restore one).
    #[arg(long)]
    pub deleted: bool,
    /// Companies per page (1 to 10000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Continue after this cursor (printed on stderr under a page that has more).
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<Cursor>,
    /// Every page, streamed with constant memory (one JSON array, one CSV header).
    #[arg(long)]
    pub all: bool,
}

/// The fields `add` and `edit` take as flags. Street, postal code, city and country are the
/// billing address.
#[derive(Debug, Args, Default)]
pub struct FieldArgs {
    /// The company's name (required for `add`).
    #[arg(long)]
    pub name: Option<String>,
    /// Internet domain (example.com); derived from --website when not given.
    #[arg(long)]
    pub domain: Option<String>,
    /// Web site; https:// is added when no scheme is given.
    #[arg(long, value_name = "URL")]
    pub website: Option<String>,
    /// Industry: key or English / German label (`crm list show industries`).
    #[arg(long, value_name = "KEY")]
    pub industry: Option<String>,
    /// Account type: key or label (`crm list show account-types`).
    #[arg(long, value_name = "KEY")]
    pub account_type: Option<String>,
    /// VAT id (USt-IdNr.), in any spelling: `DE 123 456 789` is stored as `DE123456789`.
    #[arg(long, value_name = "VAT")]
    pub vat_id: Option<String>,
    /// Tax number (Steuernummer).
    #[arg(long)]
    pub tax_id: Option<String>,
    /// Trade register number (HRB 12345).
    #[arg(long, value_name = "NUMBER")]
    pub trade_register: Option<String>,
    /// Register court (Amtsgericht Köln).
    #[arg(long)]
    pub court: Option<String>,
    /// Size class: micro, small, medium, large, unknown (wins over --employees).
    #[arg(long)]
    pub size: Option<CompanySize>,
    /// Head count; sets the size class.
    #[arg(long, value_name = "N")]
    pub employees: Option<u32>,
    /// Status: active, inactive, blocked.
    #[arg(long)]
    pub status: Option<EntityStatus>,
    /// Primary e-mail address (on edit: becomes the primary address).
    #[arg(long)]
    pub email: Option<String>,
    /// Primary phone number; national numbers are read in the company's country, else the
    /// organization's region.
    #[arg(long)]
    pub phone: Option<String>,
    /// Street and number (billing address).
    #[arg(long)]
    pub street: Option<String>,
    /// Postal code (billing address).
    #[arg(long)]
    pub postal_code: Option<String>,
    /// City (billing address).
    #[arg(long)]
    pub city: Option<String>,
    /// Two-letter country code, e.g. DE, AT, CH (billing address).
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// A tag (repeatable; on edit the given tags replace the company's tags).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
}

impl FieldArgs {
    fn any(&self) -> bool {
        let Self {
            name,
            domain,
            website,
            industry,
            account_type,
            vat_id,
            tax_id,
            trade_register,
            court,
            size,
            employees,
            status,
            email,
            phone,
            street,
            postal_code,
            city,
            country,
            tags,
        } = self;
        [
            name,
            domain,
            website,
            industry,
            account_type,
            vat_id,
            tax_id,
            trade_register,
            court,
            email,
            phone,
            street,
            postal_code,
            city,
            country,
        ]
        .iter()
        .any(|f| f.is_some())
            || size.is_some()
            || employees.is_some()
            || status.is_some()
            || !tags.is_empty()
    }
}

/// Arguments of `company add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub fields: FieldArgs,
    /// Read the company as one JSON object from this file, or `-` for stdin.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

/// A field `edit --clear` empties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Clearable {
    /// The domain.
    Domain,
    /// The web site.
    Website,
    /// The industry.
    Industry,
    /// The account type.
    AccountType,
    /// The VAT id.
    VatId,
    /// The tax number.
    TaxId,
    /// The trade register number.
    TradeRegister,
    /// The register court.
    Court,
    /// The primary e-mail address (the next address becomes primary).
    Email,
    /// The primary phone number (the next number becomes primary).
    Phone,
    /// The billing street.
    Street,
    /// The billing postal code.
    PostalCode,
    /// The billing city.
    City,
    /// The billing country.
    Country,
    /// Every tag.
    Tags,
}

/// Arguments of `company edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The company: id, at least 4 digits of it, VAT id, domain or exact name.
    #[arg(value_name = REF_HELP)]
    pub company: String,
    /// The version you read (`company show`); required unless the JSON has `version`.
    #[arg(long = "version", value_name = "N")]
    pub at_version: Option<i32>,
    #[command(flatten)]
    pub fields: FieldArgs,
    /// Empty this field (repeatable).
    #[arg(long, value_enum, value_name = "FIELD")]
    pub clear: Vec<Clearable>,
    /// Read the change as one JSON object from this file, or `-` for stdin: the keys to
    /// change (`null` clears), as `company show --format json` prints them.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Resolving what people type
// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------
// Input
// ---------------------------------------------------------------------------------------

/// The keys a company is written with (`NewCompany`; `CompanyPatch` adds `version`).
const INPUT_KEYS: &[&str] = &[
    "name",
    "domain",
    "website",
    "industry",
    "account_type",
    "vat_id",
    "tax_id",
    "trade_register_number",
    "trade_register_court",
    "size",
    "employees",
    "status",
    "billing_street",
    "billing_postal_code",
    "billing_city",
    "billing_country",
    "delivery_street",
    "delivery_postal_code",
    "delivery_city",
    "delivery_country",
    "email",
    "emails",
    "phone",
    "phones",
    "tags",
    "owners",
    "custom",
];

/// Keys `company show` prints that the CRM sets; ignored on input.
const READ_ONLY_KEYS: &[&str] = &[
    "id",
    "contacts",
    "created_at",
    "updated_at",
    "deleted_at",
    "relationships",
    "lexware_open_amounts",
];

/// Drops read-only keys and refuses unknown ones (a typo must not be silently ignored).
fn check_keys(obj: &mut Map<String, Value>, with_version: bool) -> Result<()> {
    obj.retain(|k, _| !READ_ONLY_KEYS.contains(&k.as_str()));
    if !with_version {
        obj.remove("version");
    }
    let mut errors = crm_core::FieldErrors::new();
    for key in obj.keys() {
        let known = INPUT_KEYS.contains(&key.as_str()) || (with_version && key == "version");
        if !known {
            errors.add(key.clone(), "is not a company field");
        }
    }
    Ok(errors.into_result()?)
}

/// Deserializes `obj`; on failure, names the field that failed (each key is tried alone).
fn from_json<T: serde::de::DeserializeOwned>(
    obj: Map<String, Value>,
    base: &Map<String, Value>,
) -> Result<T> {
    match serde_json::from_value(Value::Object(obj.clone())) {
        Ok(v) => Ok(v),
        Err(all) => {
            let mut errors = crm_core::FieldErrors::new();
            for (k, v) in &obj {
                let mut one = base.clone();
                one.insert(k.clone(), v.clone());
                if let Err(e) = serde_json::from_value::<T>(Value::Object(one)) {
                    errors.add(k.clone(), redact(&e.to_string()));
                }
            }
            if errors.is_empty() {
                errors.add("json", redact(&all.to_string()));
            }
            Err(Error::Validation(errors).into())
        }
    }
}

fn new_from_flags(f: FieldArgs) -> Result<NewCompany> {
    let Some(name) = f.name else {
        return Err(exit::usage(
            "--name is required (or give the whole company with --json -)",
        ));
    };
    Ok(NewCompany {
        name,
        domain: f.domain,
        website: f.website,
        industry: f.industry,
        account_type: f.account_type,
        vat_id: f.vat_id,
        tax_id: f.tax_id,
        trade_register_number: f.trade_register,
        trade_register_court: f.court,
        size: f.size,
        employees: f.employees,
        status: f.status,
        billing_street: f.street,
        billing_postal_code: f.postal_code,
        billing_city: f.city,
        billing_country: f.country,
        email: f.email,
        phone: f.phone,
        tags: f.tags,
        ..NewCompany::default()
    })
}

fn new_from_json(mut obj: Map<String, Value>) -> Result<NewCompany> {
    check_keys(&mut obj, false)?;
    from_json(obj, &Map::new())
}

/// `Some(Some(v))` when given, `Some(None)` when cleared.
fn set<T>(value: Option<T>, cleared: bool) -> Option<Option<T>> {
    match value {
        Some(v) => Some(Some(v)),
        None if cleared => Some(None),
        None => None,
    }
}

fn patch_from_flags(version: i32, f: FieldArgs, clear: &[Clearable]) -> Result<CompanyPatch> {
    let cleared = |c: Clearable| clear.contains(&c);
    let given = [
        (Clearable::Domain, f.domain.is_some()),
        (Clearable::Website, f.website.is_some()),
        (Clearable::Industry, f.industry.is_some()),
        (Clearable::AccountType, f.account_type.is_some()),
        (Clearable::VatId, f.vat_id.is_some()),
        (Clearable::TaxId, f.tax_id.is_some()),
        (Clearable::TradeRegister, f.trade_register.is_some()),
        (Clearable::Court, f.court.is_some()),
        (Clearable::Email, f.email.is_some()),
        (Clearable::Phone, f.phone.is_some()),
        (Clearable::Street, f.street.is_some()),
        (Clearable::PostalCode, f.postal_code.is_some()),
        (Clearable::City, f.city.is_some()),
        (Clearable::Country, f.country.is_some()),
        (Clearable::Tags, !f.tags.is_empty()),
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
    Ok(CompanyPatch {
        name: f.name,
        domain: set(f.domain, cleared(Clearable::Domain)),
        website: set(f.website, cleared(Clearable::Website)),
        industry: set(f.industry, cleared(Clearable::Industry)),
        account_type: set(f.account_type, cleared(Clearable::AccountType)),
        vat_id: set(f.vat_id, cleared(Clearable::VatId)),
        tax_id: set(f.tax_id, cleared(Clearable::TaxId)),
        trade_register_number: set(f.trade_register, cleared(Clearable::TradeRegister)),
        trade_register_court: set(f.court, cleared(Clearable::Court)),
        size: f.size,
        employees: f.employees,
        status: f.status,
        billing_street: set(f.street, cleared(Clearable::Street)),
        billing_postal_code: set(f.postal_code, cleared(Clearable::PostalCode)),
        billing_city: set(f.city, cleared(Clearable::City)),
        billing_country: set(f.country, cleared(Clearable::Country)),
        email: set(f.email, cleared(Clearable::Email)),
        phone: set(f.phone, cleared(Clearable::Phone)),
        tags: if !f.tags.is_empty() {
            Some(f.tags)
        } else if cleared(Clearable::Tags) {
            Some(Vec::new())
        } else {
            None
        },
        ..CompanyPatch::at(version)
    })
}

fn patch_from_json(mut obj: Map<String, Value>, version: Option<i32>) -> Result<CompanyPatch> {
    if let Some(v) = version {
        obj.insert("version".into(), v.into());
    } else if !obj.contains_key("version") {
        return Err(exit::usage(
            "give the version you read: --version N or \"version\" in the JSON \
             (`crm company show` prints it)",
        ));
    }
    check_keys(&mut obj, true)?;
    let mut base = Map::new();
    base.insert("version".into(), 0.into());
    from_json(obj, &base)
}

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// One company as `show` prints it: the company's keys plus `relationships`.
#[derive(Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    company: &'a Company,
    relationships: &'a [Relationship],
}

const TABLE_HEADERS: [&str; 7] = ["id", "name", "domain", "vat_id", "city", "contacts", "tags"];

fn table_cells(c: &Company) -> Vec<String> {
    vec![
        short_id(c.id),
        c.name.clone(),
        opt(&c.domain),
        opt(&c.vat_id),
        opt(&c.billing_city),
        c.contacts.to_string(),
        c.tags.join(", "),
    ]
}

/// The CSV columns of `company list` and `company show`.
const CSV_HEADERS: [&str; 20] = [
    "id",
    "name",
    "domain",
    "website",
    "industry",
    "account_type",
    "vat_id",
    "tax_id",
    "email",
    "phone",
    "billing_street",
    "billing_postal_code",
    "billing_city",
    "billing_country",
    "size",
    "status",
    "contacts",
    "tags",
    "version",
    "created_at",
];

fn csv_cells(c: &Company) -> Vec<String> {
    vec![
        c.id.to_string(),
        c.name.clone(),
        opt(&c.domain),
        opt(&c.website),
        opt(&c.industry),
        opt(&c.account_type),
        opt(&c.vat_id),
        opt(&c.tax_id),
        opt(&c.email),
        opt(&c.phone),
        opt(&c.billing_street),
        opt(&c.billing_postal_code),
        opt(&c.billing_city),
        opt(&c.billing_country),
        c.size.to_string(),
        c.status.to_string(),
        c.contacts.to_string(),
        c.tags.join("|"),
        c.version.to_string(),
        time(&c.created_at),
    ]
}

/// Prints one company with its relationships.
fn print_company(format: Format, c: &Company, rels: &[Relationship]) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => print_json(
            format,
            &Shown {
                company: c,
                relationships: rels,
            },
        ),
        Format::Csv => {
            let stdout = crate::pipe::stdout();
            let mut w = crate::output::csv_writer(stdout.lock())?;
            w.write_row(CSV_HEADERS)?;
            w.write_row(csv_cells(c))?;
            w.flush()?;
            Ok(())
        }
        Format::Table => {
            let list = |items: Vec<String>| items.join("\n");
            let emails = list(
                c.emails
                    .iter()
                    .map(|e| {
                        let star = if e.primary { " *" } else { "" };
                        format!("{} ({}){star}", e.email, e.kind)
                    })
                    .collect(),
            );
            let phones = list(
                c.phones
                    .iter()
                    .map(|p| {
                        let star = if p.primary { " *" } else { "" };
                        format!("{} ({}){star}", p.number, p.kind)
                    })
                    .collect(),
            );
            let address = |street: &Option<String>,
                           postal: &Option<String>,
                           city: &Option<String>,
                           country: &Option<String>| {
                let place = [postal.as_deref(), city.as_deref()]
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
            };
            let relationships = list(
                rels.iter()
                    .map(|r| {
                        let arrow = match r.direction {
                            company::Direction::Outgoing => "→",
                            company::Direction::Incoming => "←",
                        };
                        format!("{} {arrow} {}", r.type_label_en, r.other_company_name)
                    })
                    .collect(),
            );
            let mut rows: Vec<Vec<String>> = vec![
                vec!["id".into(), c.id.to_string()],
                vec!["name".into(), c.name.clone()],
                vec!["domain".into(), opt(&c.domain)],
                vec!["website".into(), opt(&c.website)],
                vec!["industry".into(), opt(&c.industry)],
                vec!["account type".into(), opt(&c.account_type)],
                vec!["vat id".into(), opt(&c.vat_id)],
                vec!["tax id".into(), opt(&c.tax_id)],
                vec![
                    "trade register".into(),
                    [
                        c.trade_register_number.as_deref(),
                        c.trade_register_court.as_deref(),
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
                ],
                vec!["size".into(), c.size.to_string()],
                vec!["status".into(), c.status.to_string()],
                vec!["e-mail".into(), emails],
                vec!["phone".into(), phones],
                vec![
                    "billing address".into(),
                    address(
                        &c.billing_street,
                        &c.billing_postal_code,
                        &c.billing_city,
                        &c.billing_country,
                    ),
                ],
                vec![
                    "delivery address".into(),
                    address(
                        &c.delivery_street,
                        &c.delivery_postal_code,
                        &c.delivery_city,
                        &c.delivery_country,
                    ),
                ],
                vec!["contacts".into(), c.contacts.to_string()],
                vec!["tags".into(), c.tags.join(", ")],
                vec!["owners".into(), c.owners.len().to_string()],
                vec!["relationships".into(), relationships],
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

impl Row for Relationship {
    fn headers() -> Vec<&'static str> {
        vec!["id", "type", "direction", "company", "company_id", "note"]
    }
    fn cells(&self) -> Vec<String> {
        let direction = match self.direction {
            company::Direction::Outgoing => "outgoing",
            company::Direction::Incoming => "incoming",
        };
        vec![
            self.id.to_string(),
            self.type_key.clone(),
            direction.to_string(),
            self.other_company_name.clone(),
            self.other_company_id.to_string(),
            opt(&self.note),
        ]
    }
}

/// Pages of a company list in one transaction: one page, or every page with `all`.
struct Pages<'t> {
    tx: &'t mut Tx,
    filter: CompanyFilter,
    request: PageRequest,
    all: bool,
    done: bool,
    /// A page fetched ahead (the first, so that a bad filter fails before any output).
    ahead: Option<Vec<Company>>,
    /// Where the next page starts, once a page stopped short of the end.
    more: Option<Cursor>,
}

impl Pages<'_> {
    async fn next(&mut self) -> crm_core::Result<Option<Vec<Company>>> {
        if let Some(items) = self.ahead.take() {
            return Ok(Some(items));
        }
        if self.done {
            return Ok(None);
        }
        let page = company::list(self.tx, &self.filter, self.request).await?;
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
                out.flush()?;
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
            let mut first = true;
            let mut shown = 0;
            while let Some(items) = pages.next().await? {
                if items.is_empty() && shown > 0 {
                    continue;
                }
                shown += items.len();
                if items.is_empty() && !first {
                    break;
                }
                // One header, above the first page.
                let headers: &[&str] = if first { &TABLE_HEADERS } else { &[] };
                first = false;
                write_table(&mut out, headers, items.iter().map(table_cells))?;
                out.flush()?;
            }
            if shown == 0 {
                crate::output::write_none(&mut out, "companies")?;
            }
        }
    }
    out.flush()?;
    Ok(pages.more)
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

/// A company with its relationships (live companies only).
async fn load_shown(tx: &mut Tx, id: CompanyId) -> crm_core::Result<(Company, Vec<Relationship>)> {
    let c = company::get(tx, id).await?;
    let rels = company::relationships(tx, id).await?;
    Ok((c, rels))
}

pub async fn run(cmd: CompanyCommand, ctx: &Ctx) -> Result<u8> {
    match cmd {
        CompanyCommand::List(args) => list(args, ctx).await,
        CompanyCommand::BulkEdit(args) => bulk_edit(args, ctx).await,
        CompanyCommand::Show { company: reference } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_company(&mut tx, &reference).await?;
            let (c, rels) = match load_shown(&mut tx, id).await {
                Err(Error::NotFound { .. }) => {
                    return Err(exit::coded(
                        exit::NOT_FOUND,
                        "the company is deleted; `crm company restore` brings it back",
                    ));
                }
                other => other?,
            };
            let open = crm_core::lexware::vouchers::open_for_company(&mut tx, id).await?;
            tx.commit().await?;
            match ctx.format() {
                f @ (Format::Json | Format::Ndjson) => {
                    let shown = Shown {
                        company: &c,
                        relationships: &rels,
                    };
                    super::lexware::print_with_open(f, &shown, &open)?;
                }
                f => {
                    print_company(f, &c, &rels)?;
                    if let Some(open) = open.as_ref().filter(|_| f == Format::Table) {
                        output::text(&super::lexware::open_line(open))?;
                    }
                }
            }
            Ok(exit::OK)
        }
        CompanyCommand::Add(args) => {
            if args.json.is_some() && args.fields.any() {
                return Err(exit::usage(
                    "give the company either as flags or as --json, not both",
                ));
            }
            let new = match args.json.as_deref() {
                Some(source) => new_from_json(read_json(source)?)?,
                None => new_from_flags(args.fields)?,
            };
            let (_, _, scope) = ctx.scope().await?;
            let kind = crm_core::dedupe::Kind::Company;
            let (c, likely) = scope
                .run(async |tx| {
                    let c = company::create(tx, new).await?;
                    let likely =
                        crm_core::dedupe::likely_duplicates(tx, kind, &[c.id.uuid()], None).await?;
                    Ok((c, likely))
                })
                .await?;
            for l in &likely {
                ctx.note(format!("warning: this company is {}", l.describe(kind)));
            }
            print_company(ctx.format(), &c, &[])?;
            Ok(exit::OK)
        }
        CompanyCommand::Edit(args) => {
            if args.json.is_some() && (args.fields.any() || !args.clear.is_empty()) {
                return Err(exit::usage(
                    "give the change either as flags or as --json, not both",
                ));
            }
            let patch = match args.json.as_deref() {
                Some(source) => patch_from_json(read_json(source)?, args.at_version)?,
                None => {
                    let Some(version) = args.at_version else {
                        return Err(exit::usage(
                            "--version N is required: the version you read (`crm company \
                             show` prints it)",
                        ));
                    };
                    if !args.fields.any() && args.clear.is_empty() {
                        return Err(exit::usage(
                            "nothing to change: give the fields to change as flags (see \
                             `crm company edit --help`) or --json -",
                        ));
                    }
                    patch_from_flags(version, args.fields, &args.clear)?
                }
            };
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_company(&mut tx, &args.company).await?;
            company::update(&mut tx, id, patch).await?;
            let (c, rels) = load_shown(&mut tx, id).await?;
            tx.commit().await?;
            print_company(ctx.format(), &c, &rels)?;
            Ok(exit::OK)
        }
        CompanyCommand::Delete {
            company: reference,
            at_version,
            yes,
            dry_run,
        } => {
            needs_terminal_or_yes(yes || dry_run)?;
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_company(&mut tx, &reference).await?;
            let c = company::get(&mut tx, id).await?;
            let dependents = crm_core::store::dependents::of_company(&mut tx, id).await?;
            tx.commit().await?;
            // The confirmed state is the one deleted: a change in between is a conflict.
            let version = at_version.or(if yes { None } else { Some(c.version) });
            let target = format!("company {} ({})", c.name, short_id(id));
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
                .run(async |tx| company::delete(tx, id, version).await)
                .await?;
            if matches!(ctx.format(), Format::Json | Format::Ndjson) {
                print_json(
                    ctx.format(),
                    &serde_json::json!({ "id": id, "deleted": true }),
                )?;
            }
            ctx.note(format!(
                "company deleted; `crm company restore {id}` brings it back"
            ));
            Ok(exit::OK)
        }
        CompanyCommand::Restore { company: reference } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_company(&mut tx, &reference).await?;
            company::restore(&mut tx, id).await?;
            let (c, rels) = load_shown(&mut tx, id).await?;
            tx.commit().await?;
            print_company(ctx.format(), &c, &rels)?;
            Ok(exit::OK)
        }
        CompanyCommand::Relate {
            from,
            to,
            kind,
            note,
        } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let from = resolve_company(&mut tx, &from).await?;
            let to = resolve_company(&mut tx, &to).await?;
            let rel = company::relate(&mut tx, from, to, &kind, note).await?;
            tx.commit().await?;
            output::one(ctx.format(), &rel)?;
            Ok(exit::OK)
        }
        CompanyCommand::Unrelate {
            relationship,
            yes,
            dry_run,
        } => {
            needs_terminal_or_yes(yes || dry_run)?;
            let (_, _, scope) = ctx.scope().await?;
            let target = format!("relationship {relationship}");
            let nothing = crm_core::store::dependents::Dependents::default();
            if !dry_run
                && !crate::confirm::before_destroying(ctx, yes, false, "remove", &target, &nothing)?
            {
                return Ok(exit::OK);
            }
            let mut tx = scope.begin().await?;
            let removed = company::unrelate(&mut tx, relationship).await;
            if removed.is_ok() && dry_run {
                tx.rollback().await?;
                crate::confirm::before_destroying(ctx, yes, true, "remove", &target, &nothing)?;
                return Ok(exit::OK);
            }
            let removed = match removed {
                Ok(()) => tx.commit().await,
                Err(e) => Err(e),
            };
            match removed {
                Err(Error::NotFound { .. }) => {
                    return Err(exit::coded(
                        exit::NOT_FOUND,
                        "relationship not found; `crm company relationships COMPANY` shows \
                         the ids",
                    ));
                }
                other => other?,
            }
            if matches!(ctx.format(), Format::Json | Format::Ndjson) {
                print_json(
                    ctx.format(),
                    &serde_json::json!({ "id": relationship, "removed": true }),
                )?;
            }
            ctx.note("relationship removed");
            Ok(exit::OK)
        }
        CompanyCommand::Relationships { company: reference } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_company(&mut tx, &reference).await?;
            let rels = company::relationships(&mut tx, id).await?;
            tx.commit().await?;
            output::list(ctx.format(), &rels)?;
            Ok(exit::OK)
        }
        CompanyCommand::Duplicates(args) => {
            crate::cmd::dedupe::duplicates(DedupeKind::Company, args, ctx).await
        }
        CompanyCommand::Merge(args) => {
            crate::cmd::dedupe::merge(DedupeKind::Company, args, ctx).await
        }
        CompanyCommand::Unmerge(args) => {
            crate::cmd::dedupe::unmerge(DedupeKind::Company, args, ctx).await
        }
        CompanyCommand::NotDuplicate(args) => {
            crate::cmd::dedupe::not_duplicate(DedupeKind::Company, args, ctx).await
        }
    }
}

async fn list(args: ListArgs, ctx: &Ctx) -> Result<u8> {
    let (crm, org, scope) = ctx.scope().await?;
    let zone = crate::time::zone_of(&scope).await?;
    let filter = list_filter(&args, &crm, &org, zone).await?;
    let mut tx = scope.begin().await?;
    let mut pages = Pages {
        tx: &mut tx,
        filter,
        request: PageRequest {
            limit: if args.all { STREAM_PAGE } else { args.limit },
            after: args.after,
        },
        all: args.all,
        done: false,
        ahead: None,
        more: None,
    };
    pages.ahead = match pages.next().await {
        Err(e) => return Err(list_filter_error(e)),
        Ok(first) => first,
    };
    let more = print_pages(ctx.format(), pages).await?;
    tx.commit().await?;
    if let Some(cursor) = more {
        ctx.note(format!(
            "more companies: continue with --after {cursor} (or --all for every page)"
        ));
    }
    Ok(exit::OK)
}

/// The filter of `company list` (and `company bulk-edit`) from its flags.
async fn list_filter(
    args: &ListArgs,
    crm: &crm_core::Crm,
    org: &crm_core::Organization,
    zone: crm_core::domain::Zone,
) -> Result<CompanyFilter> {
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
    Ok(CompanyFilter {
        owner,
        status: args.status,
        tag: args.tag.clone(),
        industry: args.industry.clone(),
        account_type: args.account_type.clone(),
        size: args.size,
        text: args.text.clone(),
        created_after: crate::time::opt_time(&args.created_after, zone, DayEnd::Start)?,
        created_before: crate::time::opt_time(&args.created_before, zone, DayEnd::End)?,
        only_deleted: args.deleted,
        ..CompanyFilter::default()
    })
}

/// An unknown industry or account type in a list filter gets a hint where to look.
fn list_filter_error(e: Error) -> anyhow::Error {
    match e {
        Error::NotFound { entity: "industry" } => exit::coded(
            exit::NOT_FOUND,
            "--industry: no such industry; `crm list show industries` shows them",
        ),
        Error::NotFound {
            entity: "account type",
        } => exit::coded(
            exit::NOT_FOUND,
            "--account-type: no such account type; `crm list show account-types` shows them",
        ),
        e => e.into(),
    }
}

/// Arguments of `company bulk-edit`: the selection (the list filters, every match: the paging
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
    let kind = BulkKind::Companies;
    let edit = args.edit.edit(kind)?;
    let (crm, org, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let ids = if args.edit.stdin {
        let refs = crate::cmd::bulk_edit::stdin_references()?;
        crate::cmd::bulk_edit::resolve_all(&mut tx, refs, async |tx, r| {
            Ok(crate::resolve::resolve_company(tx, r).await?.uuid())
        })
        .await?
    } else {
        let zone = crate::time::zone_of(&scope).await?;
        let filter = list_filter(&args.filters, &crm, &org, zone).await?;
        let mut ids = Vec::new();
        company::for_each_batch(
            &mut tx,
            &filter,
            crate::output::STREAM_PAGE,
            async |page: Vec<company::Company>| {
                ids.extend(page.iter().map(|r| r.id.uuid()));
                Ok(())
            },
        )
        .await
        .map_err(list_filter_error)?;
        ids
    };
    tx.commit().await?;
    crate::cmd::bulk_edit::run(ctx, &scope, kind, ids, &args.edit, edit).await
}
