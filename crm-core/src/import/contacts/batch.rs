//! A batch of staged rows: the `COPY` text for the staging table and the batch's companies.

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use super::row::Row;

/// Appends one value in `COPY ... (format text)` form.
fn copy_text(buf: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => buf.extend_from_slice(b"\\N"),
        Some(s) => escape_into(buf, s),
    }
}

/// Appends `s` with the characters `COPY ... (format text)` reads specially escaped, the runs
/// between them copied whole.
fn escape_into(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        buf.extend_from_slice(escaped);
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

/// One line of `COPY ... (format text)` being written: values separated by tabs, each
/// written straight into the batch's buffer.
struct CopyLine<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

impl CopyLine<'_> {
    fn next(&mut self) -> &mut Vec<u8> {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
        self.buf
    }

    fn text(&mut self, v: Option<&str>) {
        copy_text(self.next(), v);
    }

    fn uuid(&mut self, v: Option<Uuid>) {
        let buf = self.next();
        match v {
            None => buf.extend_from_slice(b"\\N"),
            Some(id) => {
                let mut text = [0; uuid::fmt::Hyphenated::LENGTH];
                buf.extend_from_slice(id.hyphenated().encode_lower(&mut text).as_bytes());
            }
        }
    }

    fn number(&mut self, n: u64) {
        use std::io::Write as _;
        // Writing into a `Vec` cannot fail.
        let _ = write!(self.next(), "{n}");
    }

    /// `parts` joined by `sep` (which needs no escaping), or NULL when there are none.
    fn joined(&mut self, parts: &[String], sep: u8) {
        let buf = self.next();
        if parts.is_empty() {
            buf.extend_from_slice(b"\\N");
            return;
        }
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                buf.push(sep);
            }
            escape_into(buf, part);
        }
    }

    fn end(self) {
        self.buf.push(b'\n');
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
        .map(|c| c.id);
    let custom =
        (!r.custom.is_empty()).then(|| serde_json::Value::Object(r.custom.clone()).to_string());
    let extras = r.extra.to_json();
    batch.has_extras |= extras.is_some();
    batch.has_external |= r.extra.external_id.is_some();
    let birthday = r.birthday.map(|d| d.to_string());
    let id = |present: bool| present.then(Uuid::now_v7);
    // In the order of `STAGE_COPY`'s columns.
    let mut w = CopyLine {
        buf: &mut batch.copy,
        first: true,
    };
    w.number(line);
    w.uuid(Some(Uuid::now_v7()));
    w.text(r.first_name.as_deref());
    w.text(r.last_name.as_deref());
    w.text(r.salutation.as_deref());
    w.text(r.title.as_deref());
    w.text(r.job_title.as_deref());
    w.text(r.department.as_deref());
    w.text(r.email.as_ref().map(|e| e.0.as_str()));
    w.text(r.email.as_ref().map(|e| e.1.as_str()));
    w.uuid(id(r.email.is_some()));
    w.text(r.email2.as_ref().map(|e| e.0.as_str()));
    w.text(r.email2.as_ref().map(|e| e.1.as_str()));
    w.uuid(id(r.email2.is_some()));
    w.text(r.phone.as_ref().and_then(|p| p.0.as_deref()));
    w.text(r.phone.as_ref().map(|p| p.1.as_str()));
    w.uuid(id(r.phone.is_some()));
    w.text(r.mobile.as_ref().and_then(|p| p.0.as_deref()));
    w.text(r.mobile.as_ref().map(|p| p.1.as_str()));
    w.uuid(id(r.mobile.is_some()));
    w.text(r.company.as_ref().map(|c| c.0.as_str()));
    w.text(r.company.as_ref().map(|c| c.1.as_str()));
    w.uuid(company_id);
    w.text(r.vat_id.as_deref());
    w.text(r.website.as_ref().map(|w| w.0.as_str()));
    w.text(r.website.as_ref().map(|w| w.1.as_str()));
    w.text(r.street.as_deref());
    w.text(r.postal_code.as_deref());
    w.text(r.city.as_deref());
    w.text(r.country.as_deref());
    w.joined(&r.tags, 0x1f);
    w.text(r.source);
    w.text(r.linkedin.as_deref());
    w.text(birthday.as_deref());
    w.text(r.status);
    w.text(custom.as_deref());
    w.text(Some(name_norm));
    w.text(extras.as_deref());
    w.end();
    batch.rows += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A staged line holds the columns of `STAGE_COPY` in order: NULL as `\N`, the special
    /// characters of `COPY`'s text form escaped, the tags joined by the unit separator, a new
    /// id for the contact and for each address and number it has.
    #[test]
    fn a_row_is_staged_as_one_copy_line() {
        let mut batch = Batch::new();
        let row = Row {
            first_name: Some("Anna\tMaria".into()),
            last_name: Some("Back\\slash".into()),
            email: Some(("Anna@Example.de".into(), "anna@example.de".into())),
            phone: Some((Some("+493012345678".into()), "030 1234567".into())),
            city: Some("Zeile 1\r\nZeile 2".into()),
            tags: vec!["vip".into(), "kunde".into()],
            source: Some("import"),
            ..Row::default()
        };
        stage_row(&mut batch, 7, &row, "anna maria back\\slash");
        let line = String::from_utf8(batch.copy.clone()).unwrap();
        let cols: Vec<&str> = line.strip_suffix('\n').unwrap().split('\t').collect();
        let names: Vec<&str> = STAGE_COPY
            .split_once('(')
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(list, _)| list.split(',').map(str::trim).collect())
            .unwrap();
        assert_eq!(cols.len(), names.len());
        let col = |name: &str| cols[names.iter().position(|n| *n == name).unwrap()];
        assert_eq!(col("line"), "7");
        assert_eq!(col("first_name"), "Anna\\tMaria");
        assert_eq!(col("last_name"), "Back\\\\slash");
        assert_eq!(col("email"), "Anna@Example.de");
        assert_eq!(col("email_norm"), "anna@example.de");
        assert_eq!(col("phone"), "+493012345678");
        assert_eq!(col("phone_raw"), "030 1234567");
        assert_eq!(col("city"), "Zeile 1\\r\\nZeile 2");
        assert_eq!(col("tags"), "vip\u{1f}kunde");
        assert_eq!(col("source"), "import");
        assert_eq!(col("name_norm"), "anna maria back\\\\slash");
        for null in [
            "salutation",
            "email2",
            "email2_id",
            "mobile",
            "mobile_id",
            "company_id",
        ] {
            assert_eq!(col(null), "\\N", "{null}");
        }
        let ids: Vec<Uuid> = ["id", "email_id", "phone_id"]
            .iter()
            .map(|n| col(n).parse().unwrap())
            .collect();
        assert!(ids[0] < ids[1] && ids[1] < ids[2], "ids in column order");
        assert_eq!(batch.rows, 1);
    }
}
