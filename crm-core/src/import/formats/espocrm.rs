//! EspoCRM exports: the header row holds attribute names; values starting with `+ - @ =`
//! are prefixed with `'`; arrays are JSON.

use super::companies::CompanyField;
use crate::import::contacts::Field;

/// Headers that identify the format (normalised keys).
pub(super) const SIGNATURE: &[&str] = &[
    "salutationname",
    "accountname",
    "emailaddress",
    "phonenumber",
    "addressstreet",
    "addresscity",
    "addresspostalcode",
    "addresscountry",
    "assignedusername",
    "emailaddressdata",
    "phonenumberdata",
    "donotcall",
];

/// Attributes the CRM keeps (or deliberately drops).
pub(super) const TABLE: &[(&str, Field)] = &[
    ("id", Field::ExternalId),
    ("salutationname", Field::Salutation),
    ("firstname", Field::FirstName),
    ("lastname", Field::LastName),
    ("name", Field::FullName),
    ("accountname", Field::Company),
    ("title", Field::JobTitle),
    ("emailaddress", Field::Email),
    ("emailaddressdata", Field::EmailOther),
    ("phonenumber", Field::Phone),
    ("phonenumbermobile", Field::Mobile),
    ("phonenumberoffice", Field::Phone),
    ("phonenumberfax", Field::Fax),
    ("phonenumberhome", Field::PhoneOther),
    ("phonenumberother", Field::PhoneOther),
    ("phonenumberdata", Field::PhoneOther),
    ("addressstreet", Field::Street),
    ("addresscity", Field::City),
    ("addresspostalcode", Field::PostalCode),
    ("addresscountry", Field::Country),
    ("description", Field::Notes),
    ("assignedusername", Field::Owner),
    ("createdat", Field::Ignore),
    ("modifiedat", Field::Ignore),
    ("assigneduserid", Field::Ignore),
    ("accountid", Field::CompanyId),
    ("createdbyid", Field::Ignore),
    ("createdbyname", Field::Ignore),
    ("donotcall", Field::Ignore),
    ("emailaddressisoptedout", Field::Ignore),
    ("addressstate", Field::Ignore),
    ("teamsids", Field::Ignore),
    ("teamsnames", Field::Ignore),
];

/// Headers that identify an EspoCRM account export (attribute names).
pub(super) const COMPANY_SIGNATURE: &[&str] = &[
    "billingaddressstreet",
    "billingaddresscity",
    "billingaddresspostalcode",
    "billingaddresscountry",
    "shippingaddressstreet",
    "siccode",
    "assignedusername",
    "emailaddress",
    "phonenumber",
    "emailaddressdata",
    "phonenumberdata",
];

/// The account attributes the CRM keeps.
pub(super) const COMPANY_TABLE: &[(&str, CompanyField)] = &[
    ("id", CompanyField::ExternalId),
    ("name", CompanyField::Name),
    ("website", CompanyField::Website),
    ("emailaddress", CompanyField::Email),
    ("emailaddressdata", CompanyField::EmailOther),
    ("phonenumber", CompanyField::Phone),
    ("phonenumberoffice", CompanyField::Phone),
    ("phonenumberfax", CompanyField::Fax),
    ("phonenumbermobile", CompanyField::Mobile),
    ("phonenumberother", CompanyField::PhoneOther),
    ("phonenumberdata", CompanyField::PhoneOther),
    ("type", CompanyField::AccountType),
    ("industry", CompanyField::Industry),
    ("billingaddressstreet", CompanyField::Street),
    ("billingaddresscity", CompanyField::City),
    ("billingaddresspostalcode", CompanyField::PostalCode),
    ("billingaddresscountry", CompanyField::Country),
    ("shippingaddressstreet", CompanyField::DeliveryStreet),
    ("shippingaddresscity", CompanyField::DeliveryCity),
    (
        "shippingaddresspostalcode",
        CompanyField::DeliveryPostalCode,
    ),
    ("shippingaddresscountry", CompanyField::DeliveryCountry),
    ("description", CompanyField::Notes),
    ("assignedusername", CompanyField::Owner),
    ("billingaddressstate", CompanyField::Ignore),
    ("shippingaddressstate", CompanyField::Ignore),
    ("siccode", CompanyField::Ignore),
    ("createdat", CompanyField::Ignore),
    ("modifiedat", CompanyField::Ignore),
    ("assigneduserid", CompanyField::Ignore),
    ("createdbyid", CompanyField::Ignore),
    ("createdbyname", CompanyField::Ignore),
    ("teamsids", CompanyField::Ignore),
    ("teamsnames", CompanyField::Ignore),
    ("emailaddressisoptedout", CompanyField::Ignore),
];

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::test_support::{all, get, read};

    #[test]
    fn attribute_names_quote_guards_and_json_arrays() {
        let text = "id,salutationName,firstName,lastName,accountName,title,emailAddress,phoneNumber,addressStreet,addressCity,addressPostalCode,addressCountry,description,createdAt,assignedUserName,emailAddressData\n\
64f0a1b2c3d4e5f60,Mr.,Max,Muster,Muster AG,CEO,max@muster.ch,'+41 44 668 18 00,Bahnhofstrasse 1,Zürich,8001,Switzerland,\"Long-time customer\",2024-01-02 10:00:00,Olivia Owner,\"[{\"\"emailAddress\"\":\"\"max@muster.ch\"\",\"\"primary\"\":true},{\"\"emailAddress\"\":\"\"m@privat.ch\"\",\"\"primary\"\":false}]\"\n";
        let (format, rows) = read(text, b',');
        assert_eq!(format, Format::Espocrm);
        let r = &rows[0];
        assert_eq!(get(r, "phone"), Some("+41 44 668 18 00"));
        assert_eq!(get(r, "company"), Some("Muster AG"));
        assert_eq!(get(r, "notes"), Some("Long-time customer"));
        assert_eq!(get(r, "owner"), Some("Olivia Owner"));
        assert_eq!(all(r, "email_other"), vec!["max@muster.ch", "m@privat.ch"]);
    }
}
