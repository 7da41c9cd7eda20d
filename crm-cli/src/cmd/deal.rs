//! `crm deal`: deals moving through the stages of a pipeline, won or lost in the end.
//!
//! A deal is named by its full id or by at least 4 hex digits of it (the beginning or, as
//! tables show, the last 8). JSON output is the serde form of crm-core's `Deal`;
//! `add --json -` and `edit --json -` read the same keys, so
//! `deal show | jq ... | deal edit --json -` round-trips.

use std::io::{IsTerminal as _, Write};

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use crm_core::auth::zone;
use crm_core::domain::DealStatus;
use crm_core::domain::OwnerRole;
use crm_core::store::Cursor;
use crm_core::store::deal::{self, Deal, DealFilter, DealPatch, NewDeal, StageChange};
use crm_core::store::list::{self as lists, ListKind};
use crm_core::store::owner::Owner;
use crm_core::{Crm, Error, OrgId, StageId, Tx};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::input::{read_json, redact};
use crate::output::{self, Row};
use crate::output::{Listed, Pager, local_time, print_json, short_id, time, write_table};
use crate::resolve::resolve_contact;
use crate::resolve::{resolve_deal, resolve_pipeline, resolve_user, stage_in};

#[derive(Debug, Subcommand)]
pub enum DealCommand {
    /// List deals, oldest first, one page at a time (`--all` streams every page).
    ///
    /// The table shows the last 8 digits of each id; `show`, `move` and the others accept
    /// them.
    List(ListArgs),
    /// Show one deal with its owners and stage history.
    Show {
        /// The deal: its id or at least 4 digits of it.
        #[arg(value_name = "ID")]
        deal: String,
    },
    /// Add a deal from flags, or from one JSON object on stdin (`--json -`) with the keys
    /// `deal show --format json` prints. Without --pipeline and --stage it goes to the
    /// first stage of the default pipeline.
    Add(AddArgs),
    /// Change a deal's title, value, contact, company or close date: only the given fields
    /// change. `--version` is the version you read (`deal show`); if someone changed the
    /// deal since, nothing is written (exit 4). Stages change with `deal move`, the status
    /// with `win`, `lose` and `reopen`.
    #[command(disable_version_flag = true)]
    Edit(EditArgs),
    /// Move an open deal to another stage: a stage name of its pipeline, or a stage id of
    /// any pipeline (the deal then changes pipeline too). A won or lost deal is refused
    /// (exit 4): reopen it first.
    #[command(disable_version_flag = true)]
    Move {
        /// The deal: its id or at least 4 digits of it.
        #[arg(value_name = "ID")]
        deal: String,
        /// The stage: its name in the deal's pipeline, or its id.
        #[arg(value_name = "STAGE")]
        stage: String,
        /// Only if the deal is still at this version (else exit 4).
        #[arg(long = "version", value_name = "N")]
        at_version: Option<i32>,
    },
    /// Mark an open deal won.
    #[command(disable_version_flag = true)]
    Win {
        /// The deal: its id or at least 4 digits of it.
        #[arg(value_name = "ID")]
        deal: String,
        /// Only if the deal is still at this version (else exit 4).
        #[arg(long = "version", value_name = "N")]
        at_version: Option<i32>,
    },
    /// Mark an open deal lost, with a lost reason.
    #[command(disable_version_flag = true)]
    Lose {
        /// The deal: its id or at least 4 digits of it.
        #[arg(value_name = "ID")]
        deal: String,
        /// Why: a lost reason's key (price, competitor, no_budget, no_decision, timing,
        /// product_fit, unresponsive, other, or one the organization added) or its English
        /// or German label.
        #[arg(long, value_name = "KEY")]
        reason: String,
        /// More about why, in free text.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        /// Only if the deal is still at this version (else exit 4).
        #[arg(long = "version", value_name = "N")]
        at_version: Option<i32>,
    },
    /// Reopen a won or lost deal (clears the close time and the lost reason).
    Reopen {
        /// The deal: its id or at least 4 digits of it.
        #[arg(value_name = "ID")]
        deal: String,
    },
    /// Delete a deal (soft: lists hide it). Asks for confirmation on a terminal; scripts
    /// pass --yes.
    Delete {
        /// The deal: its id or at least 4 digits of it.
        #[arg(value_name = "ID")]
        deal: String,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Show what would be deleted (with its value and activities); change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Change many deals at once: select them by the filters of `list` (every match, not
    /// one page) or by ids on stdin (--stdin), then --add-tag, --remove-tag and --set
    /// FIELD=VALUE. Each record changes through the same rules as a single edit (one audit
    /// entry each), --batch-size records per transaction; a record that fails is reported
    /// and skipped. Prints a summary; exit 5 when any record failed. Try --dry-run first.
    BulkEdit(BulkEditArgs),
}

/// Filters and paging of `deal list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only deals in this pipeline (name or id).
    #[arg(long, value_name = "NAME|ID")]
    pub pipeline: Option<String>,
    /// Only deals in this stage (name in --pipeline, else in the default pipeline; or id).
    #[arg(long, value_name = "NAME|ID")]
    pub stage: Option<String>,
    /// Only deals with this status: open, won, lost.
    #[arg(long)]
    pub status: Option<DealStatus>,
    /// Only deals this user owns, works on or watches.
    #[arg(long, value_name = "EMAIL")]
    pub owner: Option<String>,
    /// Only deals with this company (id, VAT id, domain or exact name).
    #[arg(long, value_name = "ID|NAME")]
    pub company: Option<String>,
    /// Only deals with this contact (id, at least 4 digits of it, or an e-mail address).
    #[arg(long, value_name = "ID|EMAIL")]
    pub contact: Option<String>,
    /// Only deals expected to close on or after this day.
    #[arg(long, value_name = "DATE", value_parser = crate::time::date_arg)]
    pub close_from: Option<crate::time::DateArg>,
    /// Only deals expected to close on or before this day.
    #[arg(long, value_name = "DATE", value_parser = crate::time::date_arg)]
    pub close_to: Option<crate::time::DateArg>,
    /// Only deals whose title contains this text (case does not matter).
    #[arg(long, value_name = "QUERY")]
    pub text: Option<String>,
    /// Deals per page (1 to 10000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub limit: u32,
    /// Continue after this cursor (printed on stderr under a page that has more).
    #[arg(long, value_name = "CURSOR")]
    pub after: Option<Cursor>,
    /// Every page, streamed with constant memory (one JSON array, one CSV header).
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
    /// Instead: the open deals that have stayed in their stage longer than this (`30d`,
    /// `2w`; in --pipeline, else in every pipeline), longest stuck first.
    #[arg(long, value_name = "DAYS", value_parser = crate::cmd::analytics::parse_days,
          conflicts_with_all = ["stage", "status", "owner", "company", "contact", "close_from",
                                "close_to", "text", "after"])]
    pub stuck: Option<u32>,
}

