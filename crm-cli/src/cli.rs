//! The command-line definition. Doc comments are the help text.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::cmd;

/// A headless CRM for admins and ops: contacts, companies, deals, pipelines, bulk import
/// and export, and GDPR jobs, on PostgreSQL.
///
/// Without --database-url / DATABASE_URL, crm uses a local PostgreSQL cluster in CRM_HOME
/// (created, started and migrated on first use).
///
/// Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 conflict, 5 validation failed,
/// 6 permission denied, 7 database unreachable.
#[derive(Debug, Parser)]
#[command(name = "crm", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// PostgreSQL server to use instead of the local cluster.
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        help_heading = "Global options",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// A streaming replica of that server for exports, reports and search; reads go to
    /// the primary (with a warning) while it is down or lags.
    #[arg(
        long,
        env = "CRM_REPLICA_URL",
        global = true,
        help_heading = "Global options",
        hide_env_values = true
    )]
    pub replica_url: Option<String>,
    /// Organization to work in (its slug); default: the only organization. For `crm init`
    /// only: the name of the organization to create (CRM_ORG is never read as one).
    #[arg(long, env = "CRM_ORG", global = true, help_heading = "Global options")]
    pub org: Option<String>,
    /// Whether --org was typed on the command line (not taken from CRM_ORG).
    #[arg(skip)]
    pub org_typed: bool,
    /// Acting user's e-mail (audit, permissions); default: the organization's first owner.
    #[arg(
        long = "as",
        env = "CRM_USER",
        global = true,
        help_heading = "Global options",
        value_name = "EMAIL"
    )]
    pub as_user: Option<String>,
    /// Output format; default: table on a terminal, json otherwise (`vcard`: contacts
    /// export only).
    #[arg(long, value_enum, global = true, help_heading = "Global options")]
    pub format: Option<FormatArg>,
    /// Print only data and errors.
    #[arg(
        short,
        long,
        global = true,
        help_heading = "Global options",
        conflicts_with = "verbose"
    )]
    pub quiet: bool,
    /// Print more about what happens.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub verbose: bool,
    /// CSV output for German Excel: UTF-8 byte order mark, `;` between cells, CRLF.
    #[arg(long, global = true, help_heading = "Global options")]
    pub excel: bool,
    /// CSV output without the spreadsheet-formula guard (by default a cell beginning with
    /// =, +, -, @, tab or CR gets a leading ', unless it is a number or an E.164 phone
    /// number); for machine pipelines.
    #[arg(long, global = true, help_heading = "Global options")]
    pub raw: bool,
}

impl Global {
    /// How CSV is written, from `--excel` and `--raw`.
    pub fn csv_options(&self) -> crm_core::csv_out::CsvOptions {
        let options = if self.excel {
            crm_core::csv_out::CsvOptions::excel()
        } else {
            crm_core::csv_out::CsvOptions::default()
        };
        if self.raw { options.raw() } else { options }
    }
}

/// `--format` as typed: the output formats, plus vCard for `crm export contacts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Aligned columns for people.
    Table,
    /// One JSON value (an array for lists).
    Json,
    /// One JSON object per line (lists and exports).
    Ndjson,
    /// A header row, then one row per record.
    Csv,
    /// vCard 3.0 (`crm export contacts` only; elsewhere a table).
    Vcard,
}

/// How data is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON value (an array for lists).
    Json,
    /// One JSON object per line (lists and exports).
    Ndjson,
    /// A header row, then one row per record.
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an organization and its first owner (`crm init --org NAME`: here --org is
    /// the new organization's name).
    Init(cmd::init::InitArgs),
    /// Create a demo organization with realistic German / Swiss B2B data and print its
    /// pipeline summary.
    Demo(cmd::demo::DemoArgs),
    /// Manage the database: migrate, status, and the local cluster (start, stop, url).
    #[command(subcommand)]
    Db(cmd::db::DbCommand),
    /// List, create and show organizations.
    #[command(subcommand)]
    Org(cmd::org::OrgCommand),
    /// People: list, show, add, edit, delete, restore, merge and find duplicates.
    #[command(subcommand)]
    Contact(cmd::contact::ContactCommand),
    /// Companies: list, show, add, edit, delete, restore, relate.
    #[command(subcommand)]
    Company(cmd::company::CompanyCommand),
    /// Admin-configurable lists: industries, account types, relationship types, lost reasons.
    #[command(subcommand)]
    List(cmd::lists::ListCommand),
    /// Deals: list, show, add, edit, move through stages, win, lose, reopen, delete.
    #[command(subcommand)]
    Deal(cmd::deal::DealCommand),
    /// Pipelines and stages, the board and the weighted forecast.
    #[command(subcommand)]
    Pipeline(cmd::pipeline::PipelineCommand),
    /// Activities (notes, calls, meetings, tasks, ...): list, add, edit, done, due, delete,
    /// restore.
    #[command(subcommand)]
    Activity(cmd::activity::ActivityCommand),
    /// Ranked search across contacts, companies and deals (by title).
    Search(cmd::search::SearchArgs),
    /// Read the audit log and verify its hash chains.
    #[command(subcommand)]
    Audit(cmd::audit::AuditCommand),
    /// Read the event outbox.
    #[command(subcommand)]
    Events(cmd::events::EventsCommand),
    /// Fire reminders of due activities as events (`activity.due_soon`, `activity.overdue`),
    /// each once; for cron, or --watch.
    Remind(cmd::remind::RemindArgs),
    /// Data protection (GDPR / DSGVO): subject export, erasure, consent, retention,
    /// organization export and deletion.
    #[command(subcommand)]
    Gdpr(cmd::gdpr::GdprCommand),
    /// Benchmarks with ratios to baselines measured in the same run.
    Bench(cmd::bench::BenchArgs),
    /// Generate realistic test data as CSV (deterministic from a seed).
    Generate(cmd::generate::GenerateArgs),
    /// Export records as CSV, JSON or NDJSON (streamed).
    Export(cmd::export::ExportArgs),
    /// Bulk import from CSV.
    Import(cmd::import::ImportArgs),
    /// Users: add, list, roles, deactivation, passwords, teams and visibility.
    #[command(subcommand)]
    User(cmd::user::UserCommand),
    /// Lexware Office: status, configure, search, link, import, push, sync, vouchers.
    #[command(subcommand)]
    Lexware(cmd::lexware::LexwareCommand),
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Manual pages: `crm man` prints crm(1), `crm man --out DIR` writes a page per
    /// subcommand.
    Man(cmd::man::ManArgs),
}
