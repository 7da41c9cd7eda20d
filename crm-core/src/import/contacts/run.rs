//! The run loop: reading the file, validating rows, batching and merging outcomes.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash as _, Hasher as _};
use std::io::{Read, Write};

use futures_util::{FutureExt as _, StreamExt as _};
use serde_json::json;
use uuid::Uuid;

use super::batch::{Batch, CompanyRow, stage_row};
use super::flush::{Outcome, Shared, flush};
use super::row::Row;
use super::{Columns, MAX_COLUMNS, MAX_KEPT_UNKNOWN, MAX_RECORD_BYTES, RowEnv, parse_row};
use crate::auth::Permission;
use crate::domain::normalize_name;
use crate::error::{Error, Result};
use crate::ids::ImportRunId;
use crate::import::formats::{self, Format};
use crate::import::lines::LineCounter;
use crate::import::source::{Source, field_text};
use crate::import::{
    ImportOptions, ImportSummary, OnDuplicate, Progress, RowError, TextEncoding, runs,
};
use crate::tenancy::{Scope, Tx};

/// How many rows the reading loop reads between polls of the batches in flight (about
/// 10 ms of reading).
const POLL_EVERY_ROWS: u32 = 256;

/// A large batch size is reached in steps: the first batch holds an eighth of it, the
/// second a quarter, the third half. The server waits for the first batch while the file is
/// read (about a second for 50,000 rows); a small first batch sets it to work sooner.
const RAMP_UP_FROM: usize = 8_000;

/// The size of the batch numbered `batch_no` (from 0).
fn batch_target(batch_size: usize, batch_no: u64) -> usize {
    if batch_size < RAMP_UP_FROM || batch_no >= 3 {
        batch_size
    } else {
        batch_size >> (3 - batch_no)
    }
}

/// The size to cut the batch being filled at, near the end of an input of known length: half
/// of the rows left (`in_batch` read into it and the estimate of those still unread, from
/// the raw bytes and rows `read` so far), at least an eighth of `batch_size`. The last batches shrink as the ramp-up grew the first,
/// so the last two in flight end together: a 50,000-row batch running alone at the end
/// left one of two cores idle for 2 to 3 s of a million-row import.
fn tail_target(
    batch_size: usize,
    in_batch: usize,
    read: (u64, u64),
    size_hint: Option<u64>,
) -> usize {
    let (bytes, rows) = read;
    let Some(size) = size_hint else {
        return batch_size;
    };
    if batch_size < RAMP_UP_FROM || rows == 0 || bytes == 0 {
        return batch_size;
    }
    let unread = size.saturating_sub(bytes).saturating_mul(rows) / bytes;
    let left = (in_batch as u64).saturating_add(unread);
    let half = usize::try_from(left.div_ceil(2)).unwrap_or(usize::MAX);
    half.clamp(batch_size / 8, batch_size)
}

/// The reading loop's summary and error file.
struct Ctx<'a> {
    cols: &'a Columns,
    summary: ImportSummary,
    errors_out: Option<crate::csv_out::CsvWriter<Box<dyn Write + Send + 'a>>>,
    batch_no: u64,
}

impl<'a> Ctx<'a> {
    /// The empty summary of the file, and the error file with its header written.
    fn new(
        cols: &'a Columns,
        opts: &ImportOptions,
        run: ImportRunId,
        encoding: TextEncoding,
        delimiter: u8,
        errors_out: Option<Box<dyn Write + Send + 'a>>,
        headers: &[String],
    ) -> Result<Self> {
        let mut ctx = Ctx {
            cols,
            summary: ImportSummary {
                run_id: (!opts.dry_run).then_some(run),
                dry_run: opts.dry_run,
                encoding: Some(encoding),
                delimiter: (delimiter as char).to_string(),
                unknown_columns: cols
                    .unknown
                    .iter()
                    .filter_map(|i| cols.headers.get(*i).cloned())
                    .collect(),
                columns: cols
                    .fields
                    .iter()
                    .zip(&cols.headers)
                    .filter_map(|(f, h)| f.map(|f| (h.clone(), f.name().to_string())))
                    .collect(),
                format: Some(cols.format),
                mapping: cols.mapping(),
                ..ImportSummary::default()
            },
            errors_out: errors_out
                .map(|w| crate::csv_out::CsvWriter::new(w, crate::csv_out::CsvOptions::default()))
                .transpose()
                .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?,
            batch_no: 0,
        };
        if let Some(w) = ctx.errors_out.as_mut() {
            let mut h = headers.to_vec();
            h.extend(["line".to_string(), "field".to_string(), "error".to_string()]);
            w.write_row(&h)
                .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?;
        }
        Ok(ctx)
    }

