//! The fields a CSV column can map to, and how headers name them.

/// A field a CSV column can map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Given name.
    FirstName,
    /// Family name.
    LastName,
    /// "First Last" in one column (split at the last space).
    FullName,
    /// Herr / Frau / Mr / Ms.
    Salutation,
    /// Academic title (Dr., Prof.).
    Title,
    /// Job title / position.
    JobTitle,
    /// Department.
    Department,
    /// Primary e-mail.
    Email,
    /// A second e-mail.
    Email2,
    /// Office phone.
    Phone,
    /// Mobile phone.
    Mobile,
    /// Company name (linked, or created when missing).
    Company,
    /// The company's VAT id (used when the company is created).
    VatId,
    /// The company's website.
    Website,
    /// Street (the company's billing address, else a custom field of the contact).
    Street,
    /// Postal code (likewise).
    PostalCode,
    /// City.
    City,
    /// Country (ISO code or name).
    Country,
    /// Tags, separated by `|` (or `,` / `;` when that is not the delimiter).
    Tags,
    /// Lead source.
    Source,
    /// LinkedIn profile URL.
    LinkedIn,
    /// Birthday (YYYY-MM-DD or DD.MM.YYYY).
    Birthday,
    /// active / inactive / blocked.
    Status,
    /// A private e-mail (kind `personal`; the primary when the row has no other).
    EmailHome,
    /// A further e-mail (kind `other`).
    EmailOther,
    /// A fax number.
    Fax,
    /// A further phone (home, other; kind `other`).
    PhoneOther,
    /// Private address: street.
    HomeStreet,
    /// Private address: postal code.
    HomePostalCode,
    /// Private address: city.
    HomeCity,
    /// Private address: country.
    HomeCountry,
    /// Free text, kept as a note activity on the contact.
    Notes,
    /// The owning user, by e-mail or name.
    Owner,
    /// The record's id in the system it comes from (recognises a second import).
    ExternalId,
    /// The id the contact's company has in the system it comes from (links the contact to
    /// the company imported from there, before or after).
    CompanyId,
    /// The calling code of the primary phone (`+49`), when the number is national.
    CallingCode,
    /// Known to the detected format and deliberately not kept (e-mail type, display name).
    Ignore,
}

