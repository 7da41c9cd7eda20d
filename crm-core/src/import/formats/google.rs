//! Google Contacts CSV: the current layout (`First Name`, `E-mail 1 - Label`,
//! `E-mail 1 - Value`, `Address 1 - Street`, `Labels`) and the older one (`Given Name`,
//! `E-mail 1 - Type`, `Organization 1 - Name`, `Group Membership`). UTF-8 with BOM; several
//! values in one cell joined with ` ::: `; a leading `* ` marks the primary label.

use std::collections::HashMap;

use super::companies::CompanyField;
use super::{GroupKind, Part, Role};
use crate::import::contacts::Field;
use crate::import::source::field_text;

/// Headers that identify the format (normalised keys).
pub(super) const SIGNATURE: &[&str] = &[
    "email1value",
    "email1label",
    "email1type",
    "phone1value",
    "phone1label",
    "phone1type",
    "address1formatted",
    "address1street",
    "organizationname",
    "organization1name",
    "fileas",
    "givenname",
    "familyname",
    "additionalname",
    "groupmembership",
    "nameprefix",
    "phoneticfirstname",
];

/// Plain columns (the numbered groups are recognised by [`group_role`]).
pub(super) const TABLE: &[(&str, Field)] = &[
    ("firstname", Field::FirstName),
    ("givenname", Field::FirstName),
    ("lastname", Field::LastName),
    ("familyname", Field::LastName),
    ("name", Field::FullName),
    ("nameprefix", Field::Title),
    ("organizationname", Field::Company),
    ("organizationtitle", Field::JobTitle),
    ("organizationdepartment", Field::Department),
    ("organization1name", Field::Company),
    ("organization1title", Field::JobTitle),
    ("organization1department", Field::Department),
    ("birthday", Field::Birthday),
    ("notes", Field::Notes),
    ("labels", Field::Tags),
    ("groupmembership", Field::Tags),
    ("website1value", Field::Website),
    ("fileas", Field::Ignore),
    ("photo", Field::Ignore),
    ("website1label", Field::Ignore),
    ("website1type", Field::Ignore),
    ("organization1type", Field::Ignore),
];