    /// Merges a finished batch into the summary and the error file.
    fn apply(&mut self, out: Outcome) -> Result<()> {
        self.summary.created += out.created;
        self.summary.updated += out.updated;
        self.summary.skipped += out.skipped;
        self.summary.companies_created += out.companies_created;
        for (line, message) in out.likely_duplicates {
            self.summary.push_warning(crate::import::RowError {
                line,
                field: "duplicate".to_string(),
                message,
            });
        }
        for c in out.changes {
            if self.summary.changes.len() < 10 {
                self.summary.changes.push(c);
            }
        }
        if !out.rejects.is_empty() {
            let by_line: HashMap<u64, &csv::ByteRecord> =
                out.lines.iter().map(|(l, r)| (*l, r)).collect();
            for (line, field, message) in &out.rejects {
                self.reject(*line, by_line.get(line).copied(), field, message)?;
            }
        }
        self.summary.errors.sort_by_key(|e| e.line);
        Ok(())
    }

    /// Records a row that failed validation, with every problem it has.
    fn reject_row(
        &mut self,
        line: u64,
        rec: &csv::ByteRecord,
        errs: Vec<(String, String)>,
    ) -> Result<()> {
        self.summary.failed += 1;
        if let Some(w) = self.errors_out.as_mut() {
            let mut out: Vec<String> = rec.iter().map(|f| field_text(f).into_owned()).collect();
            out.resize(self.cols.headers.len(), String::new());
            let fields: Vec<&str> = errs.iter().map(|e| e.0.as_str()).collect();
            let msgs: Vec<&str> = errs.iter().map(|e| e.1.as_str()).collect();
            out.extend([line.to_string(), fields.join("; "), msgs.join("; ")]);
            w.write_row(&out)
                .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?;
        }
        for (field, message) in errs {
            self.summary.push_error(RowError {
                line,
                field,
                message,
            });
        }
        Ok(())
    }

    fn reject(
        &mut self,
        line: u64,
        rec: Option<&csv::ByteRecord>,
        field: &str,
        message: &str,
    ) -> Result<()> {
        self.summary.failed += 1;
        self.summary.push_error(RowError {
            line,
            field: field.into(),
            message: message.into(),
        });
        if let Some(w) = self.errors_out.as_mut() {
            let mut out: Vec<String> = rec
                .map(|r| r.iter().map(|f| field_text(f).into_owned()).collect())
                .unwrap_or_default();
            out.resize(self.cols.headers.len(), String::new());
            out.extend([line.to_string(), field.to_string(), message.to_string()]);
            w.write_row(&out)
                .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?;
        }
        Ok(())
    }
}

/// Imports contacts from `input` (CSV) into the scope's organization.
///
/// `errors_out`, when given, receives every rejected row as CSV: the original columns plus
/// `line`, `field` and `error`, so the file can be fixed and imported again. `progress` is
/// called after every batch.
pub async fn import_contacts<'a, R: Read + Send + 'a>(
    scope: &Scope,
    input: R,
    opts: &ImportOptions,
    errors_out: Option<Box<dyn Write + Send + 'a>>,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<ImportSummary> {
    let org = OrgContext::read(scope, opts).await?;
    let file = Opened::open(input, opts)?;
    let run = opts.run_id.unwrap_or_default();
    let options = json!({
        "on_duplicate": opts.on_duplicate,
        "dry_run": opts.dry_run,
        "mappings": opts.mappings,
    });
    let guard = crate::import::runs::start(
        scope,
        run,
        (!opts.dry_run).then_some(crate::import::runs::NewRun {
            kind: "contacts",
            file_name: opts.file_name.as_deref(),
            actor: org.actor,
            options,
        }),
    )
    .await?;
    let result = read_and_import(scope, opts, run, org, file, errors_out, &mut progress).await;
    match result {
        Ok(summary) => {
            guard.release().await?;
            Ok(summary)
        }
        Err(e) => Err(guard.fail(scope, e).await),
    }
}

