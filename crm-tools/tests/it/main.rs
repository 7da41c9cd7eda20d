//! Integration tests of crm-tools against a real PostgreSQL started by crm-core's harness.

mod demo;
mod duplicates;