/// The role of a numbered group column: `email2value`, `phone1label`, `address1postalcode`.
pub(super) fn group_role(key: &str) -> Option<Role> {
    let (kind, rest) = if let Some(r) = key.strip_prefix("email") {
        (GroupKind::Email, r)
    } else if let Some(r) = key.strip_prefix("phone") {
        (GroupKind::Phone, r)
    } else if let Some(r) = key.strip_prefix("address") {
        (GroupKind::Address, r)
    } else {
        return None;
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let n: u16 = rest[..digits].parse().ok()?;
    let part = match (&kind, &rest[digits..]) {
        (_, "label" | "type") => Part::Label,
        (GroupKind::Email | GroupKind::Phone, "value") => Part::Value,
        (GroupKind::Address, "street") => Part::Street,
        (GroupKind::Address, "city") => Part::City,
        (GroupKind::Address, "postalcode") => Part::PostalCode,
        (GroupKind::Address, "country") => Part::Country,
        // Formatted, PO box, region, extended address: the parts above carry it.
        (GroupKind::Address, _) => return Some(Role::Field(Field::Ignore)),
        _ => return None,
    };
    Some(Role::Group { kind, n, part })
}

/// Each group's label (lower case, without the primary marker) and whether it is marked
/// primary (`* Work`).
pub(super) fn labels(
    roles: &[Option<Role>],
    rec: &csv::ByteRecord,
) -> HashMap<(GroupKind, u16), (String, bool)> {
    let mut out = HashMap::new();
    for (col, role) in roles.iter().enumerate() {
        if let Some(Role::Group {
            kind,
            n,
            part: Part::Label,
        }) = role
            && let Some(raw) = rec.get(col)
        {
            let text = field_text(raw);
            let t = text.trim();
            let (primary, label) = match t.strip_prefix('*') {
                Some(rest) => (true, rest.trim()),
                None => (false, t),
            };
            // A label cell may list several labels (` ::: `); the first says what it is.
            let label = label
                .split(" ::: ")
                .next()
                .unwrap_or("")
                .trim()
                .to_lowercase();
            out.insert((*kind, *n), (label, primary));
        }
    }
    out
}

/// The field a group's value goes to, by the group's label.
pub(super) fn group_field(kind: GroupKind, part: Part, label: &str) -> Option<Field> {
    let home = ["home", "privat", "personal", "zuhause"]
        .iter()
        .any(|l| label.contains(l));
    Some(match (kind, part) {
        (_, Part::Label) => return None,
        (GroupKind::Email, _) if home => Field::EmailHome,
        (GroupKind::Email, _)
            if label.is_empty() || label.contains("work") || label.contains("arbeit") =>
        {
            Field::Email
        }
        (GroupKind::Email, _) => Field::EmailOther,
        (GroupKind::Phone, _) if label.contains("fax") => Field::Fax,
        (GroupKind::Phone, _)
            if ["mobil", "cell", "handy", "iphone"]
                .iter()
                .any(|l| label.contains(l)) =>
        {
            Field::Mobile
        }
        (GroupKind::Phone, _) if home => Field::PhoneOther,
        (GroupKind::Phone, _)
            if label.is_empty()
                || ["work", "main", "arbeit", "büro"]
                    .iter()
                    .any(|l| label.contains(l)) =>
        {
            Field::Phone
        }
        (GroupKind::Phone, _) => Field::PhoneOther,
        (GroupKind::Address, Part::Street) if home => Field::HomeStreet,
        (GroupKind::Address, Part::City) if home => Field::HomeCity,
        (GroupKind::Address, Part::PostalCode) if home => Field::HomePostalCode,
        (GroupKind::Address, Part::Country) if home => Field::HomeCountry,
        (GroupKind::Address, Part::Street | Part::Value) => Field::Street,
        (GroupKind::Address, Part::City) => Field::City,
        (GroupKind::Address, Part::PostalCode) => Field::PostalCode,
        (GroupKind::Address, Part::Country) => Field::Country,
    })
}

/// The company columns of a Google Contacts export: the organization each row names.
pub(super) const COMPANY_TABLE: &[(&str, CompanyField)] = &[
    ("organizationname", CompanyField::Name),
    ("organization1name", CompanyField::Name),
];

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::test_support::{all, get, read};

    /// The current layout, as Google writes it (UTF-8 with BOM, LF, quoted multi-line notes).
    const CURRENT: &str = "\u{feff}First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,Phonetic Last Name,Name Prefix,Name Suffix,Nickname,File As,Organization Name,Organization Title,Organization Department,Birthday,Notes,Photo,Labels,E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value,Address 1 - Label,Address 1 - Formatted,Address 1 - Street,Address 1 - City,Address 1 - PO Box,Address 1 - Region,Address 1 - Postal Code,Address 1 - Country,Address 1 - Extended Address,Address 2 - Label,Address 2 - Formatted,Address 2 - Street,Address 2 - City,Address 2 - PO Box,Address 2 - Region,Address 2 - Postal Code,Address 2 - Country,Address 2 - Extended Address,Website 1 - Label,Website 1 - Value
Anna,,Schäfer,,,,Dr.,,,,Beispiel GmbH,Einkauf,,1990-01-01,\"Met at the fair.
Call back in May.\",,* myContacts ::: Kunden ::: Messe 2026,* Work,anna@beispiel.de ::: anna.s@beispiel.de,Home,anna@privat.de,Mobile,+49 171 1234567,Work,030 1234567,Work,\"Hauptstr. 1, 10115 Berlin\",Hauptstr. 1,Berlin,,,10115,Germany,,Home,,Gartenweg 2,Potsdam,,,14467,Germany,,,https://beispiel.de
";

    #[test]
    fn current_layout_with_multi_values_labels_and_two_addresses() {
        let (format, rows) = read(CURRENT, b',');
        assert_eq!(format, Format::Google);
        let r = &rows[0];
        assert_eq!(get(r, "first_name"), Some("Anna"));
        assert_eq!(get(r, "company"), Some("Beispiel GmbH"));
        assert_eq!(
            all(r, "email"),
            vec!["anna@beispiel.de", "anna.s@beispiel.de"]
        );
        assert_eq!(all(r, "email_home"), vec!["anna@privat.de"]);
        assert_eq!(get(r, "mobile"), Some("+49 171 1234567"));
        assert_eq!(get(r, "phone"), Some("030 1234567"));
        assert_eq!(all(r, "tags"), vec!["Kunden", "Messe 2026"]);
        assert_eq!(get(r, "street"), Some("Hauptstr. 1"));
        assert_eq!(get(r, "postal_code"), Some("10115"));
        assert_eq!(get(r, "home_city"), Some("Potsdam"));
        assert_eq!(get(r, "notes"), Some("Met at the fair.\nCall back in May."));
        assert_eq!(get(r, "website"), Some("https://beispiel.de"));
        assert_eq!(get(r, "title"), Some("Dr."));
    }

    #[test]
    fn older_layout_with_given_name_and_group_membership() {
        let text = "Name,Given Name,Additional Name,Family Name,Yomi Name,Notes,Group Membership,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Organization 1 - Type,Organization 1 - Name,Organization 1 - Title\n\
Max Muster,Max,,Muster,,,* My Contacts ::: Partner,* Other,max@muster.ch,Work Fax,044 123 45 67,,Muster AG,CEO\n";
        let (format, rows) = read(text, b',');
        assert_eq!(format, Format::Google);
        let r = &rows[0];
        assert_eq!(get(r, "first_name"), Some("Max"));
        assert_eq!(get(r, "last_name"), Some("Muster"));
        assert_eq!(get(r, "email_other"), Some("max@muster.ch"));
        assert_eq!(get(r, "fax"), Some("044 123 45 67"));
        assert_eq!(get(r, "company"), Some("Muster AG"));
        assert_eq!(get(r, "job_title"), Some("CEO"));
        assert_eq!(all(r, "tags"), vec!["Partner"]);
    }
}
