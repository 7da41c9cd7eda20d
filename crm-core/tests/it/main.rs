//! Integration tests of crm-core against a real PostgreSQL started by the harness.

mod activities;
mod chain;
mod companies;
mod contact_create;
mod contacts;
mod deals;
mod demo;
mod export;
mod gdpr;
mod import;
mod import_records;
mod lists;
mod pipelines;
mod replica;
mod schema;
mod search_words;
mod tenancy;
mod users;
