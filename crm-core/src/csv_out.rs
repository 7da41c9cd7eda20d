//! The one CSV writer for everything the CRM writes as CSV: exports, subject export bundles,
//! import error files and the front-ends' `--format csv`.
//!
//! By default it guards against spreadsheet formulas: a cell that begins with `=`, `+`, `-`,
//! `@`, a tab or a carriage return is written with a leading `'`, so a name such as
//! `=HYPERLINK(...)` shows as text in Excel or LibreOffice instead of running. A cell that
//! is entirely a (signed) number (`-12.50`, `+3`) or an E.164 phone number (`+4930123456`)
//! stays as it is, so amounts and phone numbers remain usable. [`CsvOptions::raw`] turns the
//! guard off for machine pipelines.
//!
//! [`CsvOptions::excel`] writes what German Excel opens correctly with a double click: a
//! UTF-8 byte order mark, `;` between cells and CRLF line ends.

use std::borrow::Cow;
use std::io::{self, Write};

/// How CSV is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// Prefix formula-like cells with `'` (on unless [`CsvOptions::raw`]).
    pub guard: bool,
    /// The cell separator.
    pub delimiter: u8,
    /// Start with a UTF-8 byte order mark.
    pub bom: bool,
    /// End lines with CRLF instead of LF.
    pub crlf: bool,
}

impl Default for CsvOptions {
    /// Comma-separated, LF line ends, no byte order mark, formulas guarded.
    fn default() -> Self {
        Self {
            guard: true,
            delimiter: b',',
            bom: false,
            crlf: false,
        }
    }
}

impl CsvOptions {
    /// The preset for German Excel: byte order mark, `;`, CRLF (formulas guarded).
    pub fn excel() -> Self {
        Self {
            guard: true,
            delimiter: b';',
            bom: true,
            crlf: true,
        }
    }

    /// The same options with the formula guard off (`--raw`).
    pub fn raw(self) -> Self {
        Self {
            guard: false,
            ..self
        }
    }

    /// The same options with another separator.
    pub fn with_delimiter(self, delimiter: u8) -> Self {
        Self { delimiter, ..self }
    }
}

/// Whether a cell would be read as a formula by a spreadsheet and is not a plain number or
/// an E.164 phone number.
pub fn needs_guard(cell: &[u8]) -> bool {
    match cell.first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+' | b'-') => !is_number_or_phone(cell),
        _ => false,
    }
}

/// `[+-]digits[.digits]` (also with `,` as the decimal separator) or `+digits`.
fn is_number_or_phone(cell: &[u8]) -> bool {
    let body = &cell[1..];
    let (int, frac) = match body.iter().position(|b| *b == b'.' || *b == b',') {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    digits(int) && frac.is_none_or(digits)
}

/// The cell as written: with a leading `'` when `guard` is on and [`needs_guard`] says so.
pub fn guard_cell(cell: &[u8], guard: bool) -> Cow<'_, [u8]> {
    if guard && needs_guard(cell) {
        let mut out = Vec::with_capacity(cell.len() + 1);
        out.push(b'\'');
        out.extend_from_slice(cell);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(cell)
    }
}

/// Writes CSV records with the [`CsvOptions`] (quoting as needed, guard applied per cell).
#[derive(Debug)]
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
    guard: bool,
}

impl<W: Write> CsvWriter<W> {
    /// A writer over `out`; writes the byte order mark at once when the options ask for it.
    pub fn new(mut out: W, options: CsvOptions) -> io::Result<Self> {
        if options.bom {
            out.write_all("\u{feff}".as_bytes())?;
        }
        let inner = csv::WriterBuilder::new()
            .delimiter(options.delimiter)
            .terminator(if options.crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .flexible(true)
            .from_writer(out);
        Ok(Self {
            inner,
            guard: options.guard,
        })
    }

    /// Writes one record.
    pub fn write_row<I, T>(&mut self, cells: I) -> io::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        for cell in cells {
            self.inner
                .write_field(guard_cell(cell.as_ref(), self.guard))
                .map_err(into_io)?;
        }
        self.inner.write_record(None::<&[u8]>).map_err(into_io)
    }

