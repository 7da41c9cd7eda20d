//! `crm gdpr` as a process: subject export (JSON and CSV), erasure with its receipt
//! contract, confirmation and exit codes, consent, retention, organization export and
//! deletion.

use crm_core::testing::TestDb;
use serde_json::Value;

use crate::support::{Run, crm, crm_with};

const EMAIL: &str = "ida.quast@example.de";

/// A fresh database with one organization (made through the binary), a user with the
/// role `user`, and one person with two addresses and a phone number.
async fn setup() -> (TestDb, String) {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Datenschutz GmbH",
            "--admin-email",
            "admin@ds.test",
            "--no-password",
        ],
    )
    .expect(0);
    crm(
        &db,
        &["user", "add", "--email", "user@ds.test", "--role", "user"],
    )
    .expect(0);
    let person = crm_with(
        Some(&db),
        &["--format", "json", "contact", "add", "--json", "-"],
        &serde_json::json!({
            "first_name": "Ida",
            "last_name": "Quastenberg",
            "email": EMAIL,
            "emails": [{"email": "ida@privat.example", "kind": "personal"}],
            "phone": "+49 40 1234 5678",
        })
        .to_string(),
        &[],
    )
    .expect(0)
    .json();
    let id = person["id"].as_str().unwrap().to_string();
    (db, id)
}

fn gdpr(db: &TestDb, args: &[&str]) -> Run {
    let mut all = vec!["gdpr"];
    all.extend_from_slice(args);
    crm(db, &all)
}

/// `crm --as user@ds.test --format json gdpr ARGS`.
fn gdpr_as_user(db: &TestDb, args: &[&str]) -> Run {
    let mut all = vec!["--as", "user@ds.test", "--format", "json", "gdpr"];
    all.extend_from_slice(args);
    crm_with(Some(db), &all, "", &[])
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("crm-cli-{tag}-{}", uuid::Uuid::now_v7()))
}

#[tokio::test]
async fn subject_export_prints_json_writes_files_and_names_unknown_people() {
    let (db, id) = setup().await;
    gdpr(
        &db,
        &[
            "consent",
            "--contact",
            EMAIL,
            "--grant",
            "--source",
            "Webformular",
        ],
    )
    .expect(0);
    let doc = gdpr(&db, &["export", "--contact", "ida@privat.example"])
        .expect(0)
        .json();
    for key in [
        "subject",
        "contact",
        "other_records",
        "emails",
        "phones",
        "company",
        "deals",
        "activities",
        "owners",
        "consents",
        "audit",
        "lexware",
        "generated_at",
    ] {
        assert!(doc.get(key).is_some(), "missing {key}: {doc}");
    }
    assert_eq!(doc["contact"]["id"], id.as_str());
    assert_eq!(doc["subject"]["matched_by"], "email");
    assert_eq!(doc["emails"].as_array().unwrap().len(), 2);
    assert_eq!(doc["phones"][0]["number"], "+494012345678");
    assert_eq!(doc["consents"][0]["source"], "Webformular");
    assert_eq!(doc["owners"][0]["email"], "admin@ds.test");

    // --out and --csv-dir.
    let dir = temp_dir("subject");
    let file = dir.join("ida.json");
    std::fs::create_dir_all(&dir).unwrap();
    let run = gdpr(
        &db,
        &[
            "export",
            "--contact",
            &id,
            "--out",
            file.to_str().unwrap(),
            "--csv-dir",
            dir.join("csv").to_str().unwrap(),
        ],
    )
    .expect(0);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written["contact"]["id"], id.as_str());
    for section in [
        "subject", "contact", "emails", "phones", "consents", "audit",
    ] {
        let text = std::fs::read_to_string(dir.join("csv").join(format!("{section}.csv"))).unwrap();
        assert!(text.lines().count() >= 2, "{section}: {text}");
    }
    std::fs::remove_dir_all(&dir).ok();

    gdpr(&db, &["export", "--contact", "nobody@example.de"]).expect(3);
    gdpr(&db, &["export", "--contact", "zz"]).expect(2);
    gdpr_as_user(&db, &["export", "--contact", EMAIL]).expect(6);
}

