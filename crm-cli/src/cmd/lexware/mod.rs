//! `crm lexware`: the Lexware Office integration (status, configure, search, link,
//! unlink, import, push, sync and the voucher cache).

mod client;
mod link;
mod status;
mod vouchers;

use anyhow::Result;
use clap::{Args, Subcommand};
use uuid::Uuid;

use crate::ctx::Ctx;

pub use vouchers::{open_line, print_with_open};

#[derive(Debug, Subcommand)]
pub enum LexwareCommand {
    /// Whether Lexware Office is configured and reachable; links, conflicts, last sync.
    /// Exits 0 when not configured (`configured: false`).
    Status,
    /// Store the organization's API key, read from stdin (owners and admins only).
    /// LEXWARE_API_KEY, when set, takes precedence over the stored key.
    Configure {
        /// Read the key from standard input.
        #[arg(long, required_unless_present = "remove")]
        api_key_stdin: bool,
        /// Remove the stored key instead.
        #[arg(long, conflicts_with = "api_key_stdin")]
        remove: bool,
    },
    /// Search Lexware contacts by name, e-mail (contains `@`) or customer number (digits).
    Search {
        /// At least 3 characters of a name or e-mail, or a customer number.
        query: String,
    },
    /// Link a CRM company or contact to a Lexware contact, then sync it (differences are
    /// reported as conflicts, never decided).
    Link {
        #[command(flatten)]
        target: Target,
        /// The Lexware contact's id.
        lexware_id: Uuid,
    },
    /// Remove the link of a CRM record or of a Lexware contact (nothing is deleted).
    Unlink {
        #[command(flatten)]
        target: OptTarget,
        /// The Lexware contact's id.
        #[arg(long)]
        lexware_id: Option<Uuid>,
    },
    /// Import a Lexware contact as a CRM company (with its contact persons) or contact and
    /// link it; when already linked, update the linked record from Lexware.
    Import {
        /// The Lexware contact's id (`crm lexware search` shows it).
        lexware_id: Uuid,
    },
    /// Push a CRM record: create it in Lexware (and link it), or update the linked contact
    /// with the CRM's values.
    Push {
        #[command(flatten)]
        target: Target,
    },
    /// Sync both ways: push changed ERP-tagged records, pull linked records round robin,
    /// refresh their vouchers. Prints a summary.
    Sync(SyncArgs),
    /// The voucher cache: list, refresh, link to and unlink from deals.
    #[command(subcommand)]
    Vouchers(VouchersCommand),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Keep running: one pass every --interval seconds until interrupted.
    #[arg(long)]
    watch: bool,
    /// Seconds between passes with --watch.
    #[arg(long, default_value_t = 60)]
    interval: u64,
    /// Linked records pulled per pass (round robin; about 1.5 requests per second).
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Do not refresh vouchers.
    #[arg(long)]
    no_vouchers: bool,
}

/// A CRM company or contact (exactly one).
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// The company (id, VAT id, domain or exact name).
    #[arg(long)]
    company: Option<String>,
    /// The contact (id or e-mail).
    #[arg(long)]
    contact: Option<String>,
}

/// An optional CRM company or contact.
#[derive(Debug, Args)]
#[group(required = false, multiple = false)]
pub struct OptTarget {
    /// The company (id, VAT id, domain or exact name).
    #[arg(long)]
    company: Option<String>,
    /// The contact (id or e-mail).
    #[arg(long)]
    contact: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum VouchersCommand {
    /// Cached vouchers: all, or of a company / contact / deal.
    List {
        #[command(flatten)]
        target: OptTarget,
        /// Only those linked to this deal.
        #[arg(long)]
        deal: Option<String>,
    },
    /// Fetch vouchers changed since the last refresh (of one record, or of every link).
    Refresh {
        #[command(flatten)]
        target: OptTarget,
        /// Fetch everything again, not only what changed.
        #[arg(long)]
        all: bool,
    },
    /// Link a cached voucher (id, Lexware id or number) to a deal.
    Link {
        /// The voucher.
        voucher: String,
        /// The deal.
        #[arg(long)]
        deal: String,
    },
    /// Remove a voucher's link to a deal.
    Unlink {
        /// The voucher.
        voucher: String,
        /// The deal.
        #[arg(long)]
        deal: String,
    },
}

/// Runs one `crm lexware` subcommand.
pub async fn run(cmd: LexwareCommand, ctx: &Ctx) -> Result<u8> {
    let (_, _, scope) = ctx.scope().await?;
    match cmd {
        LexwareCommand::Status => status::status(ctx, &scope).await,
        LexwareCommand::Configure {
            api_key_stdin,
            remove,
        } => status::configure(ctx, &scope, api_key_stdin, remove).await,
        LexwareCommand::Search { query } => link::search(ctx, &scope, &query).await,
        LexwareCommand::Link { target, lexware_id } => {
            link::link(ctx, &scope, target, lexware_id).await
        }
        LexwareCommand::Unlink { target, lexware_id } => {
            link::unlink(ctx, &scope, target, lexware_id).await
        }
        LexwareCommand::Import { lexware_id } => link::import(ctx, &scope, lexware_id).await,
        LexwareCommand::Push { target } => link::push(ctx, &scope, target).await,
        LexwareCommand::Sync(args) => status::sync(ctx, &scope, args).await,
        LexwareCommand::Vouchers(cmd) => vouchers::run(ctx, &scope, cmd).await,
    }
}
