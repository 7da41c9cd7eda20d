//! Importing companies and deals from CSV through the store's own operations (so every rule,
//! audit entry and event is the same as for a record created by hand). Each row runs under
//! a savepoint inside a batch transaction: a rejected row is rolled back alone and reported,
//! a crash loses at most the current batch, and duplicates are recognised on a re-run.
//!
//! Company and deal files are small next to contact files, so this path favours exactness
//! over the set-based speed path contacts take.

use std::collections::HashSet;
use std::io::{Read, Write};

use serde_json::{Map, Value, json};

use super::formats::Format;
use super::formats::companies::{self, CompanyField};
use super::lines::LineCounter;
use super::source::{Source, field_text};
use super::{
    ImportOptions, ImportSummary, MappingEntry, OnDuplicate, Progress, RowChange, RowError,
};
use crate::auth::Permission;
use crate::domain::{fold_for_search, normalize_name};
use crate::error::{Error, Result};
use crate::store::{company, contact, deal, diff};
use crate::tenancy::{Scope, Tx};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// Companies.
    Companies,
    /// Deals.
    Deals,
}

impl RecordKind {
    fn as_str(self) -> &'static str {
        match self {
            RecordKind::Companies => "companies",
            RecordKind::Deals => "deals",
        }
    }
}

/// The field a header maps to (the key of the store's JSON input), by kind.
fn field_for(kind: RecordKind, header: &str) -> Option<&'static str> {
    let key: String = fold_for_search(header.trim())
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    match kind {
        RecordKind::Companies => Some(match key.as_str() {
            "name" | "company" | "firma" | "firmenname" | "unternehmen" | "companyname"
            | "organisation" | "organization" => "name",
            "domain" | "domaene" => "domain",
            "website" | "webseite" | "homepage" | "url" | "internet" | "web" => "website",
            "vatid" | "vat" | "ustidnr" | "ustid" | "umsatzsteuerid" | "ustidnummer"
            | "vatnumber" => "vat_id",
            "taxid" | "steuernummer" | "stnr" => "tax_id",
            "traderegister"
            | "traderegisternumber"
            | "handelsregister"
            | "handelsregisternummer"
            | "hrb"
            | "registernummer" => "trade_register_number",
            "court" | "registergericht" | "amtsgericht" | "traderegistercourt" => {
                "trade_register_court"
            }
            "industry" | "branche" => "industry",
            "accounttype" | "kontotyp" | "typ" | "kundentyp" => "account_type",
            "size" | "groesse" | "unternehmensgroesse" => "size",
            "employees" | "mitarbeiter" | "mitarbeiterzahl" | "anzahlmitarbeiter" => "employees",
            "status" => "status",
            "street" | "strasse" | "adresse" | "address" | "billingstreet" | "anschrift" => {
                "billing_street"
            }
            "postalcode" | "zip" | "zipcode" | "plz" | "postleitzahl" | "billingpostalcode" => {
                "billing_postal_code"
            }
            "city" | "ort" | "stadt" | "billingcity" => "billing_city",
            "country" | "land" | "billingcountry" => "billing_country",
            "email" | "mail" | "emailadresse" => "email",
            "phone" | "telefon" | "tel" | "telefonnummer" => "phone",
            "tags" | "tag" | "schlagworte" | "labels" => "tags",
            _ => return None,
        }),
        RecordKind::Deals => {
            Some(match key.as_str() {
                "title" | "titel" | "deal" | "name" | "bezeichnung" | "opportunity"
                | "dealname" => "title",
                "value" | "wert" | "betrag" | "volumen" | "amount" | "dealwert" => "value",
                "currency" | "waehrung" => "currency",
                "pipeline" => "pipeline",
                "stage" | "phase" | "stufe" | "dealphase" => "stage",
                "company" | "firma" | "unternehmen" | "companyid" | "account" => "company",
                "contact" | "kontakt" | "contactemail" | "email" | "ansprechpartner"
                | "contactid" => "contact",
                "expectedclosedate"
                | "closedate"
                | "abschlussdatum"
                | "erwartetesabschlussdatum"
                | "abschluss" => "expected_close_date",
                "status" => "status",
                "lostreason" | "verlustgrund" | "grund" => "lost_reason",
                "lostreasontext" | "verlustnotiz" => "lost_reason_text",
                _ => return None,
            })
        }
    }
}

/// Fields that the store does not take as JSON input but the importer handles itself.
const DEAL_EXTRA: &[&str] = &[
    "company",
    "contact",
    "status",
    "lost_reason",
    "lost_reason_text",
];

/// A date as typed (`31.12.2026`, `2026-12-31`), read by the one date parser.
fn parse_date(s: &str) -> Option<String> {
    crate::domain::parse_date(s, crate::domain::Zone::default(), chrono::Utc::now())
        .ok()
        .map(|d| d.to_string())
}