/// The fields `add` and `edit` take as flags.
#[derive(Debug, Args, Default)]
pub struct FieldArgs {
    /// What is being sold.
    #[arg(long)]
    pub title: Option<String>,
    /// The value: 12500, 12500.00, 12.500,00 or 12'500.00, with or without a currency sign
    /// or code (12.500,00 €, CHF 12'500.00); at most the currency's decimal places. A lone
    /// separator before three digits (12.500) is refused as ambiguous.
    #[arg(long, value_name = "AMOUNT", allow_hyphen_values = true)]
    pub value: Option<String>,
    /// ISO 4217 currency code; default: the organization's currency.
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// The contact: id, at least 4 digits of it, or an e-mail address.
    #[arg(long, value_name = "ID|EMAIL")]
    pub contact: Option<String>,
    /// The company: id, VAT id, domain or exact name.
    #[arg(long, value_name = "ID|NAME")]
    pub company: Option<String>,
    /// When it is expected to close: 31.12.2026, 2026-12-31, today, tomorrow or +30d.
    #[arg(long, value_name = "DATE", value_parser = crate::time::date_arg)]
    pub close_date: Option<crate::time::DateArg>,
    /// An owner (repeatable; default on add: you). On edit the given owners replace all.
    #[arg(long = "owner", value_name = "EMAIL")]
    pub owners: Vec<String>,
}

impl FieldArgs {
    fn any(&self) -> bool {
        self.title.is_some()
            || self.value.is_some()
            || self.currency.is_some()
            || self.contact.is_some()
            || self.company.is_some()
            || self.close_date.is_some()
            || !self.owners.is_empty()
    }
}

