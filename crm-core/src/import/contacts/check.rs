//! The database-free half of a contact import: decoding, CSV parsing, column mapping and
//! row validation, exactly as [`super::import_contacts`] runs them, without writing. For
//! property tests and fuzzing of the importer, and for embedders that want to check a
//! file before they have a connection.

use std::collections::HashMap;
use std::io::Read;

use super::{Columns, RowEnv, csv_error, parse_row};
use crate::error::{Error, Result};
use crate::import::formats::{self, Format};
use crate::import::lines::LineCounter;
use crate::import::source::{Source, field_text};
use crate::import::{ImportOptions, RowError};

/// What checking a file found.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    /// Records read (not counting the header and blank lines).
    pub rows: u64,
    /// Rows that would be imported.
    pub valid: u64,
    /// Rows that would fail.
    pub failed: u64,
    /// The problems of the failed rows, and a malformed record that stopped the reading.
    pub errors: Vec<RowError>,
}

/// Checks an import file the way [`super::import_contacts`] would (with `region` as the
/// organization's phone region and no users to name as owners), without a database.
/// Fails only where the import fails as a whole (an empty file, a bad mapping).
pub fn check_contacts<R: Read + Send>(
    input: R,
    opts: &ImportOptions,
    region: &str,
) -> Result<Checked> {
    let (input, vcard): (Box<dyn Read + Send + '_>, bool) =
        match formats::vcard::sniff(input, opts.from)? {
            formats::vcard::Sniffed::Cards(csv, _) => (Box::new(std::io::Cursor::new(csv)), true),
            formats::vcard::Sniffed::Other(r) => (r, false),
        };
    let source = Source::open(
        input,
        opts.encoding,
        if vcard { Some(b',') } else { opts.delimiter },
    )?;
    let delimiter = source.delimiter();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(LineCounter::new(source));
    let mut header = csv::ByteRecord::new();
    if !reader.read_byte_record(&mut header).map_err(csv_error)? {
        return Err(Error::invalid("file", "the file is empty"));
    }
    let headers: Vec<String> = header
        .iter()
        .map(|h| field_text(h).trim().to_string())
        .collect();
    let cols = Columns::new(
        headers,
        opts,
        if vcard {
            Some(Format::Vcard)
        } else {
            opts.from
        },
    )?;
    let env = RowEnv {
        region: region.to_string(),
        tag_split: ['|', ';', ',']
            .into_iter()
            .filter(|c| *c as u32 != u32::from(delimiter))
            .collect(),
        keep_unknown: opts.keep_unknown,
        users: HashMap::new(),
        company_countries: HashMap::new(),
    };
    let mut out = Checked::default();
    let mut rec = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                out.rows += 1;
                out.failed += 1;
                out.errors.push(RowError {
                    line: e.position().map(|p| p.line()).unwrap_or(0),
                    field: "file".into(),
                    message: "malformed CSV (unbalanced quotes?); reading stopped here".into(),
                });
                break;
            }
        }
        if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        out.rows += 1;
        let byte = rec.position().map(|p| p.byte()).unwrap_or(0);
        let line = reader.get_mut().line_at(byte);
        match parse_row(&cols, &rec, &env) {
            Ok(_) => out.valid += 1,
            Err(errs) => {
                out.failed += 1;
                out.errors
                    .extend(errs.into_iter().map(|(field, message)| RowError {
                        line,
                        field,
                        message,
                    }));
            }
        }
    }
    Ok(out)
}
