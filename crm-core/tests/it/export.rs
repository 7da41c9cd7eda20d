//! Streaming export and the export → import round trip.

use crm_core::export::{ExportFilter, ExportFormat, ExportKind, export};
use crm_core::import::ImportOptions;
use crm_core::import::contacts::import_contacts;
use crm_core::testing::TestDb;

const DATA: &str = "Vorname;Nachname;E-Mail;Telefon;Firma;Ort;Tags\n\
Jürgen;Müller;j.mueller@example.de;030 1234567;Müller GmbH;Berlin;VIP|Newsletter\n\
Anna;\"Schäfer; geb. Klein\";anna@example.de;+41 44 668 18 00;Zürcher AG;Zürich;\n\
Zoë;O'Brien;zoe@example.com;;;Wien;Partner\n";

#[tokio::test]
async fn csv_json_and_ndjson_exports_hold_every_contact() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Export GmbH").await;
    let scope = db.crm.scope(org, owner);
    import_contacts(
        &scope,
        DATA.as_bytes(),
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    for (format, check) in [
        (ExportFormat::Csv, "csv"),
        (ExportFormat::Json, "json"),
        (ExportFormat::Ndjson, "ndjson"),
    ] {
        let mut out = Vec::new();
        let n = scope
            .run(async |tx| {
                export(
                    tx,
                    ExportKind::Contacts,
                    format,
                    &ExportFilter::default(),
                    &mut out,
                )
                .await
            })
            .await
            .unwrap();
        assert_eq!(n, 3, "{check}");
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Schäfer; geb. Klein"), "{check}: {text}");
        match format {
            ExportFormat::Json => {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v.as_array().unwrap().len(), 3);
                assert!(v[0]["company"].is_string());
            }
            ExportFormat::Ndjson => assert_eq!(text.lines().count(), 3),
            ExportFormat::Csv => {
                assert!(text.starts_with("id,first_name,last_name,email,phone,company"))
            }
            ExportFormat::Vcard => assert_eq!(text.matches("BEGIN:VCARD").count(), 3),
        }
    }
    // Filters and columns.
    let mut out = Vec::new();
    let filter = ExportFilter {
        tag: Some("vip".into()),
        columns: Some(vec!["email".into(), "tags".into()]),
        ..Default::default()
    };
    scope
        .run(async |tx| {
            export(
                tx,
                ExportKind::Contacts,
                ExportFormat::Csv,
                &filter,
                &mut out,
            )
            .await
        })
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "email,tags\nj.mueller@example.de,Newsletter|VIP\n"
    );
}

#[tokio::test]
async fn an_export_imported_into_an_empty_org_reproduces_the_data() {
    let db = TestDb::new().await;
    let (a, a_owner) = db.org("Quelle GmbH").await;
    let (b, b_owner) = db.org("Ziel GmbH").await;
    let src = db.crm.scope(a, a_owner);
    let dst = db.crm.scope(b, b_owner);
    import_contacts(
        &src,
        DATA.as_bytes(),
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    src.run(async |tx| {
        export(
            tx,
            ExportKind::Contacts,
            ExportFormat::Csv,
            &ExportFilter::default(),
            &mut out,
        )
        .await
    })
    .await
    .unwrap();
    let s = import_contacts(&dst, &out[..], &ImportOptions::default(), None, |_| {})
        .await
        .unwrap();
    assert_eq!((s.created, s.failed), (3, 0), "{s:?}");
    let cols = || ExportFilter {
        columns: Some(
            [
                "first_name",
                "last_name",
                "email",
                "phone",
                "company",
                "city",
                "tags",
                "status",
                "source",
            ]
            .map(String::from)
            .to_vec(),
        ),
        ..Default::default()
    };
    let mut x = Vec::new();
    let mut y = Vec::new();
    src.run(async |tx| export(tx, ExportKind::Contacts, ExportFormat::Csv, &cols(), &mut x).await)
        .await
        .unwrap();
    dst.run(async |tx| export(tx, ExportKind::Contacts, ExportFormat::Csv, &cols(), &mut y).await)
        .await
        .unwrap();
    let sorted = |v: Vec<u8>| {
        let mut l: Vec<String> = String::from_utf8(v)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        l.sort();
        l
    };
    // The source column is 'import' on both sides (the first import set it too).
    assert_eq!(sorted(x), sorted(y));
}

#[tokio::test]
async fn a_read_only_user_cannot_export() {
    let db = TestDb::new().await;
    let (org, _) = db.org("Lesen GmbH").await;
    let reader = crm_core::UserId::new();
    let mut c = db.owner().await;
    sqlx::query("insert into users (org_id, id, email, email_norm, role) values ($1, $2, 'r@x.test', 'r@x.test', 'read_only')")
        .bind(org)
        .bind(reader)
        .execute(&mut c)
        .await
        .unwrap();
    let scope = db.crm.scope(org, reader);
    let mut out = Vec::new();
    let err = scope
        .run(async |tx| {
            export(
                tx,
                ExportKind::Contacts,
                ExportFormat::Csv,
                &ExportFilter::default(),
                &mut out,
            )
            .await
        })
        .await
        .unwrap_err();
    assert!(matches!(err, crm_core::Error::PermissionDenied(_)));
}
