//! Importing contacts (with their companies, e-mails, phones and tags) from CSV.
//!
//! One file per concern: [`Field`] (what a column can map to), `columns` (how a file's
//! columns map), `row` (validating one record), `batch` (staging rows for `COPY`),
//! `flush` (writing one batch), `update` (updating matched contacts) and `run` (the
//! reading loop, [`import_contacts`]).

mod batch;
pub mod check;
mod columns;
mod field;
mod flush;
mod row;
mod run;
mod update;

pub use field::Field;
pub use run::import_contacts;

pub(crate) use row::{has_control_byte, parse_country};
pub(crate) use run::owner_keys;

use columns::Columns;
use row::{RowEnv, parse_row};
use run::csv_error;

/// The most bytes one record (row) may have; reading stops with an error at a larger one.
pub const MAX_RECORD_BYTES: u64 = 1 << 20;
/// The most columns a file may have.
pub const MAX_COLUMNS: usize = 500;
/// The most unknown columns `--keep-unknown` keeps as custom fields.
pub const MAX_KEPT_UNKNOWN: usize = 50;
/// The longest value of a kept unknown column, in characters.
pub const MAX_KEPT_VALUE: usize = 500;
/// The most tags a row may carry.
pub const MAX_TAGS: usize = 50;
/// The longest tag, in characters.
pub const MAX_TAG_LEN: usize = 100;
