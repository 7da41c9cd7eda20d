//! How values look on screen: money in the user's locale (currencies never summed together),
//! dates, and the due times typed into forms.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Local, NaiveDate, NaiveTime, TimeZone as _, Utc};
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
pub fn when(t: DateTime<Utc>, german: bool, zone: Option<chrono::FixedOffset>) -> String {
    let l = match zone {
        Some(z) => t.with_timezone(&z).naive_local(),
        None => t.with_timezone(&Local).naive_local(),
    };
    if german {
        l.format("%d.%m. %H:%M").to_string()
    } else {
        l.format("%m-%d %H:%M").to_string()
    }
}

/// The end of today in the local zone.
pub fn end_of_today() -> DateTime<Utc> {
    let today = Local::now().date_naive();
    local_at(
        today,
        NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default(),
    )
}

fn local_at(d: NaiveDate, t: NaiveTime) -> DateTime<Utc> {
    Local
        .from_local_datetime(&d.and_time(t))
        .earliest()
        .map_or_else(|| d.and_time(t).and_utc(), |l| l.with_timezone(&Utc))
}

/// Reads a due time typed into a form: `today`, `tomorrow`, `+3d`, `31.12.2026`,
/// `2026-12-31`, each optionally followed by `14:30`; a bare day means 9:00 that day.
/// Empty means no due time.
pub fn parse_due(raw: &str, today: NaiveDate) -> Result<Option<DateTime<Utc>>, &'static str> {
    let raw = raw.trim().to_lowercase();
    if raw.is_empty() {
        return Ok(None);
    }
    let (day, time) = match raw.rsplit_once(' ') {
        Some((d, t)) if t.contains(':') => (d.trim().to_string(), Some(t.to_string())),
        _ => (raw.clone(), None),
    };
    let date = match day.as_str() {
        "today" | "heute" => today,
        "tomorrow" | "morgen" => today + Duration::days(1),
        d if d.starts_with('+') => {
            let n: i64 = d
                .trim_start_matches('+')
                .trim_end_matches(['d', 't'])
                .parse()
                .map_err(|_| "use +N d for N days ahead")?;
            today + Duration::days(n)
        }
        d => NaiveDate::parse_from_str(d, "%d.%m.%Y")
            .or_else(|_| NaiveDate::parse_from_str(d, "%Y-%m-%d"))
            .map_err(|_| "not a date: use 31.12.2026, 2026-12-31, today, tomorrow or +3d")?,
    };
    let time = match time {
        Some(t) => NaiveTime::parse_from_str(&t, "%H:%M").map_err(|_| "not a time: use 14:30")?,
        None => NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default(),
    };
    Ok(Some(local_at(date, time)))
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
    fn due_times() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let at = |s: &str| {
            parse_due(s, today)
                .unwrap()
                .map(|t| t.with_timezone(&Local).naive_local())
        };
        assert_eq!(at(""), None);
        assert_eq!(
            at("tomorrow").unwrap().date(),
            NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
        );
        assert_eq!(
            at("+3d").unwrap().date(),
            NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
        );
        assert_eq!(
            at("31.12.2026 14:30")
                .unwrap()
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            "2026-12-31 14:30"
        );
        assert!(parse_due("someday", today).is_err());
        assert!(parse_due("2026-12-31 25:00", today).is_err());
    }

    #[test]
    fn fit_cuts_with_ellipsis() {
        assert_eq!(fit("Müller Maschinenbau", 8), "Müller …");
        assert_eq!(fit("Kurz", 8), "Kurz");
    }
}
