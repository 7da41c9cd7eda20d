//! `crm import`: bulk CSV import with dry run, dedup and a per-row error report.

use std::fs::File;
use std::io::{IsTerminal as _, Read};

use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use crm_core::import::{Format, ImportOptions, ImportSummary, OnDuplicate, TextEncoding};

use crate::cli::Format as Format_;
use crate::ctx::Ctx;
use crate::exit;
use crate::output;

/// The exit code after Ctrl-C (128 + SIGINT, as shells report it).
const INTERRUPTED: u8 = 130;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportKind {
    /// People, with their company (linked or created), e-mails, phones and tags.
    Contacts,
    /// Companies: also the company exports of HubSpot, Salesforce, Pipedrive, Twenty and
    /// EspoCRM and the company rows of Lexware, Outlook and Google exports. Matched by source
    /// id, then VAT id, domain, name; contacts imported before are linked to them.
    Companies,
    /// Deals, linked to pipeline/stage, company and contact by name, id or e-mail.
    Deals,
    /// List the tools whose exports are recognised (`--from` names).
    Formats,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DuplicateMode {
    /// Keep the existing record; count the row as skipped.
    Skip,
    /// Fill and overwrite the columns present in the file.
    Update,
    /// Report the row as failed.
    Error,
}

/// Import a CSV or vCard file (or `-` for stdin). The exports of Outlook, Google Contacts,
/// HubSpot, Salesforce, Pipedrive, Twenty, EspoCRM and Lexware Office and vCard files are
/// recognised by their headers (`crm import formats`), for contacts and for companies
/// (HubSpot companies, Salesforce accounts, Pipedrive organizations, ...); other files by
/// English or German column names (Vorname, Nachname, E-Mail, Firma, Telefon, Mobil,
/// Straße, PLZ, Ort, ...). Contacts and companies imported in either order find each
/// other by company name, the company's source id or the domain of the e-mail address.
/// UTF-8 (with or without BOM), Windows-1252 and UTF-16 are detected, and so is the
/// delimiter. A bad row (a NUL byte, an invalid value) fails alone with its line; a phone
/// number that cannot be placed keeps its contact (a warning). Two imports into one
/// organization run one after the other. An import that stops (error, Ctrl-C, crash) is
/// marked failed; run the same command again to resume. Limits: 1 MiB per record, 500
/// columns, 50 tags per row.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What the file holds.
    #[arg(value_enum)]
    pub kind: ImportKind,
    /// The CSV or vCard file, or `-` for stdin.
    pub file: Option<String>,
    /// The tool the file comes from (detected from its headers when omitted):
    /// outlook, google, vcard, hubspot, salesforce, pipedrive, twenty, espocrm, lexware,
    /// generic.
    #[arg(long, value_name = "FORMAT")]
    pub from: Option<String>,
    /// Validate and report what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// What to do with rows matching an existing record (by e-mail, else name + company).
    #[arg(long, value_enum, default_value = "skip")]
    pub on_duplicate: DuplicateMode,
    /// Field delimiter (detected when omitted): `,` `;` `tab` or `|`.
    #[arg(long)]
    pub delimiter: Option<String>,
    /// Text encoding (detected when omitted): utf-8, windows-1252 (latin1), utf-16.
    #[arg(long)]
    pub encoding: Option<String>,
    /// Map a column to a field, e.g. --map "Mailbox=email" (repeatable).
    #[arg(long = "map", value_name = "COLUMN=FIELD")]
    pub map: Vec<String>,
    /// Write the rejected rows with their errors to this CSV file, to fix and re-import.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<String>,
    /// Keep columns that map to no field as custom fields (at most 50 columns, values of
    /// up to 500 characters).
    #[arg(long)]
    pub keep_unknown: bool,
    /// Rows per committed batch (a crash loses at most one batch); from 8,000 up the first
    /// three contact batches hold an eighth, a quarter and half of it.
    #[arg(long, default_value_t = 50_000)]
    pub batch_size: usize,
}

