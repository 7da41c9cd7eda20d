//! Outlook desktop contacts CSV, German and English, older and newer layouts (92 columns,
//! every filled cell quoted, CRLF), and Windows Live Mail's German variant (`;`).

use super::companies::CompanyField;
use crate::import::contacts::Field;

/// Headers that identify the format (normalised keys).
pub(super) const SIGNATURE: &[&str] = &[
    "strassegeschaeftlich",
    "ortgeschaeftlich",
    "postleitzahlgeschaeftlich",
    "landregiongeschaeftlich",
    "strasseprivat",
    "telefongeschaeftlich",
    "faxgeschaeftlich",
    "telefonprivat",
    "emailtyp",
    "emailangezeigtername",
    "email2adresse",
    "kategorien",
    "weiterevornamen",
    "businessstreet",
    "businesscity",
    "businesspostalcode",
    "businesscountryregion",
    "businesscountry",
    "homestreet",
    "businessphone",
    "businessfax",
    "homephone",
    "mobilephone",
    "emailtype",
    "emaildisplayname",
    "email2address",
    "middlename",
    "categories",
];

/// Every column Outlook writes that the CRM keeps (or deliberately drops).
pub(super) const TABLE: &[(&str, Field)] = &[
    // German
    ("anrede", Field::Salutation),
    ("vorname", Field::FirstName),
    ("nachname", Field::LastName),
    ("name", Field::FullName),
    ("firma", Field::Company),
    ("abteilung", Field::Department),
    ("position", Field::JobTitle),
    ("beruf", Field::JobTitle),
    ("strassegeschaeftlich", Field::Street),
    ("strassegeschaeftlich2", Field::Street),
    ("strassegeschaeftlich3", Field::Street),
    ("ortgeschaeftlich", Field::City),
    ("postleitzahlgeschaeftlich", Field::PostalCode),
    ("landregiongeschaeftlich", Field::Country),
    ("landgeschaeftlich", Field::Country),
    ("strasseprivat", Field::HomeStreet),
    ("strasseprivat2", Field::HomeStreet),
    ("strasseprivat3", Field::HomeStreet),
    ("ortprivat", Field::HomeCity),
    ("postleitzahlprivat", Field::HomePostalCode),
    ("landregionprivat", Field::HomeCountry),
    ("landprivat", Field::HomeCountry),
    ("telefonassistent", Field::PhoneOther),
    ("faxgeschaeftlich", Field::Fax),
    ("telefongeschaeftlich", Field::Phone),
    ("telefongeschaeftlich2", Field::Phone),
    ("rueckmeldung", Field::PhoneOther),
    ("autotelefon", Field::PhoneOther),
    ("telefonfirma", Field::Phone),
    ("faxprivat", Field::Fax),
    ("telefonprivat", Field::PhoneOther),
    ("telefonprivat2", Field::PhoneOther),
    ("isdn", Field::PhoneOther),
    ("mobiltelefon", Field::Mobile),
    ("mobiltelefon2", Field::Mobile),
    ("weiteresfax", Field::Fax),
    ("weiterestelefon", Field::PhoneOther),
    ("pager", Field::PhoneOther),
    ("haupttelefon", Field::Phone),
    ("emailadresse", Field::Email),
    ("emailtyp", Field::Ignore),
    ("emailangezeigtername", Field::Ignore),
    ("email2adresse", Field::EmailOther),
    ("email2typ", Field::Ignore),
    ("email2angezeigtername", Field::Ignore),
    ("email3adresse", Field::EmailOther),
    ("email3typ", Field::Ignore),
    ("email3angezeigtername", Field::Ignore),
    ("geburtstag", Field::Birthday),
    ("geschlecht", Field::Ignore),
    ("jahrestag", Field::Ignore),
    ("kategorien", Field::Tags),
    ("stichwoerter", Field::Tags),
    ("notizen", Field::Notes),
    ("prioritaet", Field::Ignore),
    ("privat", Field::Ignore),
    ("vertraulichkeit", Field::Ignore),
    ("internetfreigebucht", Field::Ignore),
    ("webseite", Field::Website),
    // English
    ("title", Field::Title),
    ("firstname", Field::FirstName),
    ("lastname", Field::LastName),
    ("company", Field::Company),
    ("department", Field::Department),
    ("jobtitle", Field::JobTitle),
    ("profession", Field::JobTitle),
    ("businessstreet", Field::Street),
    ("businessstreet2", Field::Street),
    ("businessstreet3", Field::Street),
    ("businesscity", Field::City),
    ("businesspostalcode", Field::PostalCode),
    ("businesscountryregion", Field::Country),
    ("businesscountry", Field::Country),
    ("homestreet", Field::HomeStreet),
    ("homestreet2", Field::HomeStreet),
    ("homestreet3", Field::HomeStreet),
    ("homecity", Field::HomeCity),
    ("homepostalcode", Field::HomePostalCode),
    ("homecountryregion", Field::HomeCountry),
    ("homecountry", Field::HomeCountry),
    ("assistantsphone", Field::PhoneOther),
    ("businessfax", Field::Fax),
    ("businessphone", Field::Phone),
    ("businessphone2", Field::Phone),
    ("callback", Field::PhoneOther),
    ("carphone", Field::PhoneOther),
    ("companymainphone", Field::Phone),
    ("homefax", Field::Fax),
    ("homephone", Field::PhoneOther),
    ("homephone2", Field::PhoneOther),
    ("mobilephone", Field::Mobile),
    ("otherfax", Field::Fax),
    ("otherphone", Field::PhoneOther),
    ("primaryphone", Field::Phone),
    ("radiophone", Field::PhoneOther),
    ("emailaddress", Field::Email),
    ("emailtype", Field::Ignore),
    ("emaildisplayname", Field::Ignore),
    ("email2address", Field::EmailOther),
    ("email2type", Field::Ignore),
    ("email2displayname", Field::Ignore),
    ("email3address", Field::EmailOther),
    ("email3type", Field::Ignore),
    ("email3displayname", Field::Ignore),
    ("birthday", Field::Birthday),
    ("anniversary", Field::Ignore),
    ("categories", Field::Tags),
    ("keywords", Field::Tags),
    ("notes", Field::Notes),
    ("gender", Field::Ignore),
    ("priority", Field::Ignore),
    ("private", Field::Ignore),
    ("sensitivity", Field::Ignore),
    ("internetfreebusy", Field::Ignore),
    ("webpage", Field::Website),
];