/// Imports companies or deals from `input`.
pub async fn import_records<'a, R: Read + Send>(
    scope: &Scope,
    kind: RecordKind,
    input: R,
    opts: &ImportOptions,
    errors_out: Option<Box<dyn Write + Send + 'a>>,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<ImportSummary> {
    {
        let tx = scope.begin().await?;
        tx.require(Permission::Import)?;
        tx.require(Permission::Write)?;
        tx.commit().await?;
    }
    let mut source = Source::open(input, opts.encoding, opts.delimiter)?;
    let delimiter = source.delimiter();
    let encoding = source.encoding();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(
            LineCounter::new(&mut source).with_record_cap(super::contacts::MAX_RECORD_BYTES),
        );
    let mut header = csv::ByteRecord::new();
    if !reader
        .read_byte_record(&mut header)
        .map_err(|_| Error::invalid("file", "unreadable CSV header"))?
    {
        return Err(Error::invalid("file", "the file is empty"));
    }
    let headers: Vec<String> = header
        .iter()
        .map(|h| field_text(h).trim().to_string())
        .collect();
    // A company file from another tool is read with that tool's header table.
    let format = match (kind, opts.from) {
        (RecordKind::Deals, _) => Format::Generic,
        (RecordKind::Companies, Some(Format::Vcard)) => {
            return Err(Error::invalid(
                "from",
                "vCard files hold people: import them with `crm import contacts`",
            ));
        }
        (RecordKind::Companies, Some(f)) => f,
        (RecordKind::Companies, None) => companies::detect(&headers),
    };
    let company_roles = if format == Format::Generic {
        None
    } else {
        Some(company_roles(format, &headers, opts)?)
    };
    let mut fields: Vec<Option<&'static str>> = Vec::with_capacity(headers.len());
    let mut seen_fields = HashSet::new();
    for h in headers.iter().filter(|_| company_roles.is_none()) {
        let mapped = opts
            .mappings
            .iter()
            .find(|(c, _)| c.trim().eq_ignore_ascii_case(h.trim()))
            .map(|(_, f)| f.as_str());
        let f = match mapped {
            Some(f) => Some(field_for(kind, f).ok_or_else(|| {
                Error::invalid("map", format!("unknown field '{f}' for {}", kind.as_str()))
            })?),
            None => field_for(kind, h),
        };
        let f = f.filter(|f| seen_fields.insert(*f));
        fields.push(f);
    }
    let required = match kind {
        RecordKind::Companies => "name",
        RecordKind::Deals => "title",
    };
    if let Some(roles) = &company_roles {
        fields = roles
            .iter()
            .map(|r| {
                r.filter(|f| *f != CompanyField::Ignore)
                    .map(CompanyField::name)
            })
            .collect();
    }
    if !fields.contains(&Some(required)) {
        return Err(Error::invalid(
            "header",
            format!("no {required} column found; name it or use --map COLUMN={required}"),
        ));
    }
    // Columns the format knows and drops on purpose (`ignore`) are not unknown.
    let unknown: Vec<String> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| match &company_roles {
            Some(roles) => roles.get(*i).copied().flatten().is_none(),
            None => fields.get(*i).copied().flatten().is_none(),
        })
        .map(|(_, h)| h.clone())
        .collect();
    let run = opts.run_id.unwrap_or_default();
    let mut summary = ImportSummary {
        run_id: (!opts.dry_run).then_some(run),
        dry_run: opts.dry_run,
        encoding: Some(encoding),
        delimiter: (delimiter as char).to_string(),
        unknown_columns: unknown,
        columns: headers
            .iter()
            .zip(&fields)
            .filter_map(|(h, f)| f.map(|f| (h.clone(), f.to_string())))
            .collect(),
        format: (kind == RecordKind::Companies).then_some(format),
        mapping: match &company_roles {
            Some(roles) => headers
                .iter()
                .zip(roles)
                .filter_map(|(h, r)| {
                    r.map(|r| MappingEntry {
                        column: h.clone(),
                        field: r.name().to_string(),
                    })
                })
                .collect(),
            None => headers
                .iter()
                .zip(&fields)
                .filter_map(|(h, f)| {
                    f.map(|f| MappingEntry {
                        column: h.clone(),
                        field: f.to_string(),
                    })
                })
                .collect(),
        },
        ..ImportSummary::default()
    };
    let mut cctx = CompanyCtx {
        format,
        users: None,
        warnings: Vec::new(),
        touched: Vec::new(),
    };
    let guard = super::runs::start(
        scope,
        run,
        (!opts.dry_run).then(|| super::runs::NewRun {
            kind: kind.as_str(),
            file_name: opts.file_name.as_deref(),
            actor: scope.actor(),
            options: json!({"on_duplicate": opts.on_duplicate, "mappings": opts.mappings}),
        }),
    )
    .await?;
    let result = async {
    let mut errors_out = errors_out
        .map(|w| crate::csv_out::CsvWriter::new(w, crate::csv_out::CsvOptions::default()))
        .transpose()
        .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?;
    if let Some(w) = errors_out.as_mut() {
        let mut h = headers.clone();
        h.extend(["line".to_string(), "field".to_string(), "error".to_string()]);
        w.write_row(&h)
            .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?;
    }
    let mut keys_seen: HashSet<String> = HashSet::new();
    let batch_size = opts.batch_size.clamp(1, 1_000);
    let mut rec = csv::ByteRecord::new();
    let mut done = false;
    while !done {
        let mut tx = scope.begin().await?;
        let mut in_batch = 0;
        while in_batch < batch_size {
            match reader.read_byte_record(&mut rec) {
                Ok(true) => {
                    let pos = reader.position().byte();
                    reader.get_mut().start_record(pos);
                }
                Ok(false) => {
                    done = true;
                    break;
                }
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
                                super::contacts::MAX_RECORD_BYTES >> 20
                            )
                        } else {
                            "malformed CSV (unbalanced quotes?); reading stopped here".into()
                        },
                    });
                    done = true;
                    break;
                }
            }
            // The physical line where the record starts (CRLF and quoted newlines counted).
            let byte = rec.position().map(|p| p.byte()).unwrap_or(0);
            let line = reader.get_mut().line_at(byte);
            if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue;
            }
            summary.rows += 1;
            in_batch += 1;
            // A NUL byte or another control character in a column that is read fails this
            // row alone (PostgreSQL refuses NUL in text).
            let bad: Vec<(String, String)> = rec
                .iter()
                .enumerate()
                .filter(|(i, raw)| {
                    (fields.get(*i).copied().flatten().is_some() || opts.keep_unknown)
                        && super::contacts::has_control_byte(raw)
                })
                .map(|(i, _)| {
                    let field = fields.get(i).copied().flatten().map_or_else(
                        || headers.get(i).cloned().unwrap_or_default(),
                        str::to_string,
                    );
                    (
                        field,
                        "contains a control character (such as a NUL byte); remove it".to_string(),
                    )
                })
                .collect();
            if !bad.is_empty() {
                summary.failed += 1;
                if let Some(w) = errors_out.as_mut() {
                    let mut out: Vec<String> =
                        rec.iter().map(|f| field_text(f).into_owned()).collect();
                    out.resize(headers.len(), String::new());
                    let fs: Vec<&str> = bad.iter().map(|e| e.0.as_str()).collect();
                    let ms: Vec<&str> = bad.iter().map(|e| e.1.as_str()).collect();
                    out.extend([line.to_string(), fs.join("; "), ms.join("; ")]);
                    w.write_row(&out)
                        .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?;
                }
                for (field, message) in bad {
                    summary.push_error(RowError {
                        line,
                        field,
                        message,
                    });
                }
                continue;
            }
            let mut values: Map<String, Value> = Map::new();
            let mut custom = Map::new();
            let mut extra = CompanyExtra::default();
            if let Some(roles) = &company_roles {
                let r = companies::read(roles, &headers, &rec, opts.keep_unknown);
                if !r.values.contains_key("name") {
                    // A person's row of a contact export (no company on it).
                    summary.skipped += 1;
                    continue;
                }
                values = r.values;
                custom = r.custom;
                extra = CompanyExtra {
                    external: r.external_id.map(|id| (format.name().to_string(), id)),
                    notes: r.notes,
                    owner: r.owner,
                };
            }
            for (i, raw) in rec.iter().enumerate().filter(|_| company_roles.is_none()) {
                let text = field_text(raw);
                let v = text.trim();
                if v.is_empty() {
                    continue;
                }
                match fields.get(i).copied().flatten() {
                    Some(f) => {
                        values.insert(f.to_string(), json!(v));
                    }
                    None if opts.keep_unknown => {
                        if let Some(h) = headers.get(i) {
                            custom.insert(h.clone(), json!(v));
                        }
                    }
                    None => {}
                }
            }
            sqlx::query("savepoint crm_import_row")
                .execute(tx.conn())
                .await?;
            cctx.warnings.clear();
            let outcome = match kind {
                RecordKind::Companies => {
                    company_row(
                        &mut tx,
                        values,
                        custom,
                        opts,
                        &mut keys_seen,
                        &extra,
                        &mut cctx,
                    )
                    .await
                }
                RecordKind::Deals => deal_row(&mut tx, values, custom, opts, &mut keys_seen).await,
            };
            match outcome {
                Ok(RowOutcome::Created) => summary.created += 1,
                Ok(RowOutcome::Updated(id, changes)) => {
                    summary.updated += 1;
                    if summary.changes.len() < 10 {
                        summary.changes.push(RowChange { line, id, changes });
                    }
                }
                Ok(RowOutcome::Skipped) => summary.skipped += 1,
                Ok(RowOutcome::Unchanged) => {
                    summary.skipped += 1;
                    sqlx::query("rollback to savepoint crm_import_row")
                        .execute(tx.conn())
                        .await?;
                }
                Err(e) => {
                    sqlx::query("rollback to savepoint crm_import_row")
                        .execute(tx.conn())
                        .await?;
                    let errs: Vec<(String, String)> = match e {
                        Error::Validation(fe) => {
                            fe.0.into_iter().map(|f| (f.field, f.message)).collect()
                        }
                        Error::Conflict(m) => vec![("record".into(), m)],
                        Error::NotFound { entity } => vec![(
                            entity.to_string(),
                            format!("no such {entity} in this organization"),
                        )],
                        other => return Err(other),
                    };
                    summary.failed += 1;
                    for (field, message) in &errs {
                        summary.push_error(RowError {
                            line,
                            field: field.clone(),
                            message: message.clone(),
                        });
                    }
                    if let Some(w) = errors_out.as_mut() {
                        let mut out: Vec<String> =
                            rec.iter().map(|f| field_text(f).into_owned()).collect();
                        out.resize(headers.len(), String::new());
                        let fs: Vec<&str> = errs.iter().map(|e| e.0.as_str()).collect();
                        let ms: Vec<&str> = errs.iter().map(|e| e.1.as_str()).collect();
                        out.extend([line.to_string(), fs.join("; "), ms.join("; ")]);
                        w.write_row(&out).map_err(|e| {
                            Error::Io(format!("writing the error file failed: {e}"))
                        })?;
                    }
                    continue;
                }
            }
            sqlx::query("release savepoint crm_import_row")
                .execute(tx.conn())
                .await?;
            for (field, message) in cctx.warnings.drain(..) {
                summary.push_warning(RowError {
                    line,
                    field,
                    message,
                });
            }
        }
        // Contacts imported before find the companies of this batch.
        let touched = std::mem::take(&mut cctx.touched);
        summary.contacts_linked +=
            super::links::contacts_to_companies(&mut tx, run, &touched).await?;
        if opts.dry_run {
            tx.rollback().await?;
        } else {
            sqlx::query("update import_runs set rows_done = $3 where org_id = $1 and id = $2")
                .bind(tx.org())
                .bind(run)
                .bind(summary.rows as i64)
                .execute(tx.conn())
                .await?;
            tx.commit().await?;
        }
        progress(Progress {
            rows: summary.rows,
            bytes: reader.get_ref().inner().bytes_read(),
        });
    }
    let digest = reader.get_ref().inner().digest();
    drop(reader);
    if let Some(mut w) = errors_out {
        w.flush()
            .map_err(|e| Error::Io(format!("writing the error file failed: {e}")))?;
    }
    if !opts.dry_run {
        let counts = json!({"rows": summary.rows, "created": summary.created, "updated": summary.updated,
                            "skipped": summary.skipped, "failed": summary.failed});
        scope
            .run(async |tx| {
                sqlx::query(
                    "update import_runs set status = 'finished', finished_at = now(), file_digest = $3, counts = $4, \
                     rows_done = $5 where org_id = $1 and id = $2",
                )
                .bind(tx.org())
                .bind(run)
                .bind(&digest)
                .bind(&counts)
                .bind(summary.rows as i64)
                .execute(tx.conn())
                .await?;
                tx.record("import", Some(run.uuid()), "finish", &counts, Some("import.finished"), &json!({"run_id": run, "counts": counts}))
                    .await
            })
            .await?;
    }
    Ok(summary)
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

