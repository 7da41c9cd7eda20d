//! Integration tests of crm-core against a real PostgreSQL started by the harness.

mod chain;
mod schema;
mod tenancy;
