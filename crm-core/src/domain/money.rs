//! Currencies and amounts of money.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::InvalidValue;

/// An ISO 4217 currency the CRM knows, e.g. `EUR`.
///
/// Only codes in [`Currency::ALL`] exist; each knows how many decimal places its amounts may
/// have (2, or 0 for JPY, ISK and KRW).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: &'static str,
    minor_units: u32,
}

macro_rules! currencies {
    ($($name:ident $units:literal $what:literal),* $(,)?) => {
        impl Currency {
            $(
                #[doc = concat!($what, " (`", stringify!($name), "`).")]
                pub const $name: Currency =
                    Currency { code: stringify!($name), minor_units: $units };
            )*

            /// Every known currency, euro first.
            pub const ALL: &'static [Currency] = &[$(Currency::$name),*];
        }
    };
}

currencies! {
    EUR 2 "Euro",
    CHF 2 "Swiss franc",
    USD 2 "US dollar",
    GBP 2 "Pound sterling",
    PLN 2 "Polish złoty",
    CZK 2 "Czech koruna",
    SEK 2 "Swedish krona",
    DKK 2 "Danish krone",
    NOK 2 "Norwegian krone",
    JPY 0 "Japanese yen",
    HUF 2 "Hungarian forint",
    RON 2 "Romanian leu",
    BGN 2 "Bulgarian lev",
    ISK 0 "Icelandic króna",
    TRY 2 "Turkish lira",
    CAD 2 "Canadian dollar",
    AUD 2 "Australian dollar",
    NZD 2 "New Zealand dollar",
    CNY 2 "Chinese yuan",
    HKD 2 "Hong Kong dollar",
    SGD 2 "Singapore dollar",
    INR 2 "Indian rupee",
    ZAR 2 "South African rand",
    BRL 2 "Brazilian real",
    MXN 2 "Mexican peso",
    KRW 0 "South Korean won",
}

impl Currency {
    /// Parses a three-letter code, in any case (`eur` → `EUR`). Codes not in
    /// [`Currency::ALL`] are rejected.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let s = raw.trim();
        if s.len() != 3 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(InvalidValue::new("is not a three-letter currency code"));
        }
        let code = s.to_ascii_uppercase();
        Self::ALL
            .iter()
            .find(|c| c.code == code)
            .copied()
            .ok_or_else(|| InvalidValue::new("is not a supported currency"))
    }

    /// The code, e.g. `EUR`.
    pub fn as_str(&self) -> &'static str {
        self.code
    }

    /// How many decimal places amounts in this currency may have.
    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }
}

