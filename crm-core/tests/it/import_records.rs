//! Importing companies and deals from CSV.

use crm_core::import::records::{RecordKind, import_records};
use crm_core::import::{ImportOptions, OnDuplicate};
use crm_core::testing::TestDb;

async fn count(db: &TestDb, sql: &'static str) -> i64 {
    let mut owner = db.owner().await;
    sqlx::query_scalar(sql).fetch_one(&mut owner).await.unwrap()
}

#[tokio::test]
async fn companies_from_a_german_file_deduplicated_by_vat_domain_and_name() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Firmen GmbH").await;
    let scope = db.crm.scope(org, owner);
    let data = "Firma;USt-IdNr.;Webseite;Branche;Straße;PLZ;Ort;Land;Mitarbeiter\n\
Müller Maschinenbau GmbH;DE 136 695 976;www.mueller-mb.de;Maschinenbau;Hauptstraße 1;70173;Stuttgart;DE;120\n\
Müller Maschinenbau GmbH (Dublette);DE136695976;;;;;;;\n\
Zürcher Präzision AG;CHE-116.281.710 MWST;https://zuercher.ch;;Bahnhofstrasse 2;8001;Zürich;Schweiz;12\n\
Kaputt AG;DE123;keine website;Unbekannt;;;;;viele\n\
Ohne Nummer KG;;;;;;Köln;;\n";
    let s = import_records(
        &scope,
        RecordKind::Companies,
        data.as_bytes(),
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (s.rows, s.created, s.skipped, s.failed),
        (5, 3, 1, 1),
        "{s:?}"
    );
    // Every bad field of the row is reported at once.
    let mut bad: Vec<&str> = s
        .errors
        .iter()
        .filter(|e| e.line == 5)
        .map(|e| e.field.as_str())
        .collect();
    bad.sort();
    assert_eq!(
        bad,
        vec!["employees", "industry", "vat_id", "website"],
        "{:?}",
        s.errors
    );
    assert_eq!(count(&db, "select count(*) from companies where vat_id = 'DE136695976' and size = 'medium' and billing_city = 'Stuttgart'").await, 1);
    // Again with updates: the Zürich company gets a new city; the rest is unchanged.
    let again =
        "name;vat_id;city\nZürcher Präzision AG;CHE116281710;Winterthur\nOhne Nummer KG;;Köln\n";
    let opts = ImportOptions {
        on_duplicate: OnDuplicate::Update,
        ..Default::default()
    };
    let s = import_records(
        &scope,
        RecordKind::Companies,
        again.as_bytes(),
        &opts,
        None,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((s.created, s.updated, s.skipped), (0, 1, 1), "{s:?}");
    assert_eq!(s.changes[0].changes["billing_city"]["after"], "Winterthur");
    // A dry run writes nothing.
    let before = count(&db, "select count(*) from companies").await;
    let dry = ImportOptions {
        dry_run: true,
        ..Default::default()
    };
    let s = import_records(
        &scope,
        RecordKind::Companies,
        "Firma\nNeu AG\n".as_bytes(),
        &dry,
        None,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(s.created, 1);
    assert_eq!(count(&db, "select count(*) from companies").await, before);
}

#[tokio::test]
async fn deals_link_company_contact_and_stage_and_carry_won_and_lost() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Deals GmbH").await;
    let scope = db.crm.scope(org, owner);
    import_records(
        &scope,
        RecordKind::Companies,
        "Firma\nAcme GmbH\n".as_bytes(),
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    crm_core::import::contacts::import_contacts(
        &scope,
        "email,first_name\nanna@acme.test,Anna\n".as_bytes(),
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    let data = "Titel;Wert;Firma;Kontakt;Phase;Abschlussdatum;Status;Verlustgrund\n\
Rahmenvertrag;12.500,00;Acme GmbH;anna@acme.test;Proposal;31.03.2027;;\n\
Wartung;1.000,00;Acme GmbH;;Lead;;gewonnen;\n\
Pilot;500;Acme GmbH;;;;verloren;price\n\
Ohne Grund;500;;;;;verloren;\n\
Falsche Firma;100;Gibt es nicht GmbH;;;;;\n";
    let s = import_records(
        &scope,
        RecordKind::Deals,
        data.as_bytes(),
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((s.created, s.failed), (3, 2), "{s:?}");
    let fields: Vec<&str> = s.errors.iter().map(|e| e.field.as_str()).collect();
    assert!(
        fields.contains(&"lost_reason") && fields.contains(&"company"),
        "{fields:?}"
    );
    assert_eq!(count(&db, "select count(*) from deals d join stages s on s.id = d.stage_id where d.value = 12500 and s.name = 'Proposal' and d.contact_id is not null and d.expected_close_date = '2027-03-31'").await, 1);
    assert_eq!(
        count(&db, "select count(*) from deals where status = 'won'").await,
        1
    );
    assert_eq!(
        count(
            &db,
            "select count(*) from deals where status = 'lost' and lost_reason_id is not null"
        )
        .await,
        1
    );
    // A failed row left nothing behind (its savepoint was rolled back).
    assert_eq!(
        count(&db, "select count(*) from deals where title = 'Ohne Grund'").await,
        0
    );
    // Re-running the file creates no duplicates.
    let s = import_records(
        &scope,
        RecordKind::Deals,
        data.as_bytes(),
        &ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!((s.created, s.skipped), (0, 3), "{s:?}");
}
