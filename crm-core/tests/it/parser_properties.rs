//! Property tests for every parser of user input (issue 14, item 16): CSV import rows,
//! JSON input, e-mail, phone, VAT id, money, dates and times, and the single-line text
//! rule. No input may panic; where a value has a canonical form, parsing it again gives
//! the same value. The `cargo fuzz` targets in `fuzz/` drive the same entry points with
//! coverage guidance.

use chrono::{DateTime, Datelike as _, NaiveDate, TimeZone as _, Utc};
use crm_core::domain::text::{check_single_line, escape_for_terminal, is_unsafe_char};
use crm_core::domain::{
    Currency, DayEnd, Email, Money, Phone, VatId, Website, Zone, parse_date, parse_duration,
    parse_time,
};
use crm_core::import::ImportOptions;
use crm_core::import::contacts::check::check_contacts;
use crm_core::store::activity::NewActivity;
use crm_core::store::company::NewCompany;
use crm_core::store::contact::{ContactPatch, NewContact};
use crm_core::store::deal::NewDeal;
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap()
}

/// Cells as real exports hold them, and hostile ones: quotes, delimiters, line breaks,
/// NUL and escape bytes, umlauts, long runs.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-zÄÖÜäöüß .,;'\"@+()/-]{0,24}",
        "[0-9 +/()-]{0,20}",
        "[a-z]{1,8}@[a-z]{1,8}\\.(de|com|ch)",
        "\\PC{0,16}",
        any::<String>(),
        Just("\u{0}".to_string()),
        Just("\u{1b}]0;x\u{7}".to_string()),
        Just("\"".to_string()),
        Just("=HYPERLINK(\"x\")".to_string()),
    ]
}

const HEADERS: &[&str] = &[
    "Vorname",
    "Nachname",
    "E-Mail",
    "Telefon",
    "Mobil",
    "Firma",
    "USt-IdNr",
    "Webseite",
    "Straße",
    "PLZ",
    "Ort",
    "Land",
    "Tags",
    "Geburtstag",
    "Notizen",
    "Quelle",
    "Unbekannt",
];

