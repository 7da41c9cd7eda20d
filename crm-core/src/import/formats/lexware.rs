//! Lexware Office contact exports (`;`-delimited, German headers, customer number, company
//! name, tax number and VAT id).

use super::companies::CompanyField;
use crate::import::contacts::Field;

/// Headers that identify the format (normalised keys).
pub(super) const SIGNATURE: &[&str] = &[
    "kundennummer",
    "lieferantennummer",
    "firmenname",
    "steuernummer",
    "umsatzsteuerid",
    "kontakt",
];

/// Columns the CRM keeps (or deliberately drops).
pub(super) const TABLE: &[(&str, Field)] = &[
    ("kundennummer", Field::ExternalId),
    ("lieferantennummer", Field::Ignore),
    ("firmenname", Field::Company),
    ("anrede", Field::Salutation),
    ("titel", Field::Title),
    ("kontakt", Field::FullName),
    ("vorname", Field::FirstName),
    ("nachname", Field::LastName),
    ("strasse", Field::Street),
    ("strasseundhausnummer", Field::Street),
    ("strassehausnummer", Field::Street),
    ("adresszusatz", Field::Street),
    ("plz", Field::PostalCode),
    ("postleitzahl", Field::PostalCode),
    ("ort", Field::City),
    ("land", Field::Country),
    ("email", Field::Email),
    ("emailadresse", Field::Email),
    ("emailgeschaeftlich", Field::Email),
    ("emailprivat", Field::EmailHome),
    ("telefon", Field::Phone),
    ("telefongeschaeftlich", Field::Phone),
    ("telefonprivat", Field::PhoneOther),
    ("mobil", Field::Mobile),
    ("mobiltelefon", Field::Mobile),
    ("fax", Field::Fax),
    ("umsatzsteuerid", Field::VatId),
    ("ustidnr", Field::VatId),
    ("notiz", Field::Notes),
    ("notizen", Field::Notes),
    ("webseite", Field::Website),
];

/// The company side of a Lexware Office contact export: rows with a `Firmenname` are
/// company contacts (rows without one are people and are skipped by a company import).
pub(super) const COMPANY_TABLE: &[(&str, CompanyField)] = &[
    ("kundennummer", CompanyField::ExternalId),
    ("firmenname", CompanyField::Name),
    ("steuernummer", CompanyField::TaxId),
    ("umsatzsteuerid", CompanyField::VatId),
    ("ustidnr", CompanyField::VatId),
    ("strasse", CompanyField::Street),
    ("strasseundhausnummer", CompanyField::Street),
    ("strassehausnummer", CompanyField::Street),
    ("adresszusatz", CompanyField::Street),
    ("plz", CompanyField::PostalCode),
    ("postleitzahl", CompanyField::PostalCode),
    ("ort", CompanyField::City),
    ("land", CompanyField::Country),
    ("email", CompanyField::Email),
    ("emailadresse", CompanyField::Email),
    ("emailgeschaeftlich", CompanyField::Email),
    ("telefon", CompanyField::Phone),
    ("telefongeschaeftlich", CompanyField::Phone),
    ("mobil", CompanyField::Mobile),
    ("mobiltelefon", CompanyField::Mobile),
    ("fax", CompanyField::Fax),
    ("notiz", CompanyField::Notes),
    ("notizen", CompanyField::Notes),
    ("webseite", CompanyField::Website),
    ("lieferantennummer", CompanyField::Ignore),
    ("anrede", CompanyField::Ignore),
    ("titel", CompanyField::Ignore),
    ("kontakt", CompanyField::Ignore),
    ("vorname", CompanyField::Ignore),
    ("nachname", CompanyField::Ignore),
    ("emailprivat", CompanyField::Ignore),
    ("telefonprivat", CompanyField::Ignore),
];

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::test_support::{get, read};

    #[test]
    fn contact_export_with_customer_number_and_vat_id() {
        let text = "Kundennummer;Lieferantennummer;Firmenname;Anrede;Kontakt;Vorname;Nachname;Straße;PLZ;Ort;Land;E-Mail;Telefon;Steuernummer;Umsatzsteuer ID\n\
10001;;Müller GmbH;Herr;;Jürgen;Müller;Hauptstraße 1;10115;Berlin;Deutschland;j.mueller@example.de;030 1234567;27/123/45678;DE136695976\n";
        let (format, rows) = read(text, b';');
        assert_eq!(format, Format::Lexware);
        let r = &rows[0];
        assert_eq!(get(r, "external_id"), Some("10001"));
        assert_eq!(get(r, "company"), Some("Müller GmbH"));
        assert_eq!(get(r, "vat_id"), Some("DE136695976"));
        assert_eq!(get(r, "street"), Some("Hauptstraße 1"));
    }
}
