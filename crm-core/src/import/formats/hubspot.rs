//! HubSpot contact exports: the default view (`Record ID`, `Contact owner`, `Associated
//! Company`) and "all properties" (alphabetical: `City`, `Mobile Phone Number`, ...).

use super::companies::CompanyField;
use crate::import::contacts::Field;

/// Headers that identify the format (normalised keys).
pub(super) const SIGNATURE: &[&str] = &[
    "recordid",
    "contactowner",
    "primaryassociatedcompanyid",
    "lastactivitydate",
    "leadstatus",
    "marketingcontactstatus",
    "associatedcompany",
    "associateddeal",
    "lifecyclestage",
    "mobilephonenumber",
    "phonenumber",
    "stateregion",
    "countryregion",
    "streetaddress",
    "websiteurl",
    "createdate",
];

/// The properties the CRM keeps (or deliberately drops).
pub(super) const TABLE: &[(&str, Field)] = &[
    ("recordid", Field::ExternalId),
    ("contactid", Field::ExternalId),
    ("firstname", Field::FirstName),
    ("lastname", Field::LastName),
    ("email", Field::Email),
    ("additionalemailaddresses", Field::EmailOther),
    ("phonenumber", Field::Phone),
    ("mobilephonenumber", Field::Mobile),
    ("faxnumber", Field::Fax),
    ("contactowner", Field::Owner),
    ("companyname", Field::Company),
    ("associatedcompany", Field::Company),
    ("jobtitle", Field::JobTitle),
    ("streetaddress", Field::Street),
    ("city", Field::City),
    ("postalcode", Field::PostalCode),
    ("zip", Field::PostalCode),
    ("countryregion", Field::Country),
    ("country", Field::Country),
    ("websiteurl", Field::Website),
    ("linkedinurl", Field::LinkedIn),
    ("dateofbirth", Field::Birthday),
    ("notes", Field::Notes),
    ("primaryassociatedcompanyid", Field::CompanyId),
    ("lastactivitydate", Field::Ignore),
    ("marketingcontactstatus", Field::Ignore),
    ("createdate", Field::Ignore),
    ("associateddeal", Field::Ignore),
    ("lastmodifieddate", Field::Ignore),
];

/// Headers that identify a HubSpot company export (normalised keys).
pub(super) const COMPANY_SIGNATURE: &[&str] = &[
    "recordid",
    "companyname",
    "companyowner",
    "companydomainname",
    "numberofemployees",
    "annualrevenue",
    "associatedcontact",
    "lastactivitydate",
    "createdate",
    "industry",
    "stateregion",
    "countryregion",
];

/// The company properties the CRM keeps (default view and all properties).
pub(super) const COMPANY_TABLE: &[(&str, CompanyField)] = &[
    ("recordid", CompanyField::ExternalId),
    ("companyid", CompanyField::ExternalId),
    ("companyname", CompanyField::Name),
    ("name", CompanyField::Name),
    ("companydomainname", CompanyField::Domain),
    ("websiteurl", CompanyField::Website),
    ("website", CompanyField::Website),
    ("companyowner", CompanyField::Owner),
    ("phonenumber", CompanyField::Phone),
    ("streetaddress", CompanyField::Street),
    ("streetaddress2", CompanyField::Street),
    ("city", CompanyField::City),
    ("postalcode", CompanyField::PostalCode),
    ("countryregion", CompanyField::Country),
    ("industry", CompanyField::Industry),
    ("type", CompanyField::AccountType),
    ("numberofemployees", CompanyField::Employees),
    ("description", CompanyField::Notes),
    ("aboutus", CompanyField::Notes),
    ("linkedincompanypage", CompanyField::LinkedIn),
    ("stateregion", CompanyField::Ignore),
    ("createdate", CompanyField::Ignore),
    ("lastactivitydate", CompanyField::Ignore),
    ("lastmodifieddate", CompanyField::Ignore),
    ("lifecyclestage", CompanyField::Ignore),
    ("associatedcontact", CompanyField::Ignore),
    ("associateddeal", CompanyField::Ignore),
    ("timezone", CompanyField::Ignore),
];

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::test_support::{get, read};

    #[test]
    fn default_view() {
        let text = "\"Record ID\",\"First Name\",\"Last Name\",\"Email\",\"Phone Number\",\"Contact owner\",\"Primary Associated Company ID\",\"Last Activity Date\",\"Lead Status\",\"Marketing contact status\",\"Create Date\",\"Associated Company\"\n\
\"51\",\"Anna\",\"Schäfer\",\"anna@example.de\",\"+49 30 1234567\",\"Olivia Owner\",\"1001\",\"2024-03-12 09:14\",\"Open\",\"Marketing contact\",\"2024-01-02 10:00\",\"Beispiel GmbH\"\n";
        let (format, rows) = read(text, b',');
        assert_eq!(format, Format::Hubspot);
        let r = &rows[0];
        assert_eq!(get(r, "external_id"), Some("51"));
        assert_eq!(get(r, "owner"), Some("Olivia Owner"));
        assert_eq!(get(r, "company"), Some("Beispiel GmbH"));
        assert_eq!(get(r, "phone"), Some("+49 30 1234567"));
    }

    #[test]
    fn all_properties_keep_the_mobile_and_the_address() {
        let text = "Record ID,First Name,Last Name,City,Company Name,Contact owner,Country/Region,Create Date,Email,Job Title,Lifecycle Stage,Mobile Phone Number,Phone Number,Postal Code,State/Region,Street Address,Website URL,Associated Company,Associated Deal\n\
52,Max,Muster,Zürich,,o@crm.test,Switzerland,2024-01-02 10:00,max@muster.ch,CEO,customer,+41 79 123 45 67,+41 44 668 18 00,8001,ZH,Bahnhofstrasse 1,https://muster.ch,Muster AG,\n";
        let (format, rows) = read(text, b',');
        assert_eq!(format, Format::Hubspot);
        let r = &rows[0];
        assert_eq!(get(r, "mobile"), Some("+41 79 123 45 67"));
        assert_eq!(get(r, "city"), Some("Zürich"));
        assert_eq!(get(r, "street"), Some("Bahnhofstrasse 1"));
        assert_eq!(get(r, "country"), Some("Switzerland"));
        assert_eq!(
            get(r, "company"),
            Some("Muster AG"),
            "the associated company fills in"
        );
        assert_eq!(get(r, "owner"), Some("o@crm.test"));
    }
}
