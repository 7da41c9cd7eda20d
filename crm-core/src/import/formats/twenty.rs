//! Twenty exports: UTF-8 with BOM, first column `Id`, composite fields as `Label /
//! Subfield`, additional e-mails and phones as JSON arrays, formula-like values prefixed
//! with U+200D.

use super::companies::CompanyField;
use crate::import::contacts::Field;

/// Headers that identify the format (normalised keys).
pub(super) const SIGNATURE: &[&str] = &[
    "namefirstname",
    "namelastname",
    "emailsprimaryemail",
    "emailsadditionalemails",
    "phonesprimaryphonenumber",
    "phonesprimaryphonecountrycode",
    "phonesprimaryphonecallingcode",
    "phonesadditionalphones",
    "linkedinlinkurl",
    "addressaddressstreet1",
    "addressaddress1",
    "addresspostcode",
    "addressaddresspostcode",
];

/// Subfields the CRM keeps (or deliberately drops).
pub(super) const TABLE: &[(&str, Field)] = &[
    ("id", Field::ExternalId),
    ("namefirstname", Field::FirstName),
    ("namelastname", Field::LastName),
    ("emailsprimaryemail", Field::Email),
    ("emailsadditionalemails", Field::EmailOther),
    ("phonesprimaryphonenumber", Field::Phone),
    ("phonesprimaryphonecallingcode", Field::CallingCode),
    ("phonesprimaryphonecountrycode", Field::Ignore),
    ("phonesadditionalphones", Field::PhoneOther),
    ("additionalphones", Field::PhoneOther),
    ("linkedinlinkurl", Field::LinkedIn),
    ("linkedinlinklabel", Field::Ignore),
    ("linkedinsecondarylinks", Field::Ignore),
    ("jobtitle", Field::JobTitle),
    ("city", Field::City),
    ("addressaddress1", Field::Street),
    ("addressaddress2", Field::Street),
    ("addressaddressstreet1", Field::Street),
    ("addressaddressstreet2", Field::Street),
    ("addresscity", Field::City),
    ("addressaddresscity", Field::City),
    ("addresspostcode", Field::PostalCode),
    ("addressaddresspostcode", Field::PostalCode),
    ("addresscountry", Field::Country),
    ("addressaddresscountry", Field::Country),
    ("companyname", Field::Company),
    ("companyid", Field::CompanyId),
    ("createdat", Field::Ignore),
    ("updatedat", Field::Ignore),
    ("deletedat", Field::Ignore),
    ("position", Field::Ignore),
    ("avatarurl", Field::Ignore),
    ("createdbysource", Field::Ignore),
    ("createdbyname", Field::Ignore),
    ("createdbyworkspacememberid", Field::Ignore),
];

/// Headers that identify a Twenty company export (normalised keys).
pub(super) const COMPANY_SIGNATURE: &[&str] = &[
    "domainnameprimarylinkurl",
    "domainnameprimarylinklabel",
    "domainnamesecondarylinks",
    "linkedinlinkprimarylinkurl",
    "xlinkprimarylinkurl",
    "annualrecurringrevenueamountmicros",
    "idealcustomerprofile",
    "accountownerid",
    "addressaddressstreet1",
    "addressaddresscity",
    "addressaddresspostcode",
];

/// The company columns the CRM keeps (`Label / Subfield`).
pub(super) const COMPANY_TABLE: &[(&str, CompanyField)] = &[
    ("id", CompanyField::ExternalId),
    ("name", CompanyField::Name),
    ("domainnameprimarylinkurl", CompanyField::Website),
    ("domainname", CompanyField::Website),
    ("employees", CompanyField::Employees),
    ("linkedinlinkprimarylinkurl", CompanyField::LinkedIn),
    ("addressaddressstreet1", CompanyField::Street),
    ("addressaddressstreet2", CompanyField::Street),
    ("addressaddresscity", CompanyField::City),
    ("addressaddresspostcode", CompanyField::PostalCode),
    ("addressaddresscountry", CompanyField::Country),
    ("tagline", CompanyField::Notes),
    ("domainnameprimarylinklabel", CompanyField::Ignore),
    ("domainnamesecondarylinks", CompanyField::Ignore),
    ("linkedinlinkprimarylinklabel", CompanyField::Ignore),
    ("linkedinlinksecondarylinks", CompanyField::Ignore),
    ("xlinkprimarylinkurl", CompanyField::Ignore),
    ("xlinkprimarylinklabel", CompanyField::Ignore),
    ("xlinksecondarylinks", CompanyField::Ignore),
    ("annualrecurringrevenueamountmicros", CompanyField::Ignore),
    ("annualrecurringrevenuecurrencycode", CompanyField::Ignore),
    ("addressaddressstate", CompanyField::Ignore),
    ("addressaddresslat", CompanyField::Ignore),
    ("addressaddresslng", CompanyField::Ignore),
    ("idealcustomerprofile", CompanyField::Ignore),
    ("accountownerid", CompanyField::Ignore),
    ("position", CompanyField::Ignore),
    ("createdat", CompanyField::Ignore),
    ("updatedat", CompanyField::Ignore),
    ("deletedat", CompanyField::Ignore),
    ("createdbysource", CompanyField::Ignore),
    ("createdbyname", CompanyField::Ignore),
    ("createdbyworkspacememberid", CompanyField::Ignore),
];

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::test_support::{all, get, read};

    #[test]
    fn label_subfield_headers_json_arrays_and_formula_guards() {
        let text = "\u{feff}Id,Name / First Name,Name / Last Name,Emails / Primary Email,Emails / Additional Emails,Phones / Primary Phone Number,Phones / Primary Phone Country Code,Phones / Primary Phone Calling Code,Phones / Additional Phones,Linkedin / Link URL,Job Title,City,Company Id,Created At\n\
9b3c1f0e-0000-4000-8000-000000000001,Anna,Schäfer,anna@example.de,\"[\"\"a.s@example.de\"\"]\",301234567,DE,+49,\"[{\"\"number\"\":\"\"1711234567\"\",\"\"callingCode\"\":\"\"+49\"\",\"\"countryCode\"\":\"\"DE\"\"}]\",linkedin.com/in/anna,\u{200d}=Chefin,Berlin,9b3c1f0e-0000-4000-8000-0000000000c1,2024-01-02T10:00:00.000Z\n";
        let (format, rows) = read(text, b',');
        assert_eq!(format, Format::Twenty);
        let r = &rows[0];
        assert_eq!(
            get(r, "external_id"),
            Some("9b3c1f0e-0000-4000-8000-000000000001")
        );
        assert_eq!(get(r, "first_name"), Some("Anna"));
        assert_eq!(all(r, "email_other"), vec!["a.s@example.de"]);
        assert_eq!(get(r, "phone"), Some("301234567"));
        assert_eq!(get(r, "phone_calling_code"), Some("+49"));
        assert_eq!(all(r, "phone_other"), vec!["+49 1711234567"]);
        assert_eq!(get(r, "job_title"), Some("=Chefin"));
    }
}
