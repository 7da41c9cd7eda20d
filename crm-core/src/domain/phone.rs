//! Phone numbers, parsed to E.164 with the `phonenumber` crate.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id;

use super::InvalidValue;

/// The longest raw input accepted, in characters.
const MAX_RAW_LEN: usize = 40;

/// A valid phone number: the text as entered plus its E.164 form.
///
/// Equality compares both. `Debug` shows neither. `Display` and serde use the E.164 form.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone {
    raw: String,
    e164: String,
}

impl Phone {
    /// Parses a number as people write it. National numbers are read in `default_region`, a
    /// two-letter country code such as `"DE"` (usually the organization's default region);
    /// international ones (`+41 …`, `0041 …`) in their own country.
    ///
    /// Accepted: digits, spaces and `+ - / ( ) .`; a `(0)` after the country code is dropped
    /// (`+49 (0)30-12345678`). The number must be valid for its country.
    pub fn parse(raw: &str, default_region: &str) -> Result<Self, InvalidValue> {
        let region = Id::from_str(&default_region.trim().to_ascii_uppercase())
            .map_err(|_| InvalidValue::new("has an unknown default region"))?;
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(InvalidValue::new("must not be empty"));
        }
        if trimmed.chars().count() > MAX_RAW_LEN {
            return Err(InvalidValue::new("is longer than 40 characters"));
        }
        if !trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || " +-/().".contains(c))
        {
            return Err(InvalidValue::new(
                "may only contain digits, spaces and the characters + - / ( ) .",
            ));
        }
        let digits = trimmed.chars().filter(char::is_ascii_digit).count();
        if !(3..=17).contains(&digits) {
            return Err(InvalidValue::new("is not a valid phone number"));
        }
        let cleaned = clean(trimmed);
        // The input is restricted to harmless characters above; the guard keeps a bug in the
        // metadata-driven parser from taking the process down.
        let parsed = std::panic::catch_unwind(|| {
            phonenumber::parse(Some(region), &cleaned)
                .ok()
                .filter(is_valid)
        })
        .ok()
        .flatten()
        .ok_or_else(|| InvalidValue::new("is not a valid phone number"))?;
        let e164 = e164_of(&parsed);
        if !is_e164(&e164) {
            return Err(InvalidValue::new("is not a valid phone number"));
        }
        Ok(Self {
            raw: trimmed.to_string(),
            e164,
        })
    }

    /// Reads a number as [`Phone::parse`] does, but keeps one that is written like a phone
    /// number (digits, spaces and `+ - / ( ) .`, 3 to 17 digits, at most 40 characters) and
    /// still cannot be placed in `region` (or in its own country, when it has a country
    /// code) as [`PhoneReading::Unplaced`]: it is stored as written, without an E.164 form,
    /// and never read in another country. What is not written like a phone number at all
    /// (letters, control characters, too long or too short) is an error.
    pub fn read(raw: &str, region: &str) -> Result<PhoneReading, InvalidValue> {
        // A country the phone metadata does not know places no national number; an
        // international one is read in its own country whatever the region.
        let region = if Id::from_str(&region.trim().to_ascii_uppercase()).is_ok() {
            region
        } else {
            let t = raw.trim();
            if t.starts_with('+') || t.starts_with("00") {
                "DE"
            } else {
                "ZZ"
            }
        };
        match Self::parse(raw, region) {
            Err(e) if region == "ZZ" && e.message() == "has an unknown default region" => {
                Self::read_unplaced(raw, InvalidValue::new("is not a valid phone number"))
            }
            Ok(p) => Ok(PhoneReading::Placed(p)),
            Err(e) if e.message() == "is not a valid phone number" => Self::read_unplaced(raw, e),
            Err(e) => Err(e),
        }
    }

    /// `raw` kept as written when it is written like a phone number, else `e`.
    fn read_unplaced(raw: &str, e: InvalidValue) -> Result<PhoneReading, InvalidValue> {
        let trimmed = raw.trim();
        let digits = trimmed.chars().filter(char::is_ascii_digit).count();
        let shaped = !trimmed.is_empty()
            && trimmed.chars().count() <= MAX_RAW_LEN
            && trimmed
                .chars()
                .all(|c| c.is_ascii_digit() || " +-/().".contains(c));
        if shaped && (3..=17).contains(&digits) {
            Ok(PhoneReading::Unplaced(trimmed.to_string()))
        } else {
            Err(e)
        }
    }

    /// Rebuilds a number read from storage, where both forms were validated when written.
    /// Only the shape of `e164` is checked (`+`, then 5 to 15 digits not starting with 0), so
    /// that numbers stay readable when the phone metadata changes.
    pub fn from_stored(
        raw: impl Into<String>,
        e164: impl Into<String>,
    ) -> Result<Self, InvalidValue> {
        let e164 = e164.into();
        if !is_e164(&e164) {
            return Err(InvalidValue::new("is not a phone number in E.164 form"));
        }
        Ok(Self {
            raw: raw.into(),
            e164,
        })
    }

    /// The number as entered, trimmed.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The number in E.164 form, e.g. `+493012345678`.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The start of an E.164 number to search for when someone types (the start of) a phone
    /// number: `+` and the ASCII digits. International input (`+41 44 …`, `0041 44 …`) keeps
    /// its country code; national input (`0171 123`, `171 123`) is read in `default_region`
    /// (`+49171123` in `DE`); a `(0)` after the country code is dropped. `None` when there
    /// are no digits or the region is unknown.
    pub fn search_prefix(input: &str, default_region: &str) -> Option<String> {
        let input = input.trim().replace("(0)", "");
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return None;
        }
        if input.starts_with('+') {
            return Some(format!("+{digits}"));
        }
        if let Some(international) = digits.strip_prefix("00") {
            return Some(format!("+{international}"));
        }
        let region = default_region.trim().to_ascii_uppercase();
        let code = phonenumber::metadata::DATABASE
            .by_id(region.as_str())?
            .country_code();
        Some(format!("+{code}{}", digits.trim_start_matches('0')))
    }
}

