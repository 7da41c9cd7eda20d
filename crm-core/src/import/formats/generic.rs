//! Any other CSV: English and German column names ([`Field::from_header`]).

use super::Role;
use crate::import::contacts::Field;

/// The role of a header in a generic file.
pub(super) fn role(header: &str) -> Option<Role> {
    Field::from_header(header).map(Role::Field)
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::super::test_support::{get, read};

    #[test]
    fn plain_german_columns_stay_generic() {
        let (format, rows) = read(
            "Vorname;Nachname;E-Mail;Telefon;Firma;Notizen\nJürgen;Müller;j@example.de;030 1234567;Müller GmbH;Hallo\n",
            b';',
        );
        assert_eq!(format, Format::Generic);
        assert_eq!(get(&rows[0], "email"), Some("j@example.de"));
        assert_eq!(get(&rows[0], "notes"), Some("Hallo"));
    }
}
