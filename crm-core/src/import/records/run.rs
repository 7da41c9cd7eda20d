//! The reading loop: the file opened and its columns mapped, rows read in batches (one
//! transaction each), every row imported under a savepoint, and the run recorded.

use std::collections::HashSet;
use std::io::{Read, Write};

use serde_json::json;

use super::columns::{Columns, RowValues};
use super::companies::{CompanyCtx, company_row};
use super::deals::deal_row;
use super::{RecordKind, RowOutcome};
use crate::auth::Permission;
use crate::csv_out::{CsvOptions, CsvWriter};
use crate::error::{Error, Result};
use crate::ids::ImportRunId;
use crate::import::contacts::MAX_RECORD_BYTES;
use crate::import::lines::LineCounter;
use crate::import::source::{Source, field_text};
use crate::import::{ImportOptions, ImportSummary, Progress, RowChange, RowError, links, runs};
use crate::tenancy::{Scope, Tx};

/// The CSV reader over the decoded input, counting lines and capping record sizes.
type Reader<R> = csv::Reader<LineCounter<Source<R>>>;

/// Imports companies or deals from `input`.
pub async fn import_records<'a, R: Read + Send>(
    scope: &Scope,
    kind: RecordKind,
    input: R,
    opts: &ImportOptions,
    errors_out: Option<Box<dyn Write + Send + 'a>>,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<ImportSummary> {
    check_permissions(scope).await?;
    let source = Source::open(input, opts.encoding, opts.delimiter)?;
    let (delimiter, encoding) = (source.delimiter(), source.encoding());
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(LineCounter::new(source).with_record_cap(MAX_RECORD_BYTES));
    let cols = Columns::map(kind, read_header(&mut reader)?, opts)?;
    let run = opts.run_id.unwrap_or_default();
    let summary = cols.summary(opts, run, encoding, delimiter);
    let guard = runs::start(
        scope,
        run,
        (!opts.dry_run).then(|| runs::NewRun {
            kind: kind.as_str(),
            file_name: opts.file_name.as_deref(),
            actor: scope.actor(),
            options: json!({"on_duplicate": opts.on_duplicate, "mappings": opts.mappings}),
        }),
    )
    .await?;
    let result = async {
        let mut ctx = Ctx::new(&cols.headers, summary, errors_out)?;
        let mut rows = Rows::new(&cols, opts, run);
        let mut done = false;
        while !done {
            done = rows.import_batch(scope, &mut reader, &mut ctx).await?;
            progress(Progress {
                rows: ctx.summary.rows,
                bytes: reader.get_ref().inner().bytes_read(),
            });
        }
        let digest = reader.get_ref().inner().digest();
        drop(reader);
        ctx.finish(scope, opts, run, &digest).await
    }
    .await;
    match result {
        Ok(summary) => {
            guard.release().await?;
            Ok(summary)
        }
        Err(e) => Err(guard.fail(scope, e).await),
    }
}

/// Fails unless the actor may import and write.
async fn check_permissions(scope: &Scope) -> Result<()> {
    let tx = scope.begin().await?;
    tx.require(Permission::Import)?;
    tx.require(Permission::Write)?;
    tx.commit().await
}

/// Reads the header row: the columns' headers, trimmed.
fn read_header<R: Read>(reader: &mut Reader<R>) -> Result<Vec<String>> {
    let mut header = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut header)
        .map_err(|_| Error::invalid("file", "unreadable CSV header"))?
    {
        return Err(Error::invalid("file", "the file is empty"));
    }
    Ok(header
        .iter()
        .map(|h| field_text(h).trim().to_string())
        .collect())
}

/// The problems of a rejected row: (field, message).
type Problems = Vec<(String, String)>;

/// The run's summary and error file.
struct Ctx<'a> {
    /// How many columns the file has (an error row holds them all).
    width: usize,
    summary: ImportSummary,
    errors_out: Option<CsvWriter<Box<dyn Write + Send + 'a>>>,
}

/// The error of a failed write to the error file.
fn error_file(e: impl std::fmt::Display) -> Error {
    Error::Io(format!("writing the error file failed: {e}"))
}

impl<'a> Ctx<'a> {
    /// The run's context, with the error file's header (the file's plus `line`, `field`,
    /// `error`) written.
    fn new(
        headers: &[String],
        summary: ImportSummary,
        errors_out: Option<Box<dyn Write + Send + 'a>>,
    ) -> Result<Self> {
        let mut errors_out = errors_out
            .map(|w| CsvWriter::new(w, CsvOptions::default()))
            .transpose()
            .map_err(error_file)?;
        if let Some(w) = errors_out.as_mut() {
            let mut h = headers.to_vec();
            h.extend(["line".to_string(), "field".to_string(), "error".to_string()]);
            w.write_row(&h).map_err(error_file)?;
        }
        Ok(Self {
            width: headers.len(),
            summary,
            errors_out,
        })
    }