/// What the import reads of the organization before it reads the file.
struct OrgContext {
    region: String,
    actor: crate::ids::UserId,
    /// The erasure key and the keyed hashes of erased persons' addresses, to flag them when
    /// they come back.
    erased: Option<(Vec<u8>, HashSet<Vec<u8>>)>,
    /// Active users by normalised e-mail and by folded full name (owner columns).
    users: HashMap<String, Uuid>,
    /// The address country of the organization's companies by normalised name.
    company_countries: HashMap<String, String>,
    /// Whether the organization had live contacts as the run began: new rows are compared
    /// with them for likely duplicates only then.
    had_contacts: bool,
}

impl OrgContext {
    /// Checks the permissions and reads the organization's context in one transaction.
    async fn read(scope: &Scope, opts: &ImportOptions) -> Result<Self> {
        let mut tx = scope.begin().await?;
        tx.require(Permission::Import)?;
        if opts.on_duplicate == OnDuplicate::Update {
            tx.require(Permission::Write)?;
        }
        let region = tx.default_region().to_string();
        let actor = tx.actor().id;
        // Keyed hashes of erased persons' addresses, to flag them when they come back.
        let erased: Vec<Vec<u8>> = sqlx::query_scalar(
            "select distinct unnest(email_hashes) from erasure_receipts where org_id = $1",
        )
        .bind(tx.org())
        .fetch_all(tx.conn())
        .await?;
        let key: Option<Vec<u8>> = if erased.is_empty() {
            None
        } else {
            sqlx::query_scalar("select key from erasure_keys where org_id = $1")
                .bind(tx.org())
                .fetch_optional(tx.conn())
                .await?
        };
        let users = owner_keys(&mut tx).await?;
        let company_countries: Vec<(String, String)> = sqlx::query_as(
            "select distinct on (name_norm) name_norm, \
                    coalesce(billing_country, delivery_country)::text from companies \
             where org_id = $1 and deleted_at is null \
               and coalesce(billing_country, delivery_country) is not null \
             order by name_norm, id",
        )
        .bind(tx.org())
        .fetch_all(tx.conn())
        .await?;
        let had_contacts: bool = sqlx::query_scalar(
            "select exists (select 1 from contacts where org_id = $1 and deleted_at is null)",
        )
        .bind(tx.org())
        .fetch_one(tx.conn())
        .await?;
        tx.commit().await?;
        Ok(Self {
            region,
            actor,
            had_contacts,
            erased: key.map(|k| (k, erased.into_iter().collect::<HashSet<Vec<u8>>>())),
            users,
            company_countries: company_countries
                .into_iter()
                .map(|(n, c)| (n, c.trim().to_string()))
                .collect::<HashMap<String, String>>(),
        })
    }
}

/// The CSV reader over the decoded input, counting lines and capping record sizes.
type Reader<'a> = csv::Reader<LineCounter<Source<Box<dyn Read + Send + 'a>>>>;

/// The opened file: its reader (past the header), header and column mapping.
struct Opened<'a> {
    reader: Reader<'a>,
    /// A vCard file's line numbers: those of each card's BEGIN line.
    card_lines: Option<Vec<u64>>,
    headers: Vec<String>,
    cols: Columns,
    delimiter: u8,
    encoding: TextEncoding,
}

