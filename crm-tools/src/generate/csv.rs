//! Writing the generated rows as CSV.

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
    let mut csv = CsvOut::new(writer, header.delimiter());
    let names = match header {
        CsvHeader::English => [
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "job_title",
            "city",
            "tags",
        ],
        CsvHeader::German => [
            "Vorname", "Nachname", "E-Mail", "Telefon", "Firma", "Position", "Ort", "Tags",
        ],
    };
    for name in names {
        csv.field(name);
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
        csv.field(&contact.phone);
        csv.field(&contact.company_name);
        csv.field(contact.job_title);
        csv.field(contact.city);
        tags.clear();
        for (i, tag) in contact.tags.iter().enumerate() {
            if i > 0 {
                tags.push('|');
            }
            tags.push_str(tag);
        }
        csv.field(&tags);
        csv.end_row()?;
        rows += 1;
    }
    csv.finish()?;
    Ok(rows)
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
    while companies.next_into(&mut company) {
        csv.field(&company.name);
        csv.field(&company.domain);
        csv.field(&company.vat_id);
        csv.field(company.industry_key);
        csv.field(company.city);
        csv.field(company.country);
        csv.field(&company.phone);
        csv.end_row()?;
        rows += 1;
    }
    csv.finish()?;
    Ok(rows)
}