/// Arguments of `deal add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub fields: FieldArgs,
    /// The pipeline (name or id); default: the organization's default pipeline.
    #[arg(long, value_name = "NAME|ID")]
    pub pipeline: Option<String>,
    /// The stage (name in the pipeline, or id); default: the pipeline's first stage.
    #[arg(long, value_name = "NAME|ID")]
    pub stage: Option<String>,
    /// Read the deal as one JSON object from this file, or `-` for stdin.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

/// A field `edit --clear` empties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Clearable {
    /// The contact.
    Contact,
    /// The company.
    Company,
    /// The expected close date.
    CloseDate,
}

/// Arguments of `deal edit`.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The deal: its id or at least 4 digits of it.
    #[arg(value_name = "ID")]
    pub deal: String,
    /// The version you read (`deal show`); required unless the JSON has `version`.
    #[arg(long = "version", value_name = "N")]
    pub at_version: Option<i32>,
    #[command(flatten)]
    pub fields: FieldArgs,
    /// Empty this field (repeatable).
    #[arg(long, value_enum, value_name = "FIELD")]
    pub clear: Vec<Clearable>,
    /// Read the change as one JSON object from this file, or `-` for stdin: the keys to
    /// change (`null` clears), as `deal show --format json` prints them.
    #[arg(long, value_name = "FILE|-")]
    pub json: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Resolving what people type (shared with `crm pipeline` and `crm activity`)
// ---------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------
// Input (shared)
// ---------------------------------------------------------------------------------------

fn from_json<T: serde::de::DeserializeOwned>(obj: Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(obj))
        .map_err(|e| Error::invalid("json", redact(&e.to_string())).into())
}

/// Keys of `deal show` that the CRM sets or derives; input ignores them.
const READ_ONLY: [&str; 12] = [
    "id",
    "probability",
    "status",
    "lost_reason",
    "lost_reason_text",
    "closed_at",
    "created_at",
    "updated_at",
    "deleted_at",
    "stage_history",
    "version",
    "lexware_open_amounts",
];

/// Takes the display name `key` (`contact`, `company`) out of `obj`: dropped when `id_key`
/// is there too (the output of `deal show`), else returned as a reference to resolve;
/// `Some(None)` for `null`.
fn take_reference(obj: &mut Map<String, Value>, key: &str, id_key: &str) -> Option<Option<String>> {
    let value = obj.remove(key)?;
    if obj.contains_key(id_key) {
        return None;
    }
    match value {
        Value::String(s) => Some(Some(s)),
        Value::Null => Some(None),
        other => {
            // Let the strict parse report it under its own name.
            obj.insert(key.into(), other);
            None
        }
    }
}

async fn owners_from(crm: &Crm, org: OrgId, emails: &[String]) -> Result<Vec<Owner>> {
    let mut owners = Vec::with_capacity(emails.len());
    for email in emails {
        owners.push(Owner {
            user_id: resolve_user(crm, org, email, "--owner").await?,
            role: OwnerRole::Owner,
        });
    }
    Ok(owners)
}

async fn new_from_flags(tx: &mut Tx, args: AddArgs, owners: Vec<Owner>) -> Result<NewDeal> {
    let f = args.fields;
    let contact_id = match &f.contact {
        Some(c) => Some(resolve_contact(tx, c).await?),
        None => None,
    };
    let company_id = match &f.company {
        Some(c) => Some(crate::resolve::resolve_company(tx, c).await?),
        None => None,
    };
    Ok(NewDeal {
        title: f.title.unwrap_or_default(),
        value: f.value,
        currency: f.currency,
        pipeline: args.pipeline,
        stage: args.stage,
        contact_id,
        company_id,
        expected_close_date: crate::time::opt_date(&f.close_date, zone::acting(tx).await?)?,
        owners,
        ..NewDeal::default()
    })
}

