//! Printing records as a table, JSON or CSV on a locked stdout. A broken pipe surfaces as an
//! io error that `main` turns into a quiet success.

use std::io::Write;

use std::io::BufWriter;

use anyhow::Result;
use chrono::{DateTime, Local, SecondsFormat, Utc};
use crm_core::csv_out::{CsvOptions, CsvWriter};
use crm_core::store::{Cursor, Page, PageRequest};
use serde::Serialize;
use serde::ser::{SerializeSeq as _, Serializer as _};

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
    /// What the records are called in "no … match" under an empty table (default: records).
    fn noun() -> &'static str {
        "records"
    }
}

/// Prints a list.
pub fn list<T: Row>(format: Format, rows: &[T]) -> Result<()> {
    let stdout = crate::pipe::stdout();
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
            write_table(&mut out, &T::headers(), rows.iter().map(Row::cells))?;
            if rows.is_empty() {
                write_none(&mut out, T::noun())?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Prints one record: JSON as an object, table as field/value pairs, CSV as one row.
pub fn one<T: Row>(format: Format, row: &T) -> Result<()> {
    match format {
        Format::Json | Format::Ndjson => {
            let stdout = crate::pipe::stdout();
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
                b.push_record([h.to_string(), safe(&c).into_owned()]);
            }
            let mut table = b.build();
            table.with(tabled::settings::Style::sharp());
            let stdout = crate::pipe::stdout();
            let mut out = stdout.lock();
            writeln!(out, "{table}")?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Prints any serialisable value as JSON (for summaries without a table form).
pub fn json<T: Serialize>(value: &T) -> Result<()> {
    let stdout = crate::pipe::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Prints plain text lines.
pub fn text(s: &str) -> Result<()> {
    let stdout = crate::pipe::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "{}",
        crm_core::domain::text::escape_for_terminal(s, true)
    )?;
    out.flush()?;
    Ok(())
}

/// A table cell safe for a terminal: control characters (a stored `ESC ] 0 ; ... BEL`, a
/// line break) are shown as escapes, never sent raw (issue 14, item 9).
pub fn safe(cell: &str) -> std::borrow::Cow<'_, str> {
    crm_core::domain::text::escape_for_terminal(cell, false)
}

/// Formats an optional value for a table cell.
pub fn opt<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(|v| v.to_string()).unwrap_or_default()
}

/// Records per page with `--all`.
pub const STREAM_PAGE: u32 = 1000;

/// Turns a serde_json error into the io error it wraps, so a broken pipe stays one.
pub fn io(e: serde_json::Error) -> std::io::Error {
    e.into()
}

/// A time as RFC 3339 (UTC), for CSV.
pub fn time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// A time in local time to the minute, for tables.
pub fn local_time(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string()
}

/// The last 8 digits of an id: the random part (the first digits are the creation time).
pub fn short_id(id: impl std::fmt::Display) -> String {
    let s: String = id.to_string().chars().filter(|c| *c != '-').collect();
    s[s.len().saturating_sub(8)..].to_string()
}

/// A record printed in lists: the table may shorten what the CSV spells out.
pub trait Listed: Row {
    /// The table's headers; default: the CSV's.
    fn table_headers() -> Vec<&'static str> {
        Self::headers()
    }
    /// The table's cells, in header order; default: the CSV's.
    fn table_cells(&self) -> Vec<String> {
        self.cells()
    }
}

/// The line under an empty table: "no contacts match".
pub fn write_none<W: Write>(out: &mut W, noun: &str) -> Result<()> {
    writeln!(out, "no {noun} match")?;
    Ok(())
}

/// Writes an aligned table.
pub fn write_table<W: Write>(
    out: &mut W,
    headers: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<()> {
    let mut b = tabled::builder::Builder::default();
    b.push_record(headers.iter().copied());
    let mut empty = true;
    for r in rows {
        b.push_record(r.iter().map(|c| safe(c)));
        empty = false;
    }
    let mut table = b.build();
    if empty {
        // The header's underline would be the last line: close the box instead.
        table.with(tabled::settings::Style::sharp().remove_horizontals());
    } else {
        table.with(tabled::settings::Style::sharp());
    }
    writeln!(out, "{table}")?;
    Ok(())
}

/// Prints one JSON value: pretty, or on one line for NDJSON.
pub fn print_json<T: Serialize>(format: Format, value: &T) -> Result<()> {
    let stdout = crate::pipe::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if format == Format::Ndjson {
        serde_json::to_writer(&mut out, value).map_err(io)?;
    } else {
        serde_json::to_writer_pretty(&mut out, value).map_err(io)?;
    }
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Pages of a list: one, or every one with `all`.
pub struct Pager {
    request: PageRequest,
    all: bool,
    done: bool,
    /// Where the next page starts, once a page stopped short of the end.
    more: Option<Cursor>,
    /// A table with one header above the first page (else one header per page).
    one_header: bool,
}

impl Pager {
    /// A pager starting at `after`, `limit` records a page (or every page with `all`).
    pub fn new(limit: u32, after: Option<Cursor>, all: bool) -> Self {
        Self {
            request: PageRequest {
                limit: if all { STREAM_PAGE } else { limit },
                after,
            },
            all,
            done: false,
            more: None,
            one_header: false,
        }
    }

    /// A table streamed over several pages gets one header, above the first page.
    pub fn one_header(mut self) -> Self {
        self.one_header = true;
        self
    }

    async fn next<T, F>(&mut self, fetch: &mut F) -> crm_core::Result<Option<Vec<T>>>
    where
        F: AsyncFnMut(PageRequest) -> crm_core::Result<Page<T>>,
    {
        if self.done {
            return Ok(None);
        }
        let page = fetch(self.request).await?;
        match page.next {
            Some(next) if self.all => self.request.after = Some(next),
            next => {
                self.done = true;
                self.more = next;
            }
        }
        Ok(Some(page.items))
    }

    /// Prints the pages as they arrive (memory stays at one page); returns the cursor of
    /// the following page when there is one and not every page was asked for. The first
    /// page is fetched before anything is written, so that a bad filter fails with nothing
    /// on stdout.
    pub async fn print<T, F>(mut self, format: Format, mut fetch: F) -> Result<Option<Cursor>>
    where
        T: Listed,
        F: AsyncFnMut(PageRequest) -> crm_core::Result<Page<T>>,
    {
        let one_header = self.one_header;
        let mut ahead = self.next(&mut fetch).await?;
        let mut pages = async || match ahead.take() {
            Some(first) => Ok(Some(first)),
            None => self.next(&mut fetch).await,
        };
        let stdout = crate::pipe::stdout();
        let mut out = BufWriter::new(stdout.lock());
        match format {
            Format::Json => {
                let mut ser = serde_json::Serializer::pretty(&mut out);
                let mut seq = ser.serialize_seq(None).map_err(io)?;
                while let Some(items) = pages().await? {
                    for r in &items {
                        seq.serialize_element(r).map_err(io)?;
                    }
                }
                seq.end().map_err(io)?;
                writeln!(out)?;
            }
            Format::Ndjson => {
                while let Some(items) = pages().await? {
                    for r in &items {
                        serde_json::to_writer(&mut out, r).map_err(io)?;
                        writeln!(out)?;
                    }
                    out.flush()?;
                }
            }
            Format::Csv => {
                let mut w = crate::output::csv_writer(&mut out)?;
                w.write_row(T::headers())?;
                while let Some(items) = pages().await? {
                    for r in &items {
                        w.write_row(r.cells())?;
                    }
                    w.flush()?;
                }
                w.flush()?;
            }
            Format::Table => {
                let mut first = true;
                let mut shown = 0;
                while let Some(items) = pages().await? {
                    if items.is_empty() && shown > 0 {
                        continue;
                    }
                    shown += items.len();
                    if one_header && items.is_empty() && !first {
                        break;
                    }
                    let headers = if first || !one_header {
                        T::table_headers()
                    } else {
                        Vec::new()
                    };
                    first = false;
                    write_table(&mut out, &headers, items.iter().map(Listed::table_cells))?;
                    out.flush()?;
                }
                if shown == 0 {
                    write_none(&mut out, T::noun())?;
                }
            }
        }
        out.flush()?;
        Ok(self.more)
    }
}

/// A postal address on one line: `Hauptstraße 1, 10115 Berlin, DE`.
pub fn address(
    street: &Option<String>,
    postal_code: &Option<String>,
    city: &Option<String>,
    country: &Option<String>,
) -> String {
    let place = [postal_code.as_deref(), city.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    [street.as_deref(), Some(place.as_str()), country.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// E-mail addresses or phone numbers for a table cell: one a line as `value (kind)`, the
/// primary one marked with a star.
pub fn channels_cell<'a, K: std::fmt::Display>(
    items: impl IntoIterator<Item = (&'a str, K, bool)>,
) -> String {
    items
        .into_iter()
        .map(|(value, kind, primary)| {
            let star = if primary { " *" } else { "" };
            format!("{value} ({kind}){star}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The JSON receipt of a command that prints no record (`{"id": …, "deleted": true}`):
/// printed for `--format json|ndjson` only; tables get a note on stderr instead.
pub fn receipt(format: Format, value: &serde_json::Value) -> Result<()> {
    if matches!(format, Format::Json | Format::Ndjson) {
        print_json(format, value)?;
    }
    Ok(())
}

/// Writes a field / value table (one record's `show`) to stdout.
pub fn field_table(rows: Vec<Vec<String>>) -> Result<()> {
    let stdout = crate::pipe::stdout();
    let mut out = stdout.lock();
    write_table(&mut out, &["field", "value"], rows)?;
    out.flush()?;
    Ok(())
}

/// The closing rows of a company's or contact's field / value table: `custom` (when it
/// holds anything), version, created, updated, and deleted (for a deleted record).
pub fn closing_rows(
    custom: &serde_json::Value,
    version: i32,
    created: &DateTime<Utc>,
    updated: &DateTime<Utc>,
    deleted: Option<&DateTime<Utc>>,
) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    if custom.as_object().is_some_and(|m| !m.is_empty()) {
        rows.push(vec!["custom".into(), custom.to_string()]);
    }
    rows.push(vec!["version".into(), version.to_string()]);
    rows.push(vec!["created".into(), time(created)]);
    rows.push(vec!["updated".into(), time(updated)]);
    if let Some(d) = deleted {
        rows.push(vec!["deleted".into(), time(d)]);
    }
    rows
}

/// Under a list page that has more: how to continue (on stderr, unless --quiet). `noun`
/// names the records (`contacts`).
pub fn note_more(ctx: &crate::ctx::Ctx, noun: &str, more: Option<Cursor>) {
    if let Some(cursor) = more {
        ctx.note(format!(
            "more {noun}: continue with --after {cursor} (or --all for every page)"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_leaves_out_what_is_missing() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            address(&s("Hauptstraße 1"), &s("10115"), &s("Berlin"), &s("DE")),
            "Hauptstraße 1, 10115 Berlin, DE"
        );
        assert_eq!(address(&None, &None, &s("Berlin"), &None), "Berlin");
        assert_eq!(address(&None, &None, &None, &None), "");
    }

    #[test]
    fn channels_are_one_a_line_with_the_primary_starred() {
        let cell = channels_cell([
            ("a@example.com", "work", true),
            ("b@example.com", "home", false),
        ]);
        assert_eq!(cell, "a@example.com (work) *\nb@example.com (home)");
    }

    #[test]
    fn closing_rows_show_custom_and_deleted_only_when_there() {
        let t = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let names =
            |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
        assert_eq!(
            names(closing_rows(&serde_json::json!({}), 2, &t, &t, None)),
            ["version", "created", "updated"]
        );
        assert_eq!(
            names(closing_rows(
                &serde_json::json!({"k": 1}),
                2,
                &t,
                &t,
                Some(&t)
            )),
            ["custom", "version", "created", "updated", "deleted"]
        );
    }
}