enum RowOutcome {
    Created,
    Updated(uuid::Uuid, Value),
    Skipped,
    /// Matched and equal: the (no-op) update is rolled back, nothing is written.
    Unchanged,
}

fn from_json<T: serde::de::DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        // serde's message may quote the value: keep only the field path it names.
        let msg = e.to_string();
        let field = msg.split('`').nth(1).unwrap_or("record").to_string();
        Error::invalid(field, "has a value of the wrong form")
    })
}

fn duplicate() -> Error {
    Error::Conflict("a matching record already exists".into())
}

/// The role of every column of a company file from `format`, with `--map` overrides.
fn company_roles(
    format: Format,
    headers: &[String],
    opts: &ImportOptions,
) -> Result<Vec<Option<CompanyField>>> {
    let mut roles = Vec::with_capacity(headers.len());
    for h in headers {
        let mapped = opts
            .mappings
            .iter()
            .find(|(c, _)| c.trim().eq_ignore_ascii_case(h.trim()))
            .map(|(_, f)| f.as_str());
        let role = match mapped {
            Some(f) => Some(
                CompanyField::from_name(f)
                    .or_else(|| {
                        field_for(RecordKind::Companies, f).and_then(CompanyField::from_name)
                    })
                    .ok_or_else(|| {
                        Error::invalid("map", format!("unknown field '{f}' for companies"))
                    })?,
            ),
            None => format.company_role(h),
        };
        // Several columns may hold one field: values add up where the field takes several,
        // else the first non-empty one wins (see `companies::read`).
        roles.push(role);
    }
    Ok(roles)
}

