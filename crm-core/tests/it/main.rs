//! Integration tests of crm-core against a real PostgreSQL started by the harness.

mod activities;
mod app_login;
mod audit_integrity;
mod chain;
mod companies;
mod contact_create;
mod contacts;
mod deals;
mod demo;
mod export;
mod frontend;
mod gdpr;
mod gdpr_person;
mod import;
mod import_records;
mod lists;
mod metadata;
mod pipelines;
mod replica;
mod schema;
mod tenancy;
mod users;
mod visibility;
