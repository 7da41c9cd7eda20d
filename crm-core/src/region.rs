//! The phone-country rule (DESIGN.md): a national number is read in the country of the
//! contact's address, else its company's, else the organization's region; and setting
//! that region.

use serde_json::json;

use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::ids::CompanyId;
use crate::tenancy::Tx;

/// The country in which a contact's national phone numbers are read: its business address
/// country, else its private address country, else its company's billing (then delivery)
/// country, else the organization's region. Countries are ISO 3166-1 alpha-2 codes.
pub async fn contact_phone_region(
    tx: &mut Tx,
    country: Option<&str>,
    home_country: Option<&str>,
    company: Option<CompanyId>,
) -> Result<String> {
    if let Some(c) = country.or(home_country).filter(|c| !c.trim().is_empty()) {
        return Ok(c.trim().to_ascii_uppercase());
    }
    if let Some(company) = company {
        let found: Option<Option<String>> = sqlx::query_scalar(
            "select coalesce(billing_country, delivery_country)::text from companies \
             where org_id = $1 and id = $2",
        )
        .bind(tx.org())
        .bind(company)
        .fetch_optional(tx.conn())
        .await?;
        if let Some(Some(c)) = found {
            return Ok(c.trim().to_ascii_uppercase());
        }
    }
    Ok(tx.default_region().to_string())
}

/// Sets the organization's region (`DE`, `CH`, `AT`, ...): the country in which national
/// phone numbers are read when neither the contact nor its company has an address country.
/// Needs [`Permission::Configure`]; audited. Returns the region as stored.
pub async fn set_default_region(tx: &mut Tx, region: &str) -> Result<String> {
    tx.require(Permission::Configure)?;
    let code = region.trim().to_ascii_uppercase();
    let known = code.len() == 2
        && code.chars().all(|c| c.is_ascii_uppercase())
        && crate::domain::Phone::read("+41 44 668 18 00", &code).is_ok()
        && <phonenumber::country::Id as std::str::FromStr>::from_str(&code).is_ok();
    if !known {
        return Err(Error::invalid(
            "region",
            "must be a two-letter country code (ISO 3166-1) such as DE, AT or CH",
        ));
    }
    let before: String = sqlx::query_scalar(
        "update organizations o set default_region = $2 from organizations old \
         where o.id = $1 and old.id = o.id returning old.default_region::text",
    )
    .bind(tx.org())
    .bind(&code)
    .fetch_one(tx.conn())
    .await?;
    let changes = json!({ "default_region": { "before": before, "after": code } });
    tx.record(
        "organization",
        Some(tx.org().uuid()),
        "update",
        &changes,
        Some("organization.updated"),
        &json!({ "id": tx.org(), "fields": ["default_region"] }),
    )
    .await?;
    Ok(code)
}
