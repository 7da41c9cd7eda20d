//! Pipedrive person exports: every column prefixed `Person - `, order varying.

use super::companies::CompanyField;
use crate::import::contacts::Field;

/// Every person column the CRM keeps; these also identify the format.
pub(super) const TABLE: &[(&str, Field)] = &[
    ("personid", Field::ExternalId),
    ("personname", Field::FullName),
    ("personfirstname", Field::FirstName),
    ("personlastname", Field::LastName),
    ("personorganization", Field::Company),
    ("personjobtitle", Field::JobTitle),
    ("personemail", Field::Email),
    ("personemailwork", Field::Email),
    ("personemailhome", Field::EmailHome),
    ("personemailother", Field::EmailOther),
    ("personphone", Field::Phone),
    ("personphonework", Field::Phone),
    ("personphonemobile", Field::Mobile),
    ("personphonehome", Field::PhoneOther),
    ("personphoneother", Field::PhoneOther),
    ("personlabels", Field::Tags),
    ("personlabel", Field::Tags),
    ("personnotes", Field::Notes),
    ("personowner", Field::Owner),
    ("personstreetroadnameofpostaladdress", Field::Street),
    ("personcitytownvillagelocalityofpostaladdress", Field::City),
    ("personzippostalcodeofpostaladdress", Field::PostalCode),
    ("personcountryofpostaladdress", Field::Country),
    ("personbirthday", Field::Birthday),
    ("personpersoncreated", Field::Ignore),
    ("personupdatetime", Field::Ignore),
    ("personpostaladdress", Field::Ignore),
    ("personvisibleto", Field::Ignore),
];

/// The house number of the postal address, a column of its own: joined to the street.
pub(super) const HOUSE_NUMBER: &[&str] = &["personhousenumberofpostaladdress"];

/// Headers that identify the format (normalised keys).
pub(super) const SIGNATURE: &[&str] = &[
    "personid",
    "personname",
    "personfirstname",
    "personlastname",
    "personorganization",
    "personemailwork",
    "personemail",
    "personphonework",
    "personphone",
    "personowner",
    "personlabels",
    "personnotes",
    "personpersoncreated",
];

/// Headers that identify a Pipedrive organization export (normalised keys).
pub(super) const COMPANY_SIGNATURE: &[&str] = &[
    "organizationid",
    "organizationname",
    "organizationowner",
    "organizationaddress",
    "organizationlabels",
    "organizationlabel",
    "organizationpeople",
    "organizationorganizationcreated",
    "organizationcitytownvillagelocalityofaddress",
];

/// Every organization column the CRM keeps (`Organization - ...`).
pub(super) const COMPANY_TABLE: &[(&str, CompanyField)] = &[
    ("organizationid", CompanyField::ExternalId),
    ("organizationname", CompanyField::Name),
    ("organizationowner", CompanyField::Owner),
    ("organizationlabels", CompanyField::Tags),
    ("organizationlabel", CompanyField::Tags),
    ("organizationnotes", CompanyField::Notes),
    ("organizationwebsite", CompanyField::Website),
    ("organizationlinkedinprofile", CompanyField::LinkedIn),
    ("organizationindustry", CompanyField::Industry),
    ("organizationnumberofemployees", CompanyField::Employees),
    ("organizationstreetroadnameofaddress", CompanyField::Street),
    (
        "organizationhousenumberofaddress",
        CompanyField::HouseNumber,
    ),
    (
        "organizationzippostalcodeofaddress",
        CompanyField::PostalCode,
    ),
    (
        "organizationcitytownvillagelocalityofaddress",
        CompanyField::City,
    ),
    ("organizationcountryofaddress", CompanyField::Country),
    ("organizationaddress", CompanyField::Ignore),
    ("organizationpeople", CompanyField::Ignore),
    ("organizationorganizationcreated", CompanyField::Ignore),
    ("organizationupdatetime", CompanyField::Ignore),
    ("organizationvisibleto", CompanyField::Ignore),
    ("organizationstateregionofaddress", CompanyField::Ignore),
];

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::test_support::{all, get, read};

    #[test]
    fn person_export() {
        let text = "Person - ID,Person - Name,Person - First name,Person - Last name,Person - Organization,Person - Job title,Person - Email - Work,Person - Email - Home,Person - Email - Other,Person - Phone - Work,Person - Phone - Mobile,Person - Phone - Home,Person - Phone - Other,Person - Labels,Person - Notes,Person - Owner,Person - City/town/village/locality of Postal address,Person - ZIP/Postal code of Postal address,Person - Country of Postal address,Person - Person created\n\
17,Anna Schäfer,Anna,Schäfer,Beispiel GmbH,Einkauf,anna@example.de,anna@privat.de,,030 1234567,0171 1234567,,,\"Kunde, VIP\",Met at the fair,Olivia Owner,Berlin,10115,Germany,2024-01-02 10:00:00\n";
        let (format, rows) = read(text, b',');
        assert_eq!(format, Format::Pipedrive);
        let r = &rows[0];
        assert_eq!(get(r, "external_id"), Some("17"));
        assert_eq!(get(r, "first_name"), Some("Anna"));
        assert_eq!(get(r, "email"), Some("anna@example.de"));
        assert_eq!(get(r, "email_home"), Some("anna@privat.de"));
        assert_eq!(get(r, "mobile"), Some("0171 1234567"));
        assert_eq!(all(r, "tags"), vec!["Kunde", "VIP"]);
        assert_eq!(get(r, "notes"), Some("Met at the fair"));
        assert_eq!(get(r, "owner"), Some("Olivia Owner"));
        assert_eq!(get(r, "city"), Some("Berlin"));
        assert_eq!(get(r, "postal_code"), Some("10115"));
    }
}
