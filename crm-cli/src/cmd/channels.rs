//! Repeated `--email` / `--phone` flags with an optional kind prefix (`--email work:a@b.de`,
//! `--phone mobile:+49 170 1234567`), turned into the same lists JSON input gives
//! (`emails: [{email, kind, primary}]`): the first one given is primary.

use crm_core::FieldErrors;
use crm_core::domain::{EmailKind, PhoneKind};
use crm_core::store::contact::{NewContactEmail, NewContactPhone};

/// Splits `kind:value` when the part before the first `:` is a kind `K`; `Ok(None)` kind
/// when there is no prefix. A prefix that is no kind is an error that names the kinds
/// (never quoting the value: it is personal data).
fn split_kind<K: std::str::FromStr>(raw: &str) -> Result<(Option<K>, &str), ()> {
    match raw.split_once(':') {
        Some((prefix, rest))
            if !prefix.is_empty()
                && prefix
                    .chars()
                    .all(|c| c.is_alphabetic() || c == '_' || c == '-') =>
        {
            match prefix.trim().parse::<K>() {
                Ok(k) => Ok((Some(k), rest.trim())),
                Err(_) => Err(()),
            }
        }
        _ => Ok((None, raw.trim())),
    }
}

/// Whether any of the flags carries a kind prefix.
pub fn any_kind_prefix(values: &[String]) -> bool {
    values.iter().any(|v| {
        v.split_once(':')
            .is_some_and(|(p, _)| !p.is_empty() && p.chars().all(char::is_alphabetic))
    })
}

/// The `--email` flags as a list, the first primary.
pub fn emails(values: &[String]) -> crm_core::Result<Vec<NewContactEmail>> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for (i, raw) in values.iter().enumerate() {
        match split_kind::<EmailKind>(raw) {
            Ok((kind, email)) => out.push(NewContactEmail {
                email: email.to_string(),
                kind: kind.unwrap_or_default(),
                primary: i == 0,
            }),
            Err(()) => errors.add(
                "email",
                "the part before ':' must be a kind: work, personal or other",
            ),
        }
    }
    errors.into_result()?;
    Ok(out)
}

/// The `--phone` flags as a list, the first primary.
pub fn phones(values: &[String]) -> crm_core::Result<Vec<NewContactPhone>> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for (i, raw) in values.iter().enumerate() {
        match split_kind::<PhoneKind>(raw) {
            Ok((kind, number)) => out.push(NewContactPhone {
                number: number.to_string(),
                kind: kind.unwrap_or_default(),
                primary: i == 0,
            }),
            Err(()) => errors.add(
                "phone",
                "the part before ':' must be a kind: office, mobile, fax or other",
            ),
        }
    }
    errors.into_result()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_is_primary_and_a_kind_prefix_is_read() {
        let e = emails(&[
            "work:a@b.de".into(),
            "personal:c@d.de".into(),
            "e@f.de".into(),
        ])
        .unwrap();
        assert_eq!(
            e.iter()
                .map(|e| (e.email.as_str(), e.kind, e.primary))
                .collect::<Vec<_>>(),
            [
                ("a@b.de", EmailKind::Work, true),
                ("c@d.de", EmailKind::Personal, false),
                ("e@f.de", EmailKind::Work, false)
            ]
        );
        let p = phones(&["mobile:+49 170 1234567".into(), "+41 44 123 45 67".into()]).unwrap();
        assert_eq!(p[0].kind, PhoneKind::Mobile);
        assert_eq!(p[0].number, "+49 170 1234567");
        assert!(p[0].primary && !p[1].primary);
        assert_eq!(p[1].kind, PhoneKind::Office);
    }

    #[test]
    fn an_unknown_kind_is_refused_without_quoting_the_value() {
        let err = emails(&["boss:a@b.de".into()]).unwrap_err().to_string();
        assert!(err.contains("work, personal or other"), "{err}");
        assert!(!err.contains("a@b.de"), "{err}");
        assert!(phones(&["tel:0301234".into()]).is_err());
    }
}
