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

/// A company as read: `acme.de` with its web site, one primary address, no phones.
fn company() -> Company {
    Company {
        id: CompanyId::new(),
        name: "Acme GmbH".into(),
        domain: Some("acme.de".into()),
        website: Some("https://acme.de".into()),
        industry: None,
        account_type: None,
        vat_id: None,
        tax_id: None,
        trade_register_number: None,
        trade_register_court: None,
        size: CompanySize::Unknown,
        status: EntityStatus::Active,
        billing_street: None,
        billing_postal_code: None,
        billing_city: None,
        billing_country: None,
        delivery_street: None,
        delivery_postal_code: None,
        delivery_city: None,
        delivery_country: None,
        email: Some("info@acme.de".into()),
        emails: vec![CompanyEmail {
            email: "info@acme.de".into(),
            kind: EmailKind::Work,
            primary: true,
        }],
        phone: None,
        phones: Vec::new(),
        tags: Vec::new(),
        owners: Vec::new(),
        custom: json!({}),
        contacts: 0,
        version: 1,
        created_at: Utc::now(),
        updated_at: Utc::now(),
        deleted_at: None,
    }
}

fn patch(v: Value) -> CompanyPatch {
    serde_json::from_value(v).expect("a patch")
}

#[test]
fn a_new_web_site_moves_a_derived_domain_but_not_a_chosen_one() {
    let mut errors = FieldErrors::new();
    let names = patch_names(
        &mut errors,
        &company(),
        &patch(json!({"version": 1, "website": "https://www.acme-group.com/de"})),
    );
    assert!(errors.is_empty());
    assert_eq!(names.domain.as_deref(), Some("acme-group.com"));

    let mut chosen = company();
    chosen.domain = Some("acme.com".into());
    let names = patch_names(
        &mut errors,
        &chosen,
        &patch(json!({"version": 1, "website": "https://acme-group.com"})),
    );
    assert_eq!(names.domain.as_deref(), Some("acme.com"));
    assert_eq!(names.name, "Acme GmbH");
}

#[test]
fn a_patch_reports_every_field_error_at_once_without_a_database() {
    let mut errors = FieldErrors::new();
    let p = patch(json!({
        "version": 1,
        "name": " ",
        "website": "not a site",
        "vat_id": "DE12",
        "billing_country": "Atlantis",
        "email": "nope",
        "billing_city": "Berlin\nMitte",
    }));
    let before = company();
    let names = patch_names(&mut errors, &before, &p);
    let patched = patch_values(&mut errors, &before, &p, names, "DE").expect("no hard error");
    check_patch_lines(&mut errors, &p);
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    for f in [
        "name",
        "website",
        "vat_id",
        "billing_country",
        "email",
        "billing_city",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    // The address that did not parse leaves the current ones alone.
    assert_eq!(patched.emails.len(), 1);
}

#[test]
fn clearing_the_primary_email_keeps_the_others_and_promotes_one() {
    let mut before = company();
    before.emails.push(CompanyEmail {
        email: "sales@acme.de".into(),
        kind: EmailKind::Work,
        primary: false,
    });
    let mut errors = FieldErrors::new();
    let p = patch(json!({"version": 1, "email": null}));
    let emails = patch_emails(&mut errors, email_rows_of(&before), &p);
    assert!(errors.is_empty());
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].email, "sales@acme.de");
    assert!(emails[0].primary);
}

#[test]
fn phones_are_read_in_the_company_country_else_the_organization_region() {
    let before = company();
    let mut errors = FieldErrors::new();
    let p = patch(json!({"version": 1, "billing_country": "AT", "phone": "01 234 5678"}));
    let names = patch_names(&mut errors, &before, &p);
    let patched = patch_values(&mut errors, &before, &p, names, "DE").expect("no hard error");
    assert!(errors.is_empty(), "{errors:?}");
    assert!(patched.phones[0].e164.starts_with("+43"));
}

#[test]
fn a_new_company_takes_its_domain_from_the_web_site_and_reports_all_errors() {
    let new: NewCompany = serde_json::from_value(json!({
        "name": "Acme GmbH",
        "website": "https://www.acme.de/kontakt",
        "email": "info@acme.de",
        "phone": "030 1234567",
    }))
    .expect("a new company");
    let mut errors = FieldErrors::new();
    let names = new_names(&mut errors, &new);
    let checked = new_values(&mut errors, &new, names, "DE").expect("no hard error");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(checked.names.domain.as_deref(), Some("acme.de"));
    assert_eq!(checked.phones[0].e164, "+49301234567");
    assert!(checked.emails[0].primary);

    let bad: NewCompany = serde_json::from_value(json!({
        "name": "",
        "vat_id": "XX",
        "delivery_country": "Narnia",
        "billing_street": "a\nb",
    }))
    .expect("a new company");
    let names = new_names(&mut errors, &bad);
    new_values(&mut errors, &bad, names, "DE").expect("no hard error");
    check_new_lines(&mut errors, &bad);
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["name", "vat_id", "delivery_country", "billing_street"]
    );
}