impl Field {
    /// The field's canonical name (as `--map COLUMN=FIELD` takes it).
    pub fn name(self) -> &'static str {
        match self {
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::FullName => "full_name",
            Field::Salutation => "salutation",
            Field::Title => "title",
            Field::JobTitle => "job_title",
            Field::Department => "department",
            Field::Email => "email",
            Field::Email2 => "email2",
            Field::Phone => "phone",
            Field::Mobile => "mobile",
            Field::Company => "company",
            Field::VatId => "vat_id",
            Field::Website => "website",
            Field::Street => "street",
            Field::PostalCode => "postal_code",
            Field::City => "city",
            Field::Country => "country",
            Field::Tags => "tags",
            Field::Source => "source",
            Field::LinkedIn => "linkedin_url",
            Field::Birthday => "birthday",
            Field::Status => "status",
            Field::EmailHome => "email_home",
            Field::EmailOther => "email_other",
            Field::Fax => "fax",
            Field::PhoneOther => "phone_other",
            Field::HomeStreet => "home_street",
            Field::HomePostalCode => "home_postal_code",
            Field::HomeCity => "home_city",
            Field::HomeCountry => "home_country",
            Field::Notes => "notes",
            Field::Owner => "owner",
            Field::ExternalId => "external_id",
            Field::CompanyId => "company_external_id",
            Field::CallingCode => "phone_calling_code",
            Field::Ignore => "ignore",
        }
    }

    pub(super) const ALL: &'static [Field] = &[
        Field::FirstName,
        Field::LastName,
        Field::FullName,
        Field::Salutation,
        Field::Title,
        Field::JobTitle,
        Field::Department,
        Field::Email,
        Field::Email2,
        Field::Phone,
        Field::Mobile,
        Field::Company,
        Field::VatId,
        Field::Website,
        Field::Street,
        Field::PostalCode,
        Field::City,
        Field::Country,
        Field::Tags,
        Field::Source,
        Field::LinkedIn,
        Field::Birthday,
        Field::Status,
        Field::EmailHome,
        Field::EmailOther,
        Field::Fax,
        Field::PhoneOther,
        Field::HomeStreet,
        Field::HomePostalCode,
        Field::HomeCity,
        Field::HomeCountry,
        Field::Notes,
        Field::Owner,
        Field::ExternalId,
        Field::CompanyId,
        Field::CallingCode,
        Field::Ignore,
    ];

    /// Whether several columns (or several values of one cell) of this field add up
    /// instead of the last one winning.
    pub fn accumulates(self) -> bool {
        matches!(
            self,
            Field::Email
                | Field::Email2
                | Field::EmailHome
                | Field::EmailOther
                | Field::Phone
                | Field::Mobile
                | Field::Fax
                | Field::PhoneOther
                | Field::Street
                | Field::HomeStreet
                | Field::Tags
                | Field::Notes
                | Field::Ignore
        )
    }

    /// The field for a header (English or German, any case, punctuation ignored).
    pub fn from_header(header: &str) -> Option<Field> {
        let key: String = crate::domain::fold_for_search(header.trim())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        let f = match key.as_str() {
            "firstname" | "vorname" | "givenname" | "first" | "forename" => Field::FirstName,
            "lastname" | "nachname" | "surname" | "familyname" | "familienname" | "name"
            | "last" => Field::LastName,
            "fullname" | "vollername" | "kontakt" | "contact" | "contactname" | "person" => {
                Field::FullName
            }
            "salutation" | "anrede" => Field::Salutation,
            "title" | "titel" | "akademischertitel" => Field::Title,
            "jobtitle" | "position" | "jobtitel" | "funktion" | "rolle" | "beruf" | "job" => {
                Field::JobTitle
            }
            "department" | "abteilung" => Field::Department,
            "email" | "mail" | "emailaddress" | "emailadresse" | "mailadresse" | "email1"
            | "emailgeschaeftlich" | "primaryemail" => Field::Email,
            "email2" | "emailprivat" | "secondaryemail" | "weitereemail" => Field::Email2,
            "phone"
            | "telefon"
            | "tel"
            | "telephone"
            | "phonenumber"
            | "telefonnummer"
            | "festnetz"
            | "telefongeschaeftlich"
            | "officephone" => Field::Phone,
            "mobile" | "mobil" | "handy" | "mobiltelefon" | "cell" | "cellphone"
            | "mobilenumber" | "mobilnummer" => Field::Mobile,
            "company" | "firma" | "unternehmen" | "organisation" | "organization" | "account"
            | "firmenname" | "companyname" => Field::Company,
            "vatid" | "vat" | "ustidnr" | "ustid" | "umsatzsteuerid" | "ustidnummer"
            | "vatnumber" => Field::VatId,
            "website" | "webseite" | "homepage" | "url" | "internet" | "web" => Field::Website,
            "street" | "strasse" | "adresse" | "address" | "anschrift" | "streetaddress" => {
                Field::Street
            }
            "postalcode" | "zip" | "zipcode" | "plz" | "postleitzahl" | "postcode" => {
                Field::PostalCode
            }
            "city" | "ort" | "stadt" | "town" | "wohnort" => Field::City,
            "country" | "land" | "staat" => Field::Country,
            "tags" | "tag" | "schlagworte" | "labels" | "stichworte" => Field::Tags,
            "source" | "quelle" | "leadsource" | "herkunft" => Field::Source,
            "linkedin" | "linkedinurl" | "linkedinprofil" => Field::LinkedIn,
            "birthday" | "geburtstag" | "dateofbirth" | "geburtsdatum" | "dob" => Field::Birthday,
            "status" => Field::Status,
            "notes" | "note" | "notizen" | "notiz" | "bemerkung" | "bemerkungen" | "kommentar"
            | "comments" => Field::Notes,
            "fax" | "telefax" | "faxnummer" => Field::Fax,
            "owner" | "besitzer" | "betreuer" | "zustaendig" | "contactowner" => Field::Owner,
            _ => return None,
        };
        Some(f)
    }

    /// The field named `name` (canonical names only).
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name.trim())
    }
}
