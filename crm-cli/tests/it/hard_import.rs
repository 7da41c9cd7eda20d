//! Hostile, messy and concurrent input through the `crm` binary (issue 14, items 11–14;
//! issue 15, item 2): a NUL byte fails its row alone, JSON input with `\u0000` or too large
//! is invalid data, two imports at once both finish without duplicates, Ctrl-C marks the
//! run failed, and phone numbers are read in the contact's country.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crm_core::testing::TestDb;

use crate::support::{crm, crm_with};

fn tmp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("crm-cli-hard-import-{}-{name}", std::process::id()))
}

fn init(db: &TestDb) {
    crm(
        db,
        &[
            "init",
            "--org",
            "Hart GmbH",
            "--admin-email",
            "admin@hart.test",
            "--no-password",
        ],
    )
    .expect(0);
}

async fn scalar<T>(db: &TestDb, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    let mut owner = db.owner().await;
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&mut owner)
        .await
        .unwrap()
}

#[tokio::test]
async fn json_input_with_nul_or_too_large_is_invalid_data() {
    let db = TestDb::new().await;
    init(&db);
    let run = crm_with(
        Some(&db),
        &["contact", "add", "--json", "-"],
        r#"{"first_name": "Nu\u0000ll", "last_name": "Byte"}"#,
        &[],
    )
    .expect(5);
    assert!(run.stderr.contains("first_name"), "{}", run.stderr);
    assert!(run.stderr.contains("NUL"), "{}", run.stderr);
    let run = crm_with(
        Some(&db),
        &["contact", "add", "--json", "-"],
        r#"{"last_name": "Byte", "custom": {"note": ["ok", "x\u0000"]}}"#,
        &[],
    )
    .expect(5);
    assert!(run.stderr.contains("custom.note[1]"), "{}", run.stderr);
    let big = format!(
        r#"{{"last_name": "Gross", "job_title": "{}"}}"#,
        "x".repeat(2 << 20)
    );
    let run = crm_with(Some(&db), &["contact", "add", "--json", "-"], &big, &[]).expect(5);
    assert!(run.stderr.contains("MiB"), "{}", run.stderr);
    let n: i64 = scalar(&db, "select count(*) from contacts").await;
    assert_eq!(n, 0);
}

#[tokio::test]
async fn a_nul_byte_in_one_row_fails_that_row_alone() {
    let db = TestDb::new().await;
    init(&db);
    let path = tmp("nul.csv");
    std::fs::write(
        &path,
        b"Vorname;Nachname;E-Mail\nAnna;Alt;anna@hart.test\nBert;B\0se;bert@hart.test\nCarla;Clever;carla@hart.test\n",
    )
    .unwrap();
    let s = crm(&db, &["import", "contacts", path.to_str().unwrap()])
        .expect(5)
        .json();
    std::fs::remove_file(&path).ok();
    assert_eq!(
        (s["created"].as_u64(), s["failed"].as_u64()),
        (Some(2), Some(1)),
        "{s}"
    );
    assert_eq!(s["errors"][0]["line"], 3);
    assert_eq!(s["errors"][0]["field"], "last_name");
    assert_eq!(s["errors_omitted"], 0);
    let status: String = scalar(&db, "select status from import_runs").await;
    assert_eq!(status, "finished");
}

fn people(reverse: bool) -> String {
    let mut rows: Vec<String> = (0..400)
        .map(|i| {
            let email = if i % 3 == 0 {
                format!("p{i}@beide.test")
            } else {
                String::new()
            };
            format!("Vor{i};Nach{i};{email};Firma{}\n", i % 5)
        })
        .collect();
    if reverse {
        rows.reverse();
    }
    format!("Vorname;Nachname;E-Mail;Firma\n{}", rows.concat())
}

#[tokio::test]
async fn two_crm_imports_at_once_both_finish_without_duplicates() {
    let db = TestDb::new().await;
    init(&db);
    let (a, b) = (tmp("a.csv"), tmp("b.csv"));
    std::fs::write(&a, people(false)).unwrap();
    std::fs::write(&b, people(true)).unwrap();
    let spawn = |path: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_crm"))
            .args(["--format", "json", "import", "contacts"])
            .arg(path)
            .args(["--batch-size", "20"])
            .env_remove("CRM_ORG")
            .env_remove("CRM_USER")
            .env("DATABASE_URL", db.url())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start crm")
    };
    let (pa, pb) = (spawn(&a), spawn(&b));
    let (oa, ob) = (
        pa.wait_with_output().unwrap(),
        pb.wait_with_output().unwrap(),
    );
    std::fs::remove_file(&a).ok();
    std::fs::remove_file(&b).ok();
    for o in [&oa, &ob] {
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let sa: serde_json::Value = serde_json::from_slice(&oa.stdout).unwrap();
    let sb: serde_json::Value = serde_json::from_slice(&ob.stdout).unwrap();
    assert_eq!(
        sa["created"].as_u64().unwrap() + sb["created"].as_u64().unwrap(),
        400
    );
    let n: i64 = scalar(&db, "select count(*) from contacts").await;
    assert_eq!(n, 400, "no person twice");
    let running: i64 = scalar(
        &db,
        "select count(*) from import_runs where status <> 'finished'",
    )
    .await;
    assert_eq!(running, 0);
}