/// What [`Phone::read`] made of a number.
#[derive(Clone, PartialEq, Eq)]
pub enum PhoneReading {
    /// A valid number of a known country.
    Placed(Phone),
    /// Written like a phone number, but not valid in the country it was read in: kept as
    /// written (trimmed), without an E.164 form.
    Unplaced(String),
}

impl PhoneReading {
    /// The number as written, trimmed.
    pub fn raw(&self) -> &str {
        match self {
            Self::Placed(p) => p.raw(),
            Self::Unplaced(raw) => raw,
        }
    }

    /// The E.164 form, when the number could be placed.
    pub fn e164(&self) -> Option<&str> {
        match self {
            Self::Placed(p) => Some(p.e164()),
            Self::Unplaced(_) => None,
        }
    }

    /// The warning to give for an unplaced number (never quotes the number).
    pub fn warning(&self, region: &str) -> Option<String> {
        match self {
            Self::Placed(_) => None,
            Self::Unplaced(_) => Some(format!(
                "is not a valid phone number when read in {region} (the country of the \
                 contact's address, else its company's, else the organization's region); \
                 kept as written, without an international form: add the country code (+41 ...)"
            )),
        }
    }
}

impl fmt::Debug for PhoneReading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Placed(_) => f.write_str("PhoneReading::Placed(<redacted>)"),
            Self::Unplaced(_) => f.write_str("PhoneReading::Unplaced(<redacted>)"),
        }
    }
}

/// The E.164 form of a parsed number: `+`, the country code and the national number (its
/// leading zeros included, as in Italy). This is what `phonenumber`'s formatter writes in
/// `Mode::E164`, which first looks up the national format by regular expression only to
/// leave it unused: 12 % of an import's client time went there.
fn e164_of(parsed: &phonenumber::PhoneNumber) -> String {
    format!("+{}{}", parsed.country().code(), parsed.national())
}

