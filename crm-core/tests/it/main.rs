//! Integration tests of crm-core against a real PostgreSQL started by the harness.

mod activities;
mod audit_integrity;
mod chain;
mod companies;
mod contact_create;
mod contacts;
mod deals;
mod export;
mod frontend;
mod gdpr;
mod import;
mod import_records;
mod lists;
mod metadata;
mod moving_in;
mod pipelines;
mod remind;
mod replica;
mod report_as_of;
mod report_forecast;
mod report_velocity;
mod schema;
mod tenancy;
mod users;
mod visibility;
mod zones;
