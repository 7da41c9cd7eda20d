//! The `crm` binary driven as a process against a real PostgreSQL.

mod support;

mod analytics;
mod bulk;
mod companies;
mod contacts;
mod csv_output;
mod deals;
mod first_week;
mod foundation;
mod gdpr;
mod lexware;
mod moving_in;
mod ops;
mod parsing;
mod users;