impl Default for Currency {
    /// The euro.
    fn default() -> Self {
        Currency::EUR
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl FromStr for Currency {
    type Err = InvalidValue;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::deserialize_parsed(deserializer, Self::parse)
    }
}

/// Amounts must stay below 10^16, the limit of the schema's `numeric(18, 2)`.
const MAX_INTEGER_DIGITS: usize = 16;

/// Characters that only ever group thousands: spaces (plain, no-break, narrow no-break) and
/// the Swiss apostrophe.
const GROUP_ONLY: &[char] = &[' ', '\u{a0}', '\u{202f}', '\''];

/// A non-negative amount in a currency, with no more decimal places than the currency has.
///
/// The amount is kept at exactly the currency's decimal places (`1234.5` EUR is stored as
/// `1234.50`), so `Display` gives `1234.50 EUR` and serde gives
/// `{"amount": "1234.50", "currency": "EUR"}` (the amount as a string, never a float).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "MoneyRepr")]
pub struct Money {
    #[serde(with = "rust_decimal::serde::str")]
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Checks an amount: not negative, below 10^16, and at most as many decimal places as the
    /// currency has (trailing zeros do not count: `12.500` EUR is fine).
    pub fn new(amount: Decimal, currency: Currency) -> Result<Self, InvalidValue> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(InvalidValue::new("must not be negative"));
        }
        let normalized = amount.normalize();
        if normalized.scale() > currency.minor_units {
            return Err(match currency.minor_units {
                0 => InvalidValue::new(format!("must be a whole number in {}", currency.code)),
                n => InvalidValue::new(format!("must not have more than {n} decimal places")),
            });
        }
        if normalized.trunc().abs().to_string().len() > MAX_INTEGER_DIGITS {
            return Err(InvalidValue::new("is too large"));
        }
        let mut amount = normalized.abs();
        amount.rescale(currency.minor_units);
        Ok(Self { amount, currency })
    }

    /// Zero in a currency.
    pub fn zero(currency: Currency) -> Self {
        let mut amount = Decimal::ZERO;
        amount.rescale(currency.minor_units);
        Self { amount, currency }
    }

    /// Parses an amount as people type it, and a currency code.
    ///
    /// Accepted: `12500`, `1234.50`, `1234,50`, `1.234,50`, `1,234.50`, `1 234,50`,
    /// `1'234.50`, each with or without a currency sign or code before or after it (`€`,
    /// `EUR`, `CHF`, any code of [`Currency::ALL`]), which must then be `currency`. A single
    /// `.` or `,` followed by exactly three digits (`12.500`) is rejected as ambiguous, since
    /// it reads differently in German and English.
    pub fn parse(amount: &str, currency: &str) -> Result<Self, InvalidValue> {
        let currency = Currency::parse(currency)?;
        let (named, number) = split_currency(amount)?;
        if named.is_some_and(|n| n != currency) {
            return Err(InvalidValue::new(format!(
                "names another currency than {currency}"
            )));
        }
        Self::new(parse_amount(number)?, currency)
    }

    /// Like [`Money::parse`], with the currency the amount names (`12.500,00 €`,
    /// `CHF 12'500.00`), else `default`.
    pub fn parse_or(amount: &str, default: Currency) -> Result<Self, InvalidValue> {
        let (named, number) = split_currency(amount)?;
        Self::new(parse_amount(number)?, named.unwrap_or(default))
    }

    /// The currency an amount as typed names with a sign or a code, if any (`12.500,00 €`
    /// names EUR); an error when it names one that does not exist.
    pub fn named_currency(amount: &str) -> Result<Option<Currency>, InvalidValue> {
        split_currency(amount).map(|(named, _)| named)
    }

    /// The amount, with exactly the currency's decimal places.
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    pub fn currency(&self) -> Currency {
        self.currency
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// The serialized form, checked by `Money::new` on the way in. The amount may be a string in
/// plain decimal notation or an integer.
#[derive(serde::Deserialize)]
struct MoneyRepr {
    amount: AmountRepr,
    currency: Currency,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum AmountRepr {
    Text(String),
    Integer(u64),
}

impl TryFrom<MoneyRepr> for Money {
    type Error = InvalidValue;

    fn try_from(repr: MoneyRepr) -> Result<Self, Self::Error> {
        let amount = match repr.amount {
            AmountRepr::Text(s) => Decimal::from_str_exact(s.trim())
                .map_err(|_| InvalidValue::new("amount is not a decimal number"))?,
            AmountRepr::Integer(n) => Decimal::from(n),
        };
        Money::new(amount, repr.currency)
    }
}

/// Splits a currency sign (`€`) or a three-letter code before or after an amount from it.
fn split_currency(raw: &str) -> Result<(Option<Currency>, &str), InvalidValue> {
    let s = raw.trim();
    if let Some(rest) = s.strip_prefix('€').or_else(|| s.strip_suffix('€')) {
        return Ok((Some(Currency::EUR), rest.trim()));
    }
    let letters = |t: &str| t.len() == 3 && t.bytes().all(|b| b.is_ascii_alphabetic());
    let (head, tail) = (s.get(..3), s.get(s.len().saturating_sub(3)..));
    let (code, rest) = match (head, tail) {
        (Some(h), _) if letters(h) => (h, &s[3..]),
        (_, Some(t)) if s.len() > 3 && letters(t) => (t, &s[..s.len() - 3]),
        _ => return Ok((None, s)),
    };
    let currency = Currency::parse(code)
        .map_err(|_| InvalidValue::new("names a currency that is not supported"))?;
    Ok((Some(currency), rest.trim()))
}

/// Reads an amount in English or German notation into a decimal (see [`Money::parse`]).
fn parse_amount(raw: &str) -> Result<Decimal, InvalidValue> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(InvalidValue::new("must not be empty"));
    }
    if s.starts_with('-') {
        return Err(InvalidValue::new("must not be negative"));
    }
    let invalid = || InvalidValue::new("is not a valid amount");

    // Alternating digit runs and single separator characters, starting and ending with digits.
    let mut runs: Vec<String> = vec![String::new()];
    let mut seps: Vec<char> = Vec::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            if let Some(run) = runs.last_mut() {
                run.push(c);
            }
        } else if c == '.' || c == ',' || GROUP_ONLY.contains(&c) {
            if runs.last().is_none_or(String::is_empty) {
                return Err(invalid());
            }
            seps.push(c);
            runs.push(String::new());
        } else {
            return Err(invalid());
        }
    }
    if runs.last().is_none_or(String::is_empty) {
        return Err(invalid());
    }

    // The decimal separator, if any, is the last separator: a `.` or `,` that occurs once.
    let decimal = match seps.last() {
        Some(&c @ ('.' | ',')) if seps.iter().filter(|&&s| s == c).count() == 1 => Some(c),
        _ => None,
    };
    if decimal.is_some() && seps.len() == 1 && looks_like_thousands(&runs) {
        return Err(InvalidValue::new(
            "is ambiguous: write 1234.50 or 1.234,50 (or 1234 without a separator)",
        ));
    }
    let (int_runs, frac) = match decimal {
        Some(_) => {
            let (frac, int_runs) = runs.split_last().ok_or_else(invalid)?;
            (int_runs, Some(frac.as_str()))
        }
        None => (runs.as_slice(), None),
    };
    let group_seps = &seps[..int_runs.len() - 1];
    if let Some(&group) = group_seps.first() {
        let consistent = group_seps.iter().all(|&c| c == group) && Some(group) != decimal;
        let first_ok = int_runs.first().is_some_and(|r| (1..=3).contains(&r.len()));
        let rest_ok = int_runs.iter().skip(1).all(|r| r.len() == 3);
        if !(consistent && first_ok && rest_ok) {
            return Err(invalid());
        }
    }
    let integer: String = int_runs.concat();
    if integer.trim_start_matches('0').len() > MAX_INTEGER_DIGITS {
        return Err(InvalidValue::new("is too large"));
    }
    let text = match frac {
        Some(frac) => format!("{integer}.{frac}"),
        None => integer,
    };
    Decimal::from_str_exact(&text).map_err(|_| invalid())
}

