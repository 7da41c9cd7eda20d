//! The API's shapes. Every field is optional (live data has `null`s and empty lists), and
//! enum-like values are strings (new voucher types and states appear without notice).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// A Lexware contact as read (the fields the CRM maps; the raw JSON is kept separately
/// for updates, which must send the whole record back).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LxContact {
    /// Its id.
    pub id: Option<Uuid>,
    /// Optimistic-locking version.
    pub version: Option<i32>,
    /// Roles (`customer`, `vendor`) with their numbers.
    pub roles: Option<LxRoles>,
    /// Set for a company.
    pub company: Option<LxCompany>,
    /// Set for a person.
    pub person: Option<LxPerson>,
    /// Billing and shipping addresses.
    pub addresses: Option<LxAddresses>,
    /// E-mail addresses by kind (`business`, `office`, `private`, `other`).
    pub email_addresses: Option<BTreeMap<String, Vec<String>>>,
    /// Phone numbers by kind (`business`, `office`, `mobile`, `private`, `fax`, `other`).
    pub phone_numbers: Option<BTreeMap<String, Vec<String>>>,
    /// Note (at most 1000 characters).
    pub note: Option<String>,
    /// Archived (read-only).
    pub archived: Option<bool>,
}

impl std::fmt::Debug for LxContact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LxContact")
            .field("id", &self.id)
            .field("version", &self.version)
            .field("company", &self.company.is_some())
            .finish_non_exhaustive()
    }
}

impl LxContact {
    /// The display name: the company's name, or "First Last".
    pub fn display_name(&self) -> String {
        if let Some(c) = &self.company {
            return c.name.clone().unwrap_or_default();
        }
        let p = self.person.clone().unwrap_or_default();
        [p.first_name, p.last_name]
            .into_iter()
            .flatten()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The customer number, if the contact is a customer.
    pub fn customer_number(&self) -> Option<i64> {
        self.roles.as_ref()?.customer.as_ref()?.number
    }

    /// The first primary e-mail address (business first).
    pub fn first_email(&self) -> Option<String> {
        let m = self.email_addresses.as_ref()?;
        ["business", "office", "private", "other"]
            .iter()
            .find_map(|k| m.get(*k).and_then(|l| l.first().cloned()))
    }
}

/// The contact's roles; having the key means having the role.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LxRoles {
    /// Customer role.
    pub customer: Option<LxRole>,
    /// Vendor role.
    pub vendor: Option<LxRole>,
}

/// One role with its number (read-only, assigned by Lexware).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LxRole {
    /// The customer or vendor number.
    pub number: Option<i64>,
}

/// The company part of a contact.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LxCompany {
    /// Name.
    pub name: Option<String>,
    /// Tax number (Steuernummer).
    pub tax_number: Option<String>,
    /// VAT id.
    pub vat_registration_id: Option<String>,
    /// Contact persons.
    pub contact_persons: Vec<LxContactPerson>,
}

/// A company's contact person.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LxContactPerson {
    /// Salutation.
    pub salutation: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Primary contact person.
    pub primary: Option<bool>,
    /// E-mail.
    pub email_address: Option<String>,
    /// Phone.
    pub phone_number: Option<String>,
}

/// The person part of a contact.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LxPerson {
    /// Salutation (at most 25 characters).
    pub salutation: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
}

/// Addresses.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LxAddresses {
    /// Billing addresses (at most one for an update).
    pub billing: Vec<LxAddress>,
    /// Shipping addresses (at most one for an update).
    pub shipping: Vec<LxAddress>,
}

/// One address.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LxAddress {
    /// Supplement.
    pub supplement: Option<String>,
    /// Street and number.
    pub street: Option<String>,
    /// Postal code.
    pub zip: Option<String>,
    /// City.
    pub city: Option<String>,
    /// ISO 3166 alpha-2 country code (or `ES_CN`-like extensions).
    pub country_code: Option<String>,
}

macro_rules! redacted_debug {
    ($($t:ty),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { .. }"))
            }
        }
    )*};
}
redacted_debug!(LxCompany, LxContactPerson, LxPerson, LxAddresses, LxAddress);

/// The action result of a create or update.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionResult {
    /// The record's id.
    pub id: Uuid,
    /// Its new version.
    #[serde(default)]
    pub version: Option<i32>,
}

/// One entry of the voucher list.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoucherItem {
    /// Id.
    pub id: Uuid,
    /// Type (`invoice`, `creditnote`, ...).
    #[serde(default)]
    pub voucher_type: Option<String>,
    /// Status (`open`, `paid`, ...).
    #[serde(default)]
    pub voucher_status: Option<String>,
    /// Number.
    #[serde(default)]
    pub voucher_number: Option<String>,
    /// Date.
    #[serde(default)]
    pub voucher_date: Option<String>,
    /// Created.
    #[serde(default)]
    pub created_date: Option<String>,
    /// Updated.
    #[serde(default)]
    pub updated_date: Option<String>,
    /// Due.
    #[serde(default)]
    pub due_date: Option<String>,
    /// The contact (null: the collective contact).
    #[serde(default)]
    pub contact_id: Option<Uuid>,
    /// The contact's name ("Last, First" for persons).
    #[serde(default)]
    pub contact_name: Option<String>,
    /// Total (a number, or a string in some samples).
    #[serde(default, deserialize_with = "money")]
    pub total_amount: Option<rust_decimal::Decimal>,
    /// Open amount (null for drafts and non-invoices).
    #[serde(default, deserialize_with = "money")]
    pub open_amount: Option<rust_decimal::Decimal>,
    /// Currency (`EUR`).
    #[serde(default)]
    pub currency: Option<String>,
    /// Archived.
    #[serde(default)]
    pub archived: Option<bool>,
}

impl std::fmt::Debug for VoucherItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VoucherItem")
            .field("id", &self.id)
            .field("voucher_type", &self.voucher_type)
            .field("voucher_status", &self.voucher_status)
            .finish_non_exhaustive()
    }
}

/// Money as a JSON number or string.
fn money<'de, D: Deserializer<'de>>(d: D) -> Result<Option<rust_decimal::Decimal>, D::Error> {
    let v: Option<serde_json::Value> = Option::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::Number(n)) => n.to_string().parse().ok(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voucher_money_may_be_a_number_a_string_or_null() {
        let v: VoucherItem = serde_json::from_str(
            r#"{"id":"f3d3ae48-30d9-4b56-973a-b3159cbe743c","totalAmount":99.8,"openAmount":"74.80","contactId":null}"#,
        )
        .unwrap();
        assert_eq!(v.total_amount, Some("99.8".parse().unwrap()));
        assert_eq!(v.open_amount, Some("74.80".parse().unwrap()));
        assert_eq!(v.contact_id, None);
    }
}
