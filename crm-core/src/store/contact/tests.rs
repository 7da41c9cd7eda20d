//! Unit tests of the pure parts (no database).

use super::create::{NewRows, new_fields};
use super::*;

fn email(e: &str, primary: bool) -> NewContactEmail {
    NewContactEmail {
        email: e.into(),
        kind: EmailKind::Work,
        primary,
    }
}

#[test]
fn linkedin_profiles_are_accepted_other_addresses_not() {
    for ok in [
        "https://www.linkedin.com/in/anna-schmidt",
        "linkedin.com/in/anna",
        "http://de.linkedin.com/pub/anna/1/2/3",
        "https://www.linkedin.com/in/anna/?locale=de_DE",
    ] {
        assert!(parse_linkedin_url(ok).is_ok(), "{ok}");
    }
    assert_eq!(
        parse_linkedin_url("linkedin.com/in/anna").unwrap(),
        "https://linkedin.com/in/anna"
    );
    for bad in [
        "https://example.com/in/anna",
        "https://www.linkedin.com/",
        "https://www.linkedin.com/in/",
        "https://www.linkedin.com/company/acme",
        "https://notlinkedin.com/in/anna",
        "ftp://linkedin.com/in/anna",
        "anna schmidt",
    ] {
        assert!(parse_linkedin_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn primary_email_comes_from_email_then_marked_then_first() {
    let mut errors = FieldErrors::new();
    let rows = collect_emails(
        &mut errors,
        Some("B@x.de"),
        &[email("a@x.de", false), email("b@x.de", false)],
    );
    assert!(errors.is_empty());
    assert_eq!(rows.len(), 2);
    assert!(rows[0].primary && rows[0].email == "B@x.de");
    assert!(!rows[1].primary);

    let rows = collect_emails(
        &mut errors,
        None,
        &[email("a@x.de", false), email("b@x.de", true)],
    );
    assert_eq!(rows[0].norm, "b@x.de");
    assert_eq!(rows.iter().filter(|r| r.primary).count(), 1);

    let rows = collect_emails(&mut errors, None, &[email("a@x.de", false)]);
    assert!(rows[0].primary);
    assert!(errors.is_empty());
}

#[test]
fn email_list_errors_are_all_reported() {
    let mut errors = FieldErrors::new();
    collect_emails(
        &mut errors,
        Some("bad"),
        &[email("also-bad", false), email("c@x.de", true)],
    );
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["email", "emails[0].email"]);

    let mut errors = FieldErrors::new();
    collect_emails(
        &mut errors,
        None,
        &[email("a@x.de", true), email("b@x.de", true)],
    );
    assert_eq!(errors.0[0].field, "emails");
}

#[test]
fn phones_dedupe_by_e164() {
    let mut errors = FieldErrors::new();
    let rows = collect_phones(
        &mut errors,
        "DE",
        Some("030 1234567"),
        &[
            NewContactPhone {
                number: "+49 30 1234567".into(),
                kind: PhoneKind::Mobile,
                primary: false,
            },
            NewContactPhone {
                number: "0171 1234567".into(),
                kind: PhoneKind::Mobile,
                primary: false,
            },
        ],
    );
    assert!(errors.is_empty(), "{errors}");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].e164.as_deref(), Some("+49301234567"));
    assert_eq!(rows[0].kind, PhoneKind::Mobile);
    assert!(rows[0].primary && !rows[1].primary);
}

#[test]
fn setting_the_primary_email_replaces_or_promotes() {
    let row = |e: &str, p: bool| EmailRow {
        email: e.into(),
        norm: e.to_lowercase(),
        kind: EmailKind::Personal,
        primary: p,
    };
    let mut rows = vec![row("a@x.de", true), row("b@x.de", false)];
    set_primary_email(&mut rows, Email::parse("B@X.de").unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].email, "B@X.de");
    assert!(rows[0].primary);

    let mut rows = vec![row("a@x.de", true)];
    set_primary_email(&mut rows, Email::parse("n@x.de").unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].norm, "n@x.de");
    assert_eq!(rows[0].kind, EmailKind::Personal);
}

