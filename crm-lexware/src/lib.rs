//! # crm-lexware
//!
//! The Lexware Office integration of the CRM: a paced, retrying HTTP client for the public
//! API ([`Client`]), the field mapping between Lexware contacts and CRM companies and
//! contacts ([`mapping`]), and the sync ([`sync`]): search, link, import, push and pull of
//! contacts, the voucher cache, and the outbox-driven automatic push of `ERP`-tagged
//! records. Storage (links, vouchers, key, pacer) lives in `crm_core::lexware`.
//!
//! Every API fact this crate relies on is listed in the project's `lexware-api.md`.
#![warn(missing_docs)]

pub mod client;
pub mod config;
pub mod error;
pub mod limiter;
pub mod mapping;
pub mod model;
pub mod sync;

pub use client::Client;
pub use config::Config;
pub use error::{ErrorBody, LexwareError, Result};
pub use limiter::Limiter;