fn csv_line(cells: &[String], delimiter: char) -> String {
    let quoted: Vec<String> = cells
        .iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect();
    quoted.join(&delimiter.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Arbitrary bytes through the importer's front half: never a panic; every record read
    /// is valid or failed.
    #[test]
    fn import_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048),
                                    keep in any::<bool>()) {
        let opts = ImportOptions { keep_unknown: keep, ..ImportOptions::default() };
        if let Ok(c) = check_contacts(&bytes[..], &opts, "DE") {
            prop_assert_eq!(c.rows, c.valid + c.failed);
        }
    }

    /// Well-formed CSV with hostile cells: every row is counted once, valid or failed,
    /// and each failure names its line.
    #[test]
    fn import_counts_every_row_of_well_formed_csv(
        rows in proptest::collection::vec(proptest::collection::vec(cell(), HEADERS.len()), 1..12),
        semicolon in any::<bool>(),
    ) {
        let d = if semicolon { ';' } else { ',' };
        let mut text = HEADERS.join(&d.to_string());
        text.push('\n');
        let mut nonblank = 0u64;
        for r in &rows {
            text.push_str(&csv_line(r, d));
            text.push('\n');
            if !r.iter().all(|c| c.bytes().all(|b| b.is_ascii_whitespace())) {
                nonblank += 1;
            }
        }
        let opts = ImportOptions { delimiter: Some(d as u8), ..ImportOptions::default() };
        let c = check_contacts(text.as_bytes(), &opts, "DE").unwrap();
        prop_assert_eq!(c.rows, nonblank);
        prop_assert_eq!(c.rows, c.valid + c.failed);
        let lines = 1 + text.lines().count() as u64;
        for e in &c.errors {
            prop_assert!(e.line >= 2 && e.line <= lines, "line {} of {}", e.line, lines);
        }
    }

    /// JSON input: arbitrary text and arbitrary JSON objects read as the input types never
    /// panic.
    #[test]
    fn json_input_never_panics(text in any::<String>(), keys in proptest::collection::vec(
        prop_oneof![Just("first_name"), Just("last_name"), Just("email"), Just("emails"),
                    Just("phones"), Just("birthday"), Just("value"), Just("custom"),
                    Just("tags"), Just("version"), Just("name"), Just("due_at")], 0..6),
        values in proptest::collection::vec(cell(), 6)) {
        let _ = serde_json::from_str::<NewContact>(&text);
        let mut obj = serde_json::Map::new();
        for (k, v) in keys.iter().zip(&values) {
            obj.insert((*k).to_string(), serde_json::Value::String(v.clone()));
        }
        let json = serde_json::Value::Object(obj).to_string();
        let _ = serde_json::from_str::<NewContact>(&json);
        let _ = serde_json::from_str::<ContactPatch>(&json);
        let _ = serde_json::from_str::<NewCompany>(&json);
        let _ = serde_json::from_str::<NewDeal>(&json);
        let _ = serde_json::from_str::<NewActivity>(&json);
    }

    /// E-mail: never a panic; an accepted address parses to itself, its normal form is
    /// stable, and it never holds a control character.
    #[test]
    fn email_parses_to_itself(raw in prop_oneof![any::<String>(), "[a-zA-Z0-9._%+-]{1,20}@[a-zA-Z0-9-]{1,20}\\.[a-z]{2,6}"]) {
        if let Ok(e) = Email::parse(&raw) {
            let again = Email::parse(e.as_str()).unwrap();
            prop_assert_eq!(again.as_str(), e.as_str());
            let norm = Email::parse(&e.normalized()).unwrap().normalized();
            prop_assert_eq!(norm, e.normalized());
            prop_assert!(check_single_line(e.as_str()).is_ok());
        }
    }

    /// Phone: never a panic; an accepted number's E.164 form parses to itself, in any
    /// default region.
    #[test]
    fn phone_e164_parses_to_itself(raw in prop_oneof![any::<String>(), "[0-9 +/().-]{0,24}", "\\+49 ?1[5-7][0-9] ?[0-9]{7,8}", "0[1-9][0-9]{2,4}[ /-]?[0-9]{5,8}"],
                                   region in prop_oneof![Just("DE"), Just("CH"), Just("AT"), Just("US")]) {
        if let Ok(p) = Phone::parse(&raw, region) {
            let again = Phone::parse(p.e164(), "CH").unwrap();
            prop_assert_eq!(again.e164(), p.e164());
            prop_assert!(p.e164().starts_with('+'));
        }
    }

    /// VAT id: never a panic; the stored form parses to itself.
    #[test]
    fn vat_id_parses_to_itself(raw in prop_oneof![any::<String>(), "(DE|de) ?[0-9]{9}", "(ATU|CHE-?)[0-9.-]{8,12}( MWST)?", "[A-Z]{2}[0-9A-Z+*]{2,12}"]) {
        if let Ok(v) = VatId::parse(&raw) {
            let again = VatId::parse(v.as_str()).unwrap();
            prop_assert_eq!(again.as_str(), v.as_str());
        }
    }

    /// Websites: never a panic; the stored address parses to itself.
    #[test]
    fn website_parses_to_itself(raw in prop_oneof![any::<String>(), "(https?://)?(www\\.)?[a-z0-9-]{1,12}\\.[a-z]{2,4}(/[a-z]{0,6})?"]) {
        if let Ok(w) = Website::parse(&raw) {
            let again = Website::parse(w.as_str()).unwrap();
            prop_assert_eq!(again.as_str(), w.as_str());
        }
    }

    /// Money: never a panic; an accepted amount, written plainly, reads back the same.
    #[test]
    fn money_round_trips(raw in prop_oneof![any::<String>(), "[0-9 .,']{0,16}( ?(€|EUR|CHF))?", "-?[0-9]{1,9}([.,][0-9]{1,2})?"]) {
        if let Ok(m) = Money::parse_or(&raw, Currency::EUR) {
            let again = Money::parse(&m.amount().to_string(), m.currency().as_str()).unwrap();
            prop_assert_eq!(again.amount(), m.amount());
            prop_assert_eq!(again.currency(), m.currency());
        }
    }

    /// Dates and times: never a panic on any text.
    #[test]
    fn dates_and_times_never_panic(raw in prop_oneof![any::<String>(), "[0-9.:/ +-]{0,20}", "[+-][0-9]{1,12}[dwhms]", "(today|tomorrow|now|heute|morgen)"]) {
        let _ = parse_date(&raw, Zone::default(), now());
        let _ = parse_time(&raw, Zone::default(), DayEnd::Start, now());
        let _ = parse_time(&raw, Zone::parse("Europe/Berlin").unwrap(), DayEnd::End, now());
        let _ = parse_duration(&raw);
    }

    /// A calendar day written the German or the ISO way reads back as that day.
    #[test]
    fn dates_round_trip(days in 0i64..(200 * 366)) {
        let d = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Days::new(days as u64);
        for text in [d.format("%d.%m.%Y").to_string(), d.format("%Y-%m-%d").to_string()] {
            prop_assert_eq!(parse_date(&text, Zone::default(), now()).unwrap(), d, "{}", text);
        }
        prop_assert!(d.year() >= 1900);
    }

    /// Terminal output: whatever the text, what is printed holds no control character (in
    /// single-line form), and text without any is left alone.
    #[test]
    fn escaped_text_is_safe(raw in any::<String>()) {
        let shown = escape_for_terminal(&raw, false);
        prop_assert!(!shown.chars().any(is_unsafe_char));
        let multi = escape_for_terminal(&raw, true);
        prop_assert!(!multi.chars().any(|c| is_unsafe_char(c) && c != '\n' && c != '\t'));
        if check_single_line(&raw).is_ok() {
            prop_assert_eq!(shown.as_ref(), raw.as_str());
        }
    }
}
