//! Salesforce: report exports (`Account Name`, `Mailing City`, `Account Owner`) and Data
//! Loader files (API names `FirstName`, `MailingPostalCode`, in any letter case).

use super::companies::CompanyField;
use crate::import::contacts::Field;

/// Headers that identify the format (normalised keys).
pub(super) const SIGNATURE: &[&str] = &[
    "accountname",
    "accountowner",
    "accountid",
    "contactid",
    "mailingstreet",
    "mailingcity",
    "mailingstateprovince",
    "mailingstate",
    "mailingzippostalcode",
    "mailingpostalcode",
    "mailingcountry",
    "mobilephone",
    "birthdate",
    "ownerid",
];

/// Report labels and API names.
pub(super) const TABLE: &[(&str, Field)] = &[
    ("contactid", Field::ExternalId),
    ("id", Field::ExternalId),
    ("accountname", Field::Company),
    ("salutation", Field::Salutation),
    ("firstname", Field::FirstName),
    ("lastname", Field::LastName),
    ("title", Field::JobTitle),
    ("department", Field::Department),
    ("mailingstreet", Field::Street),
    ("mailingcity", Field::City),
    ("mailingzippostalcode", Field::PostalCode),
    ("mailingpostalcode", Field::PostalCode),
    ("mailingcountry", Field::Country),
    ("otherstreet", Field::HomeStreet),
    ("othercity", Field::HomeCity),
    ("otherzippostalcode", Field::HomePostalCode),
    ("otherpostalcode", Field::HomePostalCode),
    ("othercountry", Field::HomeCountry),
    ("phone", Field::Phone),
    ("businessphone", Field::Phone),
    ("mobile", Field::Mobile),
    ("mobilephone", Field::Mobile),
    ("fax", Field::Fax),
    ("homephone", Field::PhoneOther),
    ("otherphone", Field::PhoneOther),
    ("email", Field::Email),
    ("birthdate", Field::Birthday),
    ("description", Field::Notes),
    ("accountowner", Field::Owner),
    ("contactowner", Field::Owner),
    ("accountid", Field::CompanyId),
    ("ownerid", Field::Ignore),
    ("mailingstateprovince", Field::Ignore),
    ("mailingstate", Field::Ignore),
];

/// Headers that identify a Salesforce account export: a report (`Account Name`, `Billing
/// City`) or a Data Loader file (`Name`, `BillingPostalCode`, `NumberOfEmployees`).
pub(super) const COMPANY_SIGNATURE: &[&str] = &[
    "accountname",
    "accountid",
    "accountowner",
    "billingstreet",
    "billingcity",
    "billingstateprovince",
    "billingzippostalcode",
    "billingpostalcode",
    "billingcountry",
    "billingstate",
    "shippingstreet",
    "shippingcity",
    "numberofemployees",
    "annualrevenue",
    "ownerid",
    "parentid",
];

/// The account fields the CRM keeps (report labels and API names, any case).
pub(super) const COMPANY_TABLE: &[(&str, CompanyField)] = &[
    ("accountid", CompanyField::ExternalId),
    ("id", CompanyField::ExternalId),
    ("accountname", CompanyField::Name),
    ("name", CompanyField::Name),
    ("accountowner", CompanyField::Owner),
    ("type", CompanyField::AccountType),
    ("accounttype", CompanyField::AccountType),
    ("industry", CompanyField::Industry),
    ("billingstreet", CompanyField::Street),
    ("billingcity", CompanyField::City),
    ("billingzippostalcode", CompanyField::PostalCode),
    ("billingpostalcode", CompanyField::PostalCode),
    ("billingcountry", CompanyField::Country),
    ("shippingstreet", CompanyField::DeliveryStreet),
    ("shippingcity", CompanyField::DeliveryCity),
    ("shippingzippostalcode", CompanyField::DeliveryPostalCode),
    ("shippingpostalcode", CompanyField::DeliveryPostalCode),
    ("shippingcountry", CompanyField::DeliveryCountry),
    ("phone", CompanyField::Phone),
    ("fax", CompanyField::Fax),
    ("website", CompanyField::Website),
    ("employees", CompanyField::Employees),
    ("numberofemployees", CompanyField::Employees),
    ("description", CompanyField::Notes),
    ("billingstateprovince", CompanyField::Ignore),
    ("billingstate", CompanyField::Ignore),
    ("shippingstateprovince", CompanyField::Ignore),
    ("shippingstate", CompanyField::Ignore),
    ("annualrevenue", CompanyField::Ignore),
    ("ownerid", CompanyField::Ignore),
    ("parentid", CompanyField::Ignore),
    ("createddate", CompanyField::Ignore),
    ("lastactivity", CompanyField::Ignore),
    ("lastactivitydate", CompanyField::Ignore),
];

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::test_support::{get, read};

    #[test]
    fn report_export_keeps_company_and_city() {
        let text = "\"Account Name\",\"Contact ID\",\"First Name\",\"Last Name\",\"Title\",\"Mailing Street\",\"Mailing City\",\"Mailing State/Province\",\"Mailing Zip/Postal Code\",\"Mailing Country\",\"Phone\",\"Fax\",\"Mobile\",\"Email\",\"Account Owner\",\"Account ID\"\n\
\"Beispiel GmbH\",\"0035g00000AbCdE\",\"Anna\",\"Schäfer\",\"Einkauf\",\"Hauptstr. 1\",\"Berlin\",\"BE\",\"10115\",\"Germany\",\"030 1234567\",\"\",\"0171 1234567\",\"anna@example.de\",\"Olivia Owner\",\"0015g00000XyZ\"\n";
        let (format, rows) = read(text, b',');
        assert_eq!(format, Format::Salesforce);
        let r = &rows[0];
        assert_eq!(get(r, "company"), Some("Beispiel GmbH"));
        assert_eq!(get(r, "city"), Some("Berlin"));
        assert_eq!(get(r, "external_id"), Some("0035g00000AbCdE"));
        assert_eq!(get(r, "job_title"), Some("Einkauf"));
        assert_eq!(get(r, "mobile"), Some("0171 1234567"));
        assert_eq!(get(r, "owner"), Some("Olivia Owner"));
    }

    #[test]
    fn data_loader_in_upper_case() {
        let text = "\"ID\",\"FIRSTNAME\",\"LASTNAME\",\"EMAIL\",\"PHONE\",\"MOBILEPHONE\",\"MAILINGSTREET\",\"MAILINGPOSTALCODE\",\"MAILINGCITY\",\"MAILINGCOUNTRY\",\"TITLE\"\n\
\"0035g00000AbCdF\",\"Max\",\"Muster\",\"max@muster.ch\",\"044 668 18 00\",\"079 123 45 67\",\"Bahnhofstrasse 1\",\"8001\",\"Zürich\",\"CH\",\"CEO\"\n";
        let (format, rows) = read(text, b',');
        assert_eq!(format, Format::Salesforce);
        let r = &rows[0];
        assert_eq!(get(r, "first_name"), Some("Max"));
        assert_eq!(get(r, "postal_code"), Some("8001"));
        assert_eq!(get(r, "mobile"), Some("079 123 45 67"));
        assert_eq!(get(r, "external_id"), Some("0035g00000AbCdF"));
    }
}
