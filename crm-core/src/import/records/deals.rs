//! One deal row: its company and contact resolved, deduplicated by title and company, then
//! skipped, updated or created (won or lost as its status says) through the store.

use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::{RowOutcome, duplicate, from_json};
use crate::domain::normalize_name;
use crate::error::{Error, Result};
use crate::import::{ImportOptions, OnDuplicate};
use crate::store::{company, contact, deal, diff};
use crate::tenancy::Tx;

/// Fields that the store does not take as JSON input but the importer handles itself.
const DEAL_EXTRA: &[&str] = &[
    "company",
    "contact",
    "status",
    "lost_reason",
    "lost_reason_text",
];

/// A date as typed (`31.12.2026`, `2026-12-31`), read by the one date parser.
fn parse_date(s: &str) -> Option<String> {
    crate::domain::parse_date(s, crate::domain::Zone::default(), chrono::Utc::now())
        .ok()
        .map(|d| d.to_string())
}

/// Imports one deal row: company and contact resolved, deduplicated by title and company,
/// then skipped, updated or created (with its status).
pub(super) async fn deal_row(
    tx: &mut Tx,
    mut values: Map<String, Value>,
    custom: Map<String, Value>,
    opts: &ImportOptions,
    seen: &mut HashSet<String>,
) -> Result<RowOutcome> {
    let take = |v: &mut Map<String, Value>, k: &str| {
        v.remove(k).and_then(|x| x.as_str().map(str::to_string))
    };
    let company_ref = take(&mut values, "company");
    let contact_ref = take(&mut values, "contact");
    let status = take(&mut values, "status").map(|s| s.to_lowercase());
    let reason = take(&mut values, "lost_reason");
    let reason_text = take(&mut values, "lost_reason_text");
    for k in DEAL_EXTRA {
        values.remove(*k);
    }
    read_close_date(&mut values)?;
    let (company_id, contact_id) =
        resolve_refs(tx, company_ref.as_deref(), contact_ref.as_deref()).await?;
    let title = values
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let key = format!(
        "{}|{}",
        normalize_name(&title),
        company_id.map(|c| c.to_string()).unwrap_or_default()
    );
    if !seen.insert(key) {
        return Ok(RowOutcome::Skipped);
    }
    let existing = find_deal(tx, &title, company_id).await?;
    if let Some(c) = company_id {
        values.insert("company_id".into(), json!(c));
    }
    if let Some(c) = contact_id {
        values.insert("contact_id".into(), json!(c));
    }
    match (existing, opts.on_duplicate) {
        (Some(_), OnDuplicate::Skip) => Ok(RowOutcome::Skipped),
        (Some(_), OnDuplicate::Error) => Err(duplicate()),
        (Some((id, version)), OnDuplicate::Update) => {
            update_deal(tx, id, version, values, custom).await
        }
        (None, _) => {
            if !custom.is_empty() {
                values.insert("custom".into(), Value::Object(custom));
            }
            let new: deal::NewDeal = from_json(Value::Object(values))?;
            let created = deal::create(tx, new).await?;
            set_status(tx, created.id, status.as_deref(), reason, reason_text).await?;
            Ok(RowOutcome::Created)
        }
    }
}

/// An existing deal with the same title for the same company (or none) is the same deal:
/// its id and version.
async fn find_deal(
    tx: &mut Tx,
    title: &str,
    company_id: Option<crate::ids::CompanyId>,
) -> Result<Option<(crate::ids::DealId, i32)>> {
    let existing = sqlx::query_as(
        "select id, version from deals where org_id = $1 and deleted_at is null \
         and crm_fold(btrim(title)) = crm_fold(btrim($2)) and company_id is not distinct from $3 limit 1",
    )
    .bind(tx.org())
    .bind(title)
    .bind(company_id)
    .fetch_optional(tx.conn())
    .await?;
    Ok(existing)
}

/// Updates the matched deal with the row's values (`--on-duplicate update`); its pipeline
/// and stage stay.
async fn update_deal(
    tx: &mut Tx,
    id: crate::ids::DealId,
    version: i32,
    values: Map<String, Value>,
    custom: Map<String, Value>,
) -> Result<RowOutcome> {
    let before = deal::get(tx, id).await?;
    let mut patch = values;
    patch.remove("pipeline");
    patch.remove("stage");
    patch.insert("version".into(), json!(version));
    if !custom.is_empty() {
        patch.insert("custom".into(), Value::Object(custom));
    }
    let patch: deal::DealPatch = from_json(Value::Object(patch))?;
    let after = deal::update(tx, id, patch).await?;
    let changes = diff(Some(&before), Some(&after));
    if changes.as_object().is_none_or(|m| m.is_empty()) {
        return Ok(RowOutcome::Unchanged);
    }
    Ok(RowOutcome::Updated(id.uuid(), changes))
}

/// The expected close date as typed, read by the one date parser.
fn read_close_date(values: &mut Map<String, Value>) -> Result<()> {
    // The value (`12.500,50 €`) goes to the store as typed: the one amount parser reads it
    // there, with the row's currency.
    if let Some(d) = values
        .get("expected_close_date")
        .and_then(Value::as_str)
        .map(str::to_string)
    {
        match parse_date(&d) {
            Some(d) => values.insert("expected_close_date".into(), json!(d)),
            None => {
                return Err(Error::invalid(
                    "expected_close_date",
                    "is not a date (YYYY-MM-DD or DD.MM.YYYY)",
                ));
            }
        };
    }
    Ok(())
}

/// The company and contact a deal row names.
async fn resolve_refs(
    tx: &mut Tx,
    company_ref: Option<&str>,
    contact_ref: Option<&str>,
) -> Result<(Option<crate::ids::CompanyId>, Option<crate::ids::ContactId>)> {
    let company_id = match company_ref {
        Some(r) => Some(company::resolve(tx, r).await.map_err(|e| match e {
            Error::NotFound { .. } => {
                Error::invalid("company", "no such company in this organization")
            }
            e => e,
        })?),
        None => None,
    };
    let contact_id = match contact_ref {
        Some(r) => Some(contact::resolve(tx, r).await.map_err(|e| match e {
            Error::NotFound { .. } => {
                Error::invalid("contact", "no such contact in this organization")
            }
            e => e,
        })?),
        None => None,
    };
    Ok((company_id, contact_id))
}

/// Wins or loses a created deal as the row's status says.
async fn set_status(
    tx: &mut Tx,
    id: crate::ids::DealId,
    status: Option<&str>,
    reason: Option<String>,
    reason_text: Option<String>,
) -> Result<()> {
    match status {
        None | Some("open" | "offen") => {}
        Some("won" | "gewonnen") => {
            deal::win(tx, id, None).await?;
        }
        Some("lost" | "verloren") => {
            let Some(r) = reason else {
                return Err(Error::invalid(
                    "lost_reason",
                    "a lost deal needs a lost reason",
                ));
            };
            deal::lose(tx, id, &r, reason_text, None).await?;
        }
        Some(_) => return Err(Error::invalid("status", "must be open, won or lost")),
    }
    Ok(())
}