    /// Flushes buffered records to the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(self) -> io::Result<W> {
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

fn into_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Re-writes a stream of CSV (as PostgreSQL's `COPY ... (format csv)` sends it, in chunks
/// cut anywhere) through a [`CsvWriter`], so server-side CSV gets the same guard and shape.
#[derive(Debug)]
pub struct CsvRewriter<W: Write> {
    reader: csv_core::Reader,
    writer: CsvWriter<W>,
    field: Vec<u8>,
    ends: Vec<usize>,
    used: usize,
    ended: usize,
    records: u64,
}

impl<W: Write> CsvRewriter<W> {
    /// A re-writer that writes to `writer`.
    pub fn new(writer: CsvWriter<W>) -> Self {
        Self {
            reader: csv_core::Reader::new(),
            writer,
            field: vec![0; 4096],
            ends: vec![0; 64],
            used: 0,
            ended: 0,
            records: 0,
        }
    }

    /// Feeds the next chunk of input.
    pub fn feed(&mut self, mut input: &[u8]) -> io::Result<()> {
        loop {
            let (result, read, written, ends) = self.reader.read_record(
                input,
                &mut self.field[self.used..],
                &mut self.ends[self.ended..],
            );
            input = &input[read..];
            self.used += written;
            self.ended += ends;
            match result {
                csv_core::ReadRecordResult::InputEmpty => return Ok(()),
                csv_core::ReadRecordResult::OutputFull => {
                    let len = self.field.len() * 2;
                    self.field.resize(len, 0);
                }
                csv_core::ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                csv_core::ReadRecordResult::Record => self.emit()?,
                csv_core::ReadRecordResult::End => return Ok(()),
            }
        }
    }

    /// Ends the input, writes the last record and flushes; returns how many records
    /// (header included) were written, and the underlying writer.
    pub fn finish(mut self) -> io::Result<(u64, W)> {
        let (result, _, written, ends) = self.reader.read_record(
            &[],
            &mut self.field[self.used..],
            &mut self.ends[self.ended..],
        );
        self.used += written;
        self.ended += ends;
        if result == csv_core::ReadRecordResult::Record {
            self.emit()?;
        }
        Ok((self.records, self.writer.into_inner()?))
    }

    fn emit(&mut self) -> io::Result<()> {
        let mut start = 0;
        let field = &self.field;
        let cells = self.ends[..self.ended].iter().map(|&end| {
            let cell = &field[start..end];
            start = end;
            cell
        });
        self.writer.write_row(cells)?;
        self.used = 0;
        self.ended = 0;
        self.records += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(options: CsvOptions, rows: &[&[&str]]) -> String {
        let mut w = CsvWriter::new(Vec::new(), options).unwrap();
        for row in rows {
            w.write_row(row.iter()).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn formulas_are_guarded_and_numbers_and_phones_are_not() {
        for (cell, guarded) in [
            ("=HYPERLINK(\"http://x\";\"y\")", true),
            ("=1+2", true),
            ("@SUM(A1)", true),
            ("+cmd|' /C calc'!A0", true),
            ("-2+3", true),
            ("\tx", true),
            ("\rx", true),
            ("-", true),
            ("+", true),
            ("+49 30 123456", true),
            ("+4930123456", false),
            ("-12.50", false),
            ("-12,50", false),
            ("+3", false),
            ("42", false),
            ("Müller", false),
            ("a=b", false),
            ("", false),
        ] {
            assert_eq!(needs_guard(cell.as_bytes()), guarded, "{cell:?}");
            let out = guard_cell(cell.as_bytes(), true);
            assert_eq!(out.starts_with(b"'") && !cell.starts_with('\''), guarded);
            assert_eq!(&*guard_cell(cell.as_bytes(), false), cell.as_bytes());
        }
    }

    #[test]
    fn writes_guarded_quoted_csv_and_the_excel_preset() {
        let rows: &[&[&str]] = &[&["name", "phone"], &["=HYPERLINK(\"x\")", "+4930123456"]];
        assert_eq!(
            write(CsvOptions::default(), rows),
            "name,phone\n\"'=HYPERLINK(\"\"x\"\")\",+4930123456\n"
        );
        assert_eq!(
            write(CsvOptions::default().raw(), rows),
            "name,phone\n\"=HYPERLINK(\"\"x\"\")\",+4930123456\n"
        );
        assert_eq!(
            write(CsvOptions::excel(), &[&["a;b", "Müller"]]),
            "\u{feff}\"a;b\";Müller\r\n"
        );
        assert_eq!(
            write(CsvOptions::default().with_delimiter(b'\t'), &[&["a", "b"]]),
            "a\tb\n"
        );
    }

    #[test]
    fn rewriting_copy_output_in_any_chunks_gives_the_same_result() {
        let copy = "id,name,city\n1,\"=HYPERLINK(\"\"x\"\",\"\"y\"\")\",Köln\n2,\"two\nlines\",\n3,@x,-5\n";
        let expected = "id;name;city\r\n1;\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\";Köln\r\n2;\"two\nlines\";\r\n3;'@x;-5\r\n";
        for chunk in [1, 2, 3, 7, 1000] {
            let writer =
                CsvWriter::new(Vec::new(), CsvOptions::excel().with_delimiter(b';')).unwrap();
            let mut rw = CsvRewriter::new(writer);
            for part in copy.as_bytes().chunks(chunk) {
                rw.feed(part).unwrap();
            }
            let (records, out) = rw.finish().unwrap();
            let text = String::from_utf8(out).unwrap();
            assert_eq!(
                text.trim_start_matches('\u{feff}'),
                expected,
                "chunk {chunk}"
            );
            assert_eq!(records, 4);
        }
    }

    #[test]
    fn a_last_record_without_a_newline_is_written() {
        let writer = CsvWriter::new(Vec::new(), CsvOptions::default()).unwrap();
        let mut rw = CsvRewriter::new(writer);
        rw.feed(b"a,b\n=1,2").unwrap();
        let (records, out) = rw.finish().unwrap();
        assert_eq!(records, 2);
        assert_eq!(out, b"a,b\n'=1,2\n");
    }

    proptest::proptest! {
        #[test]
        fn rewriting_keeps_every_cell(cells in proptest::collection::vec("[a-z0-9 ,\"\n=+-]{0,8}", 1..6)) {
            let mut plain = CsvWriter::new(Vec::new(), CsvOptions::default().raw()).unwrap();
            plain.write_row(cells.iter()).unwrap();
            let text = plain.into_inner().unwrap();
            let mut rw = CsvRewriter::new(CsvWriter::new(Vec::new(), CsvOptions::default()).unwrap());
            rw.feed(&text).unwrap();
            let (_, out) = rw.finish().unwrap();
            let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&out[..]);
            let back: Vec<String> = reader.records().next().unwrap().unwrap().iter().map(str::to_string).collect();
            let expected: Vec<String> = cells.iter().map(|c| String::from_utf8(guard_cell(c.as_bytes(), true).into_owned()).unwrap()).collect();
            proptest::prop_assert_eq!(back, expected);
        }
    }
}
