//! The value quirks of other tools' exports, undone.

use std::borrow::Cow;

use chrono::NaiveDate;

use crate::import::contacts::Field;

/// Trims a cell and undoes formula guards: Twenty's U+200D prefix and EspoCRM's `'` before
/// `+ - @ =` (so `'+49 30 1234567` is a phone number again).
pub fn clean(v: Cow<'_, str>) -> Cow<'_, str> {
    let t = v.trim_matches(|c: char| c.is_whitespace() || c == '\u{200d}' || c == '\u{feff}');
    let t = match t.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['+', '-', '@', '=']) => rest,
        _ => t,
    };
    if t.len() == v.len() {
        v
    } else {
        Cow::Owned(t.to_string())
    }
}

/// The values of a multi-value cell: Google's ` ::: `, a JSON array (of strings, or of
/// objects with an address or number), e-mails separated by `;` or `,`, tags by `;` `,` `|`.
/// System labels (`* myContacts`) are dropped from tags; a `* ` primary marker is removed.
pub fn split_multi(v: &str, field: Field) -> Vec<String> {
    let v = v.trim();
    let mut out: Vec<String> = Vec::new();
    if v.starts_with('[')
        && v.ends_with(']')
        && let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(v)
    {
        for item in items {
            if let Some(s) = json_value(&item) {
                out.push(s);
            }
        }
        return out;
    }
    let is_email = matches!(
        field,
        Field::Email | Field::Email2 | Field::EmailHome | Field::EmailOther
    );
    for part in v.split(" ::: ") {
        let part = part.trim();
        if field == Field::Tags {
            if part.starts_with('*') {
                continue; // a system label: `* myContacts`, `* starred`
            }
            out.extend(
                part.split([';', ',', '|'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string),
            );
        } else if is_email && part.matches('@').count() > 1 {
            out.extend(
                part.split([';', ','])
                    .map(|e| email_in(e.trim()).to_string())
                    .filter(|e| !e.is_empty()),
            );
        } else if is_email {
            out.push(email_in(part).to_string());
        } else if !part.is_empty() {
            out.push(part.to_string());
        }
    }
    out
}

/// The text of one element of a JSON array: a string, or the address / number of an
/// object (Twenty's `{"number", "callingCode"}`, EspoCRM's `{"emailAddress"}` and
/// `{"phoneNumber"}`).
fn json_value(item: &serde_json::Value) -> Option<String> {
    match item {
        serde_json::Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        serde_json::Value::Object(o) => {
            let text = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::trim);
            let number = ["number", "phoneNumber", "primaryPhoneNumber"]
                .iter()
                .find_map(|k| text(k))
                .filter(|s| !s.is_empty());
            if let Some(n) = number {
                let code = text("callingCode")
                    .or_else(|| text("primaryPhoneCallingCode"))
                    .unwrap_or("");
                return Some(if n.starts_with('+') || code.is_empty() {
                    n.to_string()
                } else {
                    format!("{code} {n}")
                });
            }
            ["emailAddress", "email", "value", "name"]
                .iter()
                .find_map(|k| text(k))
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        }
        _ => None,
    }
}

/// The address in an e-mail cell that carries a display name: `Robin Example
/// (robin@example.com)` and `Robin Example <robin@example.com>` give the address.
pub fn email_in(v: &str) -> &str {
    let v = v.trim();
    for (open, close) in [('<', '>'), ('(', ')')] {
        if v.ends_with(close)
            && let Some(i) = v.rfind(open)
        {
            let inner = v[i + 1..v.len() - 1].trim();
            if inner.contains('@') {
                return inner;
            }
        }
    }
    v
}

/// Whether a date cell is one of the ways exports write "no date": `0.0.00`, `0/0/00`,
/// `00.00.0000`, `0000-00-00`.
pub fn is_empty_date(v: &str) -> bool {
    let v = v.trim();
    !v.is_empty() && v.chars().all(|c| matches!(c, '0' | '.' | '/' | '-'))
}

