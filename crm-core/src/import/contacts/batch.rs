//! A batch of staged rows: the `COPY` text for the staging table and the batch's companies.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use super::row::Row;

/// Appends one value in `COPY ... (format text)` form.
fn copy_text(buf: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => buf.extend_from_slice(b"\\N"),
        Some(s) => {
            for b in s.bytes() {
                match b {
                    b'\\' => buf.extend_from_slice(b"\\\\"),
                    b'\t' => buf.extend_from_slice(b"\\t"),
                    b'\n' => buf.extend_from_slice(b"\\n"),
                    b'\r' => buf.extend_from_slice(b"\\r"),
                    _ => buf.push(b),
                }
            }
        }
    }
}

pub(super) const STAGE_DDL: &str = "create temp table import_stage (
    line bigint not null, id uuid not null, first_name text, last_name text, salutation text,
    title text, job_title text, department text, email text, email_norm text, email_id uuid,
    email2 text, email2_norm text, email2_id uuid, phone text, phone_raw text, phone_id uuid,
    mobile text, mobile_raw text, mobile_id uuid, company text, company_norm text,
    company_id uuid, vat_id text, website text, domain text, street text, postal_code text,
    city text, country text, tags text, source text, linkedin text, birthday date, status text,
    custom jsonb, name_norm text, extras jsonb, existing_id uuid, existing_version integer
) on commit drop";

pub(super) const STAGE_COPY: &str = "copy import_stage (line, id, first_name, last_name, salutation, title, \
    job_title, department, email, email_norm, email_id, email2, email2_norm, email2_id, phone, \
    phone_raw, phone_id, mobile, mobile_raw, mobile_id, company, company_norm, company_id, \
    vat_id, website, domain, street, postal_code, city, country, tags, source, linkedin, \
    birthday, status, custom, name_norm, extras) from stdin";

/// One batch of valid rows: their `COPY` text for the staging table and what they name.
pub(super) struct Batch {
    pub(super) copy: Vec<u8>,
    pub(super) lines: Vec<(u64, csv::ByteRecord)>,
    pub(super) tags: HashSet<String>,
    pub(super) rows: usize,
    /// The batch's companies by normalised name (first row's details win).
    pub(super) companies: HashMap<String, CompanyRow>,
    /// Rows read when this batch was complete (for the run's progress).
    pub(super) rows_read: u64,
    /// The batch's first and last line in the file.
    pub(super) first_line: Option<u64>,
    pub(super) last_line: Option<u64>,
    /// Whether a row carries extras (addresses, further e-mails, note, ...).
    pub(super) has_extras: bool,
    /// Whether a row carries the id of its source record.
    pub(super) has_external: bool,
}

/// A company named by a contact row, created when no live company has its name.
pub(super) struct CompanyRow {
    pub(super) id: Uuid,
    pub(super) name: String,
    pub(super) vat_id: Option<String>,
    pub(super) website: Option<String>,
    pub(super) domain: Option<String>,
    pub(super) street: Option<String>,
    pub(super) postal_code: Option<String>,
    pub(super) city: Option<String>,
    pub(super) country: Option<String>,
}

impl Batch {
    pub(super) fn new() -> Self {
        Self {
            copy: Vec::with_capacity(8 << 20),
            lines: Vec::new(),
            tags: HashSet::new(),
            rows: 0,
            companies: HashMap::new(),
            rows_read: 0,
            first_line: None,
            last_line: None,
            has_extras: false,
            has_external: false,
        }
    }
}

/// Appends a valid row to the batch's `COPY` text. The row's `company_id` is the id its
/// company has in the batch ([`CompanyRow::id`]: the id it gets if the batch creates it);
/// the batch replaces it where the company turns out to exist already, which is rarer than
/// a new one in a first load and spares rewriting every staged row.
pub(super) fn stage_row(batch: &mut Batch, line: u64, r: &Row, name_norm: &str) {
    let company_id = r
        .company
        .as_ref()
        .and_then(|(_, norm)| batch.companies.get(norm))
        .map(|c| c.id.to_string());
    let b = &mut batch.copy;
    let id = || Some(Uuid::now_v7().to_string());
    let tags = (!r.tags.is_empty()).then(|| r.tags.join("\u{1f}"));
    let custom =
        (!r.custom.is_empty()).then(|| serde_json::Value::Object(r.custom.clone()).to_string());
    let extras = r.extra.to_json();
    batch.has_extras |= extras.is_some();
    batch.has_external |= r.extra.external_id.is_some();
    let birthday = r.birthday.map(|d| d.to_string());
    let vals: [Option<String>; 38] = [
        Some(line.to_string()),
        Some(Uuid::now_v7().to_string()),
        r.first_name.clone(),
        r.last_name.clone(),
        r.salutation.clone(),
        r.title.clone(),
        r.job_title.clone(),
        r.department.clone(),
        r.email.as_ref().map(|e| e.0.clone()),
        r.email.as_ref().map(|e| e.1.clone()),
        r.email.as_ref().and_then(|_| id()),
        r.email2.as_ref().map(|e| e.0.clone()),
        r.email2.as_ref().map(|e| e.1.clone()),
        r.email2.as_ref().and_then(|_| id()),
        r.phone.as_ref().and_then(|p| p.0.clone()),
        r.phone.as_ref().map(|p| p.1.clone()),
        r.phone.as_ref().and_then(|_| id()),
        r.mobile.as_ref().and_then(|p| p.0.clone()),
        r.mobile.as_ref().map(|p| p.1.clone()),
        r.mobile.as_ref().and_then(|_| id()),
        r.company.as_ref().map(|c| c.0.clone()),
        r.company.as_ref().map(|c| c.1.clone()),
        company_id,
        r.vat_id.clone(),
        r.website.as_ref().map(|w| w.0.clone()),
        r.website.as_ref().map(|w| w.1.clone()),
        r.street.clone(),
        r.postal_code.clone(),
        r.city.clone(),
        r.country.clone(),
        tags,
        r.source.map(str::to_string),
        r.linkedin.clone(),
        birthday,
        r.status.map(str::to_string),
        custom,
        Some(name_norm.to_string()),
        extras,
    ];
    for (i, v) in vals.iter().enumerate() {
        if i > 0 {
            b.push(b'\t');
        }
        copy_text(b, v.as_deref());
    }
    b.push(b'\n');
    batch.rows += 1;
}
