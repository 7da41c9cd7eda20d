//! Moving in through the `crm` binary: a German Outlook export (CRLF, quoted newlines)
//! with the line numbers of its physical lines, `crm import formats`, and the vCard round
//! trip (export as vCard, import into an empty organization, export again: the same cards).

use crm_core::testing::TestDb;

use crate::support::{crm, crm_with};

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("crm-cli-moving-in-{}-{name}", std::process::id()))
}

fn init(db: &TestDb, org: &str) {
    crm(
        db,
        &[
            "init",
            "--org",
            org,
            "--admin-email",
            "admin@moving.test",
            "--no-password",
        ],
    )
    .expect(0);
}

#[tokio::test]
async fn outlook_export_imports_without_a_mapping_and_names_physical_lines() {
    let db = TestDb::new().await;
    init(&db, "Outlook AG");
    let s = crm(&db, &["import", "contacts", &fixture("outlook-de.csv")])
        .expect(5)
        .json();
    assert_eq!(s["format"], "outlook");
    assert_eq!(
        (s["created"].as_u64(), s["failed"].as_u64()),
        (Some(2), Some(1))
    );
    // Line 1 header, 2-3 Müller (a note with a line break), 4-5 Schäfer, 6 the bad row.
    assert_eq!(s["errors"][0]["line"], 6, "{s}");
    assert_eq!(s["errors"][0]["field"], "email");
    assert!(
        s["mapping"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["column"] == "Telefon geschäftlich" && m["field"] == "phone"),
        "{s}"
    );
    let list = crm(
        &db,
        &["activity", "list", "--contact", "j.mueller@example.de"],
    )
    .expect(0)
    .json();
    assert!(
        list.to_string().contains("Erster Kontakt auf der Messe."),
        "{list}"
    );
    let shown = crm(&db, &["contact", "show", "j.mueller@example.de"])
        .expect(0)
        .json();
    assert_eq!(
        (
            shown["street"].as_str(),
            shown["postal_code"].as_str(),
            shown["country"].as_str()
        ),
        (Some("Hauptstraße 1"), Some("10115"), Some("DE")),
        "{shown}"
    );
    let subject = crm(
        &db,
        &["gdpr", "export", "--contact", "j.mueller@example.de"],
    )
    .expect(0)
    .json();
    assert_eq!(subject["contact"]["street"], "Hauptstraße 1", "{subject}");
    let formats = crm(&db, &["import", "formats"]).expect(0).json();
    let names: Vec<&str> = formats
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    for f in [
        "outlook",
        "google",
        "vcard",
        "hubspot",
        "salesforce",
        "pipedrive",
        "twenty",
        "espocrm",
        "lexware",
        "generic",
    ] {
        assert!(names.contains(&f), "{names:?}");
    }
}

fn vcards(db: &TestDb, out: &std::path::Path) -> String {
    crm_with(
        Some(db),
        &[
            "--format",
            "vcard",
            "export",
            "contacts",
            "--out",
            out.to_str().unwrap(),
        ],
        "",
        &[],
    )
    .expect(0);
    let text = std::fs::read_to_string(out).unwrap();
    // The ids differ between organizations; everything else must not.
    let mut cards: Vec<String> = text
        .split("END:VCARD\r\n")
        .filter(|c| !c.trim().is_empty())
        .map(|c| {
            c.lines()
                .filter(|l| !l.starts_with("UID:"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    cards.sort();
    cards.join("\n--\n")
}

#[tokio::test]
async fn vcard_round_trip_into_an_empty_organization() {
    let first = TestDb::new().await;
    init(&first, "Quelle GmbH");
    let s = crm(&first, &["import", "contacts", &fixture("contacts.vcf")])
        .expect(0)
        .json();
    assert_eq!(
        (s["format"].as_str(), s["created"].as_u64()),
        (Some("vcard"), Some(2)),
        "{s}"
    );
    let exported = tmp("first.vcf");
    let a = vcards(&first, &exported);
    for part in [
        "ADR;TYPE=HOME:;;Gartenweg 2;Potsdam;;14467;DE",
        "EMAIL;TYPE=INTERNET,HOME:jm@privat.example",
        "TEL;TYPE=WORK,FAX:+49 30 1234568",
        "CATEGORIES:Kunden,Messe 2026",
        "NOTE:Erster Kontakt auf der Messe.\\nRückruf im Mai\\, vormittags.",
        "ORG:Müller GmbH;Vertrieb",
        "BDAY:1970-09-10",
    ] {
        assert!(a.contains(part), "{part} missing in\n{a}");
    }
    let second = TestDb::new().await;
    init(&second, "Ziel GmbH");
    let s = crm(&second, &["import", "contacts", exported.to_str().unwrap()])
        .expect(0)
        .json();
    assert_eq!(s["created"].as_u64(), Some(2), "{s}");
    let b = vcards(&second, &tmp("second.vcf"));
    assert_eq!(a, b);
}

fn company_fixture(name: &str) -> String {
    format!(
        "{}/../crm-core/tests/fixtures/companies/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[tokio::test]
async fn company_exports_import_without_a_mapping_and_link_earlier_contacts() {
    let db = TestDb::new().await;
    init(&db, "Firmen AG");
    let people = tmp("people.csv");
    std::fs::write(
        &people,
        "Person - ID,Person - Name,Person - Organization,Person - Email - Work\n\
         1,Anna Albers,,anna@beispiel.de\n",
    )
    .unwrap();
    let s = crm(&db, &["import", "contacts", people.to_str().unwrap()])
        .expect(0)
        .json();
    assert_eq!(s["format"], "pipedrive", "{s}");
    let file = company_fixture("pipedrive-organizations.csv");
    let dry = crm_with(
        Some(&db),
        &[
            "--format",
            "table",
            "import",
            "companies",
            &file,
            "--dry-run",
        ],
        "",
        &[],
    )
    .expect(0);
    assert!(dry.stdout.contains("read as: pipedrive"), "{}", dry.stdout);
    assert!(
        dry.stdout
            .contains("Organization - City/town/village/locality of Address -> billing_city"),
        "{}",
        dry.stdout
    );
    let s = crm(&db, &["import", "companies", &file]).expect(0).json();
    assert_eq!(
        (s["format"].as_str(), s["created"].as_u64()),
        (Some("pipedrive"), Some(2)),
        "{s}"
    );
    // Pipedrive's organizations have no domain: Anna's address cannot place her. A HubSpot
    // export of the same companies has it; with `--on-duplicate update` it is filled in.
    assert_eq!(s["contacts_linked"], 0, "{s}");
    let s = crm(
        &db,
        &[
            "import",
            "companies",
            &company_fixture("hubspot-companies.csv"),
            "--on-duplicate",
            "update",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(
        (
            s["format"].as_str(),
            s["created"].as_u64(),
            s["updated"].as_u64(),
            s["contacts_linked"].as_u64()
        ),
        (Some("hubspot"), Some(0), Some(2), Some(1)),
        "the same companies, recognised by name; Anna linked by her e-mail domain: {s}"
    );
    let anna = crm(&db, &["contact", "show", "anna@beispiel.de"])
        .expect(0)
        .json();
    assert_eq!(anna["company"], "Beispiel GmbH", "{anna}");
}