/// The company columns of an Outlook contacts export: a company import reads the company
/// each row names, with the business address, the company's main number and web page
/// (the person's own columns are not the company's and are left out).
pub(super) const COMPANY_TABLE: &[(&str, CompanyField)] = &[
    ("firma", CompanyField::Name),
    ("company", CompanyField::Name),
    ("strassegeschaeftlich", CompanyField::Street),
    ("strassegeschaeftlich2", CompanyField::Street),
    ("strassegeschaeftlich3", CompanyField::Street),
    ("ortgeschaeftlich", CompanyField::City),
    ("postleitzahlgeschaeftlich", CompanyField::PostalCode),
    ("landregiongeschaeftlich", CompanyField::Country),
    ("landgeschaeftlich", CompanyField::Country),
    ("telefonfirma", CompanyField::Phone),
    ("webseite", CompanyField::Website),
    ("businessstreet", CompanyField::Street),
    ("businessstreet2", CompanyField::Street),
    ("businessstreet3", CompanyField::Street),
    ("businesscity", CompanyField::City),
    ("businesspostalcode", CompanyField::PostalCode),
    ("businesscountryregion", CompanyField::Country),
    ("businesscountry", CompanyField::Country),
    ("companymainphone", CompanyField::Phone),
    ("webpage", CompanyField::Website),
];

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::test_support::{all, get, read};

    /// The German desktop layout (Outlook 2007), abridged to the columns that matter plus
    /// the noise around them, every filled cell quoted, empty ones bare, CRLF line ends and
    /// an LF inside the quoted note.
    const GERMAN: &str = "\"Anrede\",\"Vorname\",\"Weitere Vornamen\",\"Nachname\",\"Suffix\",\"Firma\",\"Abteilung\",\"Position\",\"Straße geschäftlich\",\"Straße geschäftlich 2\",\"Straße geschäftlich 3\",\"Ort geschäftlich\",\"Region geschäftlich\",\"Postleitzahl geschäftlich\",\"Land/Region geschäftlich\",\"Straße privat\",\"Ort privat\",\"Bundesland/Kanton privat\",\"Postleitzahl privat\",\"Land/Region privat\",\"Fax geschäftlich\",\"Telefon geschäftlich\",\"Telefon geschäftlich 2\",\"Telefon privat\",\"Mobiltelefon\",\"E-Mail-Adresse\",\"E-Mail-Typ\",\"E-Mail: Angezeigter Name\",\"E-Mail 2: Adresse\",\"E-Mail 2: Typ\",\"E-Mail 2: Angezeigter Name\",\"Geburtstag\",\"Geschlecht\",\"Jahrestag\",\"Kategorien\",\"Notizen\",\"Priorität\",\"Privat\",\"Vertraulichkeit\",\"Webseite\"\r\n\
\"Herr\",\"Jürgen\",,\"Müller\",,\"Müller GmbH\",\"Vertrieb\",\"Leiter\",\"Hauptstraße 1\",\"Aufgang B\",,\"Berlin\",,\"10115\",\"Deutschland\",\"Gartenweg 2\",\"Potsdam\",,\"14467\",\"Deutschland\",\"030 1234568\",\"030 1234567\",,\"0331 987654\",\"0171 1234567\",\"j.mueller@example.de\",\"SMTP\",\"Jürgen Müller (j.mueller@example.de)\",\"jm@privat.example\",\"SMTP\",\"Jürgen privat (jm@privat.example)\",\"10.9.1970\",\"Keine Angabe\",\"0.0.00\",\"Kunden;Messe 2026\",\"Erster Kontakt auf der Messe.\nRückruf im Mai.\",\"Normal\",\"Aus\",\"Normal\",\"www.mueller.example\"\r\n\
,\"Anna\",,\"Schäfer\",,,,,,,,,,,,,,,,,,,,,,\"anna@example.de\",\"SMTP\",\"Anna Schäfer (anna@example.de)\",,,,\"0.0.00\",\"Keine Angabe\",\"0.0.00\",,,\"Normal\",\"Aus\",\"Normal\",\r\n";

    #[test]
    fn german_layout_keeps_phones_addresses_categories_and_notes() {
        let (format, rows) = read(GERMAN, b',');
        assert_eq!(format, Format::Outlook);
        let r = &rows[0];
        assert_eq!(get(r, "salutation"), Some("Herr"));
        assert_eq!(get(r, "company"), Some("Müller GmbH"));
        assert_eq!(all(r, "street"), vec!["Hauptstraße 1", "Aufgang B"]);
        assert_eq!(get(r, "city"), Some("Berlin"));
        assert_eq!(get(r, "postal_code"), Some("10115"));
        assert_eq!(get(r, "home_city"), Some("Potsdam"));
        assert_eq!(get(r, "fax"), Some("030 1234568"));
        assert_eq!(get(r, "phone"), Some("030 1234567"));
        assert_eq!(get(r, "phone_other"), Some("0331 987654"));
        assert_eq!(get(r, "mobile"), Some("0171 1234567"));
        assert_eq!(get(r, "email"), Some("j.mueller@example.de"));
        assert_eq!(get(r, "email_other"), Some("jm@privat.example"));
        assert_eq!(get(r, "birthday"), Some("10.9.1970"));
        assert_eq!(all(r, "tags"), vec!["Kunden", "Messe 2026"]);
        assert_eq!(
            get(r, "notes"),
            Some("Erster Kontakt auf der Messe.\nRückruf im Mai.")
        );
        assert_eq!(
            get(r, "ignore"),
            None,
            "type, display name, gender are dropped"
        );
        // The second row: only a name and an e-mail, the empty birthday written `0.0.00`.
        let r = &rows[1];
        assert_eq!(get(r, "last_name"), Some("Schäfer"));
        assert_eq!(get(r, "birthday"), Some("0.0.00"));
    }

    #[test]
    fn english_layout_older_country_column() {
        let text = "\"Title\",\"First Name\",\"Middle Name\",\"Last Name\",\"Suffix\",\"Company\",\"Department\",\"Job Title\",\"Business Street\",\"Business City\",\"Business State\",\"Business Postal Code\",\"Business Country\",\"Home Street\",\"Business Fax\",\"Business Phone\",\"Home Phone\",\"Mobile Phone\",\"Birthday\",\"Categories\",\"E-mail Address\",\"E-mail Type\",\"E-mail Display Name\",\"E-mail 2 Address\",\"Notes\",\"Web Page\"\r\n\
\"Dr.\",\"Robin\",,\"Example\",,\"Example Ltd\",,\"CTO\",\"1 Main St\",\"London\",,\"SW1A 1AA\",\"United Kingdom\",,,\"+44 20 7946 0000\",,\"+44 7700 900000\",\"0/0/00\",\"VIP;Partner\",\"robin@example.com\",\"SMTP\",\"Robin Example (robin@example.com)\",,\"Likes tea\",\r\n";
        let (format, rows) = read(text, b',');
        assert_eq!(format, Format::Outlook);
        let r = &rows[0];
        assert_eq!(get(r, "title"), Some("Dr."));
        assert_eq!(get(r, "country"), Some("United Kingdom"));
        assert_eq!(get(r, "mobile"), Some("+44 7700 900000"));
        assert_eq!(get(r, "email"), Some("robin@example.com"));
        assert_eq!(all(r, "tags"), vec!["VIP", "Partner"]);
        assert_eq!(get(r, "notes"), Some("Likes tea"));
    }

    #[test]
    fn windows_live_mail_german_with_semicolons() {
        let text = "Name;E-Mail-Adresse;Straße (privat);Ort (privat);Postleitzahl (privat);Telefon (privat);Telefon (geschäftlich);Firma;Position\n\
Eva Beispiel;eva@example.de;Ringstraße 3;Hamburg;20095;040 123456;040 654321;Beispiel KG;Einkauf\n";
        let (format, rows) = read(text, b';');
        assert_eq!(format, Format::Outlook);
        let r = &rows[0];
        assert_eq!(get(r, "full_name"), Some("Eva Beispiel"));
        assert_eq!(get(r, "home_street"), Some("Ringstraße 3"));
        assert_eq!(get(r, "phone"), Some("040 654321"));
        assert_eq!(get(r, "job_title"), Some("Einkauf"));
    }
}
