//! The `crm` binary driven as a process against a real PostgreSQL.

mod support;

mod analytics;
mod bench;
mod bulk;
mod companies;
mod contacts;
mod csv_output;
mod deals;
mod foundation;
mod gdpr;
mod gdpr_precision;
mod lexware;
mod moving_in;
mod ops;
mod parsing;
mod users;
