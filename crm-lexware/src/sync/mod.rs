//! The sync between the CRM and Lexware Office: link, import, push, the round-robin pull,
//! the voucher cache and the outbox-driven push of `ERP`-tagged records. Every operation
//! works through a [`Lexware`] handle: an API client and the scope whose actor the CRM
//! changes are audited under (the integration actor for `sync`, the user for explicit
//! commands).

mod contacts;
mod reconcile;
mod run;
mod vouchers;

use crm_core::Scope;
use crm_core::lexware::LinkTarget;
use serde::Serialize;
use uuid::Uuid;

pub use contacts::Found;
pub use run::{PUSH_CONSUMER, RecordConflict, RecordFailure, Summary, SyncOptions};

use crate::client::Client;
use crate::error::Result;
use crate::mapping::Conflict;

/// The tag that marks records pushed to Lexware automatically.
pub const ERP_TAG: &str = "ERP";

/// A client and the scope it works in.
#[derive(Debug, Clone)]
pub struct Lexware {
    client: Client,
    scope: Scope,
}

/// What happened to one linked record.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkReport {
    /// The link.
    pub link_id: Option<Uuid>,
    /// The CRM record.
    pub target: Option<LinkTarget>,
    /// The Lexware contact.
    pub lexware_id: Option<Uuid>,
    /// Whether the Lexware contact was created by this operation.
    pub created_in_lexware: bool,
    /// Whether the CRM record was created by this operation.
    pub created_in_crm: bool,
    /// Fields written to Lexware.
    pub pushed: Vec<String>,
    /// Fields written to the CRM.
    pub pulled: Vec<String>,
    /// Fields changed on both sides, with both values (nothing was decided).
    pub conflicts: Vec<Conflict>,
    /// Why CRM changes could not be written to Lexware (lists longer than one).
    pub not_updatable: Option<String>,
    /// The problem, if the record could not be synced.
    pub error: Option<String>,
}

impl Lexware {
    /// A handle working through `client` in `scope`.
    pub fn new(client: Client, scope: Scope) -> Self {
        Self { client, scope }
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The scope of the organization's integration actor (created on first use, which
    /// needs an owner or admin in `scope`).
    pub async fn integration_scope(scope: &Scope) -> Result<Scope> {
        let actor = scope
            .run(async |tx| crm_core::lexware::settings::integration_actor(tx).await)
            .await?;
        Ok(scope.crm().scope(scope.org(), actor))
    }
}
