//! # crm-core
//!
//! The library behind the `crm` command line, the `crm-tui` terminal front-end and any Rust
//! application that embeds the CRM: domain rules, PostgreSQL persistence with tenancy
//! enforced by row-level security, the audit hash chain and the event outbox.
//!
//! ```no_run
//! use crm_core::{Crm, NewOrganization};
//!
//! # async fn demo() -> crm_core::Result<()> {
//! // No URL: a local cluster in the default data directory, created and migrated on first use.
//! let crm = Crm::open_local(&crm_core::LocalCluster::default_home()).await?;
//! let created = crm
//!     .create_organization(NewOrganization {
//!         name: "Beispiel GmbH".into(),
//!         slug: None,
//!         owner_email: "admin@beispiel.de".into(),
//!         owner_first_name: "Anna".into(),
//!         owner_last_name: "Admin".into(),
//!         owner_password_hash: None,
//!     })
//!     .await?;
//! let scope = crm.scope(created.organization.id, created.owner_id);
//! let tx = scope.begin().await?; // every operation runs in a transaction of a scope
//! tx.commit().await?;
//! # Ok(()) }
//! ```
//!
//! ## Tenancy
//!
//! Every tenant table carries `org_id`; row-level security is enabled and forced, and the
//! library works as the `crm_app` role, which owns nothing and cannot bypass it. A query
//! that forgets its organization filter sees nothing of other organizations.
#![warn(missing_docs)]

pub mod audit;
pub mod auth;
pub mod backup;
pub mod bulk;
pub mod console;
pub mod csv_out;
pub mod db;
pub mod dedupe;
pub mod domain;
pub mod error;
pub mod events;
pub mod export;
pub mod frontend;
pub mod gdpr;
pub mod ids;
pub mod import;
pub mod lexware;
pub mod local;
pub mod org;
pub mod private_file;
pub mod region;
pub mod remind;
pub mod replica;
pub mod report;
pub mod search;
pub mod store;
pub mod tenancy;
#[cfg(feature = "testing")]
pub mod testing;

pub use db::Crm;
pub use error::{Error, FieldError, FieldErrors, Result};
pub use ids::*;
pub use local::LocalCluster;
pub use org::{CreatedOrganization, NewOrganization, Organization};
pub use tenancy::{Actor, Scope, Tx};