/// What a company row of another tool's export carries beyond the store's input.
#[derive(Default)]
struct CompanyExtra {
    /// (source system, id there).
    external: Option<(String, String)>,
    /// A note for a note activity.
    notes: Option<String>,
    /// The owner as written.
    owner: Option<String>,
}

/// What company rows share while an import runs.
struct CompanyCtx {
    format: Format,
    /// Active users by e-mail and folded name (loaded at the first owner column value).
    users: Option<std::collections::HashMap<String, uuid::Uuid>>,
    /// The current row's warnings: (field, message).
    warnings: Vec<(String, String)>,
    /// Companies the batch created or matched, to link contacts imported before.
    touched: Vec<uuid::Uuid>,
}

/// The existing company a row stands for: by its source id, else VAT id, else domain, else
/// name, never one with a different VAT id or another source id from the same system.
/// Returns its id and whether it is a placeholder (created by a contact import for the
/// company's name only, with no source id).
async fn find_company(
    tx: &mut Tx,
    external: Option<&(String, String)>,
    vat: Option<&str>,
    domain: Option<&str>,
    name: &str,
) -> Result<Option<(crate::ids::CompanyId, bool)>> {
    let (system, id) = match external {
        Some((s, i)) => (Some(s.as_str()), Some(i.as_str())),
        None => (None, None),
    };
    let found: Option<(crate::ids::CompanyId, bool)> = sqlx::query_as(
        "select c.id, c.external_id is null and exists (select 1 from import_runs r \
                where r.org_id = c.org_id and r.id = c.import_run_id and r.kind = 'contacts') \
         from companies c \
         where c.org_id = $1 and c.deleted_at is null \
           and ((c.external_system = $2 and c.external_id = $3) or c.vat_id = $4 \
                or c.domain = $5 or c.name_norm = $6) \
           and ($4::text is null or c.vat_id is null or c.vat_id = $4) \
           and ($2::text is null or c.external_id is null or c.external_system <> $2 \
                or c.external_id = $3) \
         order by case when c.external_system = $2 and c.external_id = $3 then 0 \
                       when c.vat_id = $4 then 1 when c.domain = $5 then 2 else 3 end, c.id \
         limit 1",
    )
    .bind(tx.org())
    .bind(system)
    .bind(id)
    .bind(vat)
    .bind(domain)
    .bind(normalize_name(name))
    .fetch_optional(tx.conn())
    .await?;
    Ok(found)
}

