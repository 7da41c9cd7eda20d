//! Unit tests of the pure parts (no database).

use super::*;

fn email(e: &str, primary: bool) -> EmailRow {
    EmailRow {
        email: e.to_string(),
        norm: e.to_lowercase(),
        kind: EmailKind::Work,
        primary,
    }
}

#[test]
fn settle_dedupes_and_keeps_one_primary_first() {
    let rows = vec![
        email("a@x.de", false),
        email("B@x.de", false),
        email("b@x.de", true),
    ];
    let out = settle_emails(rows);
    assert_eq!(out.len(), 2);
    assert_eq!(out[0].email, "B@x.de");
    assert!(out[0].primary && !out[1].primary);

    let none = settle_emails(vec![email("a@x.de", false), email("c@x.de", false)]);
    assert!(none[0].primary && none[0].email == "a@x.de");
    assert!(settle_emails(Vec::new()).is_empty());
}

#[test]
fn set_primary_adds_or_switches() {
    let mut rows = vec![email("a@x.de", true), email("b@x.de", false)];
    set_primary_email(&mut rows, email("B@X.de", true));
    let rows = settle_emails(rows);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].email, "B@X.de",
        "the spelling given as primary wins"
    );
    assert!(rows[0].primary && !rows[1].primary);
    let mut rows = vec![email("a@x.de", true)];
    set_primary_email(&mut rows, email("new@x.de", true));
    let rows = settle_emails(rows);
    assert_eq!(
        rows.iter()
            .map(|r| (r.email.as_str(), r.primary))
            .collect::<Vec<_>>(),
        [("new@x.de", true), ("a@x.de", false)]
    );
}

#[test]
fn countries_and_domains() {
    assert_eq!(parse_country(" de "), Ok("DE".to_string()));
    assert!(parse_country("DEU").is_err());
    assert!(parse_country("1A").is_err());
    assert_eq!(
        parse_domain("https://www.Example.com/x"),
        Ok("example.com".into())
    );
    assert!(parse_domain("not a domain").is_err());
}

#[test]
fn patch_distinguishes_absent_null_and_value() {
    let p: CompanyPatch =
        serde_json::from_str(r#"{"version": 3, "tax_id": null, "billing_city": "Köln"}"#).unwrap();
    assert_eq!(p.version, 3);
    assert_eq!(p.tax_id, Some(None));
    assert_eq!(p.billing_city, Some(Some("Köln".into())));
    assert_eq!(p.website, None);
    assert!(
        serde_json::from_str::<CompanyPatch>("{}").is_err(),
        "version is required"
    );
}
