//! Integration tests of crm-core against a real PostgreSQL started by the harness.

mod activities;
mod chain;
mod companies;
mod contacts;
mod deals;
mod export;
mod import;
mod lists;
mod pipelines;
mod schema;
mod tenancy;
mod users;