/// Whether a parsed number is valid: what `phonenumber::is_valid` answers, asked in a
/// cheaper order. The crate finds the number's metadata (the one region of its country code,
/// or among several the first whose leading digits or number types match) and then its
/// type, trying ten types' patterns in a fixed order (premium rate, toll free, ... fixed
/// line, mobile) through a shared cache of regular expressions keyed by pattern text; a
/// number is valid when the general pattern and some type match. Validity does not depend on
/// the order, so this tries fixed line and mobile first: 3.5 µs a number became 2.0 µs for
/// a generated million (the phone numbers were about half of an import's client time), and
/// each pattern is matched as the crate matches it, compiled once per thread ([`matches`]).
/// The test below compares the two on every example number of the metadata and on
/// variants of them.
fn is_valid(number: &phonenumber::PhoneNumber) -> bool {
    use phonenumber::metadata::DATABASE;
    let code = number.code().value();
    let national = number.national().to_string();
    let Some(regions) = DATABASE.region(&code) else {
        return false;
    };
    let meta = match regions.as_slice() {
        ["001"] => DATABASE.by_code(&code).and_then(|m| m.into_iter().next()),
        [one] => DATABASE.by_id(*one),
        several => several
            .iter()
            .filter_map(|r| DATABASE.by_id(*r))
            .find(|meta| match meta.leading_digits() {
                Some(p) => starts_with_match(p.as_str(), &national),
                None => has_a_type(meta, &national),
            }),
    };
    meta.is_some_and(|meta| has_a_type(meta, &national))
}

/// Whether `national` matches the general pattern of `meta` and the pattern of one of its
/// number types.
fn has_a_type(meta: &'static phonenumber::Metadata, national: &str) -> bool {
    matches(meta.descriptors().general(), national)
        && number_types(meta)
            .into_iter()
            .flatten()
            .any(|t| matches(t, national))
}

/// What `Descriptor::is_match` answers: `national` has one of the descriptor's possible
/// lengths (when it names any) and its pattern matches from the first digit.
fn matches(d: &'static phonenumber::metadata::Descriptor, national: &str) -> bool {
    let lengths = d.possible_length();
    (lengths.is_empty() || u16::try_from(national.len()).is_ok_and(|len| lengths.contains(&len)))
        && starts_with_match(d.national_number().as_str(), national)
}

/// Whether the leftmost match of the pattern `source` in `text` starts at its beginning, as
/// the crate asks it: whether the pattern matches anchored at the start, which is what is
/// compiled and asked (no search for a later start, no backward scan for where a match
/// begins). Each pattern is compiled once per thread, keyed by where its text lives: the
/// crate keeps its compiled patterns in one cache behind a mutex, keyed by the pattern's
/// text, which it hashes on every use (a tenth of an import's client time went to hashing
/// pattern texts), while its patterns live in a static database for as long as the program
/// (hence `'static`), so the text's address and length are a key that needs no hashing. The
/// same `regex` crate compiles them with the crate's options (whitespace in the metadata's
/// patterns ignored). A pattern that does not compile (the crate would panic on it) matches
/// nothing.
fn starts_with_match(source: &'static str, text: &str) -> bool {
    type Compiled = std::collections::HashMap<(*const u8, usize), Option<regex::Regex>>;
    thread_local! {
        static COMPILED: std::cell::RefCell<Compiled> = std::cell::RefCell::default();
    }
    COMPILED.with_borrow_mut(|compiled| {
        compiled
            .entry((source.as_ptr(), source.len()))
            .or_insert_with(|| {
                // On lines of their own: in whitespace-insensitive mode a `#` would comment
                // out the rest of its line.
                regex::RegexBuilder::new(&format!("^(?:\n{source}\n)"))
                    .ignore_whitespace(true)
                    .build()
                    .ok()
            })
            .as_ref()
            .is_some_and(|re| re.is_match(text))
    })
}

/// The patterns of the number types `phonenumber`'s `number_type` tells apart, fixed line
/// and mobile first.
fn number_types(
    meta: &'static phonenumber::Metadata,
) -> [Option<&'static phonenumber::metadata::Descriptor>; 10] {
    let d = meta.descriptors();
    [
        d.fixed_line(),
        d.mobile(),
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
}

/// Drops a `(0)` that follows an international prefix (`+49 (0)30 …`), which `phonenumber`
/// would otherwise read as part of the number.
fn clean(s: &str) -> String {
    if s.starts_with('+') || s.starts_with("00") {
        s.replace("(0)", "")
    } else {
        s.to_string()
    }
}

/// `+`, then 5 to 15 digits, the first not 0: the shape the schema's CHECK expects.
fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| {
        (5..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()) && !d.starts_with('0')
    })
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Phone(<redacted>)")
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl serde::Serialize for Phone {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.e164)
    }
}