/// Runs `crm import`: reads the file in batches with a progress bar on a terminal; Ctrl-C
/// keeps what was committed and marks the run to be resumed.
pub async fn run(args: ImportArgs, ctx: &Ctx) -> Result<u8> {
    if matches!(args.kind, ImportKind::Formats) {
        return formats(ctx);
    }
    let Some(file) = args.file.clone() else {
        return Err(exit::usage("name the file to import, or `-` for stdin"));
    };
    let mut opts = options(&args)?;
    let (input, file_name, size) = open_input(&file)?;
    opts.file_name = file_name;
    opts.size_hint = size;
    let errors_out: Option<Box<dyn std::io::Write + Send>> = match &args.errors {
        Some(path) => Some(Box::new(std::io::BufWriter::new(
            crm_core::private_file::create(path.as_ref())
                .with_context(|| format!("cannot create {path}"))?,
        ))),
        None => None,
    };
    let (_, _, scope) = ctx.scope().await?;
    let bar = progress_bar(ctx, size);
    let watcher = watch_interrupt(&scope, opts.run_id.filter(|_| !opts.dry_run), bar.clone());
    let b = bar.clone();
    let progress = move |bytes: u64, rows: u64| {
        if let Some(b) = &b {
            b.set_position(if size.is_some() { bytes } else { rows });
            b.set_message(format!("{rows} rows"));
        }
    };
    let summary = match args.kind {
        ImportKind::Contacts => {
            crm_core::import::contacts::import_contacts(
                &scope,
                input,
                &opts,
                errors_out,
                move |p| progress(p.bytes, p.rows),
            )
            .await?
        }
        ImportKind::Formats => unreachable!("answered above"),
        ImportKind::Companies | ImportKind::Deals => {
            use crm_core::import::records::{RecordKind, import_records};
            let kind = match args.kind {
                ImportKind::Companies => RecordKind::Companies,
                _ => RecordKind::Deals,
            };
            import_records(&scope, kind, input, &opts, errors_out, move |p| {
                progress(p.bytes, p.rows)
            })
            .await?
        }
    };
    watcher.abort();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    warn_previously_erased(ctx, &summary);
    report(ctx, &summary)?;
    Ok(if summary.failed > 0 {
        exit::VALIDATION
    } else {
        exit::OK
    })
}

/// The import options from the flags (the file name is set once the file is open).
fn options(args: &ImportArgs) -> Result<ImportOptions> {
    let from: Option<Format> = args.from.as_deref().map(str::parse).transpose()?;
    let delimiter = match args.delimiter.as_deref() {
        None => None,
        Some("tab" | "\\t" | "\t") => Some(b'\t'),
        Some(d) if d.len() == 1 && d.is_ascii() => Some(d.as_bytes()[0]),
        Some(_) => return Err(exit::usage("--delimiter takes one character, or `tab`")),
    };
    let encoding: Option<TextEncoding> = args.encoding.as_deref().map(str::parse).transpose()?;
    let mut mappings = Vec::new();
    for m in &args.map {
        let Some((col, field)) = m.split_once('=') else {
            return Err(exit::usage(format!("--map takes COLUMN=FIELD, got '{m}'")));
        };
        mappings.push((col.trim().to_string(), field.trim().to_string()));
    }
    Ok(ImportOptions {
        dry_run: args.dry_run,
        on_duplicate: match args.on_duplicate {
            DuplicateMode::Skip => OnDuplicate::Skip,
            DuplicateMode::Update => OnDuplicate::Update,
            DuplicateMode::Error => OnDuplicate::Error,
        },
        delimiter,
        encoding,
        mappings,
        keep_unknown: args.keep_unknown,
        batch_size: args.batch_size,
        file_name: None,
        size_hint: None,
        from,
        run_id: Some(crm_core::ids::ImportRunId::new()),
    })
}

/// What is read: stdin for `-`, else the file (buffered), with its name and size.
type Input = (Box<dyn Read + Send>, Option<String>, Option<u64>);

/// Opens the input; see [`Input`].
fn open_input(file: &str) -> Result<Input> {
    if file == "-" {
        return Ok((Box::new(std::io::stdin()), None, None));
    }
    let f = File::open(file)
        .map_err(|e| exit::coded(exit::ERROR, format!("cannot open {}: {e}", file)))?;
    let size = f.metadata().ok().map(|m| m.len());
    let name = std::path::Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    Ok((
        Box::new(std::io::BufReader::with_capacity(1 << 20, f)),
        name,
        size,
    ))
}

/// Ctrl-C ends the import: the batches committed so far stay, the run is marked failed,
/// and running the same import again resumes it. A task of its own watches, so that it
/// acts even while the import waits for input on stdin.
fn watch_interrupt(
    scope: &crm_core::Scope,
    run: Option<crm_core::ids::ImportRunId>,
    bar: Option<indicatif::ProgressBar>,
) -> tokio::task::JoinHandle<()> {
    let scope = scope.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        if let Some(b) = &bar {
            b.abandon();
        }
        if let Some(run) = run {
            // Best effort: when it cannot be marked now, the next import marks it.
            let _ = crm_core::import::runs::mark_failed(
                &scope,
                run,
                "interrupted (Ctrl-C); run the same import again to resume (rows already \
                 imported are skipped)",
            )
            .await;
        }
        eprintln!(
            "import interrupted: the batches committed so far are kept; run the same \
             command again to resume (rows already imported are skipped)"
        );
        std::process::exit(i32::from(INTERRUPTED));
    })
}

