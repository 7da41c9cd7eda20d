//! Integration tests of crm-core against a real PostgreSQL started by the harness.

mod chain;
mod import;
mod schema;
mod tenancy;
