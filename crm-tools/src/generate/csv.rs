//! Writing the generated rows as CSV.

use super::text::push_u64;
use super::*;

/// The header and delimiter of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CsvHeader {
    /// English column names, comma-separated.
    #[default]
    English,
    /// German column names (`Vorname`, `Nachname`, …), semicolon-separated, as German
    /// spreadsheet programs write it.
    German,
}

impl CsvHeader {
    /// The field delimiter: `,` or `;`.
    pub fn delimiter(self) -> u8 {
        match self {
            Self::English => b',',
            Self::German => b';',
        }
    }
}

/// Buffered CSV rows: RFC 4180 quoting (a field is quoted when it holds the delimiter, a
/// quote, CR or LF; quotes inside are doubled), LF line ends, written out in 64 KiB chunks.
pub(super) struct CsvOut<W: Write> {
    pub(super) writer: W,
    pub(super) buf: Vec<u8>,
    pub(super) delimiter: u8,
    pub(super) at_line_start: bool,
}

impl<W: Write> CsvOut<W> {
    pub(super) fn new(writer: W, delimiter: u8) -> Self {
        Self {
            writer,
            buf: Vec::with_capacity(1 << 16),
            delimiter,
            at_line_start: true,
        }
    }

    pub(super) fn field(&mut self, value: &str) {
        if !self.at_line_start {
            self.buf.push(self.delimiter);
        }
        self.at_line_start = false;
        push_csv_field(&mut self.buf, value, self.delimiter);
    }

