//! `crm deal`: deals moving through the stages of a pipeline, won or lost in the end.
//!
//! A deal is named by its full id or by at least 4 hex digits of it (the beginning or, as
//! tables show, the last 8). JSON output is the serde form of crm-core's `Deal`;
//! `add --json -` and `edit --json -` read the same keys, so
//! `deal show | jq ... | deal edit --json -` round-trips.

mod input;
mod list;
mod record;
mod show;
mod stage;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use crm_core::domain::DealStatus;
use crm_core::store::Cursor;

use crate::ctx::Ctx;

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

/// Runs one `crm deal` subcommand.
pub async fn run(cmd: DealCommand, ctx: &Ctx) -> Result<u8> {
    match cmd {
        DealCommand::List(args) => list::list(args, ctx).await,
        DealCommand::BulkEdit(args) => list::bulk_edit(args, ctx).await,
        DealCommand::Show { deal } => show::show(&deal, ctx).await,
        DealCommand::Add(args) => record::add(args, ctx).await,
        DealCommand::Edit(args) => record::edit(args, ctx).await,
        DealCommand::Move {
            deal,
            stage,
            at_version,
        } => stage::move_to(&deal, &stage, at_version, ctx).await,
        DealCommand::Win { deal, at_version } => stage::win(&deal, at_version, ctx).await,
        DealCommand::Lose {
            deal,
            reason,
            note,
            at_version,
        } => stage::lose(&deal, &reason, note, at_version, ctx).await,
        DealCommand::Reopen { deal } => stage::reopen(&deal, ctx).await,
        DealCommand::Delete { deal, yes, dry_run } => {
            record::delete(&deal, yes, dry_run, ctx).await
        }
    }
}