async fn new_from_json(tx: &mut Tx, mut obj: Map<String, Value>) -> Result<NewDeal> {
    for key in READ_ONLY {
        obj.remove(key);
    }
    // `deal show` prints both the names and the ids of pipeline and stage: the ids win.
    for (id_key, key) in [("pipeline_id", "pipeline"), ("stage_id", "stage")] {
        match obj.remove(id_key) {
            Some(Value::Null) | None => {}
            Some(id) => {
                obj.insert(key.into(), id);
            }
        }
    }
    let contact = take_reference(&mut obj, "contact", "contact_id");
    let company = take_reference(&mut obj, "company", "company_id");
    let mut new: NewDeal = from_json(obj)?;
    if let Some(Some(r)) = contact {
        new.contact_id = Some(resolve_contact(tx, &r).await?);
    }
    if let Some(Some(r)) = company {
        new.company_id = Some(crate::resolve::resolve_company(tx, &r).await?);
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
    owners: Vec<Owner>,
) -> Result<DealPatch> {
    let cleared = |c: Clearable| clear.contains(&c);
    for (c, given) in [
        (Clearable::Contact, f.contact.is_some()),
        (Clearable::Company, f.company.is_some()),
        (Clearable::CloseDate, f.close_date.is_some()),
    ] {
        if given && cleared(c) {
            let name = c
                .to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default();
            return Err(exit::usage(format!(
                "--{name} and --clear {name} contradict each other; give one"
            )));
        }
    }
    let contact_id = match &f.contact {
        Some(c) => Some(resolve_contact(tx, c).await?),
        None => None,
    };
    let company_id = match &f.company {
        Some(c) => Some(crate::resolve::resolve_company(tx, c).await?),
        None => None,
    };
    Ok(DealPatch {
        version,
        title: f.title,
        value: f.value,
        currency: f.currency,
        contact_id: set(contact_id, cleared(Clearable::Contact)),
        company_id: set(company_id, cleared(Clearable::Company)),
        expected_close_date: set(
            crate::time::opt_date(&f.close_date, zone::acting(tx).await?)?,
            cleared(Clearable::CloseDate),
        ),
        owners: if owners.is_empty() {
            None
        } else {
            Some(owners)
        },
        custom: None,
    })
}

async fn patch_from_json(
    tx: &mut Tx,
    mut obj: Map<String, Value>,
    version: Option<i32>,
) -> Result<DealPatch> {
    let version = match (version, obj.get("version").and_then(Value::as_i64)) {
        (Some(v), _) => v,
        (None, Some(v)) => i32::try_from(v).map_err(|_| Error::invalid("version", "too large"))?,
        (None, None) => {
            return Err(exit::usage(
                "give the version you read: --version N or \"version\" in the JSON \
                 (`crm deal show` prints it)",
            ));
        }
    };
    for key in READ_ONLY {
        obj.remove(key);
    }
    // The stage and pipeline change with `deal move`.
    for key in ["pipeline", "pipeline_id", "stage", "stage_id"] {
        obj.remove(key);
    }
    let contact = take_reference(&mut obj, "contact", "contact_id");
    let company = take_reference(&mut obj, "company", "company_id");
    obj.insert("version".into(), version.into());
    let mut patch: DealPatch = from_json(obj)?;
    match contact {
        Some(Some(r)) => patch.contact_id = Some(Some(resolve_contact(tx, &r).await?)),
        Some(None) => patch.contact_id = Some(None),
        None => {}
    }
    match company {
        Some(Some(r)) => {
            patch.company_id = Some(Some(crate::resolve::resolve_company(tx, &r).await?))
        }
        Some(None) => patch.company_id = Some(None),
        None => {}
    }
    Ok(patch)
}

// ---------------------------------------------------------------------------------------
// Output (shared)
// ---------------------------------------------------------------------------------------

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn date(d: &Option<NaiveDate>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

impl Row for Deal {
    fn noun() -> &'static str {
        "deals"
    }
    fn headers() -> Vec<&'static str> {
        vec![
            "id",
            "title",
            "value",
            "currency",
            "pipeline",
            "stage",
            "probability",
            "status",
            "lost_reason",
            "contact",
            "company",
            "expected_close_date",
            "closed_at",
            "contact_id",
            "company_id",
            "version",
            "created_at",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.title.clone(),
            self.value.to_string(),
            self.currency.clone(),
            self.pipeline.clone(),
            self.stage.clone(),
            self.probability.normalize().to_string(),
            self.status.to_string(),
            opt(&self.lost_reason),
            opt(&self.contact),
            opt(&self.company),
            date(&self.expected_close_date),
            self.closed_at.as_ref().map(time).unwrap_or_default(),
            output::opt(&self.contact_id),
            output::opt(&self.company_id),
            self.version.to_string(),
            time(&self.created_at),
        ]
    }
}

impl Listed for Deal {
    fn table_headers() -> Vec<&'static str> {
        vec![
            "id", "title", "value", "stage", "status", "company", "contact", "close",
        ]
    }
    fn table_cells(&self) -> Vec<String> {
        vec![
            short_id(self.id),
            self.title.clone(),
            format!("{} {}", self.value, self.currency),
            self.stage.clone(),
            match &self.lost_reason {
                Some(r) => format!("{} ({r})", self.status),
                None => self.status.to_string(),
            },
            opt(&self.company),
            opt(&self.contact),
            date(&self.expected_close_date),
        ]
    }
}

