//! `crm company`: companies with their master data, addresses, tags and company-to-company
//! relationships.
//!
//! Wherever a company is expected it can be named by its full id, by at least 4 hex digits
//! of its id (the beginning or, as lists show, the end), by its VAT id, its domain or its
//! exact name (see `crm_core::store::company::resolve`). JSON output of one company is the
//! serde form of crm-core's `Company` with one more key, `relationships`; `add --json -`
//! and `edit --json -` read the same keys (read-only ones such as `id` or `contacts` are
//! ignored), so `show | jq ... | edit --json -` round-trips.

mod input;
mod list;
mod record;
mod relate;
mod show;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use crm_core::dedupe::Kind as DedupeKind;
use crm_core::domain::{CompanySize, EntityStatus};
use crm_core::store::Cursor;

use crate::cmd::dedupe;
use crate::ctx::Ctx;

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

/// Runs one `crm company` subcommand.
pub async fn run(cmd: CompanyCommand, ctx: &Ctx) -> Result<u8> {
    match cmd {
        CompanyCommand::List(args) => list::list(args, ctx).await,
        CompanyCommand::BulkEdit(args) => list::bulk_edit(args, ctx).await,
        CompanyCommand::Show { company } => show::show(&company, ctx).await,
        CompanyCommand::Add(args) => record::add(args, ctx).await,
        CompanyCommand::Edit(args) => record::edit(args, ctx).await,
        CompanyCommand::Delete {
            company,
            at_version,
            yes,
            dry_run,
        } => record::delete(&company, at_version, yes, dry_run, ctx).await,
        CompanyCommand::Restore { company } => record::restore(&company, ctx).await,
        CompanyCommand::Relate {
            from,
            to,
            kind,
            note,
        } => relate::relate(&from, &to, &kind, note, ctx).await,
        CompanyCommand::Unrelate {
            relationship,
            yes,
            dry_run,
        } => relate::unrelate(relationship, yes, dry_run, ctx).await,
        CompanyCommand::Relationships { company } => relate::relationships(&company, ctx).await,
        CompanyCommand::Duplicates(args) => {
            dedupe::duplicates(DedupeKind::Company, args, ctx).await
        }
        CompanyCommand::Merge(args) => dedupe::merge(DedupeKind::Company, args, ctx).await,
        CompanyCommand::Unmerge(args) => dedupe::unmerge(DedupeKind::Company, args, ctx).await,
        CompanyCommand::NotDuplicate(args) => {
            dedupe::not_duplicate(DedupeKind::Company, args, ctx).await
        }
    }
}
