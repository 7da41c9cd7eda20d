//! Bulk CSV import.
//!
//! Rows stream from the file through validation in Rust, then with `COPY` into a temporary
//! staging table, and move into the tenant's tables with set-based SQL under its row-level
//! security policy (`COPY FROM` into a policy-protected table is refused by PostgreSQL).
//! Every batch commits on its own, so a crash or Ctrl-C loses at most the current batch;
//! re-running the same file afterwards recognises what was imported by the dedup keys and
//! creates no duplicates. Each import is a recorded run (who, file, digest, counts), and
//! every created or updated record carries the run's id (`import_run_id`), so the audit
//! trail is one entry per batch rather than one per row.

pub mod contacts;
mod extras;
pub mod formats;
pub mod lines;
mod links;
pub mod records;
pub mod runs;
pub mod source;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::ids::ImportRunId;

pub use formats::Format;
pub use source::TextEncoding;

/// What to do with a row that matches an existing record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDuplicate {
    /// Leave the existing record alone and count the row as skipped.
    #[default]
    Skip,
    /// Fill and overwrite the columns present in the file (checked against the version
    /// read, so a concurrent change is a conflict, never overwritten).
    Update,
    /// Report the row as failed.
    Error,
}

impl std::str::FromStr for OnDuplicate {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "skip" => Ok(Self::Skip),
            "update" => Ok(Self::Update),
            "error" => Ok(Self::Error),
            _ => Err(Error::invalid(
                "on_duplicate",
                "must be skip, update or error",
            )),
        }
    }
}

/// Options of an import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Validate and count, write nothing.
    pub dry_run: bool,
    /// What to do with duplicates of existing records.
    pub on_duplicate: OnDuplicate,
    /// Force the delimiter (detected when `None`).
    pub delimiter: Option<u8>,
    /// Force the encoding (detected when `None`).
    pub encoding: Option<TextEncoding>,
    /// Extra header mappings: (column header as in the file, field name).
    pub mappings: Vec<(String, String)>,
    /// Keep columns that map to no field as custom fields instead of only reporting them.
    pub keep_unknown: bool,
    /// Rows per committed batch; from 8,000 up, a contact import's first three batches hold
    /// an eighth, a quarter and half of it (the server starts while the file is read).
    pub batch_size: usize,
    /// The file name recorded on the run (`None` for stdin).
    pub file_name: Option<String>,
    /// The input's length in bytes when it is known (a file; `None` for a stream). A contact
    /// import then cuts its last batches smaller, so that the two batches in flight end
    /// together instead of the last large one running alone on one core.
    pub size_hint: Option<u64>,
    /// The tool the file comes from (detected from the headers when `None`).
    pub from: Option<Format>,
    /// The id to record the run under (a new one when `None`): lets the caller mark the
    /// run failed when it interrupts the import ([`runs::mark_failed`]).
    pub run_id: Option<ImportRunId>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            on_duplicate: OnDuplicate::Skip,
            delimiter: None,
            encoding: None,
            mappings: Vec::new(),
            keep_unknown: false,
            batch_size: 50_000,
            file_name: None,
            size_hint: None,
            from: None,
            run_id: None,
        }
    }
}

/// One rejected row.
#[derive(Debug, Clone, Serialize)]
pub struct RowError {
    /// Line in the file where the record starts (the header is line 1).
    pub line: u64,
    /// The field (or column) at fault.
    pub field: String,
    /// What is wrong; never quotes the value.
    pub message: String,
}

/// One understood column of the file.
#[derive(Debug, Clone, Serialize)]
pub struct MappingEntry {
    /// The header as in the file.
    pub column: String,
    /// The field it goes to (`ignore`: known to the format and not kept).
    pub field: String,
}

/// A field-level change of an updated record (reported for the first few).
#[derive(Debug, Clone, Serialize)]
pub struct RowChange {
    /// Line in the file.
    pub line: u64,
    /// The record.
    pub id: uuid::Uuid,
    /// `{field: {before, after}}`.
    pub changes: serde_json::Value,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize, Default)]
pub struct ImportSummary {
    /// The recorded run (absent for a dry run).
    pub run_id: Option<ImportRunId>,
    /// Data rows read.
    pub rows: u64,
    /// Records created.
    pub created: u64,
    /// Records updated.
    pub updated: u64,
    /// Rows skipped: duplicates within the file or of existing records, or unchanged.
    pub skipped: u64,
    /// Rows rejected.
    pub failed: u64,
    /// Companies created for a company column.
    pub companies_created: u64,
    /// Contacts imported earlier that a company import linked to their company (by the
    /// company's source id or the domain of their e-mail address).
    pub contacts_linked: u64,
    /// The rejected rows' problems, the first [`MAX_LISTED`] of them (the error file holds
    /// every rejected row).
    pub errors: Vec<RowError>,
    /// How many problems of rejected rows are not in `errors` (past [`MAX_LISTED`]).
    pub errors_omitted: u64,
    /// Problems that failed no row (an owner that names no user, a phone number kept as
    /// written), the first [`MAX_LISTED`] of them.
    pub warnings: Vec<RowError>,
    /// How many warnings are not in `warnings` (past [`MAX_LISTED`]).
    pub warnings_omitted: u64,
    /// The format the file was read as (detected from its headers or given).
    pub format: Option<Format>,
    /// How each column was understood.
    pub mapping: Vec<MappingEntry>,
    /// Field-level changes of the first updated records.
    pub changes: Vec<RowChange>,
    /// Lines whose e-mail address belonged to a person erased earlier in this organization
    /// (matched by the keyed hash on an erasure receipt). They are imported; this list lets
    /// the operator check that the person really gave the address again.
    pub previously_erased: Vec<u64>,
    /// Columns that map to no field.
    pub unknown_columns: Vec<String>,
    /// How each column was understood: (header, field).
    pub columns: Vec<(String, String)>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The detected or given encoding.
    pub encoding: Option<TextEncoding>,
    /// The detected or given delimiter.
    pub delimiter: String,
}

/// How many errors and how many warnings a summary lists; the rest are counted (memory
/// stays bounded however many rows fail).
pub const MAX_LISTED: usize = 1000;

impl ImportSummary {
    /// Lists a row's problem, or counts it once [`MAX_LISTED`] are listed.
    pub(crate) fn push_error(&mut self, e: RowError) {
        if self.errors.len() < MAX_LISTED {
            self.errors.push(e);
        } else {
            self.errors_omitted += 1;
        }
    }

    /// Lists a warning, or counts it once [`MAX_LISTED`] are listed.
    pub(crate) fn push_warning(&mut self, w: RowError) {
        if self.warnings.len() < MAX_LISTED {
            self.warnings.push(w);
        } else {
            self.warnings_omitted += 1;
        }
    }
}

/// Progress of a running import, reported after every batch.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Rows processed.
    pub rows: u64,
    /// Raw bytes read.
    pub bytes: u64,
}