/// A date as exports write it: ISO (`1990-01-01`, also with a time after it), German
/// (`10.9.2007`, `10.09.07`), US (`9/10/2007`, month first), vCard basic (`19900101`).
pub fn parse_date(v: &str) -> Option<NaiveDate> {
    let v = v.trim();
    let date_part = v.split([' ', 'T']).next().unwrap_or(v);
    let parse = |fmt: &str| NaiveDate::parse_from_str(date_part, fmt).ok();
    if date_part.contains('-') {
        return parse("%Y-%m-%d");
    }
    if date_part.contains('.') {
        return parse("%d.%m.%Y")
            .filter(YearOk::year_ok)
            .or_else(|| parse("%d.%m.%y"));
    }
    if date_part.contains('/') {
        return parse("%m/%d/%Y")
            .filter(YearOk::year_ok)
            .or_else(|| parse("%m/%d/%y"));
    }
    if date_part.len() == 8 && date_part.bytes().all(|b| b.is_ascii_digit()) {
        return parse("%Y%m%d");
    }
    None
}

trait YearOk {
    fn year_ok(&self) -> bool;
}

impl YearOk for NaiveDate {
    /// A four-digit year (`%Y` also reads `07` as the year 7).
    fn year_ok(&self) -> bool {
        chrono::Datelike::year(self) >= 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_guards_are_removed() {
        assert_eq!(clean(Cow::Borrowed("'+49 30 1234567")), "+49 30 1234567");
        assert_eq!(clean(Cow::Borrowed("\u{200d}=SUM")), "=SUM");
        assert_eq!(clean(Cow::Borrowed("'quoted'")), "'quoted'");
        assert_eq!(clean(Cow::Borrowed("  Anna ")), "Anna");
    }

    #[test]
    fn multi_values_split() {
        assert_eq!(
            split_multi("a@x.de ::: b@y.de", Field::Email),
            vec!["a@x.de", "b@y.de"]
        );
        assert_eq!(
            split_multi("* myContacts ::: Kunden ::: VIP", Field::Tags),
            vec!["Kunden", "VIP"]
        );
        assert_eq!(
            split_multi("[\"a@x.de\",\"b@y.de\"]", Field::EmailOther),
            vec!["a@x.de", "b@y.de"]
        );
        assert_eq!(
            split_multi(
                "[{\"number\":\"301234567\",\"callingCode\":\"+49\",\"countryCode\":\"DE\"}]",
                Field::PhoneOther
            ),
            vec!["+49 301234567"]
        );
        assert_eq!(
            split_multi("a@x.de; b@y.de", Field::EmailOther),
            vec!["a@x.de", "b@y.de"]
        );
        assert_eq!(
            split_multi("Kunde;Messe", Field::Tags),
            vec!["Kunde", "Messe"]
        );
    }

    #[test]
    fn display_names_are_ignored() {
        assert_eq!(
            email_in("Robin Example (robin@example.com)"),
            "robin@example.com"
        );
        assert_eq!(email_in("Robin <robin@example.com>"), "robin@example.com");
        assert_eq!(email_in("robin@example.com"), "robin@example.com");
    }

    #[test]
    fn dates_as_exports_write_them() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert!(is_empty_date("0.0.00") && is_empty_date("0/0/00"));
        assert!(!is_empty_date("10.9.2007"));
        assert_eq!(parse_date("10.9.2007"), d(2007, 9, 10));
        assert_eq!(parse_date("10.09.07"), d(2007, 9, 10));
        assert_eq!(parse_date("9/10/2007"), d(2007, 9, 10));
        assert_eq!(parse_date("1990-01-01"), d(1990, 1, 1));
        assert_eq!(parse_date("2024-03-12 09:14"), d(2024, 3, 12));
        assert_eq!(parse_date("19900101"), d(1990, 1, 1));
        assert_eq!(parse_date("soon"), None);
    }
}
