//! Importing companies and deals from CSV through the store's own operations (so every rule,
//! audit entry and event is the same as for a record created by hand). Each row runs under
//! a savepoint inside a batch transaction: a rejected row is rolled back alone and reported,
//! a crash loses at most the current batch, and duplicates are recognised on a re-run.
//!
//! Company and deal files are small next to contact files, so this path favours exactness
//! over the set-based speed path contacts take.
//!
//! One file per concern: `columns` (how a file's columns map to fields and how a record is
//! read with them), `run` (the reading loop, [`import_records`]), `companies` (one company
//! row: matched, then skipped, completed, updated or created), `values` (settling the value
//! quirks of other tools' company exports) and `deals` (one deal row).

mod columns;
mod companies;
mod deals;
mod run;
mod values;

pub use run::import_records;

use serde_json::Value;

use crate::error::{Error, Result};

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

    /// The field a file of this kind must have a column for.
    fn required(self) -> &'static str {
        match self {
            RecordKind::Companies => "name",
            RecordKind::Deals => "title",
        }
    }
}

/// What became of one row that was not rejected.
enum RowOutcome {
    Created,
    Updated(uuid::Uuid, Value),
    Skipped,
    /// Matched and equal: the (no-op) update is rolled back, nothing is written.
    Unchanged,
}

/// The store's input type read from a row's values.
fn from_json<T: serde::de::DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| {
        // serde's message may quote the value: keep only the field path it names.
        let msg = e.to_string();
        let field = msg.split('`').nth(1).unwrap_or("record").to_string();
        Error::invalid(field, "has a value of the wrong form")
    })
}

/// The error of a row that matches an existing record under `--on-duplicate error`.
fn duplicate() -> Error {
    Error::Conflict("a matching record already exists".into())
}
