//! The value quirks of other tools' company exports that need the database. What cannot be
//! used is kept as a custom field and reported as a warning; the row is not failed for it.

use serde_json::{Map, Value, json};

use super::companies::{CompanyCtx, CompanyExtra};
use crate::domain::fold_for_search;
use crate::error::{Error, Result};
use crate::import::contacts::{owner_keys, parse_country};
use crate::tenancy::Tx;

/// The value quirks of other tools' company exports that need the database: list entries
/// (industry, account type) the organization does not have, numbers and addresses that
/// cannot be read, and owners named by e-mail or name. What cannot be used is kept as a
/// custom field and reported as a warning; the row is not failed for it.
pub(super) async fn settle_format_values(
    tx: &mut Tx,
    values: &mut Map<String, Value>,
    custom: &mut Map<String, Value>,
    extra: &CompanyExtra,
    cctx: &mut CompanyCtx,
) -> Result<()> {
    settle_list_values(tx, values, custom, cctx).await?;
    let org_region = tx.default_region().to_string();
    settle_phones(values, custom, cctx, &org_region);
    settle_emails(values, custom, cctx);
    if let Some(owner) = &extra.owner {
        settle_owner(tx, values, cctx, owner).await?;
    }
    Ok(())
}

/// An industry or account type that is no entry of its list is kept as a custom field.
async fn settle_list_values(
    tx: &mut Tx,
    values: &mut Map<String, Value>,
    custom: &mut Map<String, Value>,
    cctx: &mut CompanyCtx,
) -> Result<()> {
    use crate::store::list::{self, ListKind};
    for (field, kind) in [
        ("industry", ListKind::Industry),
        ("account_type", ListKind::AccountType),
    ] {
        let Some(v) = values
            .get(field)
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        let known = match list::find(tx, kind, &v).await {
            Ok(entry) => entry.active,
            Err(Error::NotFound { .. } | Error::Validation(_)) => false,
            Err(e) => return Err(e),
        };
        if !known {
            values.remove(field);
            custom.insert(field.to_string(), json!(v));
            cctx.warnings.push((
                field.to_string(),
                format!(
                    "is not an entry of the {} list; kept as the custom field {field}",
                    kind.plural()
                ),
            ));
        }
    }
    Ok(())
}

/// The phones read in the company's country (the store would read national numbers in the
/// organization's region, `org_region`); unreadable ones are kept as a custom field.
fn settle_phones(
    values: &mut Map<String, Value>,
    custom: &mut Map<String, Value>,
    cctx: &mut CompanyCtx,
    org_region: &str,
) {
    let region = values
        .get("billing_country")
        .and_then(Value::as_str)
        .and_then(parse_country)
        .unwrap_or_else(|| org_region.to_string());
    if let Some(Value::Array(phones)) = values.get_mut("phones") {
        let mut unreadable = Vec::new();
        // Read here in the company's country (the store would read national numbers in
        // the organization's region).
        phones.retain_mut(|p| {
            let n = p.get("number").and_then(Value::as_str).unwrap_or_default();
            match crate::domain::Phone::parse(n, &region) {
                Ok(phone) => {
                    p["number"] = json!(phone.e164());
                    true
                }
                Err(_) => {
                    unreadable.push(n.to_string());
                    false
                }
            }
        });
        if !unreadable.is_empty() {
            custom.insert("phones_unreadable".into(), json!(unreadable.join("; ")));
            cctx.warnings.push((
                "phone".into(),
                "a number could not be read; kept as the custom field phones_unreadable".into(),
            ));
        }
        if !phones.is_empty()
            && !phones
                .iter()
                .any(|p| p.get("primary") == Some(&Value::Bool(true)))
            && let Some(Value::Object(first)) = phones.first_mut()
        {
            first.insert("primary".into(), Value::Bool(true));
        }
    }
}

/// Addresses that are not valid e-mail addresses are kept as a custom field.
fn settle_emails(
    values: &mut Map<String, Value>,
    custom: &mut Map<String, Value>,
    cctx: &mut CompanyCtx,
) {
    let mut bad_emails = Vec::new();
    if let Some(e) = values
        .get("email")
        .and_then(Value::as_str)
        .map(str::to_string)
        && crate::domain::Email::parse(&e).is_err()
    {
        values.remove("email");
        bad_emails.push(e);
    }
    if let Some(Value::Array(list)) = values.get_mut("emails") {
        list.retain(|x| {
            let e = x.get("email").and_then(Value::as_str).unwrap_or_default();
            let ok = crate::domain::Email::parse(e).is_ok();
            if !ok {
                bad_emails.push(e.to_string());
            }
            ok
        });
    }
    if !bad_emails.is_empty() {
        custom.insert("emails_unreadable".into(), json!(bad_emails.join("; ")));
        cctx.warnings.push((
            "email".into(),
            "an address is not a valid e-mail address; kept as the custom field emails_unreadable"
                .into(),
        ));
    }
}

/// The owner column: a user of the organization by e-mail or name, else a warning.
async fn settle_owner(
    tx: &mut Tx,
    values: &mut Map<String, Value>,
    cctx: &mut CompanyCtx,
    owner: &str,
) -> Result<()> {
    if cctx.users.is_none() {
        cctx.users = Some(owner_keys(tx).await?);
    }
    let key = if owner.contains('@') {
        owner.trim().to_lowercase()
    } else {
        fold_for_search(owner.trim())
    };
    match cctx.users.as_ref().and_then(|u| u.get(&key)) {
        Some(id) => {
            values.insert("owners".into(), json!([{"user_id": id, "role": "owner"}]));
        }
        None => cctx.warnings.push((
            "owner".into(),
            "names no user of this organization (by e-mail or name)".into(),
        )),
    }
    Ok(())
}
