//! Resolving what people type (ids, id digits, e-mail addresses, names) to records, with
//! the exit codes of CLI.md: malformed or ambiguous is a usage error (2), no match is 3.

use anyhow::Result;
use crm_core::store::activity;
use crm_core::store::company;
use crm_core::store::contact;
use crm_core::store::deal;
use crm_core::store::pipeline::{self, Pipeline};
use crm_core::{ActivityId, CompanyId, ContactId, Crm, DealId, Error, OrgId, StageId, Tx, UserId};

use crate::exit;

/// The contact named by `reference` (full id, at least 4 digits of the id, or an e-mail
/// address; see `crm_core::store::contact::resolve`). Ambiguous or malformed references are
/// usage errors (exit 2); no match is exit 3.
pub async fn resolve_contact(tx: &mut Tx, reference: &str) -> Result<ContactId> {
    match contact::resolve(tx, reference).await {
        Ok(id) => Ok(id),
        Err(Error::Validation(e)) => Err(exit::usage(format!(
            "contact {e} (`crm contact list` or `crm search` finds it)"
        ))),
        Err(Error::NotFound { .. }) => Err(exit::coded(
            exit::NOT_FOUND,
            "contact not found; `crm contact list` or `crm search` finds it",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The company named by `reference` (see `crm_core::store::company::resolve`). A reference
/// matching several companies is a usage error (exit 2) naming their ids; no match is
/// exit 3.
pub async fn resolve_company(tx: &mut Tx, reference: &str) -> Result<CompanyId> {
    match company::resolve(tx, reference).await {
        Ok(id) => Ok(id),
        Err(Error::Validation(e)) => {
            let detail: Vec<String> = e.0.iter().map(|f| f.message.clone()).collect();
            Err(exit::usage(format!(
                "the company reference {}",
                detail.join("; ")
            )))
        }
        Err(Error::NotFound { .. }) => Err(exit::coded(
            exit::NOT_FOUND,
            "company not found: give its id, VAT id, domain or exact name \
             (`crm company list` or `crm search` finds it)",
        )),
        Err(e) => Err(e.into()),
    }
}

/// [`resolve_contact`] for an optional reference (a flag that may be absent).
pub async fn resolve_contact_opt(
    tx: &mut Tx,
    reference: Option<&str>,
) -> Result<Option<ContactId>> {
    match reference {
        Some(r) => Ok(Some(resolve_contact(tx, r).await?)),
        None => Ok(None),
    }
}

/// [`resolve_company`] for an optional reference (a flag that may be absent).
pub async fn resolve_company_opt(
    tx: &mut Tx,
    reference: Option<&str>,
) -> Result<Option<CompanyId>> {
    match reference {
        Some(r) => Ok(Some(resolve_company(tx, r).await?)),
        None => Ok(None),
    }
}

/// A company reference taken out of JSON input (`input::take_reference`): resolved when
/// named, `Some(None)` for `null`, `None` when absent.
pub async fn resolve_company_taken(
    tx: &mut Tx,
    taken: Option<Option<String>>,
) -> Result<Option<Option<CompanyId>>> {
    match taken {
        Some(Some(r)) => Ok(Some(Some(resolve_company(tx, &r).await?))),
        Some(None) => Ok(Some(None)),
        None => Ok(None),
    }
}

/// A contact reference taken out of JSON input, as [`resolve_company_taken`].
pub async fn resolve_contact_taken(
    tx: &mut Tx,
    taken: Option<Option<String>>,
) -> Result<Option<Option<ContactId>>> {
    match taken {
        Some(Some(r)) => Ok(Some(Some(resolve_contact(tx, &r).await?))),
        Some(None) => Ok(Some(None)),
        None => Ok(None),
    }
}

/// The deal named by `reference` (full id or at least 4 hex digits of it). Ambiguous or
/// malformed references are usage errors (exit 2); no match is exit 3.
pub async fn resolve_deal(tx: &mut Tx, reference: &str) -> Result<DealId> {
    match deal::resolve(tx, reference).await {
        Ok(id) => Ok(id),
        Err(Error::Validation(e)) => Err(exit::usage(format!(
            "deal {e} (`crm deal list` shows the deals)"
        ))),
        Err(Error::NotFound { .. }) => Err(exit::coded(
            exit::NOT_FOUND,
            "deal not found; `crm deal list` shows the deals and their ids",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The activity named by `reference` (full id, or at least 4 hex digits of it: a prefix or
/// the last 8 as lists print them). Ambiguous or malformed references are usage errors
/// (exit 2); no match is exit 3.
pub async fn resolve_activity(tx: &mut Tx, reference: &str) -> Result<ActivityId> {
    match activity::resolve(tx, reference).await {
        Ok(id) => Ok(id),
        Err(Error::Validation(e)) => Err(exit::usage(format!(
            "activity {e} (`crm activity list` shows the activities)"
        ))),
        Err(Error::NotFound { .. }) => Err(exit::coded(
            exit::NOT_FOUND,
            "activity not found; `crm activity list` shows the activities and their ids",
        )),
        Err(e) => Err(e.into()),
    }
}

/// The pipeline named by `reference` (name or id), or the default pipeline.
pub async fn resolve_pipeline(tx: &mut Tx, reference: Option<&str>) -> Result<Pipeline> {
    let found = match reference.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => pipeline::find(tx, r).await,
        None => pipeline::default(tx).await,
    };
    match found {
        Ok(p) => Ok(p),
        Err(Error::NotFound { .. }) => Err(exit::coded(
            exit::NOT_FOUND,
            if reference.is_some() {
                "pipeline not found: give its name or id (`crm pipeline list` shows them)"
            } else {
                "the organization has no default pipeline: name one, or make one the default \
                 with `crm pipeline default NAME`"
            },
        )),
        Err(e) => Err(e.into()),
    }
}

/// The stage of `pipeline` named by `reference`: its id, or its name (case does not
/// matter; an exact match wins).
pub fn stage_in(pipeline: &Pipeline, reference: &str) -> Result<StageId> {
    let r = reference.trim();
    if let Ok(id) = r.parse::<StageId>()
        && pipeline.stages.iter().any(|s| s.id == id)
    {
        return Ok(id);
    }
    let lower = r.to_lowercase();
    pipeline
        .stages
        .iter()
        .find(|s| s.name == r)
        .or_else(|| {
            pipeline
                .stages
                .iter()
                .find(|s| s.name.to_lowercase() == lower)
        })
        .map(|s| s.id)
        .ok_or_else(|| {
            let names: Vec<&str> = pipeline.stages.iter().map(|s| s.name.as_str()).collect();
            exit::coded(
                exit::NOT_FOUND,
                format!(
                    "no such stage in pipeline '{}'; its stages are: {}",
                    pipeline.name,
                    names.join(", ")
                ),
            )
        })
}

/// The active user of `org` with this e-mail; `flag` names the option for the message.
pub async fn resolve_user(crm: &Crm, org: OrgId, email: &str, flag: &str) -> Result<UserId> {
    match crm.user_by_email(org, email).await {
        Ok((id, _)) => Ok(id),
        Err(Error::NotFound { .. }) => Err(exit::coded(
            exit::NOT_FOUND,
            format!("{flag}: no user with that e-mail in this organization (`crm user list`)"),
        )),
        Err(e) => Err(e.into()),
    }
}