impl<'a> Opened<'a> {
    /// Decodes the input, reads the header and maps the columns.
    fn open<R: Read + Send + 'a>(input: R, opts: &ImportOptions) -> Result<Self> {
        // A vCard file is read whole and turned into rows of its fields; its line numbers
        // are those of each card's BEGIN line.
        let (input, card_lines): (Box<dyn Read + Send + 'a>, Option<Vec<u64>>) =
            match formats::vcard::sniff(input, opts.from)? {
                formats::vcard::Sniffed::Cards(csv, lines) => {
                    (Box::new(std::io::Cursor::new(csv)), Some(lines))
                }
                formats::vcard::Sniffed::Other(r) => (r, None),
            };
        let vcard = card_lines.is_some();
        let source = Source::open(
            input,
            opts.encoding,
            if vcard { Some(b',') } else { opts.delimiter },
        )?;
        let delimiter = source.delimiter();
        let encoding = source.encoding();
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(LineCounter::new(source).with_record_cap(MAX_RECORD_BYTES));
        let mut header = csv::ByteRecord::new();
        if !reader.read_byte_record(&mut header).map_err(csv_error)? {
            return Err(Error::invalid("file", "the file is empty"));
        }
        let pos = reader.position().byte();
        reader.get_mut().start_record(pos);
        let headers: Vec<String> = header
            .iter()
            .map(|h| field_text(h).trim().to_string())
            .collect();
        let cols = map_columns(&headers, opts, vcard)?;
        Ok(Self {
            reader,
            card_lines,
            headers,
            cols,
            delimiter,
            encoding,
        })
    }
}

/// Maps the header's columns to fields, within the limits on columns.
fn map_columns(headers: &[String], opts: &ImportOptions, vcard: bool) -> Result<Columns> {
    if headers.len() > MAX_COLUMNS {
        return Err(Error::invalid(
            "header",
            format!("the file has more than {MAX_COLUMNS} columns"),
        ));
    }
    let cols = Columns::new(
        headers.to_vec(),
        opts,
        if vcard {
            Some(Format::Vcard)
        } else {
            opts.from
        },
    )?;
    if opts.keep_unknown && cols.unknown.len() > MAX_KEPT_UNKNOWN {
        return Err(Error::invalid(
            "keep_unknown",
            format!(
                "the file has {} columns that map to no field; --keep-unknown keeps at most \
                 {MAX_KEPT_UNKNOWN}: map the ones you need with --map COLUMN=FIELD, or drop \
                 --keep-unknown",
                cols.unknown.len()
            ),
        ));
    }
    Ok(cols)
}

/// Reads the file row by row, validates and stages the rows, writes them in batches (two in
/// flight) and finishes the run.
async fn read_and_import<'a>(
    scope: &Scope,
    opts: &ImportOptions,
    run: ImportRunId,
    org: OrgContext,
    file: Opened<'a>,
    errors_out: Option<Box<dyn Write + Send + 'a>>,
    progress: &mut (impl FnMut(Progress) + Send),
) -> Result<ImportSummary> {
    let Opened {
        mut reader,
        card_lines,
        headers,
        cols,
        delimiter,
        encoding,
    } = file;
    let mut ctx = Ctx::new(&cols, opts, run, encoding, delimiter, errors_out, &headers)?;
    let batch_size = opts.batch_size.max(1);
    let shared = Shared {
        scope,
        opts,
        cols: &cols,
        run,
        actor: org.actor,
        had_contacts: org.had_contacts,
    };
    let max_in_flight = if opts.dry_run { 1 } else { 2 };
    let mut rows = Rows::new(org, opts, delimiter, card_lines, ctx.errors_out.is_some());
    let mut rec = csv::ByteRecord::new();
    let mut in_flight = futures_util::stream::FuturesUnordered::new();
    let mut unpolled = 0_u32;
    loop {
        // The batches in flight move on only when polled: one whose statement ended sends
        // its next statement at its next poll. Reading a batch's rows takes over a second,
        // so they are polled every few hundred rows, not only when a batch is full.
        unpolled += 1;
        if unpolled >= POLL_EVERY_ROWS {
            unpolled = 0;
            while let Some(Some(out)) = in_flight.next().now_or_never() {
                ctx.apply(out?)?;
                progress(progress_of(&ctx, &reader));
            }
        }
        let more = read_record(&mut reader, &mut rec, &mut ctx)?;
        if more {
            let line = rows.line_of(&mut reader, &rec);
            if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            ctx.summary.rows += 1;
            match parse_row(&cols, &rec, &rows.env) {
                Err(errs) => ctx.reject_row(line, &rec, errs)?,
                Ok(row) => {
                    if !rows.stage(&mut ctx, line, &rec, &row) {
                        continue;
                    }
                }
            }
        }
        let target = batch_target(batch_size, ctx.batch_no).min(tail_target(
            batch_size,
            rows.batch.rows,
            (reader.get_ref().inner().bytes_read(), ctx.summary.rows),
            opts.size_hint,
        ));
        if rows.batch.rows >= target || (!more && rows.batch.rows > 0) {
            let mut b = std::mem::replace(&mut rows.batch, Batch::new());
            b.rows_read = ctx.summary.rows;
            // In an organization's first import the second batch waits for the first and
            // for fresh statistics of the lookup columns (migration 20261208020000):
            // planned without them, one second batch's e-mail lookups read all of the
            // first batch's addresses per row (2.1 s instead of milliseconds).
            let first_import_second_batch =
                ctx.batch_no == 1 && !shared.had_contacts && !opts.dry_run;
            // Two batches in flight use both cores (the within-file dedup keeps them
            // disjoint); a dry run goes one at a time.
            let limit = if first_import_second_batch {
                1
            } else {
                max_in_flight
            };
            while in_flight.len() >= limit {
                if let Some(out) = in_flight.next().await {
                    ctx.apply(out?)?;
                    progress(progress_of(&ctx, &reader));
                }
            }
            if first_import_second_batch {
                runs::analyze_lookups(scope).await?;
            }
            ctx.batch_no += 1;
            in_flight.push(flush(&shared, ctx.batch_no, b));
        }
        if !more {
            break;
        }
    }
    while let Some(out) = in_flight.next().await {
        ctx.apply(out?)?;
        progress(progress_of(&ctx, &reader));
    }
    let digest = reader.get_ref().inner().digest();
    drop(reader);
    if let Some(mut w) = ctx.errors_out.take() {
        w.flush()
            .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?;
    }
    let summary = ctx.summary;
    finish_run(scope, opts, run, &summary, &digest).await?;
    Ok(summary)
}

