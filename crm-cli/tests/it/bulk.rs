//! crm import / crm export as processes: the JSON summary contract, exit codes, the error
//! file, and the round trip.

use crm_core::testing::TestDb;

use crate::support::{crm, crm_with};

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("crm-cli-{}-{name}", std::process::id()))
}

#[tokio::test]
async fn import_prints_the_summary_contract_and_exits_5_when_rows_fail() {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Import AG",
            "--admin-email",
            "a@import.test",
            "--no-password",
        ],
    )
    .expect(0);
    let file = tmp("contacts.csv");
    std::fs::write(
        &file,
        "Vorname;Nachname;E-Mail\nJürgen;Müller;j@example.de\nX;Y;kaputt\n",
    )
    .unwrap();
    let errors = tmp("errors.csv");
    let run = crm(
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
    let s = run.json();
    for key in ["rows", "created", "updated", "skipped", "failed", "errors"] {
        assert!(s.get(key).is_some(), "summary lacks {key}: {s}");
    }
    assert_eq!(
        (
            s["rows"].as_u64(),
            s["created"].as_u64(),
            s["failed"].as_u64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(s["errors"][0]["line"], 3);
    assert_eq!(s["errors"][0]["field"], "email");
    let err_file = std::fs::read_to_string(&errors).unwrap();
    assert!(
        err_file.starts_with("Vorname;Nachname;E-Mail,line,field,error")
            || err_file.starts_with("Vorname,Nachname,E-Mail,line,field,error"),
        "{err_file}"
    );
    // Dry run of the same file: nothing new, exit 5 still (a row fails).
    let dry = crm(
        &db,
        &["import", "contacts", file.to_str().unwrap(), "--dry-run"],
    )
    .expect(5)
    .json();
    assert_eq!(dry["created"], 0);
    assert_eq!(dry["skipped"], 1);
    std::fs::remove_file(&file).ok();
    std::fs::remove_file(&errors).ok();
}

#[tokio::test]
async fn import_from_stdin_then_export_csv_and_ndjson() {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Export AG",
            "--admin-email",
            "a@export.test",
            "--no-password",
        ],
    )
    .expect(0);
    let data = "first_name,last_name,email,company\nAnna,Schäfer,anna@example.de,Zürcher AG\nLea,Köhler,lea@example.at,\n";
    let run = crm_with(
        Some(&db),
        &["--format", "json", "import", "contacts", "-"],
        data,
        &[],
    )
    .expect(0);
    assert_eq!(run.json()["created"], 2);
    let csv = crm_with(
        Some(&db),
        &["export", "contacts", "--columns", "email,company"],
        "",
        &[],
    )
    .expect(0);
    let mut lines: Vec<&str> = csv.stdout.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![
            "anna@example.de,Zürcher AG",
            "email,company",
            "lea@example.at,"
        ]
    );
    let nd = crm_with(
        Some(&db),
        &["--format", "ndjson", "export", "contacts"],
        "",
        &[],
    )
    .expect(0);
    assert_eq!(nd.stdout.lines().count(), 2);
    let out = tmp("export.csv");
    crm_with(
        Some(&db),
        &["export", "contacts", "--out", out.to_str().unwrap()],
        "",
        &[],
    )
    .expect(0);
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("id,first_name")
    );
    std::fs::remove_file(&out).ok();
    let bad = crm_with(
        Some(&db),
        &["export", "contacts", "--columns", "shoe_size"],
        "",
        &[],
    )
    .expect(5);
    assert!(bad.stderr.contains("shoe_size"));
}

#[tokio::test]
async fn a_missing_file_is_an_error_naming_it() {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Fehler AG",
            "--admin-email",
            "a@f.test",
            "--no-password",
        ],
    )
    .expect(0);
    let run = crm(&db, &["import", "contacts", "/nonexistent/file.csv"]).expect(1);
    assert!(
        run.stderr.contains("/nonexistent/file.csv"),
        "{}",
        run.stderr
    );
}
