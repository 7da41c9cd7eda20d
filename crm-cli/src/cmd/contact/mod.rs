//! `crm contact`: people, with their e-mail addresses, phones, company and tags.
//!
//! Wherever a contact is expected, it can be named by its full id, by at least 4 hex digits
//! of its id (the beginning or, as lists show, the end), or by one of its e-mail addresses.
//! JSON output is the serde form of crm-core's `Contact`; `add --json -` and
//! `edit --json -` read the same keys, so `show | jq ... | edit --json -` round-trips.

mod input;
mod list;
mod record;
mod show;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use crm_core::dedupe::Kind;
use crm_core::domain::{ContactSource, EntityStatus};
use crm_core::store::Cursor;

use crate::cmd::dedupe;
use crate::ctx::Ctx;

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

/// Runs one `crm contact` subcommand.
pub async fn run(cmd: ContactCommand, ctx: &Ctx) -> Result<u8> {
    match cmd {
        ContactCommand::List(args) => list::list(args, ctx).await,
        ContactCommand::BulkEdit(args) => list::bulk_edit(args, ctx).await,
        ContactCommand::Show { contact } => show::show(&contact, ctx).await,
        ContactCommand::Add(args) => record::add(args, ctx).await,
        ContactCommand::Edit(args) => record::edit(args, ctx).await,
        ContactCommand::Delete {
            contact,
            at_version,
            yes,
            dry_run,
        } => record::delete(&contact, at_version, yes, dry_run, ctx).await,
        ContactCommand::Restore { contact } => record::restore(&contact, ctx).await,
        ContactCommand::Merge(args) => dedupe::merge(Kind::Contact, args, ctx).await,
        ContactCommand::Unmerge(args) => dedupe::unmerge(Kind::Contact, args, ctx).await,
        ContactCommand::Duplicates(args) => dedupe::duplicates(Kind::Contact, args, ctx).await,
        ContactCommand::NotDuplicate(args) => dedupe::not_duplicate(Kind::Contact, args, ctx).await,
    }
}
