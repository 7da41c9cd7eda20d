//! VAT identification numbers.

use std::fmt;
use std::str::FromStr;

use super::InvalidValue;

/// EU (and Northern Ireland, `XI`) prefixes checked only for the generic shape: two letters,
/// then 2 to 12 letters or digits. Greece uses `EL`.
const OTHER_PREFIXES: &[&str] = &[
    "BG", "CY", "CZ", "DK", "EE", "EL", "ES", "FI", "HR", "HU", "IE", "LT", "LU", "LV", "MT", "PL",
    "PT", "RO", "SE", "SI", "SK", "XI",
];

/// Swiss suffixes naming the tax (German, French, Italian), accepted and dropped.
const CH_SUFFIXES: &[&str] = &["MWST", "TVA", "IVA"];

/// A VAT identification number in normalized form: upper case, without spaces, dots or
/// dashes, e.g. `DE136695976`, `CHE116281710`.
///
/// Checked per country: DE (9 digits, ISO 7064 MOD 11,10 check digit), AT (`U` + 8 digits),
/// CH (`E` + 9 digits, mod-11 check digit; a trailing `MWST`/`TVA`/`IVA` is dropped), FR (2
/// letters or digits + 9 digits), IT (11 digits), NL (9 digits + `B` + 2 digits), BE (10
/// digits starting with 0 or 1). Other EU prefixes: 2 to 12 letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VatId(String);

impl VatId {
    /// Normalizes and checks a VAT id.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let s: String = raw
            .chars()
            .filter(|c| !(c.is_whitespace() || matches!(c, '.' | '-' | '_' | '/')))
            .flat_map(char::to_uppercase)
            .collect();
        if s.is_empty() {
            return Err(InvalidValue::new("must not be empty"));
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(InvalidValue::new("may only contain letters and digits"));
        }
        if s.len() < 2 || !s.as_bytes()[..2].iter().all(u8::is_ascii_alphabetic) {
            return Err(InvalidValue::new(
                "must start with a two-letter country prefix",
            ));
        }
        let (country, rest) = s.split_at(2);
        let bad_format = || InvalidValue::new("does not match the VAT id format of its country");
        let bad_check = || InvalidValue::new("is not a valid VAT id (check digit)");
        match country {
            "DE" => {
                if !is_digits(rest, 9) {
                    return Err(bad_format());
                }
                if !de_check_digit_ok(rest) {
                    return Err(bad_check());
                }
                Ok(Self(s))
            }
            "AT" => match rest.strip_prefix('U') {
                Some(d) if is_digits(d, 8) => Ok(Self(s)),
                _ => Err(bad_format()),
            },
            "CH" => {
                let body = rest.strip_prefix('E').ok_or_else(bad_format)?;
                let digits = CH_SUFFIXES
                    .iter()
                    .find_map(|suffix| body.strip_suffix(suffix))
                    .unwrap_or(body);
                if !is_digits(digits, 9) {
                    return Err(bad_format());
                }
                if !ch_check_digit_ok(digits) {
                    return Err(bad_check());
                }
                Ok(Self(format!("CHE{digits}")))
            }
            "FR" => {
                let ok = rest.len() == 11
                    && rest[..2].chars().all(|c| c.is_ascii_alphanumeric())
                    && is_digits(&rest[2..], 9);
                if ok { Ok(Self(s)) } else { Err(bad_format()) }
            }
            "IT" => {
                if is_digits(rest, 11) {
                    Ok(Self(s))
                } else {
                    Err(bad_format())
                }
            }
            "NL" => {
                let ok = rest.len() == 12
                    && is_digits(&rest[..9], 9)
                    && &rest[9..10] == "B"
                    && is_digits(&rest[10..], 2);
                if ok { Ok(Self(s)) } else { Err(bad_format()) }
            }
            "BE" => {
                let ok = is_digits(rest, 10) && (rest.starts_with('0') || rest.starts_with('1'));
                if ok { Ok(Self(s)) } else { Err(bad_format()) }
            }
            other if OTHER_PREFIXES.contains(&other) => {
                if (2..=12).contains(&rest.len()) {
                    Ok(Self(s))
                } else {
                    Err(bad_format())
                }
            }
            _ => Err(InvalidValue::new("has an unknown country prefix")),
        }
    }

    /// The normalized id, e.g. `DE136695976`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The two-letter prefix: `DE`, `AT`, `CH`, …; `EL` for Greece.
    pub fn country(&self) -> &str {
        self.0.get(..2).unwrap_or_default()
    }
}

/// Whether `s` is exactly `n` ASCII digits. The callers' slicing relies on `s` being ASCII,
/// which `parse` checked first.
fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn digit_values(s: &str) -> impl Iterator<Item = u32> + '_ {
    s.bytes().map(|b| u32::from(b - b'0'))
}