/// Whether `runs` (two digit runs around one separator) read like a grouped thousand:
/// `1.234`, `12,500`, `999.000`.
fn looks_like_thousands(runs: &[String]) -> bool {
    match runs {
        [int, frac] => frac.len() == 3 && (1..=3).contains(&int.len()) && !int.starts_with('0'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn currency_parse() {
        assert_eq!(Currency::parse("EUR").unwrap(), Currency::EUR);
        assert_eq!(Currency::parse(" chf ").unwrap(), Currency::CHF);
        assert_eq!(Currency::parse("jpy").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("Usd").unwrap().as_str(), "USD");
        assert_eq!("gbp".parse::<Currency>().unwrap(), Currency::GBP);
        for bad in ["", "EU", "EURO", "E1R", "€", "XXX", "ABC", "ÄÖÜ"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?} should be invalid");
        }
        assert_eq!(
            Currency::parse("ABC").unwrap_err().to_string(),
            "is not a supported currency"
        );
    }

    #[test]
    fn currency_list_is_sane() {
        for code in [
            "EUR", "CHF", "USD", "GBP", "PLN", "CZK", "SEK", "DKK", "NOK", "JPY",
        ] {
            assert!(Currency::ALL.iter().any(|c| c.as_str() == code), "{code}");
        }
        for (i, c) in Currency::ALL.iter().enumerate() {
            assert_eq!(c.as_str().len(), 3);
            assert!(c.as_str().bytes().all(|b| b.is_ascii_uppercase()));
            assert!(
                Currency::ALL[..i].iter().all(|d| d.as_str() != c.as_str()),
                "{c}"
            );
            assert_eq!(Currency::parse(c.as_str()).unwrap(), *c);
        }
        assert_eq!(Currency::default(), Currency::EUR);
        assert_eq!(format!("{:?}", Currency::EUR), "Currency(EUR)");
    }

    #[test]
    fn parses_english_and_german_amounts() {
        for (raw, expected) in [
            ("12500", "12500.00"),
            ("1234.50", "1234.50"),
            ("1234.5", "1234.50"),
            ("1234,50", "1234.50"),
            ("1.234,50", "1234.50"),
            ("1,234.50", "1234.50"),
            ("1.234.567,8", "1234567.80"),
            ("1,234,567", "1234567.00"),
            ("1.234.567", "1234567.00"),
            ("1 234,50", "1234.50"),
            ("1\u{a0}234,50", "1234.50"),
            ("1'234.50", "1234.50"),
            ("0,99", "0.99"),
            ("0.5", "0.50"),
            ("0", "0.00"),
            ("  42 ", "42.00"),
            ("1234.500", "1234.50"),
            ("1,23", "1.23"),
        ] {
            let m = Money::parse(raw, "EUR").unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(m.amount().to_string(), expected, "{raw}");
            assert_eq!(m.currency(), Currency::EUR);
        }
    }

    #[test]
    fn rejects_bad_amounts() {
        for bad in [
            "",
            "-5",
            "-0,50",
            "abc",
            "12$",
            "1e5",
            "+5",
            ".5",
            "5.",
            "1..5",
            "1.,5",
            "1,2,3",
            "12,34,567",
            "1.234.56",
            "1 2 3",
            "1.234 567",
            "1,234,567.89.1",
            "1.234.567,891",
            "0.125",
        ] {
            assert!(
                Money::parse(bad, "EUR").is_err(),
                "{bad:?} should be invalid"
            );
        }
    }

    #[test]
    fn amounts_may_carry_a_currency_sign_or_code() {
        for (raw, currency, expected) in [
            ("12500", "EUR", "12500.00 EUR"),
            ("12500.00", "EUR", "12500.00 EUR"),
            ("12.500,00", "EUR", "12500.00 EUR"),
            ("12'500.00", "CHF", "12500.00 CHF"),
            ("12.500,00 €", "EUR", "12500.00 EUR"),
            ("€12.500,00", "EUR", "12500.00 EUR"),
            ("€ 12500", "eur", "12500.00 EUR"),
            ("12500 EUR", "EUR", "12500.00 EUR"),
            ("eur 12500", "EUR", "12500.00 EUR"),
            ("CHF 12'500.00", "CHF", "12500.00 CHF"),
            ("12'500.00CHF", "CHF", "12500.00 CHF"),
            ("€ 1 000", "EUR", "1000.00 EUR"),
            ("12,500.50", "EUR", "12500.50 EUR"),
            ("1500,5", "EUR", "1500.50 EUR"),
        ] {
            let m = Money::parse(raw, currency).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(m.to_string(), expected, "{raw}");
        }
        let e = Money::parse("12.500,00 €", "CHF").unwrap_err();
        assert_eq!(e.to_string(), "names another currency than CHF");
        assert!(Money::parse("12500 XYZ", "EUR").is_err());
        assert!(Money::parse("€", "EUR").is_err());
        assert!(Money::parse("€€5", "EUR").is_err());
        assert!(Money::parse("EUR 5 EUR", "EUR").is_err());
        assert_eq!(
            Money::parse_or("CHF 12'500.00", Currency::EUR)
                .unwrap()
                .to_string(),
            "12500.00 CHF"
        );
        assert_eq!(
            Money::parse_or("12.500,00", Currency::CHF)
                .unwrap()
                .to_string(),
            "12500.00 CHF"
        );
        assert_eq!(Money::named_currency("12 €").unwrap(), Some(Currency::EUR));
        assert_eq!(Money::named_currency("12").unwrap(), None);
        // The ambiguity rule holds with a sign too: never guessed.
        let e = Money::parse("12.500 €", "EUR").unwrap_err();
        assert!(e.to_string().starts_with("is ambiguous"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn no_amount_panics(raw in "\\PC{0,30}") {
            let _ = Money::parse(&raw, "EUR");
            let _ = Money::parse_or(&raw, Currency::CHF);
        }

        #[test]
        fn no_amount_shaped_input_panics(raw in "[-+0-9.,' €EURCHF]{0,24}") {
            let _ = Money::parse(&raw, "EUR");
            let _ = Money::parse_or(&raw, Currency::JPY);
        }

        #[test]
        fn german_and_english_forms_agree(int in 0u64..10_000_000_000, cents in 0u32..100) {
            let english = format!("{int}.{cents:02}");
            let mut grouped = String::new();
            for (i, c) in int.to_string().chars().enumerate() {
                let left = int.to_string().len() - i;
                if i > 0 && left % 3 == 0 {
                    grouped.push('.');
                }
                grouped.push(c);
            }
            let german = format!("{grouped},{cents:02} €");
            let swiss = format!("CHF {}.{cents:02}", grouped.replace('.', "'"));
            let a = Money::parse(&english, "EUR").unwrap();
            let b = Money::parse(&german, "EUR").unwrap();
            let c = Money::parse_or(&swiss, Currency::EUR).unwrap();
            proptest::prop_assert_eq!(a, b);
            proptest::prop_assert_eq!(a.amount(), c.amount());
            proptest::prop_assert_eq!(c.currency(), Currency::CHF);
        }
    }

    #[test]
    fn single_separator_before_three_digits_is_ambiguous() {
        for raw in ["12.500", "1,500", "999.000"] {
            let e = Money::parse(raw, "EUR").unwrap_err();
            assert!(e.to_string().starts_with("is ambiguous"), "{raw}");
        }
        // Not ambiguous: four digits before, or a leading zero.
        assert!(Money::parse("1234.500", "EUR").is_ok());
        assert!(Money::parse("0.500", "EUR").is_ok());
    }

    #[test]
    fn enforces_decimal_places_per_currency() {
        let e = Money::parse("1,234", "EUR").unwrap_err();
        assert!(e.to_string().starts_with("is ambiguous"));
        let e = Money::parse("1234,567", "EUR").unwrap_err();
        assert_eq!(e.to_string(), "must not have more than 2 decimal places");
        let jpy = Money::parse("12500", "JPY").unwrap();
        assert_eq!(jpy.to_string(), "12500 JPY");
        assert_eq!(
            Money::parse("12500,00", "jpy").unwrap().to_string(),
            "12500 JPY"
        );
        let e = Money::parse("12500,5", "JPY").unwrap_err();
        assert_eq!(e.to_string(), "must be a whole number in JPY");
    }

    #[test]
    fn enforces_range() {
        assert!(Money::parse("9999999999999999.99", "EUR").is_ok());
        assert!(Money::parse("10000000000000000", "EUR").is_err());
        assert!(Money::parse("00000000000000000001", "EUR").is_ok());
        assert!(Money::new(dec("-0.01"), Currency::EUR).is_err());
        assert!(Money::new(dec("-0.00"), Currency::EUR).is_ok());
        assert!(Money::new(dec("10000000000000000"), Currency::EUR).is_err());
        let e = Money::parse("1", "EURO").unwrap_err();
        assert_eq!(e.to_string(), "is not a three-letter currency code");
    }

    #[test]
    fn new_rescales_and_display() {
        let m = Money::new(dec("1234.5"), Currency::EUR).unwrap();
        assert_eq!(m.to_string(), "1234.50 EUR");
        assert_eq!(m.amount(), dec("1234.50"));
        assert_eq!(m, Money::parse("1.234,50", "eur").unwrap());
        assert_eq!(Money::zero(Currency::CHF).to_string(), "0.00 CHF");
        assert_eq!(Money::zero(Currency::JPY).to_string(), "0 JPY");
        assert_eq!(
            Money::new(dec("-0"), Currency::EUR).unwrap().to_string(),
            "0.00 EUR"
        );
    }

    #[test]
    fn serde_uses_string_amounts_and_validates() {
        let m = Money::parse("1.234,5", "EUR").unwrap();
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":"1234.50","currency":"EUR"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        let int: Money = serde_json::from_str(r#"{"amount":12500,"currency":"chf"}"#).unwrap();
        assert_eq!(int.to_string(), "12500.00 CHF");
        for bad in [
            r#"{"amount":"-1","currency":"EUR"}"#,
            r#"{"amount":"1.234","currency":"EUR"}"#,
            r#"{"amount":"1,5","currency":"EUR"}"#,
            r#"{"amount":"1.5","currency":"XXX"}"#,
            r#"{"amount":1.5,"currency":"EUR"}"#,
            r#"{"amount":-3,"currency":"EUR"}"#,
            r#"{"currency":"EUR"}"#,
        ] {
            assert!(serde_json::from_str::<Money>(bad).is_err(), "{bad}");
        }
    }
}