    pub(super) fn end_row(&mut self) -> io::Result<()> {
        self.buf.push(b'\n');
        self.at_line_start = true;
        if self.buf.len() >= 1 << 16 {
            self.writer.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> io::Result<()> {
        self.writer.write_all(&self.buf)?;
        self.writer.flush()
    }
}

/// Appends `value` as one CSV field, quoted if needed.
pub(super) fn push_csv_field(buf: &mut Vec<u8>, value: &str, delimiter: u8) {
    let needs_quotes = value
        .bytes()
        .any(|b| b == delimiter || matches!(b, b'"' | b'\r' | b'\n'));
    if !needs_quotes {
        buf.extend_from_slice(value.as_bytes());
        return;
    }
    buf.push(b'"');
    for b in value.bytes() {
        if b == b'"' {
            buf.push(b'"');
        }
        buf.push(b);
    }
    buf.push(b'"');
}

/// Writes every contact of `generator` as CSV: a header, then one row per contact with
/// `first_name, last_name, email, phone, company, job_title, city, tags` (tags joined with
/// `|`). Returns the number of rows written, not counting the header.
///
/// Streams: memory use does not grow with the number of contacts. Pass an unbuffered
/// writer; the rows are buffered here.
pub fn write_contacts_csv<W: Write>(
    generator: &Generator,
    writer: W,
    header: CsvHeader,
) -> io::Result<u64> {
    write_contacts_csv_with(&Duplicates::none(generator), writer, header)
}

/// Like [`write_contacts_csv`], followed by the planted contacts of `planted`; with any
/// planted, the file has an `email2` column (`E-Mail 2`) after `email`, for the second
/// address of [`Variant::EmailCase`] duplicates.
pub fn write_contacts_csv_with<W: Write>(
    planted: &Duplicates<'_>,
    writer: W,
    header: CsvHeader,
) -> io::Result<u64> {
    let generator = planted.generator();
    let with_email2 = planted.contact_count() > 0;
    let mut csv = CsvOut::new(writer, header.delimiter());
    let (names, email2) = match header {
        CsvHeader::English => (
            [
                "first_name",
                "last_name",
                "email",
                "phone",
                "company",
                "job_title",
                "city",
                "tags",
            ],
            "email2",
        ),
        CsvHeader::German => (
            [
                "Vorname", "Nachname", "E-Mail", "Telefon", "Firma", "Position", "Ort", "Tags",
            ],
            "E-Mail 2",
        ),
    };
    for (i, name) in names.into_iter().enumerate() {
        csv.field(name);
        if i == 2 && with_email2 {
            csv.field(email2);
        }
    }
    csv.end_row()?;
    let mut rows = 0;
    let mut contacts = generator.contacts();
    let mut contact = GenContact::default();
    let mut tags = String::new();
    while contacts.next_into(&mut contact) {
        csv.field(contact.first_name);
        csv.field(&contact.last_name);
        csv.field(&contact.email);
        if with_email2 {
            csv.field("");
        }
        csv.field(&contact.phone);
        csv.field(&contact.company_name);
        csv.field(contact.job_title);
        csv.field(contact.city);
        join_tags(&contact.tags, &mut tags);
        csv.field(&tags);
        csv.end_row()?;
        rows += 1;
    }
    for p in planted.contacts() {
        csv.field(&p.first_name);
        csv.field(&p.last_name);
        csv.field(&p.email);
        csv.field(p.email2.as_deref().unwrap_or(""));
        csv.field(&p.phone);
        csv.field(&p.company_name);
        csv.field(p.job_title);
        csv.field(p.city);
        join_tags(&p.tags, &mut tags);
        csv.field(&tags);
        csv.end_row()?;
        rows += 1;
    }
    csv.finish()?;
    Ok(rows)
}

fn join_tags(list: &[&str], out: &mut String) {
    out.clear();
    for (i, tag) in list.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        out.push_str(tag);
    }
}

/// Writes every company of `generator` as CSV: a header, then one row per company with
/// `name, domain, vat_id, industry, city, country, phone` (German header: `Firma`, `Domain`,
/// `USt-IdNr.`, `Branche`, `Ort`, `Land`, `Telefon`). Returns the number of rows written,
/// not counting the header.
pub fn write_companies_csv<W: Write>(
    generator: &Generator,
    writer: W,
    header: CsvHeader,
) -> io::Result<u64> {
    write_companies_csv_with(&Duplicates::none(generator), writer, header)
}

/// Like [`write_companies_csv`], followed by the planted companies of `planted` (their
/// `domain` column holds the website for [`Variant::SameDomain`] duplicates).
pub fn write_companies_csv_with<W: Write>(
    planted: &Duplicates<'_>,
    writer: W,
    header: CsvHeader,
) -> io::Result<u64> {
    let generator = planted.generator();
    let mut csv = CsvOut::new(writer, header.delimiter());
    let names = match header {
        CsvHeader::English => [
            "name", "domain", "vat_id", "industry", "city", "country", "phone",
        ],
        CsvHeader::German => [
            "Firma",
            "Domain",
            "USt-IdNr.",
            "Branche",
            "Ort",
            "Land",
            "Telefon",
        ],
    };
    for name in names {
        csv.field(name);
    }
    csv.end_row()?;
    let mut rows = 0;
    let mut companies = generator.companies();
    let mut company = GenCompany::default();
    let mut write = |csv: &mut CsvOut<W>, company: &GenCompany, domain: &str| {
        csv.field(&company.name);
        csv.field(domain);
        csv.field(&company.vat_id);
        csv.field(company.industry_key);
        csv.field(company.city);
        csv.field(company.country);
        csv.field(&company.phone);
        rows += 1;
        csv.end_row()
    };
    while companies.next_into(&mut company) {
        write(&mut csv, &company, &company.domain)?;
    }
    for p in planted.companies() {
        let c = &p.company;
        let domain = if c.domain.is_empty() { "" } else { &c.website };
        write(&mut csv, c, domain)?;
    }
    csv.finish()?;
    Ok(rows)
}

/// Writes the true duplicate pairs of `planted` as CSV: a header
/// `kind,variant,index_a,index_b,key_a,key_b`, then one row per planted contact (`contacts`)
/// or company (else). `index_*` are the data row numbers in the generated file (from 0), `key_*`
/// the contacts' primary e-mail addresses or the companies' names as written there, `a` the
/// original, `b` the planted duplicate. Returns the number of pairs.
pub fn write_truth_csv<W: Write>(
    planted: &Duplicates<'_>,
    contacts: bool,
    writer: W,
) -> io::Result<u64> {
    let mut csv = CsvOut::new(writer, b',');
    for name in ["kind", "variant", "index_a", "index_b", "key_a", "key_b"] {
        csv.field(name);
    }
    csv.end_row()?;
    let pairs: Box<dyn Iterator<Item = TruthPair>> = if contacts {
        Box::new(planted.contact_truth())
    } else {
        Box::new(planted.company_truth())
    };
    let mut rows = 0;
    let mut num = String::new();
    for t in pairs {
        csv.field(t.kind);
        csv.field(t.variant.as_str());
        for i in [t.index_a, t.index_b] {
            num.clear();
            push_u64(&mut num, i);
            csv.field(&num);
        }
        csv.field(&t.key_a);
        csv.field(&t.key_b);
        csv.end_row()?;
        rows += 1;
    }
    csv.finish()?;
    Ok(rows)
}