/// ISO 7064 MOD 11,10 over the first eight digits; the ninth is the check digit.
fn de_check_digit_ok(digits: &str) -> bool {
    let values: Vec<u32> = digit_values(digits).collect();
    let Some((&check, body)) = values.split_last() else {
        return false;
    };
    let mut product = 10;
    for &d in body {
        let mut sum = (d + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (2 * sum) % 11;
    }
    let expected = (11 - product) % 10;
    expected == check
}

/// The Swiss UID check: weights 5,4,3,2,7,6,5,4 over the first eight digits, then
/// `11 - sum mod 11` (11 becomes 0; 10 is never issued).
fn ch_check_digit_ok(digits: &str) -> bool {
    const WEIGHTS: [u32; 8] = [5, 4, 3, 2, 7, 6, 5, 4];
    let values: Vec<u32> = digit_values(digits).collect();
    let Some((&check, body)) = values.split_last() else {
        return false;
    };
    let sum: u32 = body.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    match 11 - sum % 11 {
        11 => check == 0,
        10 => false,
        expected => expected == check,
    }
}

impl fmt::Display for VatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for VatId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for VatId {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for VatId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for VatId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::deserialize_parsed(deserializer, Self::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> VatId {
        VatId::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    #[test]
    fn accepts_known_valid_ids() {
        for (raw, normalized, country) in [
            ("DE136695976", "DE136695976", "DE"),
            ("de 136 695 976", "DE136695976", "DE"),
            ("CHE-116.281.710 MWST", "CHE116281710", "CH"),
            ("CHE-116.281.710 TVA", "CHE116281710", "CH"),
            ("che116281710iva", "CHE116281710", "CH"),
            ("CHE-116.281.710", "CHE116281710", "CH"),
            ("ATU13585627", "ATU13585627", "AT"),
            ("atu 135 856 27", "ATU13585627", "AT"),
            ("NL004495445B01", "NL004495445B01", "NL"),
            ("NL 0044.95.445.B.01", "NL004495445B01", "NL"),
            ("BE0403170701", "BE0403170701", "BE"),
            ("BE 0403.170.701", "BE0403170701", "BE"),
            ("FR40303265045", "FR40303265045", "FR"),
            ("FR 4A 303265045", "FR4A303265045", "FR"),
            ("IT00743110157", "IT00743110157", "IT"),
            ("ESA28015865", "ESA28015865", "ES"),
            ("EL094014201", "EL094014201", "EL"),
            ("PL5260250995", "PL5260250995", "PL"),
        ] {
            let v = ok(raw);
            assert_eq!(v.as_str(), normalized, "{raw}");
            assert_eq!(v.to_string(), normalized, "{raw}");
            assert_eq!(v.country(), country, "{raw}");
        }
    }

    #[test]
    fn checks_the_german_check_digit() {
        assert!(VatId::parse("DE136695976").is_ok());
        let e = VatId::parse("DE136695975").unwrap_err();
        assert_eq!(e.to_string(), "is not a valid VAT id (check digit)");
        assert!(VatId::parse("DE136695977").is_err());
        // Computed by hand: body 12345678 has check digit 8 under MOD 11,10.
        assert!(VatId::parse("DE123456788").is_ok());
        assert!(VatId::parse("DE123456789").is_err());
    }

    #[test]
    fn checks_the_swiss_check_digit() {
        assert!(VatId::parse("CHE-116.281.711 MWST").is_err());
        // Weighted sum of 10000000 is 5, so the check digit is 6.
        assert!(VatId::parse("CHE100000006").is_ok());
        // Weighted sum of 10000001 is 9 (11 - 9 = 2), of 00000006 is 24 (11 - 2 = 9).
        assert!(VatId::parse("CHE100000012").is_ok());
        assert!(VatId::parse("CHE000000069").is_ok());
        // Check value 10 is never issued: weighted sum of 00000003 is 12 (11 - 1 = 10).
        assert!(VatId::parse("CHE000000030").is_err());
    }

    #[test]
    fn rejects_wrong_formats() {
        for bad in [
            "",
            " - . ",
            "DE",
            "DE13669597",
            "DE1366959760",
            "DEX36695976",
            "ATU1358562",
            "AT13585627",
            "CHE11628171",
            "CH116281710",
            "CHE116281710XYZ",
            "FR4030326504",
            "FR4!303265045",
            "IT0074311015",
            "NL004495445X01",
            "NL004495445B1",
            "BE2403170701",
            "BE403170701",
            "ES1",
            "PL1234567890123",
            "US123456789",
            "GB123456789",
            "123456789",
            "DE13669597ä",
        ] {
            assert!(VatId::parse(bad).is_err(), "{bad:?} should be invalid");
        }
        assert_eq!(
            VatId::parse("US123456789").unwrap_err().to_string(),
            "has an unknown country prefix"
        );
    }

    #[test]
    fn serde_round_trip_normalizes() {
        let v: VatId = serde_json::from_str("\"CHE-116.281.710 MWST\"").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"CHE116281710\"");
        assert!(serde_json::from_str::<VatId>("\"DE000\"").is_err());
    }
}