/// Warns about rows that bring back the e-mail address of a person erased earlier (line
/// numbers only, at most 20).
fn warn_previously_erased(ctx: &Ctx, summary: &ImportSummary) {
    if summary.previously_erased.is_empty() {
        return;
    }
    let lines: Vec<String> = summary
        .previously_erased
        .iter()
        .take(20)
        .map(u64::to_string)
        .collect();
    ctx.note(format!(
        "warning: {} row(s) carry the e-mail address of a person erased earlier (lines {}{}); \
         check that they gave it again, or erase them with `crm gdpr erase`",
        summary.previously_erased.len(),
        lines.join(", "),
        if summary.previously_erased.len() > 20 {
            ", ..."
        } else {
            ""
        }
    ));
}

/// `crm import formats`: the recognised tools and what `--from` calls them.
fn formats(ctx: &Ctx) -> Result<u8> {
    let list = Format::list();
    match ctx.format() {
        Format_::Json | Format_::Ndjson => output::json(&list)?,
        Format_::Csv => {
            let stdout = crate::pipe::stdout();
            let mut w = csv::Writer::from_writer(stdout.lock());
            w.write_record(["name", "description"])?;
            for f in &list {
                w.write_record([f.name, f.description])?;
            }
            w.flush()?;
        }
        Format_::Table => {
            let text: Vec<String> = list
                .iter()
                .map(|f| format!("{:<11} {}", f.name, f.description))
                .collect();
            output::text(&text.join("\n"))?;
        }
    }
    Ok(exit::OK)
}

fn progress_bar(ctx: &Ctx, size: Option<u64>) -> Option<indicatif::ProgressBar> {
    if ctx.global.quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match size {
        Some(n) => indicatif::ProgressBar::new(n).with_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} ({bytes_per_sec}, ETA {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        ),
        None => indicatif::ProgressBar::new_spinner().with_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg} ({per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        ),
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    Some(bar)
}

fn report(ctx: &Ctx, s: &ImportSummary) -> Result<()> {
    match ctx.format() {
        Format_::Json | Format_::Ndjson => output::json(s),
        Format_::Csv => {
            let stdout = crate::pipe::stdout();
            let mut w = crate::output::csv_writer(stdout.lock())?;
            w.write_row([
                "rows",
                "created",
                "updated",
                "skipped",
                "failed",
                "companies_created",
                "dry_run",
            ])?;
            w.write_row([
                s.rows.to_string(),
                s.created.to_string(),
                s.updated.to_string(),
                s.skipped.to_string(),
                s.failed.to_string(),
                s.companies_created.to_string(),
                s.dry_run.to_string(),
            ])?;
            w.flush()?;
            Ok(())
        }
        Format_::Table => {
            let verb = if s.dry_run { "would be" } else { "were" };
            let mut text = format!(
                "{} rows read: {} {verb} created, {} updated, {} skipped, {} failed ({} companies created)",
                s.rows, s.created, s.updated, s.skipped, s.failed, s.companies_created
            );
            if let Some(f) = s.format {
                text.push_str(&format!("\nread as: {}", f.name()));
            }
            if s.contacts_linked > 0 {
                text.push_str(&format!(
                    "\n{} contacts imported before {verb} linked to their company",
                    s.contacts_linked
                ));
            }
            if s.dry_run && !s.mapping.is_empty() {
                text.push_str("\nmapping (column -> field):");
                for m in &s.mapping {
                    text.push_str(&format!("\n  {} -> {}", m.column, m.field));
                }
            }
            if !s.unknown_columns.is_empty() {
                text.push_str(&format!(
                    "\nunknown columns (ignored; --keep-unknown keeps them): {}",
                    s.unknown_columns.join(", ")
                ));
            }
            for c in &s.changes {
                text.push_str(&format!("\nline {}: {}", c.line, c.changes));
            }
            for w in s.warnings.iter().take(20) {
                text.push_str(&format!(
                    "\nwarning: line {}: {}: {}",
                    w.line, w.field, w.message
                ));
            }
            for e in s.errors.iter().take(20) {
                text.push_str(&format!("\nline {}: {}: {}", e.line, e.field, e.message));
            }
            let more = s.errors.len().saturating_sub(20) as u64 + s.errors_omitted;
            if more > 0 {
                text.push_str(&format!(
                    "\n... and {more} more (use --errors FILE for all)"
                ));
            }
            let more = s.warnings.len().saturating_sub(20) as u64 + s.warnings_omitted;
            if more > 0 {
                text.push_str(&format!("\n... and {more} more warnings"));
            }
            output::text(&text)
        }
    }
}