#[tokio::test]
async fn ctrl_c_marks_the_run_failed() {
    let db = TestDb::new().await;
    init(&db);
    let mut child = Command::new(env!("CARGO_BIN_EXE_crm"))
        .args([
            "--format",
            "json",
            "import",
            "contacts",
            "-",
            "--batch-size",
            "10",
        ])
        .env_remove("CRM_ORG")
        .env_remove("CRM_USER")
        .env("DATABASE_URL", db.url())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start crm");
    let mut stdin = child.stdin.take().unwrap();
    // More than the 64 KiB the import reads before it starts; stdin then stays open.
    let mut data = String::from("Vorname;Nachname;E-Mail\n");
    for i in 0..3000 {
        data.push_str(&format!("Vor{i};Nach{i};p{i}@strg.test\n"));
    }
    stdin.write_all(data.as_bytes()).unwrap();
    stdin.flush().unwrap();
    // Wait until the run is recorded and its first batches are committed.
    loop {
        let n: i64 = scalar(
            &db,
            "select count(*) from import_runs where status = 'running' and rows_done > 0",
        )
        .await;
        if n > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("again"));
    let (status, error): (String, Option<String>) = {
        let mut owner = db.owner().await;
        sqlx::query_as("select status, error from import_runs")
            .fetch_one(&mut owner)
            .await
            .unwrap()
    };
    assert_eq!(status, "failed");
    assert!(error.is_some_and(|e| e.contains("Ctrl-C")));
}

#[tokio::test]
async fn phones_are_read_in_the_contacts_country() {
    let db = TestDb::new().await;
    init(&db);
    let org = crm(&db, &["org", "show"]).expect(0).json();
    assert_eq!(org["region"], "DE");
    // A Swiss company: its contact's national number is Swiss, not German.
    let co = crm(
        &db,
        &[
            "company",
            "add",
            "--name",
            "Zürich AG",
            "--country",
            "CH",
            "--phone",
            "044 668 18 00",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(co["phone"], "+41446681800", "a company's own country: {co}");
    let c = crm(
        &db,
        &[
            "contact",
            "add",
            "--last-name",
            "Schweizer",
            "--company",
            "Zürich AG",
            "--phone",
            "044 123 45 67",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(c["phone"], "+41441234567", "{c}");
    // An Austrian address.
    let c = crm(
        &db,
        &[
            "contact",
            "add",
            "--last-name",
            "Wiener",
            "--country",
            "AT",
            "--phone",
            "01 5873456-12",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(c["phone"], "+431587345612", "{c}");
    // Messy German numbers.
    let c = crm(
        &db,
        &[
            "contact",
            "add",
            "--last-name",
            "Klammer",
            "--phone",
            "+49 (0)89 123456-78",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(c["phone"], "+498912345678", "{c}");
    // What cannot be placed is kept as written, with a warning.
    let run = crm(
        &db,
        &[
            "contact",
            "add",
            "--last-name",
            "Fremd",
            "--phone",
            "+999 1234567",
        ],
    )
    .expect(0);
    assert!(run.stderr.contains("warning: phone 1"), "{}", run.stderr);
    assert!(!run.stderr.contains("999"), "the number is not quoted");
    let c = run.json();
    assert_eq!(c["phones"][0]["valid"], false, "{c}");
    assert_eq!(c["phones"][0]["raw"], "+999 1234567");
    // JSON input follows the same rule.
    let c = crm_with(
        Some(&db),
        &["--format", "json", "contact", "add", "--json", "-"],
        r#"{"last_name": "Json", "country": "CH", "phone": "044 668 18 00"}"#,
        &[],
    )
    .expect(0)
    .json();
    assert_eq!(c["phone"], "+41446681800", "{c}");
    // The organization's region, for contacts without any country.
    crm(&db, &["org", "edit", "--region", "xx"]).expect(5);
    let org = crm(&db, &["org", "edit", "--region", "ch"])
        .expect(0)
        .json();
    assert_eq!(org["region"], "CH");
    let c = crm(
        &db,
        &[
            "contact",
            "add",
            "--last-name",
            "Basler",
            "--phone",
            "061 123 45 67",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(c["phone"], "+41611234567", "{c}");
    // The import follows the rule too, and keeps the contact of an unplaceable number.
    let path = tmp("phones.csv");
    std::fs::write(
        &path,
        "Vorname;Nachname;Telefon;Firma\nA;Handy;0171/1234567;\nB;Zuerich;044 123 45 68;Zürich AG\nC;Komisch;+999 7654321;\n",
    )
    .unwrap();
    crm(&db, &["org", "edit", "--region", "DE"]).expect(0);
    let s = crm(&db, &["import", "contacts", path.to_str().unwrap()])
        .expect(0)
        .json();
    std::fs::remove_file(&path).ok();
    assert_eq!(s["created"], 3, "{s}");
    assert_eq!(s["warnings"][0]["line"], 4, "{s}");
    let z: String = scalar(
        &db,
        "select phone from contacts where last_name = 'Zuerich'",
    )
    .await;
    assert_eq!(z, "+41441234568");
}
