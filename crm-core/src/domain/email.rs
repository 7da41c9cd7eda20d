//! E-mail addresses.

use std::fmt;
use std::str::FromStr;

use super::InvalidValue;

/// The longest address accepted, in characters (RFC 5321 path limit).
const MAX_LEN: usize = 254;
/// The longest local part accepted, in characters (RFC 5321).
const MAX_LOCAL_LEN: usize = 64;
/// The longest domain label accepted, in characters (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// Characters never allowed in the local part of an unquoted address.
const LOCAL_FORBIDDEN: &[char] = &['"', '(', ')', ',', ':', ';', '<', '>', '[', ']', '\\'];

/// A syntactically valid e-mail address.
///
/// It keeps the address as entered (trimmed) for display; [`Email::normalized`] gives the
/// lower-case form used for matching and uniqueness (`email_norm` in the schema). Equality
/// compares the address as entered. `Debug` does not show the address.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Trims and checks an address: one `@`, a non-empty local part of at most 64
    /// characters, a domain with a dot and well-formed labels, no spaces, at most 254
    /// characters in all.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(InvalidValue::new("must not be empty"));
        }
        if s.chars().count() > MAX_LEN {
            return Err(InvalidValue::new("is longer than 254 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(InvalidValue::new("must not contain spaces"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(InvalidValue::new("is not a valid e-mail address (no @)"));
        };
        if domain.contains('@') {
            return Err(InvalidValue::new(
                "is not a valid e-mail address (more than one @)",
            ));
        }
        if !valid_local(local) {
            return Err(InvalidValue::new(
                "is not a valid e-mail address (part before the @)",
            ));
        }
        if !valid_domain(domain) {
            return Err(InvalidValue::new("is not a valid e-mail address (domain)"));
        }
        Ok(Self(s.to_string()))
    }

    /// The address as entered, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The whole address in lower case, for matching and uniqueness.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    /// The part after the `@`, in lower case.
    pub fn domain(&self) -> String {
        self.0
            .rsplit_once('@')
            .map(|(_, d)| d.to_lowercase())
            .unwrap_or_default()
    }

    /// Gives up the address as entered.
    pub fn into_string(self) -> String {
        self.0
    }
}

fn valid_local(local: &str) -> bool {
    !local.is_empty()
        && local.chars().count() <= MAX_LOCAL_LEN
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && !local.contains(LOCAL_FORBIDDEN)
}

fn valid_domain(domain: &str) -> bool {
    if !domain.contains('.') {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let labels_ok = labels.iter().all(|label| {
        !label.is_empty()
            && label.chars().count() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    // The top-level domain has at least two characters and is not a number (which would make
    // the domain an IP address, not accepted here).
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    labels_ok && tld_ok
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Email {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::deserialize_parsed(deserializer, Self::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_addresses() {
        for ok in [
            "anna@example.com",
            "Anna.Schmidt@Example.DE",
            "a+tag@sub.example.co.uk",
            "o'brien@example.ie",
            "jörg@müller-bau.de",
            "x@a-b.io",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok} should be valid");
        }
    }

    #[test]
    fn trims_and_keeps_original_case() {
        let e = Email::parse("  Anna.Schmidt@Example.DE \n").unwrap();
        assert_eq!(e.as_str(), "Anna.Schmidt@Example.DE");
        assert_eq!(e.to_string(), "Anna.Schmidt@Example.DE");
        assert_eq!(e.normalized(), "anna.schmidt@example.de");
        assert_eq!(e.domain(), "example.de");
    }

    #[test]
    fn rejects_invalid_addresses() {
        for bad in [
            "",
            "   ",
            "anna",
            "anna@",
            "@example.com",
            "anna@example",
            "anna@@example.com",
            "anna@b@example.com",
            "an na@example.com",
            "anna@exa mple.com",
            "anna@.example.com",
            "anna@example..com",
            "anna@example.com.",
            "anna@-example.com",
            "anna@example-.com",
            "anna@example.c",
            "anna@127.0.0.1",
            "anna@exam_ple.com",
            ".anna@example.com",
            "anna.@example.com",
            "an..na@example.com",
            "an<na@example.com",
            "\"anna\"@example.com",
            "anna\t@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn enforces_lengths() {
        let local = "a".repeat(64);
        assert!(Email::parse(&format!("{local}@example.com")).is_ok());
        assert!(Email::parse(&format!("a{local}@example.com")).is_err());
        let label = "b".repeat(63);
        let domain = format!("{label}.{label}.{label}.de"); // 195 characters
        let fits = format!("{}@{domain}", "a".repeat(254 - 1 - domain.len()));
        assert_eq!(fits.len(), 254);
        assert!(Email::parse(&fits).is_ok());
        assert!(Email::parse(&format!("a{fits}")).is_err());
        assert!(Email::parse(&format!("a@{}.de", "b".repeat(64))).is_err());
    }

    #[test]
    fn errors_do_not_quote_the_input() {
        let e = Email::parse("geheim.person@nowhere").unwrap_err();
        assert!(!e.to_string().contains("geheim"));
        assert!(e.to_string().contains("e-mail address"));
    }

    #[test]
    fn debug_is_redacted() {
        let e = Email::parse("anna@example.com").unwrap();
        assert_eq!(format!("{e:?}"), "Email(<redacted>)");
        assert_eq!(format!("{:?}", Some(e)), "Some(Email(<redacted>))");
    }

    #[test]
    fn serde_round_trip_validates() {
        let e = Email::parse("Anna@Example.com").unwrap();
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, "\"Anna@Example.com\"");
        let back: Email = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
        let err = serde_json::from_str::<Email>("\"not-an-address\"").unwrap_err();
        assert!(!err.to_string().contains("not-an-address"));
        assert!(serde_json::from_str::<Email>("42").is_err());
    }

    #[test]
    fn from_str_parses() {
        let e: Email = " x@y.de ".parse().unwrap();
        assert_eq!(e.as_str(), "x@y.de");
    }
}
