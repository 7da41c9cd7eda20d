//! `crm export`: streamed CSV (default), JSON or NDJSON, to a file or stdout.

use std::io::{BufWriter, Write};

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use crm_core::domain::DayEnd;
use crm_core::export::{ExportFilter, ExportFormat, ExportKind, export};

use crate::ctx::Ctx;
use crate::exit;
use crate::output;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Contacts,
    Companies,
    Deals,
    Activities,
}

/// Export records, streamed with constant memory: CSV by default, `--format json` for one
/// JSON array, `--format ndjson` for one object per line, `--format vcard` for contacts as
/// vCard 3.0 (addresses, every e-mail and phone, tags, notes).
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    #[arg(value_enum)]
    pub kind: Kind,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<String>,
    /// Only records with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    /// Only records with this status.
    #[arg(long)]
    pub status: Option<String>,
    /// Only records of this company (UUID).
    #[arg(long)]
    pub company: Option<uuid::Uuid>,
    /// Only records owned by this user (e-mail).
    #[arg(long)]
    pub owner: Option<String>,
    /// Only records created at or after this time (31.12.2026, 2026-12-31 14:30, RFC 3339,
    /// today, -7d, ...; a date means its start).
    #[arg(long, value_name = "TIME", value_parser = crate::time::time_arg)]
    pub created_after: Option<crate::time::TimeArg>,
    /// Only records created before this time (a date means its end).
    #[arg(long, value_name = "TIME", value_parser = crate::time::time_arg)]
    pub created_before: Option<crate::time::TimeArg>,
    /// Only contacts whose latest decision for the consent purpose (--purpose; default
    /// marketing) is a grant: the contacts `gdpr consents --without --purpose P` leaves out.
    #[arg(long)]
    pub consenting: bool,
    /// The consent purpose --consenting asks about (default: marketing).
    #[arg(long, value_name = "PURPOSE", requires = "consenting")]
    pub purpose: Option<String>,
    /// Only these columns, comma-separated, in this order.
    #[arg(long, value_delimiter = ',')]
    pub columns: Option<Vec<String>>,
    /// CSV separator: one character, or `tab` (default `,`; `;` with --excel).
    #[arg(long, value_name = "C", value_parser = output::parse_delimiter)]
    pub delimiter: Option<u8>,
}

pub async fn run(args: ExportArgs, ctx: &Ctx) -> Result<u8> {
    let format = match ctx.global.format {
        Some(crate::cli::FormatArg::Json) => ExportFormat::Json,
        Some(crate::cli::FormatArg::Ndjson) => ExportFormat::Ndjson,
        Some(crate::cli::FormatArg::Vcard) => ExportFormat::Vcard,
        _ => ExportFormat::Csv,
    };
    let kind = match args.kind {
        Kind::Contacts => ExportKind::Contacts,
        Kind::Companies => ExportKind::Companies,
        Kind::Deals => ExportKind::Deals,
        Kind::Activities => ExportKind::Activities,
    };
    let (crm, org, scope) = ctx.scope().await?;
    let zone = crate::time::zone_of(&scope).await?;
    let owner = match &args.owner {
        Some(email) => Some(crm.user_by_email(org.id, email).await?.0.uuid()),
        None => None,
    };
    let filter = ExportFilter {
        tag: args.tag,
        status: args.status,
        company_id: args.company,
        owner,
        created_after: crate::time::opt_time(&args.created_after, zone, DayEnd::Start)?,
        created_before: crate::time::opt_time(&args.created_before, zone, DayEnd::End)?,
        consenting_only: args.consenting,
        consent_purpose: args.purpose,
        columns: args.columns,
        csv: match args.delimiter {
            Some(d) => output::csv_options().with_delimiter(d),
            None => output::csv_options(),
        },
    };
    let mut out: Box<dyn Write + Send> = match &args.out {
        Some(path) => Box::new(BufWriter::with_capacity(
            1 << 20,
            crm_core::private_file::create(path.as_ref())
                .with_context(|| format!("cannot create {path}"))?,
        )),
        None => Box::new(BufWriter::with_capacity(1 << 16, crate::pipe::stdout())),
    };
    // Read-only: on the replica when one is configured (--replica-url).
    let mut tx = scope.begin_read().await?;
    let n = export(&mut tx, kind, format, &filter, &mut out).await?;
    tx.commit().await?;
    if args.out.is_some() {
        ctx.note(format!("exported {n} records"));
    }
    Ok(exit::OK)
}
