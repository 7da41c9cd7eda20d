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

use super::lines::LineCounter;
use super::source::{Source, field_text};
use super::{ImportOptions, ImportSummary, OnDuplicate, Progress, RowChange, RowError};
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
    let mut fields: Vec<Option<&'static str>> = Vec::with_capacity(headers.len());
    let mut seen_fields = HashSet::new();
    for h in &headers {
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
    if !fields.contains(&Some(required)) {
        return Err(Error::invalid(
            "header",
            format!("no {required} column found; name it or use --map COLUMN={required}"),
        ));
    }
    let unknown: Vec<String> = headers
        .iter()
        .zip(&fields)
        .filter(|(_, f)| f.is_none())
        .map(|(h, _)| h.clone())
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
        ..ImportSummary::default()
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
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
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
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
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
            for (i, raw) in rec.iter().enumerate() {
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
            let outcome = match kind {
                RecordKind::Companies => {
                    company_row(&mut tx, values, custom, opts, &mut keys_seen).await
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
        }
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

async fn company_row(
    tx: &mut Tx,
    mut values: Map<String, Value>,
    custom: Map<String, Value>,
    opts: &ImportOptions,
    seen: &mut HashSet<String>,
) -> Result<RowOutcome> {
    let s = |v: &Map<String, Value>, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(t) = s(&values, "tags") {
        let tags: Vec<Value> = t
            .split(['|', ',', ';'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| json!(t))
            .collect();
        values.insert("tags".into(), Value::Array(tags));
    }
    // Problems found here are reported together with the store's own validation.
    let mut pre = crate::error::FieldErrors::new();
    if let Some(e) = s(&values, "employees") {
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
    if let Some(c) = s(&values, "billing_country") {
        match super::contacts::parse_country(&c) {
            Some(code) => {
                values.insert("billing_country".into(), json!(code));
            }
            None => {
                values.remove("billing_country");
                pre.add(
                    "billing_country",
                    "is not a known country; use a two-letter ISO code such as DE",
                );
            }
        }
    }
    // Dedup key: VAT id, else domain, else normalised name.
    let vat = s(&values, "vat_id")
        .and_then(|v| crate::domain::VatId::parse(&v).ok())
        .map(|v| v.as_str().to_string());
    let domain = s(&values, "domain").or_else(|| {
        s(&values, "website")
            .and_then(|w| crate::domain::Website::parse(&w).ok())
            .map(|w| w.domain().to_string())
    });
    let name = s(&values, "name").unwrap_or_default();
    let key = match (&vat, &domain) {
        (Some(v), _) => format!("vat:{v}"),
        (None, Some(d)) => format!("domain:{}", d.to_lowercase()),
        _ => format!("name:{}", normalize_name(&name)),
    };
    if !seen.insert(key) {
        return Ok(RowOutcome::Skipped);
    }
    let existing = match (&vat, &domain) {
        (Some(v), _) => company::find_by_vat(tx, v).await?,
        (None, Some(d)) => company::find_by_domain(tx, d).await?.into_iter().next(),
        _ => company::find_by_name(tx, &name).await?.into_iter().next(),
    };
    match (existing, opts.on_duplicate) {
        (Some(_), OnDuplicate::Skip) => Ok(RowOutcome::Skipped),
        (Some(_), OnDuplicate::Error) => Err(duplicate()),
        (Some(found), OnDuplicate::Update) => {
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
            let changes = diff(Some(&found), Some(&after));
            if changes.as_object().is_none_or(|m| m.is_empty()) {
                return Ok(RowOutcome::Unchanged);
            }
            Ok(RowOutcome::Updated(found.id.uuid(), changes))
        }
        (None, _) => {
            if !custom.is_empty() {
                values.insert("custom".into(), Value::Object(custom));
            }
            let new: company::NewCompany = from_json(Value::Object(values))?;
            match company::create(tx, new).await {
                Ok(_) if pre.is_empty() => Ok(RowOutcome::Created),
                // The savepoint rolls the created company back.
                Ok(_) => Err(Error::Validation(pre)),
                Err(Error::Validation(mut fe)) => {
                    pre.0.append(&mut fe.0);
                    Err(Error::Validation(pre))
                }
                Err(e) => Err(e),
            }
        }
    }
}

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
    let company_id = match &company_ref {
        Some(r) => Some(company::resolve(tx, r).await.map_err(|e| match e {
            Error::NotFound { .. } => {
                Error::invalid("company", "no such company in this organization")
            }
            e => e,
        })?),
        None => None,
    };
    let contact_id = match &contact_ref {
        Some(r) => Some(contact::resolve(tx, r).await.map_err(|e| match e {
            Error::NotFound { .. } => {
                Error::invalid("contact", "no such contact in this organization")
            }
            e => e,
        })?),
        None => None,
    };
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
            match status.as_deref() {
                None | Some("open" | "offen") => {}
                Some("won" | "gewonnen") => {
                    deal::win(tx, created.id, None).await?;
                }
                Some("lost" | "verloren") => {
                    let Some(r) = reason else {
                        return Err(Error::invalid(
                            "lost_reason",
                            "a lost deal needs a lost reason",
                        ));
                    };
                    deal::lose(tx, created.id, &r, reason_text, None).await?;
                }
                Some(_) => return Err(Error::invalid("status", "must be open, won or lost")),
            }
            Ok(RowOutcome::Created)
        }
    }
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