#[tokio::test]
async fn erase_asks_or_needs_yes_prints_a_receipt_and_leaves_nothing_to_find() {
    let (db, id) = setup().await;
    // No terminal, no --yes: refused before anything happens.
    let run = gdpr(&db, &["erase", "--contact", EMAIL]).expect(2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    // A role without the right.
    let run = gdpr_as_user(&db, &["erase", "--contact", EMAIL, "--yes"]).expect(6);
    assert!(!run.stderr.contains("Quastenberg") && !run.stderr.contains(EMAIL));
    gdpr(&db, &["export", "--contact", EMAIL]).expect(0);

    // The dry run counts; nothing changes.
    let dry = gdpr(&db, &["erase", "--contact", EMAIL, "--dry-run"])
        .expect(0)
        .json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["counts"]["contacts"], 1);
    assert_eq!(dry["counts"]["emails"], 2);
    assert_eq!(dry["counts"]["phones"], 1);
    crm(&db, &["contact", "show", &id]).expect(0);

    let receipt = gdpr(&db, &["erase", "--contact", &id, "--yes"])
        .expect(0)
        .json();
    // The contract: receipt_id, erased_at and the counts.
    assert!(
        receipt["receipt_id"]
            .as_str()
            .is_some_and(|s| s.len() == 36)
    );
    assert!(receipt["erased_at"].as_str().is_some());
    assert_eq!(receipt["counts"], dry["counts"]);
    assert_eq!(receipt["dry_run"], false);
    assert_eq!(receipt["email_hashes"].as_array().unwrap().len(), 2);
    let text = receipt.to_string();
    assert!(
        !text.contains("Quastenberg") && !text.contains("ida@"),
        "{text}"
    );

    // Nothing finds her.
    crm(&db, &["contact", "show", &id]).expect(3);
    gdpr(&db, &["erase", "--contact", EMAIL, "--yes"]).expect(3);
    let hits = crm(&db, &["search", "Quastenberg"]).expect(0).json();
    assert_eq!(hits.as_array().unwrap().len(), 0);
    let log = crm(&db, &["audit", "log", "--limit", "10000"]).expect(0);
    assert!(
        !log.stdout.contains("Quastenberg") && !log.stdout.contains(EMAIL),
        "{}",
        log.stdout
    );
    let verify = crm(&db, &["audit", "verify"]).expect(0).json();
    assert_eq!(verify["intact"], true);
    let was = gdpr(&db, &["was-erased", "IDA@privat.example"])
        .expect(0)
        .json();
    assert_eq!(was["erased"], true);
    let was = gdpr(&db, &["was-erased", "someone@else.example"])
        .expect(0)
        .json();
    assert_eq!(was["erased"], false);
    let receipts = gdpr(&db, &["receipts"]).expect(0).json();
    assert_eq!(receipts[0]["receipt_id"], receipt["receipt_id"]);
    // A table on request, for people.
    let table = crm_with(
        Some(&db),
        &["--format", "table", "gdpr", "receipts"],
        "",
        &[],
    )
    .expect(0);
    assert!(table.stdout.contains("audit_redacted"), "{}", table.stdout);
}

#[tokio::test]
async fn consent_is_recorded_listed_and_lists_those_without() {
    let (db, id) = setup().await;
    let other = crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "Otto",
            "--email",
            "otto@example.de",
        ],
    )
    .expect(0)
    .json();
    gdpr(
        &db,
        &["consent", "--contact", &id, "--grant", "--source", "Messe"],
    )
    .expect(0);
    let revoked = gdpr(
        &db,
        &[
            "consent",
            "--contact",
            EMAIL,
            "--revoke",
            "--source",
            "Anruf",
            "--purpose",
            "newsletter",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(revoked["purpose"], "newsletter");
    let history = gdpr(&db, &["consents", "--contact", EMAIL])
        .expect(0)
        .json();
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["status"], "granted");
    let without = gdpr(&db, &["consents", "--without"]).expect(0).json();
    let ids: Vec<&str> = without
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [other["id"].as_str().unwrap()]);
    let without = gdpr(&db, &["consents", "--without", "--purpose", "newsletter"])
        .expect(0)
        .json();
    assert_eq!(without.as_array().unwrap().len(), 2);
    // Usage and validation errors.
    gdpr(&db, &["consent", "--contact", &id, "--source", "x"]).expect(2);
    gdpr(
        &db,
        &[
            "consent",
            "--contact",
            &id,
            "--grant",
            "--revoke",
            "--source",
            "x",
        ],
    )
    .expect(2);
    let run = gdpr(
        &db,
        &[
            "consent",
            "--contact",
            &id,
            "--grant",
            "--source",
            " ",
            "--purpose",
            "a b",
        ],
    )
    .expect(5);
    assert!(
        run.stderr.contains("purpose") && run.stderr.contains("source"),
        "{}",
        run.stderr
    );
    gdpr(&db, &["consents"]).expect(2);
}

