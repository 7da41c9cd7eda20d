//! Reaching Lexware Office: the client with its key, the error mapping, the CRM record a
//! command names, and the summaries commands print.

use anyhow::Result;
use crm_core::Scope;
use crm_core::lexware::{LinkTarget, settings};
use crm_lexware::sync::Lexware;
use crm_lexware::{Client, Config, LexwareError, Limiter};
use serde::Serialize;

use crate::cli::Format;
use crate::exit;
use crate::output;
use crate::resolve::{resolve_company, resolve_contact};

/// Maps integration errors to exit codes and messages (CLI.md).
pub(super) fn lx_error(e: LexwareError) -> anyhow::Error {
    let code = match &e {
        LexwareError::Core(inner) => return anyhow::Error::new(clone_core(inner)),
        LexwareError::VersionConflict | LexwareError::NotUpdatable(_) => exit::CONFLICT,
        LexwareError::Api { status: 404, .. } => exit::NOT_FOUND,
        LexwareError::Api {
            status: 401 | 403, ..
        } => exit::PERMISSION,
        e if e.is_validation() => exit::VALIDATION,
        _ => exit::ERROR,
    };
    exit::coded(code, e.to_string())
}

/// A copy of a crm-core error (it is not `Clone`), for the error mapping above.
fn clone_core(e: &crm_core::Error) -> crm_core::Error {
    use crm_core::Error as E;
    match e {
        E::NotFound { entity } => E::NotFound { entity },
        E::Validation(f) => E::Validation(f.clone()),
        E::Conflict(m) => E::Conflict(m.clone()),
        E::PermissionDenied(m) => E::PermissionDenied(m.clone()),
        E::Tenancy(m) => E::Tenancy(m.clone()),
        E::Unavailable(m) => E::Unavailable(m.clone()),
        other => E::Io(other.to_string()),
    }
}

/// The integration actor's scope, the API key (environment first) and the client. Not
/// configured is reported before anything is created.
pub(super) async fn connect(scope: &Scope) -> Result<Lexware> {
    let stored = if Config::env_has_key() {
        None
    } else {
        match scope.run(async |tx| settings::api_key(tx).await).await {
            Ok(key) => key,
            // Not an owner or admin: read through the integration actor (made by configure).
            Err(crm_core::Error::PermissionDenied(_)) => {
                let integration = Lexware::integration_scope(scope).await.map_err(lx_error)?;
                integration
                    .run(async |tx| settings::api_key(tx).await)
                    .await?
            }
            Err(e) => return Err(e.into()),
        }
    };
    let config = Config::from_env(stored).map_err(lx_error)?;
    let integration = Lexware::integration_scope(scope).await.map_err(lx_error)?;
    let client = Client::new(config, Limiter::database(integration.clone())).map_err(lx_error)?;
    Ok(Lexware::new(client, integration))
}

/// The acting user's handle (explicit commands are audited under the user).
pub(super) async fn connect_as_user(scope: &Scope) -> Result<Lexware> {
    let lx = connect(scope).await?;
    Ok(Lexware::new(lx.client().clone(), scope.clone()))
}

/// The CRM record named by --company or --contact, if any.
pub(super) async fn target(
    scope: &Scope,
    company: &Option<String>,
    contact: &Option<String>,
) -> Result<Option<LinkTarget>> {
    let mut tx = scope.begin().await?;
    let t = match (company, contact) {
        (Some(c), _) => Some(LinkTarget::Company(resolve_company(&mut tx, c).await?)),
        (_, Some(c)) => Some(LinkTarget::Contact(resolve_contact(&mut tx, c).await?)),
        _ => None,
    };
    tx.commit().await?;
    Ok(t)
}

/// Prints a summary object: JSON for scripts, `key: value` lines on a terminal.
pub(super) fn summary<T: Serialize>(format: Format, value: &T) -> Result<()> {
    match format {
        Format::Table | Format::Csv => {
            let v = serde_json::to_value(value)?;
            let mut lines = Vec::new();
            if let Some(m) = v.as_object() {
                for (k, v) in m {
                    let shown = match v {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    lines.push(format!("{k}: {shown}"));
                }
            }
            output::text(&lines.join("\n"))
        }
        _ => output::json(value),
    }
}