/// The run's progress after a batch.
fn progress_of(ctx: &Ctx<'_>, reader: &Reader<'_>) -> Progress {
    Progress {
        rows: ctx.summary.rows,
        bytes: reader.get_ref().inner().bytes_read(),
    }
}

/// Reads the next record into `rec`. Returns whether there was one; a record too large or
/// malformed is reported and ends the reading (keeping what was imported).
fn read_record(
    reader: &mut Reader<'_>,
    rec: &mut csv::ByteRecord,
    ctx: &mut Ctx<'_>,
) -> Result<bool> {
    match reader.read_byte_record(rec) {
        Ok(more) => {
            let pos = reader.position().byte();
            reader.get_mut().start_record(pos);
            Ok(more)
        }
        Err(e) if matches!(e.kind(), csv::ErrorKind::Io(io) if LineCounter::<()>::is_record_too_large(io)) =>
        {
            let start = reader.get_ref().record_start();
            let line = reader.get_mut().line_at(start);
            ctx.summary.rows += 1;
            ctx.reject(
                line,
                None,
                "file",
                &format!(
                    "a record here is larger than {} MiB (an unbalanced quote?); reading stopped here",
                    MAX_RECORD_BYTES >> 20
                ),
            )?;
            Ok(false)
        }
        Err(e) => {
            // A malformed record (e.g. an unterminated quote): report it and stop reading,
            // keeping what was imported.
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            ctx.summary.rows += 1;
            ctx.reject(
                line,
                None,
                "file",
                "malformed CSV (unbalanced quotes?); reading stopped here",
            )?;
            Ok(false)
        }
    }
}

/// The state of the reading loop between rows: the batch being filled and what the rows
/// seen so far decide for the next ones.
struct Rows {
    /// Within-file dedup: a hash of the key to the first line that had it.
    seen: HashMap<u64, u64>,
    batch: Batch,
    env: RowEnv,
    erased: Option<(Vec<u8>, HashSet<Vec<u8>>)>,
    /// Whether the original records are kept (for an error file).
    keep_lines: bool,
    card_lines: Option<Vec<u64>>,
    card_no: usize,
}

