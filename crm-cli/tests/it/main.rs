//! The `crm` binary driven as a process against a real PostgreSQL.

mod analytics;
mod bench;
mod bulk;
mod companies;
mod contacts;
mod csv_output;
mod deals;
mod dedupe;
mod first_week;
mod foundation;
mod gdpr;
mod gdpr_precision;
mod hard_import;
mod lexware;
mod likely_duplicates;
mod moving_in;
mod ops;
mod parsing;
mod private_files;
mod replica_url;
mod support;
mod terminal_escapes;
mod users;