#[tokio::test]
async fn retention_sets_the_period_runs_dry_and_needs_the_right() {
    let (db, id) = setup().await;
    crm(&db, &["contact", "delete", &id, "--yes"]).expect(0);
    gdpr(&db, &["retention", "--set-days", "0"]).expect(5);
    let set = gdpr(&db, &["retention", "--set-days", "10"])
        .expect(0)
        .json();
    assert_eq!(set["retention_days"], 10);
    gdpr(&db, &["retention", "--older-than", "30x"]).expect(2);
    // Just deleted: not past any period yet.
    let s = gdpr(&db, &["retention", "--dry-run"]).expect(0).json();
    assert_eq!(s["dry_run"], true);
    assert_eq!(s["older_than_secs"], 10 * 86_400);
    assert_eq!(s["contacts"], 0);
    // Past a (short) period: purged.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let s = gdpr(&db, &["retention", "--older-than", "1s", "--dry-run"])
        .expect(0)
        .json();
    assert_eq!(s["contacts"], 1);
    let deleted = crm(&db, &["contact", "list", "--deleted"]).expect(0).json();
    assert_eq!(
        deleted.as_array().unwrap().len(),
        1,
        "the dry run changed nothing"
    );
    let s = gdpr(&db, &["retention", "--older-than", "1s"])
        .expect(0)
        .json();
    assert_eq!(
        (s["contacts"].as_i64(), s["dry_run"].as_bool()),
        (Some(1), Some(false))
    );
    let deleted = crm(&db, &["contact", "list", "--deleted"]).expect(0).json();
    assert_eq!(deleted.as_array().unwrap().len(), 0);
    gdpr(&db, &["export", "--contact", &id]).expect(3);
    gdpr_as_user(&db, &["retention", "--dry-run"]).expect(6);
}

#[tokio::test]
async fn org_export_writes_ndjson_and_delete_org_removes_the_tenant() {
    let (db, _) = setup().await;
    let dir = temp_dir("org");
    let export = gdpr(&db, &["org-export", "--out", dir.to_str().unwrap()])
        .expect(0)
        .json();
    assert_eq!(export["slug"], "datenschutz-gmbh");
    let contacts = std::fs::read_to_string(dir.join("contacts.ndjson")).unwrap();
    assert_eq!(contacts.lines().count(), 1);
    assert!(dir.join("manifest.json").is_file());
    assert!(!dir.join("sessions.ndjson").exists());
    // Not into a directory that holds something.
    gdpr(&db, &["org-export", "--out", dir.to_str().unwrap()]).expect(2);
    std::fs::remove_dir_all(&dir).ok();
    gdpr_as_user(
        &db,
        &["org-export", "--out", temp_dir("no").to_str().unwrap()],
    )
    .expect(6);

    // Deleting: --yes without a terminal, owners only.
    gdpr(&db, &["delete-org"]).expect(2);
    gdpr_as_user(&db, &["delete-org", "--yes"]).expect(6);
    let gone = gdpr(&db, &["delete-org", "--yes"]).expect(0).json();
    assert_eq!(gone["slug"], "datenschutz-gmbh");
    let orgs = crm(&db, &["org", "list"]).expect(0).json();
    assert_eq!(orgs.as_array().unwrap().len(), 0);
    assert!(db.crm.organizations().await.unwrap().is_empty());
    assert!(db.crm.verify_audit_chains().await.unwrap().is_empty());
}

/// Runs `crm ARGS` on a pseudo-terminal (util-linux `script`), typing `keys`; returns the
/// exit code and everything the terminal showed. `None` when `script` is not installed.
fn on_terminal(db: &TestDb, args: &[&str], keys: &str) -> Option<(i32, String)> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut line = String::from(env!("CARGO_BIN_EXE_crm"));
    for a in args {
        line.push_str(&format!(" '{a}'"));
    }
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("DATABASE_URL", db.url())
        .env_remove("CRM_ORG")
        .env_remove("CRM_USER")
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    // Type once the prompt is up.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.stdin.take()?.write_all(keys.as_bytes()).ok()?;
    let out = child.wait_with_output().ok()?;
    Some((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[tokio::test]
async fn on_a_terminal_erase_shows_the_person_and_the_counts_and_asks() {
    let (db, id) = setup().await;
    let Some((code, screen)) = on_terminal(&db, &["gdpr", "erase", "--contact", EMAIL], "n") else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    assert_eq!(code, 0, "{screen}");
    assert!(
        screen.contains("Ida Quastenberg") && screen.contains(EMAIL),
        "{screen}"
    );
    assert!(
        screen.contains("contacts") && screen.contains("phones"),
        "{screen}"
    );
    assert!(screen.contains("nothing erased"), "{screen}");
    crm(&db, &["contact", "show", &id]).expect(0);
    let (code, screen) = on_terminal(
        &db,
        &["--format", "json", "gdpr", "erase", "--contact", EMAIL],
        "y",
    )
    .unwrap();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("receipt_id"), "{screen}");
    crm(&db, &["contact", "show", &id]).expect(3);
}
