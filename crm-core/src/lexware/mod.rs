//! Storage of the Lexware Office integration (the HTTP client and the sync logic live in the
//! `crm-lexware` crate): links between CRM records and Lexware contacts with their sync
//! state, cached vouchers and their links to deals, the organization's API key, the request
//! pacer shared by every process of an organization, and the sync lock.
//!
//! Every table here is a tenant table under the one tenant policy; changes are audited and
//! announced in the same transaction like every other change.

pub mod links;
pub mod rate;
pub mod settings;
pub mod vouchers;

pub use links::{Link, LinkTarget, SyncState};
pub use settings::SyncLock;
pub use vouchers::{CachedVoucher, VoucherRow};