/// Keeps the source system's id on the company (when it has none yet).
async fn keep_external(
    tx: &mut Tx,
    id: crate::ids::CompanyId,
    external: Option<&(String, String)>,
) -> Result<()> {
    if let Some((system, ext)) = external {
        sqlx::query(
            "update companies set external_system = $3, external_id = $4 \
             where org_id = $1 and id = $2 and external_id is null",
        )
        .bind(tx.org())
        .bind(id)
        .bind(system)
        .bind(ext)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Keeps a row's note as a note activity on the company (once: the same text is not added
/// again by a second import).
async fn keep_note(tx: &mut Tx, id: crate::ids::CompanyId, note: Option<&str>) -> Result<()> {
    let Some(note) = note else {
        return Ok(());
    };
    let exists: bool = sqlx::query_scalar(
        "select exists (select 1 from activities where org_id = $1 and company_id = $2 \
         and kind = 'note' and deleted_at is null and body = $3)",
    )
    .bind(tx.org())
    .bind(id)
    .bind(note)
    .fetch_one(tx.conn())
    .await?;
    if exists {
        return Ok(());
    }
    let first = note
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("Note");
    let mut subject: String = first.chars().take(100).collect();
    if first.chars().count() > 100 {
        subject.push('…');
    }
    crate::store::activity::create(
        tx,
        crate::store::activity::NewActivity {
            subject,
            body: Some(note.to_string()),
            company_id: Some(id),
            ..Default::default()
        },
    )
    .await?;
    Ok(())
}

/// The value quirks of other tools' company exports that need the database: list entries
/// (industry, account type) the organization does not have, numbers and addresses that
/// cannot be read, and owners named by e-mail or name. What cannot be used is kept as a
/// custom field and reported as a warning; the row is not failed for it.
async fn settle_format_values(
    tx: &mut Tx,
    values: &mut Map<String, Value>,
    custom: &mut Map<String, Value>,
    extra: &CompanyExtra,
    cctx: &mut CompanyCtx,
) -> Result<()> {
    settle_list_values(tx, values, custom, cctx).await?;
    let org_region = tx.default_region().to_string();
    settle_phones(values, custom, cctx, &org_region);
    settle_emails(values, custom, cctx);
    if let Some(owner) = &extra.owner {
        settle_owner(tx, values, cctx, owner).await?;
    }
    Ok(())
}

/// An industry or account type that is no entry of its list is kept as a custom field.
async fn settle_list_values(
    tx: &mut Tx,
    values: &mut Map<String, Value>,
    custom: &mut Map<String, Value>,
    cctx: &mut CompanyCtx,
) -> Result<()> {
    use crate::store::list::{self, ListKind};
    for (field, kind) in [
        ("industry", ListKind::Industry),
        ("account_type", ListKind::AccountType),
    ] {
        let Some(v) = values
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        let known = match list::find(tx, kind, &v).await {
            Ok(entry) => entry.active,
            Err(Error::NotFound { .. } | Error::Validation(_)) => false,
            Err(e) => return Err(e),
        };
        if !known {
            values.remove(field);
            custom.insert(field.to_string(), json!(v));
            cctx.warnings.push((
                field.to_string(),
                format!(
                    "is not an entry of the {} list; kept as the custom field {field}",
                    kind.plural()
                ),
            ));
        }
    }
    Ok(())
}

/// The phones read in the company's country (the store would read national numbers in the
/// organization's region, `org_region`); unreadable ones are kept as a custom field.
fn settle_phones(
    values: &mut Map<String, Value>,
    custom: &mut Map<String, Value>,
    cctx: &mut CompanyCtx,
    org_region: &str,
) {
    let region = values
        .get("billing_country")
        .and_then(Value::as_str)
        .and_then(super::contacts::parse_country)
        .unwrap_or_else(|| org_region.to_string());
    if let Some(Value::Array(phones)) = values.get_mut("phones") {
        let mut unreadable = Vec::new();
        // Read here in the company's country (the store would read national numbers in
        // the organization's region).
        phones.retain_mut(|p| {
            let n = p.get("number").and_then(Value::as_str).unwrap_or_default();
            match crate::domain::Phone::parse(n, &region) {
                Ok(phone) => {
                    p["number"] = json!(phone.e164());
                    true
                }
                Err(_) => {
                    unreadable.push(n.to_string());
                    false
                }
            }
        });
        if !unreadable.is_empty() {
            custom.insert("phones_unreadable".into(), json!(unreadable.join("; ")));
            cctx.warnings.push((
                "phone".into(),
                "a number could not be read; kept as the custom field phones_unreadable".into(),
            ));
        }
        if !phones.is_empty()
            && !phones
                .iter()
                .any(|p| p.get("primary") == Some(&Value::Bool(true)))
            && let Some(Value::Object(first)) = phones.first_mut()
        {
            first.insert("primary".into(), Value::Bool(true));
        }
    }
}

/// Addresses that are not valid e-mail addresses are kept as a custom field.
fn settle_emails(
    values: &mut Map<String, Value>,
    custom: &mut Map<String, Value>,
    cctx: &mut CompanyCtx,
) {
    let mut bad_emails = Vec::new();
    if let Some(e) = values
        .get("email")
        .and_then(Value::as_str)
        .map(str::to_string)
        && crate::domain::Email::parse(&e).is_err()
    {
        values.remove("email");
        bad_emails.push(e);
    }
    if let Some(Value::Array(list)) = values.get_mut("emails") {
        list.retain(|x| {
            let e = x.get("email").and_then(Value::as_str).unwrap_or_default();
            let ok = crate::domain::Email::parse(e).is_ok();
            if !ok {
                bad_emails.push(e.to_string());
            }
            ok
        });
    }
    if !bad_emails.is_empty() {
        custom.insert("emails_unreadable".into(), json!(bad_emails.join("; ")));
        cctx.warnings.push((
            "email".into(),
            "an address is not a valid e-mail address; kept as the custom field emails_unreadable"
                .into(),
        ));
    }
}

/// The owner column: a user of the organization by e-mail or name, else a warning.
async fn settle_owner(
    tx: &mut Tx,
    values: &mut Map<String, Value>,
    cctx: &mut CompanyCtx,
    owner: &str,
) -> Result<()> {
    if cctx.users.is_none() {
        cctx.users = Some(super::contacts::owner_keys(tx).await?);
    }
    let key = if owner.contains('@') {
        owner.trim().to_lowercase()
    } else {
        fold_for_search(owner.trim())
    };
    match cctx.users.as_ref().and_then(|u| u.get(&key)) {
        Some(id) => {
            values.insert("owners".into(), json!([{"user_id": id, "role": "owner"}]));
        }
        None => cctx.warnings.push((
            "owner".into(),
            "names no user of this organization (by e-mail or name)".into(),
        )),
    }
    Ok(())
}

/// Imports one company row: values settled and checked, deduplicated within the file,
/// then matched with an existing company and skipped, completed, updated or created.
async fn company_row(
    tx: &mut Tx,
    mut values: Map<String, Value>,
    mut custom: Map<String, Value>,
    opts: &ImportOptions,
    seen: &mut HashSet<String>,
    extra: &CompanyExtra,
    cctx: &mut CompanyCtx,
) -> Result<RowOutcome> {
    split_tags(&mut values);
    if cctx.format != Format::Generic {
        settle_format_values(tx, &mut values, &mut custom, extra, cctx).await?;
    }
    let pre = check_company_values(&mut values);
    let (key, vat, domain, name) = company_key(&values, extra);
    if !seen.insert(key) {
        return Ok(RowOutcome::Skipped);
    }
    let existing = find_company(
        tx,
        extra.external.as_ref(),
        vat.as_deref(),
        domain.as_deref(),
        &name,
    )
    .await?;
    let external = extra.external.as_ref();
    match (existing, opts.on_duplicate) {
        // A company the contact import created for a name only is completed by the row
        // that describes it: its empty fields are filled, nothing is overwritten.
        (Some((id, true)), OnDuplicate::Skip) => {
            complete_company(tx, id, values, custom, &pre, extra, cctx).await
        }
        (Some((id, _)), OnDuplicate::Skip) => {
            // The source id is the record's identity, not data: kept so later files
            // (contacts naming the company by it, a newer export) find the company.
            keep_external(tx, id, external).await?;
            cctx.touched.push(id.uuid());
            Ok(RowOutcome::Skipped)
        }
        (Some(_), OnDuplicate::Error) => Err(duplicate()),
        (Some((id, _)), OnDuplicate::Update) => {
            update_company(tx, id, values, custom, &pre, extra, cctx).await
        }
        (None, _) => create_company(tx, values, custom, pre, extra, cctx).await,
    }
}

/// A text value of the row.
fn text_of(v: &Map<String, Value>, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// Splits a tags value at `|`, `,` and `;`.
fn split_tags(values: &mut Map<String, Value>) {
    if let Some(t) = text_of(values, "tags") {
        let tags: Vec<Value> = t
            .split(['|', ',', ';'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| json!(t))
            .collect();
        values.insert("tags".into(), Value::Array(tags));
    }
}

/// Reads the head count and the countries; their problems are reported together with the
/// store's own validation.
fn check_company_values(values: &mut Map<String, Value>) -> crate::error::FieldErrors {
    let mut pre = crate::error::FieldErrors::new();
    if let Some(e) = text_of(values, "employees") {
        match e.parse::<u32>() {
            Ok(n) => {
                values.insert("employees".into(), json!(n));
            }
            Err(_) => {
                values.remove("employees");
                pre.add("employees", "is not a whole number");
            }
        }
    }
    for field in ["billing_country", "delivery_country"] {
        if let Some(c) = text_of(values, field) {
            match super::contacts::parse_country(&c) {
                Some(code) => {
                    values.insert(field.into(), json!(code));
                }
                None => {
                    values.remove(field);
                    pre.add(
                        field,
                        "is not a known country; use a two-letter ISO code such as DE",
                    );
                }
            }
        }
    }
    pre
}

/// The within-file dedup key (source id, else VAT id, else domain, else normalised name),
/// with the VAT id, domain and name the existing company is looked up by.
fn company_key(
    values: &Map<String, Value>,
    extra: &CompanyExtra,
) -> (String, Option<String>, Option<String>, String) {
    // Dedup key: source id, else VAT id, else domain, else normalised name.
    let vat = text_of(values, "vat_id")
        .and_then(|v| crate::domain::VatId::parse(&v).ok())
        .map(|v| v.as_str().to_string());
    let domain = text_of(values, "domain")
        .or_else(|| text_of(values, "website"))
        .and_then(|w| crate::domain::Website::parse(&w).ok())
        .map(|w| w.domain().to_string());
    let name = text_of(values, "name").unwrap_or_default();
    let key = match (&extra.external, &vat, &domain) {
        (Some((_, id)), _, _) => format!("x:{id}"),
        (None, Some(v), _) => format!("vat:{v}"),
        (None, None, Some(d)) => format!("domain:{}", d.to_lowercase()),
        _ => format!("name:{}", normalize_name(&name)),
    };
    (key, vat, domain, name)
}

/// Completes a company the contact import created for a name only: its empty fields are
/// filled, nothing is overwritten.
async fn complete_company(
    tx: &mut Tx,
    id: crate::ids::CompanyId,
    values: Map<String, Value>,
    custom: Map<String, Value>,
    pre: &crate::error::FieldErrors,
    extra: &CompanyExtra,
    cctx: &mut CompanyCtx,
) -> Result<RowOutcome> {
    let external = extra.external.as_ref();
    let note = extra.notes.as_deref();
    pre.clone().into_result()?;
    let found = company::get(tx, id).await?;
    let have = serde_json::to_value(&found).unwrap_or(Value::Null);
    // A head count fills the size class; every other input key is a field of the
    // company as read.
    let blank = |k: &str| match have.get(if k == "employees" { "size" } else { k }) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty() || (k == "employees" && s == "unknown"),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    let mut patch: Map<String, Value> = values
        .into_iter()
        .filter(|(k, _)| k != "name" && blank(k))
        .collect();
    if !custom.is_empty() {
        let mut c = found.custom.as_object().cloned().unwrap_or_default();
        for (k, v) in custom {
            c.entry(k).or_insert(v);
        }
        patch.insert("custom".into(), Value::Object(c));
    }
    patch.insert("version".into(), json!(found.version));
    let patch: company::CompanyPatch = from_json(Value::Object(patch))?;
    let after = company::update(tx, id, patch).await?;
    keep_external(tx, id, external).await?;
    keep_note(tx, id, note).await?;
    cctx.touched.push(id.uuid());
    let changes = diff(Some(&found), Some(&after));
    if changes.as_object().is_none_or(|m| m.is_empty()) && external.is_none() {
        return Ok(RowOutcome::Unchanged);
    }
    Ok(RowOutcome::Updated(id.uuid(), changes))
}

/// Updates the matched company with the row's values (`--on-duplicate update`).
async fn update_company(
    tx: &mut Tx,
    id: crate::ids::CompanyId,
    values: Map<String, Value>,
    custom: Map<String, Value>,
    pre: &crate::error::FieldErrors,
    extra: &CompanyExtra,
    cctx: &mut CompanyCtx,
) -> Result<RowOutcome> {
    let external = extra.external.as_ref();
    let note = extra.notes.as_deref();
    let found = company::get(tx, id).await?;
    let mut patch = values.clone();
    patch.insert("version".into(), json!(found.version));
    if !custom.is_empty() {
        let mut c = found.custom.as_object().cloned().unwrap_or_default();
        c.extend(custom);
        patch.insert("custom".into(), Value::Object(c));
    }
    pre.clone().into_result()?;
    let patch: company::CompanyPatch = from_json(Value::Object(patch))?;
    let after = company::update(tx, found.id, patch).await?;
    keep_external(tx, id, external).await?;
    keep_note(tx, id, note).await?;
    cctx.touched.push(id.uuid());
    let changes = diff(Some(&found), Some(&after));
    if changes.as_object().is_none_or(|m| m.is_empty()) {
        return Ok(RowOutcome::Unchanged);
    }
    Ok(RowOutcome::Updated(found.id.uuid(), changes))
}

/// Creates the company; the row's own problems and the store's are reported together.
async fn create_company(
    tx: &mut Tx,
    mut values: Map<String, Value>,
    custom: Map<String, Value>,
    mut pre: crate::error::FieldErrors,
    extra: &CompanyExtra,
    cctx: &mut CompanyCtx,
) -> Result<RowOutcome> {
    let external = extra.external.as_ref();
    let note = extra.notes.as_deref();
    if !custom.is_empty() {
        values.insert("custom".into(), Value::Object(custom));
    }
    let new: company::NewCompany = from_json(Value::Object(values))?;
    match company::create(tx, new).await {
        Ok(c) if pre.is_empty() => {
            keep_external(tx, c.id, external).await?;
            keep_note(tx, c.id, note).await?;
            cctx.touched.push(c.id.uuid());
            cctx.warnings
                .extend(crate::dedupe::company_import_warning(tx, c.id.uuid()).await?);
            Ok(RowOutcome::Created)
        }
        // The savepoint rolls the created company back.
        Ok(_) => Err(Error::Validation(pre)),
        Err(Error::Validation(mut fe)) => {
            pre.0.append(&mut fe.0);
            Err(Error::Validation(pre))
        }
        Err(e) => Err(e),
    }
}

/// Imports one deal row: company and contact resolved, deduplicated by title and company,
/// then skipped, updated or created (with its status).
async fn deal_row(
    tx: &mut Tx,
    mut values: Map<String, Value>,
    custom: Map<String, Value>,
    opts: &ImportOptions,
    seen: &mut HashSet<String>,
) -> Result<RowOutcome> {
    let take = |v: &mut Map<String, Value>, k: &str| {
        v.remove(k).and_then(|x| x.as_str().map(str::to_string))
    };
    let company_ref = take(&mut values, "company");
    let contact_ref = take(&mut values, "contact");
    let status = take(&mut values, "status").map(|s| s.to_lowercase());
    let reason = take(&mut values, "lost_reason");
    let reason_text = take(&mut values, "lost_reason_text");
    for k in DEAL_EXTRA {
        values.remove(*k);
    }
    read_close_date(&mut values)?;
    let (company_id, contact_id) =
        resolve_refs(tx, company_ref.as_deref(), contact_ref.as_deref()).await?;
    let title = values
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let key = format!(
        "{}|{}",
        normalize_name(&title),
        company_id.map(|c| c.to_string()).unwrap_or_default()
    );
    if !seen.insert(key) {
        return Ok(RowOutcome::Skipped);
    }
    // An existing deal with the same title for the same company (or none) is the same deal.
    let existing: Option<(crate::ids::DealId, i32)> = sqlx::query_as(
        "select id, version from deals where org_id = $1 and deleted_at is null \
         and crm_fold(btrim(title)) = crm_fold(btrim($2)) and company_id is not distinct from $3 limit 1",
    )
    .bind(tx.org())
    .bind(&title)
    .bind(company_id)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(c) = company_id {
        values.insert("company_id".into(), json!(c));
    }
    if let Some(c) = contact_id {
        values.insert("contact_id".into(), json!(c));
    }
    match (existing, opts.on_duplicate) {
        (Some(_), OnDuplicate::Skip) => Ok(RowOutcome::Skipped),
        (Some(_), OnDuplicate::Error) => Err(duplicate()),
        (Some((id, version)), OnDuplicate::Update) => {
            let before = deal::get(tx, id).await?;
            let mut patch = values.clone();
            patch.remove("pipeline");
            patch.remove("stage");
            patch.insert("version".into(), json!(version));
            if !custom.is_empty() {
                patch.insert("custom".into(), Value::Object(custom));
            }
            let patch: deal::DealPatch = from_json(Value::Object(patch))?;
            let after = deal::update(tx, id, patch).await?;
            let changes = diff(Some(&before), Some(&after));
            if changes.as_object().is_none_or(|m| m.is_empty()) {
                return Ok(RowOutcome::Unchanged);
            }
            Ok(RowOutcome::Updated(id.uuid(), changes))
        }
        (None, _) => {
            if !custom.is_empty() {
                values.insert("custom".into(), Value::Object(custom));
            }
            let new: deal::NewDeal = from_json(Value::Object(values))?;
            let created = deal::create(tx, new).await?;
            set_status(tx, created.id, status.as_deref(), reason, reason_text).await?;
            Ok(RowOutcome::Created)
        }
    }
}

/// The expected close date as typed, read by the one date parser.
fn read_close_date(values: &mut Map<String, Value>) -> Result<()> {
    // The value (`12.500,50 €`) goes to the store as typed: the one amount parser reads it
    // there, with the row's currency.
    if let Some(d) = values
        .get("expected_close_date")
        .and_then(Value::as_str)
        .map(str::to_string)
    {
        match parse_date(&d) {
            Some(d) => values.insert("expected_close_date".into(), json!(d)),
            None => {
                return Err(Error::invalid(
                    "expected_close_date",
                    "is not a date (YYYY-MM-DD or DD.MM.YYYY)",
                ));
            }
        };
    }
    Ok(())
}

/// The company and contact a deal row names.
async fn resolve_refs(
    tx: &mut Tx,
    company_ref: Option<&str>,
    contact_ref: Option<&str>,
) -> Result<(Option<crate::ids::CompanyId>, Option<crate::ids::ContactId>)> {
    let company_id = match company_ref {
        Some(r) => Some(company::resolve(tx, r).await.map_err(|e| match e {
            Error::NotFound { .. } => {
                Error::invalid("company", "no such company in this organization")
            }
            e => e,
        })?),
        None => None,
    };
    let contact_id = match contact_ref {
        Some(r) => Some(contact::resolve(tx, r).await.map_err(|e| match e {
            Error::NotFound { .. } => {
                Error::invalid("contact", "no such contact in this organization")
            }
            e => e,
        })?),
        None => None,
    };
    Ok((company_id, contact_id))
}

/// Wins or loses a created deal as the row's status says.
async fn set_status(
    tx: &mut Tx,
    id: crate::ids::DealId,
    status: Option<&str>,
    reason: Option<String>,
    reason_text: Option<String>,
) -> Result<()> {
    match status {
        None | Some("open" | "offen") => {}
        Some("won" | "gewonnen") => {
            deal::win(tx, id, None).await?;
        }
        Some("lost" | "verloren") => {
            let Some(r) = reason else {
                return Err(Error::invalid(
                    "lost_reason",
                    "a lost deal needs a lost reason",
                ));
            };
            deal::lose(tx, id, &r, reason_text, None).await?;
        }
        Some(_) => return Err(Error::invalid("status", "must be open, won or lost")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_headers_map_to_fields() {
        assert_eq!(
            field_for(RecordKind::Companies, "USt-IdNr."),
            Some("vat_id")
        );
        assert_eq!(
            field_for(RecordKind::Companies, "Straße"),
            Some("billing_street")
        );
        assert_eq!(field_for(RecordKind::Deals, "Wert"), Some("value"));
        assert_eq!(field_for(RecordKind::Deals, "Phase"), Some("stage"));
        assert_eq!(field_for(RecordKind::Deals, "Schuhgröße"), None);
    }
}
