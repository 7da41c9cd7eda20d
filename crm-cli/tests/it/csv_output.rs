//! Every CSV the CRM writes goes through one writer with the spreadsheet-formula guard
//! (issue 14 item 8), with `--raw`, `--excel` and `--delimiter` (issue 15 item 8).

use crm_core::testing::TestDb;

use crate::support::{crm, crm_with};

const EVIL: &str = "=HYPERLINK(\"http://evil.test\",\"klick\")";
const GUARDED: &str = "\"'=HYPERLINK(\"\"http://evil.test\"\",\"\"klick\"\")\"";

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("crm-cli-csv-{}-{name}", std::process::id()))
}

async fn org_with_evil_contact() -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Formel AG",
            "--admin-email",
            "a@formel.test",
            "--no-password",
        ],
    )
    .expect(0);
    crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            EVIL,
            "--last-name",
            "Maier",
            "--email",
            "evil@formel.test",
            "--phone",
            "+49 30 1234567",
        ],
    )
    .expect(0);
    db
}

fn run_csv(db: &TestDb, args: &[&str]) -> String {
    let mut all = vec!["--format", "csv"];
    all.extend_from_slice(args);
    crm_with(Some(db), &all, "", &[]).expect(0).stdout
}

#[tokio::test]
async fn exports_guard_formulas_keep_phones_and_write_rfc3339_times() {
    let db = org_with_evil_contact().await;
    let csv = run_csv(&db, &["export", "contacts"]);
    let row = csv.lines().nth(1).expect("a data row");
    assert!(row.contains(GUARDED), "{row}");
    assert!(row.contains(",+49301234567,"), "phone stays usable: {row}");
    let created = row.rsplit(',').nth(1).unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(created).is_ok(),
        "created_at is RFC 3339: {created}"
    );

    let raw = run_csv(&db, &["--raw", "export", "contacts"]);
    assert!(raw.contains("\"=HYPERLINK("), "{raw}");

    let excel = run_csv(&db, &["--excel", "export", "contacts"]);
    assert!(excel.starts_with("\u{feff}id;first_name;"), "{excel}");
    assert!(excel.contains("\r\n"));
    assert!(excel.contains(&GUARDED.to_string()));

    let piped = run_csv(&db, &["export", "contacts", "--delimiter", "|"]);
    assert!(piped.starts_with("id|first_name|last_name|"), "{piped}");
}

#[tokio::test]
async fn list_output_as_csv_is_guarded() {
    let db = org_with_evil_contact().await;
    let csv = run_csv(&db, &["contact", "list"]);
    assert!(csv.contains(GUARDED), "{csv}");
    let raw = run_csv(&db, &["--raw", "contact", "list"]);
    assert!(raw.contains("\"=HYPERLINK("), "{raw}");
}

#[tokio::test]
async fn subject_export_bundles_are_guarded() {
    let db = org_with_evil_contact().await;
    let dir = tmp("bundle");
    crm(
        &db,
        &[
            "gdpr",
            "export",
            "--contact",
            "evil@formel.test",
            "--csv-dir",
            dir.to_str().unwrap(),
        ],
    )
    .expect(0);
    let contact = std::fs::read_to_string(dir.join("contact.csv")).unwrap();
    assert!(contact.contains(GUARDED), "{contact}");
    assert!(!contact.contains(",=HYPERLINK"), "{contact}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn import_error_files_are_guarded() {
    let db = org_with_evil_contact().await;
    let file = tmp("import.csv");
    std::fs::write(
        &file,
        format!(
            "Vorname;Nachname;E-Mail\n\"{}\";Huber;kaputt\n",
            EVIL.replace('"', "\"\"")
        ),
    )
    .unwrap();
    let errors = tmp("import-errors.csv");
    crm(
        &db,
        &[
            "import",
            "contacts",
            file.to_str().unwrap(),
            "--errors",
            errors.to_str().unwrap(),
        ],
    )
    .expect(5);
    let written = std::fs::read_to_string(&errors).unwrap();
    assert!(written.contains(GUARDED), "{written}");
    std::fs::remove_file(&file).ok();
    std::fs::remove_file(&errors).ok();
}
