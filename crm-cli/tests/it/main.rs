//! The `crm` binary driven as a process against a real PostgreSQL.

mod support;

mod bulk;
mod companies;
mod contacts;
mod deals;
mod foundation;
mod gdpr;
mod moving_in;
mod ops;
mod users;