    /// Counts what became of an imported row.
    fn count(&mut self, line: u64, outcome: RowOutcome) {
        let summary = &mut self.summary;
        match outcome {
            RowOutcome::Created => summary.created += 1,
            RowOutcome::Updated(id, changes) => {
                summary.updated += 1;
                if summary.changes.len() < 10 {
                    summary.changes.push(RowChange { line, id, changes });
                }
            }
            RowOutcome::Skipped | RowOutcome::Unchanged => summary.skipped += 1,
        }
    }

    /// Records a rejected row with every problem it has, in the summary and the error file.
    fn reject(&mut self, line: u64, rec: &csv::ByteRecord, errs: Problems) -> Result<()> {
        self.summary.failed += 1;
        if let Some(w) = self.errors_out.as_mut() {
            let mut out: Vec<String> = rec.iter().map(|f| field_text(f).into_owned()).collect();
            out.resize(self.width, String::new());
            let fs: Vec<&str> = errs.iter().map(|e| e.0.as_str()).collect();
            let ms: Vec<&str> = errs.iter().map(|e| e.1.as_str()).collect();
            out.extend([line.to_string(), fs.join("; "), ms.join("; ")]);
            w.write_row(&out).map_err(error_file)?;
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

    /// Flushes the error file and, unless this is a dry run, records the run as finished
    /// (with the file's digest and the counts) with its audit entry and event.
    async fn finish(
        self,
        scope: &Scope,
        opts: &ImportOptions,
        run: ImportRunId,
        digest: &[u8],
    ) -> Result<ImportSummary> {
        let Ctx {
            summary,
            errors_out,
            ..
        } = self;
        if let Some(mut w) = errors_out {
            w.flush().map_err(error_file)?;
        }
        if opts.dry_run {
            return Ok(summary);
        }
        runs::settle_after_large_import(scope, false, summary.created + summary.updated).await?;
        let counts = json!({"rows": summary.rows, "created": summary.created,
                            "updated": summary.updated, "skipped": summary.skipped,
                            "failed": summary.failed});
        let rows = summary.rows as i64;
        scope
            .run(async |tx| {
                sqlx::query(FINISH_RUN)
                    .bind(tx.org())
                    .bind(run)
                    .bind(digest)
                    .bind(&counts)
                    .bind(rows)
                    .execute(tx.conn())
                    .await?;
                let event = json!({"run_id": run, "counts": counts});
                tx.record(
                    "import",
                    Some(run.uuid()),
                    "finish",
                    &counts,
                    Some("import.finished"),
                    &event,
                )
                .await
            })
            .await?;
        Ok(summary)
    }
}

/// Marks a run finished with its file's digest and counts.
const FINISH_RUN: &str = "update import_runs set status = 'finished', finished_at = now(), \
                          file_digest = $3, counts = $4, rows_done = $5 \
                          where org_id = $1 and id = $2";

/// Reads the next record into `rec`. Returns whether there was one; a record too large or
/// malformed is reported and ends the reading (keeping what was imported).
fn read_record<R: Read>(
    reader: &mut Reader<R>,
    rec: &mut csv::ByteRecord,
    summary: &mut ImportSummary,
) -> bool {
    match reader.read_byte_record(rec) {
        Ok(true) => {
            let pos = reader.position().byte();
            reader.get_mut().start_record(pos);
            true
        }
        Ok(false) => false,
        Err(e) => {
            let byte = e.position().map(|p| p.byte());
            let line = byte.map_or(0, |b| reader.get_mut().line_at(b));
            let too_large = matches!(e.kind(), csv::ErrorKind::Io(io) if LineCounter::<()>::is_record_too_large(io));
            summary.rows += 1;
            summary.failed += 1;
            summary.push_error(RowError {
                line,
                field: "file".into(),
                message: if too_large {
                    format!(
                        "a record is larger than {} MiB (an unbalanced quote?); reading stopped here",
                        MAX_RECORD_BYTES >> 20
                    )
                } else {
                    "malformed CSV (unbalanced quotes?); reading stopped here".into()
                },
            });
            false
        }
    }
}

/// The state of the reading loop between rows and batches.
struct Rows<'c> {
    cols: &'c Columns,
    opts: &'c ImportOptions,
    run: ImportRunId,
    batch_size: usize,
    /// The within-file dedup keys of the rows seen.
    keys_seen: HashSet<String>,
    /// What company rows share.
    cctx: CompanyCtx,
    /// The current record.
    rec: csv::ByteRecord,
}

impl<'c> Rows<'c> {
    fn new(cols: &'c Columns, opts: &'c ImportOptions, run: ImportRunId) -> Self {
        Self {
            cols,
            opts,
            run,
            batch_size: opts.batch_size.clamp(1, 1_000),
            keys_seen: HashSet::new(),
            cctx: CompanyCtx::new(cols.format),
            rec: csv::ByteRecord::new(),
        }
    }

