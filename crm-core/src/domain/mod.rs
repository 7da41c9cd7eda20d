//! Pure domain values: the types that validate user input on construction (STYLE.md habit 4).
//!
//! Nothing here touches the database. Every `parse` function returns its own small error,
//! usually [`InvalidValue`], whose message says what is wrong without quoting the input (the
//! input may be personal data). Callers gather them per field with
//! `FieldErrors::check("email", Email::parse(raw))`.
//!
//! The vocabulary enumerations of DESIGN.md live here too, with their stored keys and their
//! German and English labels, as does [`fold_for_search`], the Rust twin of the SQL function
//! `crm_fold`.

use std::borrow::Cow;

mod deal;
mod email;
mod money;
mod names;
mod phone;
pub mod text;
mod unaccent;
mod vat;
mod vocab;
mod website;
mod when;

pub use deal::{DEFAULT_LOST_REASONS, DealStatus, LostReasonDefault, check_close};
pub use email::Email;
pub use money::{Currency, Money};
pub use names::{fold_for_search, normalize_name};
pub use phone::{Phone, PhoneReading};
pub use vat::VatId;
pub use vocab::{
    ActivityType, CompanySize, ConsentStatus, ContactSource, EmailKind, EntityStatus, OwnerRole,
    PhoneKind, UserRole, check_list_key,
};
pub use website::Website;
pub use when::{DayEnd, Zone, parse_date, parse_duration, parse_time};

/// A value that failed validation.
///
/// The message is plain words such as "is not a valid e-mail address", meant to follow the
/// field's name ("email: is not a valid e-mail address"). It never contains the offending
/// input, so it is safe to log and to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidValue {
    message: Cow<'static, str>,
}

impl InvalidValue {
    /// An error with the given message. The message must not quote the input.
    pub fn new(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            message: message.into(),
        }
    }

    /// The message, as shown by `Display`.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Deserializes a string and runs it through a parse function, turning its error into a serde
/// error that, like the parse error, does not quote the input.
fn deserialize_parsed<'de, D, T, E>(
    deserializer: D,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    E: std::fmt::Display,
{
    let raw = <Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
    parse(&raw).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_value_displays_its_message() {
        let e = InvalidValue::new("is not a valid e-mail address");
        assert_eq!(e.to_string(), "is not a valid e-mail address");
        assert_eq!(e.message(), "is not a valid e-mail address");
        let owned = InvalidValue::new(format!("must be at most {} characters", 3));
        assert_eq!(owned.to_string(), "must be at most 3 characters");
    }
}