/// Deserializes from a string in international form (`+41 44 668 18 00`); without a
/// default region a national number cannot be read and is rejected.
impl<'de> serde::Deserialize<'de> for Phone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::deserialize_parsed(deserializer, |s| {
            let t = s.trim();
            if t.starts_with('+') || t.starts_with("00") {
                // The region is not used for international numbers.
                Self::parse(t, "DE")
            } else {
                Err(InvalidValue::new(
                    "must be in international form (+country code)",
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`e164_of`] writes what the crate's formatter writes in `Mode::E164`, for the
    /// example number of every type of every region the metadata knows (Italy's leading
    /// zero among them).
    #[test]
    fn the_e164_form_is_the_formatters_for_every_example_number() {
        let mut checked = 0;
        for meta in phonenumber::metadata::DATABASE.iter() {
            let kinds = number_types(meta);
            for example in kinds.into_iter().flatten().filter_map(|d| d.example()) {
                let text = format!("+{} {example}", meta.country_code());
                let Ok(parsed) = phonenumber::parse(None, &text) else {
                    continue;
                };
                assert_eq!(
                    e164_of(&parsed),
                    parsed.format().mode(phonenumber::Mode::E164).to_string(),
                    "{text}"
                );
                checked += 1;
            }
        }
        assert!(checked > 1000, "only {checked} example numbers parsed");
    }

    /// [`is_valid`] answers what `phonenumber::is_valid` answers: for the example number of
    /// every type of every region, each read in its own country (international) and in its
    /// region (national), and for variants of each with a digit changed, one dropped and one
    /// added (mostly invalid numbers, which take the longest way through both).
    #[test]
    fn validity_is_the_crates_for_example_numbers_and_their_variants() {
        let (mut checked, mut valid) = (0, 0);
        for meta in phonenumber::metadata::DATABASE.iter() {
            let kinds = number_types(meta);
            for example in kinds.into_iter().flatten().filter_map(|d| d.example()) {
                let last = example.len() - 1;
                let changed = |i: usize| {
                    let mut b = example.as_bytes().to_vec();
                    b[i] = b'0' + (b[i] - b'0' + 7) % 10;
                    String::from_utf8(b).unwrap_or_default()
                };
                let variants = [
                    example.to_string(),
                    changed(0),
                    changed(last),
                    changed(last / 2),
                    example[..last].to_string(),
                    format!("{example}7"),
                ];
                for v in variants {
                    let international = format!("+{} {v}", meta.country_code());
                    let region = meta.id().parse::<Id>().ok();
                    let national = region.map(|r| (r, v.clone()));
                    let readings = [
                        phonenumber::parse(None, &international).ok(),
                        national.and_then(|(r, v)| phonenumber::parse(Some(r), &v).ok()),
                    ];
                    for parsed in readings.into_iter().flatten() {
                        let ours = is_valid(&parsed);
                        assert_eq!(ours, phonenumber::is_valid(&parsed), "{international}");
                        checked += 1;
                        valid += usize::from(ours);
                    }
                }
            }
        }
        assert!(checked > 10_000, "only {checked} numbers compared");
        assert!(
            valid > 1_000 && valid < checked,
            "{valid} of {checked} valid"
        );
    }

    #[test]
    fn parses_international_and_national_forms() {
        let cases = [
            ("+41 44 668 18 00", "DE", "+41446681800"),
            ("0041 44 668 18 00", "DE", "+41446681800"),
            ("030 1234567", "DE", "+49301234567"),
            ("0171/1234567", "DE", "+491711234567"),
            ("+49 (0)30-12345678", "DE", "+493012345678"),
            ("+49 30 12345678", "AT", "+493012345678"),
            ("(030) 123 456 78", "de", "+493012345678"),
            ("044 668 18 00", "CH", "+41446681800"),
            ("01 53 43 82 00", "FR", "+33153438200"),
        ];
        for (raw, region, e164) in cases {
            let p = Phone::parse(raw, region).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(p.e164(), e164, "{raw}");
            assert_eq!(p.raw(), raw.trim());
        }
    }

    #[test]
    fn rejects_invalid_numbers() {
        for bad in [
            "",
            "   ",
            "12",
            "abc",
            "030 1234567 ext 5",
            "+49 30 1234567890123456",
            "+999 1234567",
            "0000000",
            "+;phone-context=",
            "tel:+49301234567",
            "030\u{0660}1234567",
            "1234567890123456789012345678901234567890123",
        ] {
            assert!(
                Phone::parse(bad, "DE").is_err(),
                "{bad:?} should be invalid"
            );
        }
    }

    #[test]
    fn messy_numbers_of_real_exports() {
        let cases = [
            ("0171/1234567", "DE", "+491711234567"),
            ("+49 (0)89 123456-78", "DE", "+498912345678"),
            ("044 123 45 67", "CH", "+41441234567"),
            ("01 5873456-12", "AT", "+431587345612"),
        ];
        for (raw, region, e164) in cases {
            let p = Phone::read(raw, region).unwrap();
            assert_eq!(p.e164(), Some(e164), "{raw} in {region}");
        }
    }

    #[test]
    fn unplaced_numbers_are_kept_as_written() {
        let r = Phone::read(" +999 1234567 ", "DE").unwrap();
        assert_eq!(r, PhoneReading::Unplaced("+999 1234567".into()));
        assert_eq!(r.e164(), None);
        assert_eq!(r.raw(), "+999 1234567");
        assert!(r.warning("DE").is_some_and(|w| !w.contains("999")));
        assert_eq!(
            Phone::read("044 123 45 67", "QQ").unwrap().e164(),
            None,
            "a national number in a country without metadata stays as written"
        );
        assert_eq!(
            Phone::read("+41 44 123 45 67", "QQ").unwrap().e164(),
            Some("+41441234567")
        );
        for bad in [
            "",
            "abc",
            "12",
            "030\u{0}1234567",
            "1234567890123456789012345678901234567890123",
        ] {
            assert!(Phone::read(bad, "DE").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rejects_unknown_region() {
        let e = Phone::parse("030 1234567", "XX").unwrap_err();
        assert_eq!(e.to_string(), "has an unknown default region");
        assert!(Phone::parse("030 1234567", "").is_err());
        assert!(Phone::parse("030 1234567", "Deutschland").is_err());
    }

    #[test]
    fn errors_do_not_quote_the_input() {
        let e = Phone::parse("0301", "DE").unwrap_err();
        assert!(!e.to_string().contains("0301"));
    }

    #[test]
    fn search_prefix() {
        assert_eq!(
            Phone::search_prefix("0171 / 123", "DE").as_deref(),
            Some("+49171123")
        );
        assert_eq!(
            Phone::search_prefix("171 123", "de").as_deref(),
            Some("+49171123")
        );
        assert_eq!(
            Phone::search_prefix("+49 171 123", "CH").as_deref(),
            Some("+49171123")
        );
        assert_eq!(
            Phone::search_prefix("0049-171-123", "AT").as_deref(),
            Some("+49171123")
        );
        assert_eq!(
            Phone::search_prefix("+49 (0)30 1234", "DE").as_deref(),
            Some("+49301234")
        );
        assert_eq!(
            Phone::search_prefix("044 123 45", "CH").as_deref(),
            Some("+414412345")
        );
        assert_eq!(Phone::search_prefix("abc", "DE"), None);
        assert_eq!(Phone::search_prefix("0171", "XX"), None);
        let p = Phone::parse("0171/1234567", "DE").unwrap();
        let prefix = Phone::search_prefix("0171 123", "DE").unwrap();
        assert!(p.e164().starts_with(&prefix));
    }

    #[test]
    fn from_stored_checks_shape_only() {
        let p = Phone::from_stored("030 1234567", "+49301234567").unwrap();
        assert_eq!(p.raw(), "030 1234567");
        assert_eq!(p.e164(), "+49301234567");
        assert_eq!(p, Phone::parse("030 1234567", "DE").unwrap());
        for bad in [
            "49301234567",
            "+0301234567",
            "+49 30",
            "+1234",
            "+1234567890123456",
            "",
        ] {
            assert!(Phone::from_stored("x", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn debug_is_redacted_display_is_e164() {
        let p = Phone::parse("030 1234567", "DE").unwrap();
        assert_eq!(format!("{p:?}"), "Phone(<redacted>)");
        assert_eq!(p.to_string(), "+49301234567");
    }

    #[test]
    fn serde_uses_e164_and_needs_international_form() {
        let p = Phone::parse("0171/1234567", "DE").unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, "\"+491711234567\"");
        let back: Phone = serde_json::from_str(&json).unwrap();
        assert_eq!(back.e164(), p.e164());
        assert!(serde_json::from_str::<Phone>("\"0171 1234567\"").is_err());
        assert!(serde_json::from_str::<Phone>("\"+49 12\"").is_err());
    }
}
