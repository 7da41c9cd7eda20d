//! Printing records as a table, JSON or CSV on a locked stdout. A broken pipe surfaces as an
//! io error that `main` turns into a quiet success.

use std::io::Write as _;

use anyhow::Result;
use crm_core::csv_out::{CsvOptions, CsvWriter};
use serde::Serialize;

use crate::cli::Format;

/// How CSV is written in this run (`--excel`, `--raw`), set once by `main`.
static CSV_OPTIONS: std::sync::OnceLock<CsvOptions> = std::sync::OnceLock::new();

/// Sets how CSV is written for the rest of the run (first call wins).
pub fn set_csv_options(options: CsvOptions) {
    let _ = CSV_OPTIONS.set(options);
}

/// How CSV is written: `--excel` / `--raw` as given, else the defaults (formula guard on).
pub fn csv_options() -> CsvOptions {
    CSV_OPTIONS.get().copied().unwrap_or_default()
}

/// A CSV separator as typed: one ASCII character other than a quote or a line end, or
/// `tab`.
pub fn parse_delimiter(s: &str) -> std::result::Result<u8, String> {
    match s {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        d if d.len() == 1 && d.is_ascii() && !matches!(d, "\"" | "\n" | "\r") => {
            Ok(d.as_bytes()[0])
        }
        _ => Err("takes one character, or `tab`".into()),
    }
}

/// The one CSV writer (crm-core's, with the formula guard) over `out`, with this run's
/// options.
pub fn csv_writer<W: std::io::Write>(out: W) -> std::io::Result<CsvWriter<W>> {
    CsvWriter::new(out, csv_options())
}

/// A record that can be printed as a table row.
pub trait Row: Serialize {
    /// Column headers.
    fn headers() -> Vec<&'static str>;
    /// This record's cells, in header order.
    fn cells(&self) -> Vec<String>;
}

/// Prints a list.
pub fn list<T: Row>(format: Format, rows: &[T]) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, rows)?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            for r in rows {
                serde_json::to_writer(&mut out, r)?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            let mut w = crate::output::csv_writer(&mut out)?;
            w.write_row(T::headers())?;
            for r in rows {
                w.write_row(r.cells())?;
            }
            w.flush()?;
        }
        Format::Table => {
            let mut b = tabled::builder::Builder::default();
            b.push_record(T::headers());
            for r in rows {
                b.push_record(r.cells());
            }
            let mut table = b.build();
            table.with(tabled::settings::Style::sharp());
            writeln!(out, "{table}")?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Prints one record: JSON as an object, table as field/value pairs, CSV as one row.
pub fn one<T: Row>(format: Format, row: &T) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            if format == Format::Json {
                serde_json::to_writer_pretty(&mut out, row)?;
            } else {
                serde_json::to_writer(&mut out, row)?;
            }
            writeln!(out)?;
            out.flush()?;
            Ok(())
        }
        Format::Csv => list(format, std::slice::from_ref(row)),
        Format::Table => {
            let mut b = tabled::builder::Builder::default();
            for (h, c) in T::headers().into_iter().zip(row.cells()) {
                b.push_record([h.to_string(), c]);
            }
            let mut table = b.build();
            table.with(tabled::settings::Style::sharp());
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            writeln!(out, "{table}")?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Prints any serialisable value as JSON (for summaries without a table form).
pub fn json<T: Serialize>(value: &T) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Prints plain text lines.
pub fn text(s: &str) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "{s}")?;
    out.flush()?;
    Ok(())
}

/// Formats an optional value for a table cell.
pub fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}