impl Rows {
    fn new(
        org: OrgContext,
        opts: &ImportOptions,
        delimiter: u8,
        card_lines: Option<Vec<u64>>,
        keep_lines: bool,
    ) -> Self {
        let tag_split: Vec<char> = ['|', ';', ',']
            .into_iter()
            .filter(|c| *c as u32 != u32::from(delimiter))
            .collect();
        Self {
            seen: HashMap::new(),
            batch: Batch::new(),
            env: RowEnv {
                company_countries: org.company_countries,
                region: org.region,
                tag_split,
                keep_unknown: opts.keep_unknown,
                users: org.users,
            },
            erased: org.erased,
            keep_lines,
            card_lines,
            card_no: 0,
        }
    }

    /// The line of the record just read (a vCard's BEGIN line).
    fn line_of(&mut self, reader: &mut Reader<'_>, rec: &csv::ByteRecord) -> u64 {
        match &self.card_lines {
            Some(lines) => {
                self.card_no += 1;
                lines.get(self.card_no - 1).copied().unwrap_or(0)
            }
            None => {
                let byte = rec.position().map(|p| p.byte()).unwrap_or(0);
                reader.get_mut().line_at(byte)
            }
        }
    }

    /// Stages a valid row into the batch. Returns false for a row whose key an earlier row
    /// of the file had (counted as skipped).
    fn stage(&mut self, ctx: &mut Ctx<'_>, line: u64, rec: &csv::ByteRecord, row: &Row) -> bool {
        // A company this file names with a country places the numbers of the later rows of
        // its contacts that name none.
        if let (Some((_, norm)), Some(country)) = (&row.company, &row.country) {
            self.env
                .company_countries
                .entry(norm.clone())
                .or_insert_with(|| country.clone());
        }
        for (field, message) in &row.warnings {
            ctx.summary.push_warning(RowError {
                line,
                field: field.clone(),
                message: message.clone(),
            });
        }
        let name_norm = normalize_name(&format!(
            "{} {}",
            row.first_name.as_deref().unwrap_or(""),
            row.last_name.as_deref().unwrap_or("")
        ));
        let key = dedup_key(row, &name_norm);
        if self.seen.contains_key(&key) {
            ctx.summary.skipped += 1;
            return false;
        }
        self.seen.insert(key, line);
        if self.was_erased(row) {
            ctx.summary.previously_erased.push(line);
        }
        let batch = &mut self.batch;
        add_company(batch, row);
        stage_row(batch, line, row, &name_norm);
        // The original record is kept only to write rejected rows to an error file
        // (memory: two batches of records otherwise).
        if self.keep_lines {
            batch.lines.push((line, rec.clone()));
        }
        batch.first_line.get_or_insert(line);
        batch.last_line = Some(line);
        batch.tags.extend(row.tags.iter().cloned());
        true
    }

    /// Whether the row's e-mail is that of a person erased earlier.
    fn was_erased(&self, row: &Row) -> bool {
        if let (Some((erasure_key, hashes)), Some((_, norm))) = (&self.erased, &row.email) {
            hashes.contains(
                crate::gdpr::reapply::hmac_sha256(erasure_key, norm.as_bytes()).as_slice(),
            )
        } else {
            false
        }
    }
}

/// The key of the within-file dedup: the source id, else the e-mail, else name and company.
fn dedup_key(row: &Row, name_norm: &str) -> u64 {
    match (&row.extra.external_id, &row.email) {
        (Some(id), _) => hash_key(&["x", id]),
        (None, Some((_, norm))) => hash_key(&["e", norm]),
        (None, None) => hash_key(&[
            "n",
            name_norm,
            row.company.as_ref().map_or("", |c| c.1.as_str()),
        ]),
    }
}

/// Adds the company the row names to the batch (the first row's details win).
fn add_company(batch: &mut Batch, row: &Row) {
    if let Some((name, norm)) = &row.company
        && !batch.companies.contains_key(norm)
    {
        batch.companies.insert(
            norm.clone(),
            CompanyRow {
                id: Uuid::now_v7(),
                name: name.clone(),
                vat_id: row.vat_id.clone(),
                website: row.website.as_ref().map(|w| w.0.clone()),
                domain: row.website.as_ref().map(|w| w.1.clone()),
                street: row.street.clone(),
                postal_code: row.postal_code.clone(),
                city: row.city.clone(),
                country: row.country.clone(),
            },
        );
    }
}