#[test]
fn debug_redacts_personal_data() {
    let new = NewContact {
        first_name: "Geheim".into(),
        email: Some("geheim@example.com".into()),
        phone: Some("030 1234567".into()),
        birthday: NaiveDate::from_ymd_opt(1980, 5, 17),
        ..NewContact::default()
    };
    let s = format!("{new:?}");
    assert!(
        !s.contains("Geheim") && !s.contains("geheim") && !s.contains("1980"),
        "{s}"
    );
    assert!(!s.contains("1234567"), "{s}");
}

#[test]
fn new_contact_reads_from_json_and_rejects_unknown_keys() {
    let new: NewContact = serde_json::from_str(
        r#"{"first_name": "Anna", "birthday": "1990-02-03", "source": "event",
            "emails": [{"email": "a@x.de", "kind": "personal", "primary": true}],
            "phones": [{"number": "030 1234567"}],
            "owners": [], "tags": ["VIP"], "custom": {"shoe_size": 38}}"#,
    )
    .unwrap();
    assert_eq!(new.source, ContactSource::Event);
    assert_eq!(new.birthday, NaiveDate::from_ymd_opt(1990, 2, 3));
    assert_eq!(new.emails[0].kind, EmailKind::Personal);
    assert_eq!(new.phones[0].kind, PhoneKind::Office);
    assert!(serde_json::from_str::<NewContact>(r#"{"firstname": "Anna"}"#).is_err());
    let patch: ContactPatch =
        serde_json::from_str(r#"{"version": 3, "city": null, "job_title": "CTO"}"#).unwrap();
    assert_eq!(patch.city, Some(None));
    assert_eq!(patch.job_title, Some(Some("CTO".into())));
    assert!(serde_json::from_str::<ContactPatch>(r#"{"city": "Bern"}"#).is_err());
}

/// A contact as `create` builds it before writing, from `new` (checked without errors).
fn contact_of(new: NewContact) -> Contact {
    let mut errors = FieldErrors::new();
    let fields = new_fields(&mut errors, &new);
    let emails = collect_emails(&mut errors, new.email.as_deref(), &new.emails);
    let phones = collect_phones(&mut errors, "DE", new.phone.as_deref(), &new.phones);
    assert!(errors.is_empty(), "{errors:?}");
    NewRows::of(ContactId::new(), fields, emails, phones, Vec::new()).contact
}

#[test]
fn a_new_contact_reports_every_field_error_at_once_without_a_database() {
    let new = NewContact {
        first_name: "A\u{0}".into(),
        country: Some("Atlantis".into()),
        linkedin_url: Some("https://example.com/anna".into()),
        birthday: NaiveDate::from_ymd_opt(2999, 1, 1),
        ..NewContact::default()
    };
    let mut errors = FieldErrors::new();
    new_fields(&mut errors, &new);
    let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(
        fields,
        ["first_name", "linkedin_url", "country", "birthday"]
    );
}

#[test]
fn a_patch_clearing_the_primary_email_promotes_the_next_and_keeps_the_rest() {
    let before = contact_of(NewContact {
        first_name: "Anna".into(),
        emails: vec![email("a@x.de", true), email("b@x.de", false)],
        phone: Some("030 1234567".into()),
        ..NewContact::default()
    });
    assert_eq!(before.email.as_deref(), Some("a@x.de"));
    let patch: ContactPatch =
        serde_json::from_str(r#"{"version": 1, "email": null, "city": "Köln"}"#).unwrap();
    let mut errors = FieldErrors::new();
    let f = patch_fields(&mut errors, &before, &patch);
    let emails = patch_emails(&mut errors, &before, &patch);
    let phones = patch_phones(&mut errors, &before, &patch, "DE");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(f.city.as_deref(), Some("Köln"));
    assert_eq!(f.first_name, "Anna");
    assert_eq!(emails.len(), 1);
    assert!(emails[0].email == "b@x.de" && emails[0].primary);
    assert_eq!(phones.len(), 1);
}