    /// Imports up to a batch of rows in one transaction and finishes the batch. Returns
    /// whether the file is read to its end.
    async fn import_batch<R: Read>(
        &mut self,
        scope: &Scope,
        reader: &mut Reader<R>,
        ctx: &mut Ctx<'_>,
    ) -> Result<bool> {
        let mut tx = scope.begin().await?;
        let mut in_batch = 0;
        let mut done = false;
        while in_batch < self.batch_size {
            if !read_record(reader, &mut self.rec, &mut ctx.summary) {
                done = true;
                break;
            }
            // The physical line where the record starts (CRLF and quoted newlines counted).
            let byte = self.rec.position().map(|p| p.byte()).unwrap_or(0);
            let line = reader.get_mut().line_at(byte);
            if self
                .rec
                .iter()
                .all(|f| f.iter().all(u8::is_ascii_whitespace))
            {
                continue;
            }
            ctx.summary.rows += 1;
            in_batch += 1;
            self.import_record(&mut tx, line, ctx).await?;
        }
        self.finish_batch(tx, ctx).await?;
        Ok(done)
    }

    /// Imports the current record: rejected for a control character in a column that is
    /// read, skipped when it holds no company, else imported under a savepoint.
    async fn import_record(&mut self, tx: &mut Tx, line: u64, ctx: &mut Ctx<'_>) -> Result<()> {
        let bad = self.cols.control_errors(&self.rec, self.opts.keep_unknown);
        if !bad.is_empty() {
            return ctx.reject(line, &self.rec, bad);
        }
        let Some(row) = self.cols.read(&self.rec, self.opts.keep_unknown) else {
            ctx.summary.skipped += 1;
            return Ok(());
        };
        match self.import_row(tx, row).await? {
            Ok(outcome) => {
                ctx.count(line, outcome);
                for (field, message) in self.cctx.warnings.drain(..) {
                    ctx.summary.push_warning(RowError {
                        line,
                        field,
                        message,
                    });
                }
                Ok(())
            }
            Err(errs) => ctx.reject(line, &self.rec, errs),
        }
    }

    /// Imports one row under a savepoint. A rejected row (`Err` with its problems) and an
    /// unchanged one are rolled back to the savepoint; errors other than a row's own fail
    /// the import.
    async fn import_row(
        &mut self,
        tx: &mut Tx,
        row: RowValues,
    ) -> Result<std::result::Result<RowOutcome, Problems>> {
        sqlx::query("savepoint crm_import_row")
            .execute(tx.conn())
            .await?;
        self.cctx.warnings.clear();
        let RowValues {
            values,
            custom,
            extra,
        } = row;
        let outcome = match self.cols.kind {
            RecordKind::Companies => {
                let seen = &mut self.keys_seen;
                company_row(tx, values, custom, self.opts, seen, &extra, &mut self.cctx).await
            }
            RecordKind::Deals => deal_row(tx, values, custom, self.opts, &mut self.keys_seen).await,
        };
        match outcome {
            Ok(outcome) => {
                if matches!(outcome, RowOutcome::Unchanged) {
                    sqlx::query("rollback to savepoint crm_import_row")
                        .execute(tx.conn())
                        .await?;
                }
                sqlx::query("release savepoint crm_import_row")
                    .execute(tx.conn())
                    .await?;
                Ok(Ok(outcome))
            }
            Err(e) => {
                sqlx::query("rollback to savepoint crm_import_row")
                    .execute(tx.conn())
                    .await?;
                Ok(Err(row_problems(e)?))
            }
        }
    }

    /// Links contacts imported before to the companies of this batch, records the rows
    /// done and commits the batch (a dry run rolls it back).
    async fn finish_batch(&mut self, mut tx: Tx, ctx: &mut Ctx<'_>) -> Result<()> {
        let touched = std::mem::take(&mut self.cctx.touched);
        ctx.summary.contacts_linked +=
            links::contacts_to_companies(&mut tx, self.run, &touched).await?;
        if self.opts.dry_run {
            return tx.rollback().await;
        }
        sqlx::query("update import_runs set rows_done = $3 where org_id = $1 and id = $2")
            .bind(tx.org())
            .bind(self.run)
            .bind(ctx.summary.rows as i64)
            .execute(tx.conn())
            .await?;
        tx.commit().await
    }
}

/// The problems of a row the store refused; any other error fails the import.
fn row_problems(e: Error) -> Result<Problems> {
    Ok(match e {
        Error::Validation(fe) => fe.0.into_iter().map(|f| (f.field, f.message)).collect(),
        Error::Conflict(m) => vec![("record".into(), m)],
        Error::NotFound { entity } => vec![(
            entity.to_string(),
            format!("no such {entity} in this organization"),
        )],
        other => return Err(other),
    })
}