/// Finishes a run that wrote: fresh statistics after a large import, the run's counts and
/// its audit entry.
async fn finish_run(
    scope: &Scope,
    opts: &ImportOptions,
    run: ImportRunId,
    summary: &ImportSummary,
    digest: &[u8],
) -> Result<()> {
    runs::settle_after_large_import(scope, opts.dry_run, summary.created + summary.updated).await?;
    if !opts.dry_run {
        let counts = json!({
            "rows": summary.rows, "created": summary.created, "updated": summary.updated,
            "skipped": summary.skipped, "failed": summary.failed,
            "companies_created": summary.companies_created,
        });
        scope
            .run(async |tx| {
                sqlx::query(
                    "update import_runs set status = 'finished', finished_at = now(), file_digest = $3, \
                     counts = $4, rows_done = $5 where org_id = $1 and id = $2",
                )
                .bind(tx.org())
                .bind(run)
                .bind(digest)
                .bind(&counts)
                .bind(summary.rows as i64)
                .execute(tx.conn())
                .await?;
                tx.record("import", Some(run.uuid()), "finish", &counts, Some("import.finished"), &json!({"run_id": run, "counts": counts}))
                    .await
            })
            .await?;
    }
    Ok(())
}

/// Active users by normalised e-mail and by folded full name, for owner columns.
pub(crate) async fn owner_keys(tx: &mut Tx) -> Result<HashMap<String, Uuid>> {
    let rows: Vec<(Uuid, String, String, String)> = sqlx::query_as(
        "select id, email_norm, first_name, last_name from users where org_id = $1 and active",
    )
    .bind(tx.org())
    .fetch_all(tx.conn())
    .await?;
    let mut out = HashMap::new();
    for (id, email, first, last) in rows {
        out.insert(email, id);
        let name = crate::domain::fold_for_search(format!("{first} {last}").trim());
        if !name.is_empty() {
            out.entry(name).or_insert(id);
        }
    }
    Ok(out)
}

fn hash_key(parts: &[&str]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

pub(super) fn csv_error(e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    Error::invalid("file", format!("unreadable CSV near line {line}"))
}

#[cfg(test)]
mod tests {
    use super::{batch_target, tail_target};

    #[test]
    fn large_batches_are_reached_in_steps_small_ones_at_once() {
        let sizes: Vec<usize> = (0..5).map(|n| batch_target(50_000, n)).collect();
        assert_eq!(sizes, [6_250, 12_500, 25_000, 50_000, 50_000]);
        assert_eq!(batch_target(50, 0), 50);
        assert_eq!(batch_target(7_999, 1), 7_999);
    }

    /// Rows of 100 bytes: the batch being filled takes half of what is left, from a full
    /// batch down to an eighth of one; without a known size, or below the ramp-up size, the
    /// batch size stands.
    #[test]
    fn the_last_batches_shrink_when_the_size_is_known() {
        let at = |in_batch: usize, read_rows: u64, size_rows: u64| {
            tail_target(
                50_000,
                in_batch,
                (read_rows * 100, read_rows),
                Some(size_rows * 100),
            )
        };
        assert_eq!(at(0, 100_000, 1_000_000), 50_000);
        assert_eq!(at(30_000, 930_000, 1_000_000), 50_000);
        assert_eq!(at(20_000, 960_000, 1_000_000), 30_000);
        assert_eq!(at(10_000, 990_000, 1_000_000), 10_000);
        assert_eq!(at(1_000, 999_000, 1_000_000), 6_250);
        assert_eq!(at(0, 1_000_000, 1_000_000), 6_250);
        assert_eq!(
            tail_target(50_000, 10_000, (99_000_000, 990_000), None),
            50_000
        );
        assert_eq!(
            tail_target(5_000, 1_000, (99_900_000, 999_000), Some(100_000_000)),
            5_000
        );
        assert_eq!(tail_target(50_000, 0, (0, 0), Some(100)), 50_000);
    }
}