/// A deal with its stage history, as `deal show` prints it.
#[derive(Serialize)]
struct DealDetail<'a> {
    #[serde(flatten)]
    deal: &'a Deal,
    stage_history: &'a [StageChange],
}

/// Prints one deal: JSON (with `history` when given), field / value pairs and the history
/// as tables, or one CSV row.
fn print_deal(format: Format, d: &Deal, history: Option<&[StageChange]>) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => match history {
            Some(h) => print_json(
                format,
                &DealDetail {
                    deal: d,
                    stage_history: h,
                },
            ),
            None => print_json(format, d),
        },
        Format::Csv => output::list(Format::Csv, std::slice::from_ref(d)),
        Format::Table => {
            let mut rows: Vec<Vec<String>> = vec![
                vec!["id".into(), d.id.to_string()],
                vec!["title".into(), d.title.clone()],
                vec!["value".into(), format!("{} {}", d.value, d.currency)],
                vec!["pipeline".into(), d.pipeline.clone()],
                vec![
                    "stage".into(),
                    format!("{} ({}%)", d.stage, d.probability.normalize()),
                ],
                vec!["status".into(), d.status.to_string()],
            ];
            if let Some(r) = &d.lost_reason {
                rows.push(vec!["lost reason".into(), r.clone()]);
            }
            if let Some(t) = &d.lost_reason_text {
                rows.push(vec!["lost because".into(), t.clone()]);
            }
            rows.extend([
                vec!["contact".into(), opt(&d.contact)],
                vec!["company".into(), opt(&d.company)],
                vec!["expected close".into(), date(&d.expected_close_date)],
            ]);
            if let Some(c) = &d.closed_at {
                rows.push(vec!["closed".into(), local_time(c)]);
            }
            if d.custom.as_object().is_some_and(|m| !m.is_empty()) {
                rows.push(vec!["custom".into(), d.custom.to_string()]);
            }
            rows.extend([
                vec!["owners".into(), d.owners.len().to_string()],
                vec!["version".into(), d.version.to_string()],
                vec!["created".into(), local_time(&d.created_at)],
                vec!["updated".into(), local_time(&d.updated_at)],
            ]);
            let stdout = crate::pipe::stdout();
            let mut out = stdout.lock();
            write_table(&mut out, &["field", "value"], rows)?;
            if let Some(h) = history {
                writeln!(out, "stage history:")?;
                write_table(
                    &mut out,
                    &["moved", "from", "to"],
                    h.iter().map(|c| {
                        vec![
                            local_time(&c.moved_at),
                            opt(&c.from_stage),
                            opt(&c.to_stage),
                        ]
                    }),
                )?;
            }
            out.flush()?;
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

pub async fn run(cmd: DealCommand, ctx: &Ctx) -> Result<u8> {
    match cmd {
        DealCommand::List(args) => list(args, ctx).await,
        DealCommand::BulkEdit(args) => bulk_edit(args, ctx).await,
        DealCommand::Show { deal: reference } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_deal(&mut tx, &reference).await?;
            let d = deal::get(&mut tx, id).await?;
            let history = deal::stage_history(&mut tx, id).await?;
            let open = crm_core::lexware::vouchers::open_for_deal(&mut tx, id).await?;
            tx.commit().await?;
            match ctx.format() {
                f @ (Format::Json | Format::Ndjson) => {
                    let detail = DealDetail {
                        deal: &d,
                        stage_history: &history,
                    };
                    super::lexware::print_with_open(f, &detail, &Some(open))?;
                }
                f => {
                    print_deal(f, &d, Some(&history))?;
                    if f == Format::Table && open.vouchers > 0 {
                        output::text(&super::lexware::open_line(&open))?;
                    }
                }
            }
            Ok(exit::OK)
        }
        DealCommand::Add(args) => {
            if args.json.is_some()
                && (args.fields.any() || args.pipeline.is_some() || args.stage.is_some())
            {
                return Err(exit::usage(
                    "give the deal either as flags or as --json, not both",
                ));
            }
            let json = args.json.as_deref().map(read_json).transpose()?;
            let (crm, org, scope) = ctx.scope().await?;
            let owners = owners_from(&crm, org.id, &args.fields.owners).await?;
            let mut tx = scope.begin().await?;
            let new = match json {
                Some(obj) => new_from_json(&mut tx, obj).await?,
                None => new_from_flags(&mut tx, args, owners).await?,
            };
            let d = deal::create(&mut tx, new).await?;
            tx.commit().await?;
            print_deal(ctx.format(), &d, None)?;
            Ok(exit::OK)
        }
        DealCommand::Edit(args) => {
            if args.json.is_some() && (args.fields.any() || !args.clear.is_empty()) {
                return Err(exit::usage(
                    "give the change either as flags or as --json, not both",
                ));
            }
            if args.json.is_none() {
                if args.at_version.is_none() {
                    return Err(exit::usage(
                        "--version N is required: the version you read (`crm deal show` \
                         prints it)",
                    ));
                }
                if !args.fields.any() && args.clear.is_empty() {
                    return Err(exit::usage(
                        "nothing to change: give the fields to change as flags (see \
                         `crm deal edit --help`) or --json -",
                    ));
                }
            }
            let json = args.json.as_deref().map(read_json).transpose()?;
            let (crm, org, scope) = ctx.scope().await?;
            let owners = owners_from(&crm, org.id, &args.fields.owners).await?;
            let mut tx = scope.begin().await?;
            let id = resolve_deal(&mut tx, &args.deal).await?;
            let patch = match json {
                Some(obj) => patch_from_json(&mut tx, obj, args.at_version).await?,
                None => {
                    let version = args.at_version.unwrap_or_default();
                    patch_from_flags(&mut tx, version, args.fields, &args.clear, owners).await?
                }
            };
            let d = deal::update(&mut tx, id, patch).await?;
            tx.commit().await?;
            print_deal(ctx.format(), &d, None)?;
            Ok(exit::OK)
        }
        DealCommand::Move {
            deal: reference,
            stage,
            at_version,
        } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_deal(&mut tx, &reference).await?;
            let d = deal::move_to_stage(&mut tx, id, &stage, at_version).await?;
            tx.commit().await?;
            print_deal(ctx.format(), &d, None)?;
            Ok(exit::OK)
        }
        DealCommand::Win {
            deal: reference,
            at_version,
        } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_deal(&mut tx, &reference).await?;
            let d = deal::win(&mut tx, id, at_version).await?;
            tx.commit().await?;
            print_deal(ctx.format(), &d, None)?;
            Ok(exit::OK)
        }
        DealCommand::Lose {
            deal: reference,
            reason,
            note,
            at_version,
        } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_deal(&mut tx, &reference).await?;
            let d = match deal::lose(&mut tx, id, &reason, note, at_version).await {
                Ok(d) => d,
                Err(Error::Validation(e)) if e.0.iter().any(|f| f.field == "lost_reason") => {
                    let keys: Vec<String> = lists::list(&mut tx, ListKind::LostReason)
                        .await?
                        .into_iter()
                        .filter(|r| r.active)
                        .map(|r| r.key)
                        .collect();
                    return Err(exit::coded(
                        exit::VALIDATION,
                        format!(
                            "invalid input: {e}; --reason takes one of: {}",
                            keys.join(", ")
                        ),
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            tx.commit().await?;
            print_deal(ctx.format(), &d, None)?;
            Ok(exit::OK)
        }
        DealCommand::Reopen { deal: reference } => {
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_deal(&mut tx, &reference).await?;
            let d = deal::reopen(&mut tx, id).await?;
            tx.commit().await?;
            print_deal(ctx.format(), &d, None)?;
            Ok(exit::OK)
        }
        DealCommand::Delete {
            deal: reference,
            yes,
            dry_run,
        } => {
            if !yes && !dry_run && !std::io::stdin().is_terminal() {
                return Err(exit::usage(
                    "not asking without a terminal: pass --yes to confirm (or --dry-run)",
                ));
            }
            let (_, _, scope) = ctx.scope().await?;
            let mut tx = scope.begin().await?;
            let id = resolve_deal(&mut tx, &reference).await?;
            let d = deal::get(&mut tx, id).await?;
            let dependents = crm_core::store::dependents::of_deal(&mut tx, id).await?;
            tx.commit().await?;
            let target = format!(
                "{} deal '{}' ({} {}, {})",
                d.status,
                d.title,
                crm_core::store::dependents::grouped(d.value),
                d.currency,
                short_id(id)
            );
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
            scope.run(async |tx| deal::delete(tx, id).await).await?;
            if matches!(ctx.format(), Format::Json | Format::Ndjson) {
                print_json(
                    ctx.format(),
                    &serde_json::json!({ "id": id, "deleted": true }),
                )?;
            }
            ctx.note("deal deleted");
            Ok(exit::OK)
        }
    }
}

async fn list(args: ListArgs, ctx: &Ctx) -> Result<u8> {
    if let Some(days) = args.stuck {
        return crate::cmd::analytics::stuck(ctx, args.pipeline.as_deref(), days).await;
    }
    let (crm, org, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let filter = list_filter(&args, &crm, &org, &mut tx).await?;
    let more = Pager::new(args.limit, args.after, args.all)
        .print(ctx.format(), async |request| {
            deal::list(&mut tx, &filter, request).await
        })
        .await?;
    tx.commit().await?;
    if let Some(cursor) = more {
        ctx.note(format!(
            "more deals: continue with --after {cursor} (or --all for every page)"
        ));
    }
    Ok(exit::OK)
}

/// The filter of `deal list` (and `deal bulk-edit`) from its flags.
async fn list_filter(
    args: &ListArgs,
    crm: &crm_core::Crm,
    org: &crm_core::Organization,
    tx: &mut crm_core::Tx,
) -> Result<DealFilter> {
    let owner = match &args.owner {
        Some(email) => Some(resolve_user(crm, org.id, email, "--owner").await?),
        None => None,
    };
    let (pipeline_id, stage) = match (&args.pipeline, &args.stage) {
        (None, None) => (None, None),
        (p, s) => {
            let by_id = s.as_deref().and_then(|s| s.trim().parse::<StageId>().ok());
            match (p, by_id) {
                // A stage id alone needs no pipeline.
                (None, Some(id)) => (None, Some(id)),
                _ => {
                    let p = resolve_pipeline(tx, p.as_deref()).await?;
                    let stage = match s {
                        Some(s) => Some(stage_in(&p, s)?),
                        None => None,
                    };
                    (Some(p.id), stage)
                }
            }
        }
    };
    let contact_id = match &args.contact {
        Some(c) => Some(resolve_contact(tx, c).await?),
        None => None,
    };
    let company_id = match &args.company {
        Some(c) => Some(crate::resolve::resolve_company(tx, c).await?),
        None => None,
    };
    Ok(DealFilter {
        pipeline: pipeline_id,
        stage,
        status: args.status,
        owner,
        company_id,
        contact_id,
        expected_close_from: crate::time::opt_date(&args.close_from, zone::acting(tx).await?)?,
        expected_close_to: crate::time::opt_date(&args.close_to, zone::acting(tx).await?)?,
        text: args.text.clone(),
        ..DealFilter::default()
    })
}

/// Arguments of `deal bulk-edit`: the selection (the list filters, every match: the paging
/// flags are hidden and not used) and the edit.
#[derive(Debug, Args)]
#[command(
    mut_arg("limit", |a| a.hide(true)),
    mut_arg("after", |a| a.hide(true)),
    mut_arg("all", |a| a.hide(true)),
    mut_arg("stuck", |a| a.hide(true))
)]
pub struct BulkEditArgs {
    #[command(flatten)]
    pub filters: ListArgs,
    #[command(flatten)]
    pub edit: crate::cmd::bulk_edit::EditArgs,
}

async fn bulk_edit(args: BulkEditArgs, ctx: &Ctx) -> Result<u8> {
    use crm_core::bulk::BulkKind;
    let kind = BulkKind::Deals;
    let edit = args.edit.edit(kind)?;
    let (crm, org, scope) = ctx.scope().await?;
    let mut tx = scope.begin().await?;
    let ids = if args.edit.stdin {
        let refs = crate::cmd::bulk_edit::stdin_references()?;
        crate::cmd::bulk_edit::resolve_all(&mut tx, refs, async |tx, r| {
            Ok(resolve_deal(tx, r).await?.uuid())
        })
        .await?
    } else {
        let filter = list_filter(&args.filters, &crm, &org, &mut tx).await?;
        let mut ids = Vec::new();
        deal::for_each_batch(
            &mut tx,
            &filter,
            crate::output::STREAM_PAGE,
            async |page: Vec<deal::Deal>| {
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
