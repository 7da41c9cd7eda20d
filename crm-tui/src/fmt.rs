//! How values look on screen: money in the user's locale (currencies never summed together),
//! dates, and the due times typed into forms.

use std::collections::BTreeMap;

use chrono::{DateTime, Local, NaiveDate, Utc};
use crm_core::domain::{DayEnd, Zone, parse_date, parse_time};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive as _;

/// Groups the digits of a non-negative integer part with `sep`.
fn group(int: &str, sep: char) -> String {
    let mut out = String::with_capacity(int.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// `12.500,00 €` (German), `€12,500.00` (English), `CHF 9'300.00`; `decimals` false rounds
/// to whole units (cards).
pub fn money(value: Decimal, currency: &str, german: bool, decimals: bool) -> String {
    let v = if decimals {
        value.round_dp(2)
    } else {
        value.round_dp(0)
    };
    let neg = v.is_sign_negative() && !v.is_zero();
    let abs = v.abs();
    let s = if decimals {
        format!("{abs:.2}")
    } else {
        format!("{:.0}", abs)
    };
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let (thousands, point) = match (currency, german) {
        ("CHF", _) => ('\'', '.'),
        (_, true) => ('.', ','),
        (_, false) => (',', '.'),
    };
    let mut n = group(int, thousands);
    if !frac.is_empty() {
        n.push(point);
        n.push_str(frac);
    }
    if neg {
        n.insert(0, '-');
    }
    match (currency, german) {
        ("EUR", true) => format!("{n} €"),
        ("EUR", false) => format!("€{n}"),
        ("USD", _) => format!("${n}"),
        ("GBP", _) => format!("£{n}"),
        (c, _) => format!("{c} {n}"),
    }
}

/// Compact money for narrow places: `148k €`, `1.2M €`.
pub fn money_compact(value: Decimal, currency: &str, german: bool) -> String {
    let f = value.to_f64().unwrap_or(0.0);
    let (n, unit) = if f.abs() >= 1_000_000.0 {
        (f / 1_000_000.0, "M")
    } else if f.abs() >= 10_000.0 {
        (f / 1_000.0, "k")
    } else {
        return money(value, currency, german, false);
    };
    let mut num = if n.abs() >= 100.0 {
        format!("{n:.0}")
    } else {
        format!("{n:.1}")
    };
    if german {
        num = num.replace('.', ",");
    }
    match (currency, german) {
        ("EUR", true) => format!("{num}{unit} €"),
        ("EUR", false) => format!("€{num}{unit}"),
        ("USD", _) => format!("${num}{unit}"),
        (c, _) => format!("{c} {num}{unit}"),
    }
}

/// Sums per currency (never across currencies), in currency order.
pub fn totals<'a>(values: impl Iterator<Item = (Decimal, &'a str)>) -> BTreeMap<&'a str, Decimal> {
    let mut out = BTreeMap::new();
    for (v, c) in values {
        *out.entry(c).or_insert(Decimal::ZERO) += v;
    }
    out
}

/// A date as `31.12.2026` (German) or `2026-12-31`.
pub fn date(d: NaiveDate, german: bool) -> String {
    if german {
        d.format("%d.%m.%Y").to_string()
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

/// A time in the local zone (or at `zone`), as `31.12. 14:30` / `12-31 14:30`.
pub fn when(t: DateTime<Utc>, german: bool, zone: Zone) -> String {
    let l = match zone {
        Zone::Named(z) => t.with_timezone(&z).naive_local(),
        Zone::Machine => t.with_timezone(&Local).naive_local(),
    };
    if german {
        l.format("%d.%m. %H:%M").to_string()
    } else {
        l.format("%m-%d %H:%M").to_string()
    }
}

/// Reads a due time typed into a form with crm-core's parser (`31.12.2026 14:30`,
/// `tomorrow`, `+2d`, ...; a bare day is its end), in the user's zone. Empty: no due time.
pub fn parse_due(raw: &str, zone: Zone) -> Result<Option<DateTime<Utc>>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    parse_time(raw, zone, DayEnd::End, Utc::now())
        .map(Some)
        .map_err(|e| e.to_string())
}

/// Reads a calendar day typed into a form with crm-core's parser. Empty: none.
pub fn parse_day(raw: &str, zone: Zone) -> Result<Option<NaiveDate>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    parse_date(raw, zone, Utc::now())
        .map(Some)
        .map_err(|e| e.to_string())
}

/// `Müller Maschinenbau` → fits `width` columns, with `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr as _;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn money_in_both_locales() {
        assert_eq!(money(d("12500"), "EUR", true, true), "12.500,00 €");
        assert_eq!(money(d("12500"), "EUR", false, true), "€12,500.00");
        assert_eq!(money(d("9300"), "CHF", true, true), "CHF 9'300.00");
        assert_eq!(money(d("1234567.5"), "EUR", true, false), "1.234.568 €");
        assert_eq!(money(d("950"), "USD", false, false), "$950");
        assert_eq!(money_compact(d("148200"), "EUR", true), "148k €");
        assert_eq!(money_compact(d("8900"), "EUR", true), "8.900 €");
        assert_eq!(money_compact(d("14820"), "EUR", true), "14,8k €");
    }

    #[test]
    fn totals_never_mix_currencies() {
        let t = totals([(d("1"), "EUR"), (d("2"), "CHF"), (d("3"), "EUR")].into_iter());
        assert_eq!(t.get("EUR"), Some(&d("4")));
        assert_eq!(t.get("CHF"), Some(&d("2")));
    }

    #[test]
    fn due_times_go_through_the_shared_parser() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(parse_due("", berlin), Ok(None));
        let t = parse_due("31.12.2026 14:30", berlin).unwrap().unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-31T13:30:00+00:00");
        assert!(parse_due("someday", berlin).is_err());
        assert_eq!(
            parse_day("31.12.2026", berlin),
            Ok(NaiveDate::from_ymd_opt(2026, 12, 31))
        );
        assert!(parse_day("31.12.2026 14:30", berlin).is_err());
    }

    #[test]
    fn fit_cuts_with_ellipsis() {
        assert_eq!(fit("Müller Maschinenbau", 8), "Müller …");
        assert_eq!(fit("Kurz", 8), "Kurz");
    }
}
