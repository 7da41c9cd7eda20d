//! GDPR precision as a process: exports of consenting contacts per purpose (issue 15,
//! item 1) and dry-run erasures that say they are one (issue 15, item 10).

use crm_core::testing::TestDb;
use serde_json::Value;

use crate::support::{crm, crm_with};

async fn setup(org: &str) -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            org,
            "--admin-email",
            "admin@precision.test",
            "--no-password",
        ],
    )
    .expect(0);
    db
}

fn add(db: &TestDb, first: &str, email: &str) -> String {
    let c = crm(
        db,
        &[
            "contact",
            "add",
            "--first-name",
            first,
            "--last-name",
            "Zustimmung",
            "--email",
            email,
        ],
    )
    .expect(0)
    .json();
    c["id"].as_str().unwrap().to_string()
}

fn consent(db: &TestDb, email: &str, grant: bool, purpose: &str) {
    crm(
        db,
        &[
            "gdpr",
            "consent",
            "--contact",
            email,
            if grant { "--grant" } else { "--revoke" },
            "--source",
            "Formular",
            "--purpose",
            purpose,
        ],
    )
    .expect(0);
}

/// The e-mail addresses `crm export contacts --consenting [--purpose P]` writes.
fn consenting(db: &TestDb, purpose: Option<&str>) -> Vec<String> {
    let mut args = vec![
        "--format",
        "csv",
        "export",
        "contacts",
        "--consenting",
        "--columns",
        "email",
    ];
    if let Some(p) = purpose {
        args.extend(["--purpose", p]);
    }
    let out = crm_with(Some(db), &args, "", &[]).expect(0).stdout;
    let mut lines: Vec<String> = out.lines().skip(1).map(str::to_string).collect();
    lines.sort();
    lines
}

/// The e-mail addresses `crm gdpr consents --without --purpose P` lists.
fn without(db: &TestDb, purpose: &str) -> Vec<String> {
    let list = crm(db, &["gdpr", "consents", "--without", "--purpose", purpose])
        .expect(0)
        .json();
    let mut out: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["email"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// Issue 15, item 1: consent is per purpose.
#[tokio::test]
async fn export_consenting_follows_the_latest_decision_for_the_purpose() {
    let db = setup("Zustimmung GmbH").await;
    // Granted marketing, later objected (revoked it): not consenting.
    add(&db, "Greta", "greta@z.test");
    consent(&db, "greta@z.test", true, "marketing");
    consent(&db, "greta@z.test", false, "marketing");
    // Granted marketing, later revoked only the newsletter: still consenting to marketing.
    add(&db, "Nora", "nora@z.test");
    consent(&db, "nora@z.test", true, "marketing");
    consent(&db, "nora@z.test", true, "newsletter");
    consent(&db, "nora@z.test", false, "newsletter");
    // Granted only the newsletter.
    add(&db, "Olaf", "olaf@z.test");
    consent(&db, "olaf@z.test", true, "newsletter");
    // Never asked.
    add(&db, "Paul", "paul@z.test");

    // Without --purpose it means marketing.
    assert_eq!(consenting(&db, None), ["nora@z.test"]);
    assert_eq!(consenting(&db, Some("marketing")), ["nora@z.test"]);
    assert_eq!(consenting(&db, Some("newsletter")), ["olaf@z.test"]);
    assert_eq!(consenting(&db, Some("events")), Vec::<String>::new());
    // The same computation as `gdpr consents --without`: together they are every contact.
    for purpose in ["marketing", "newsletter"] {
        let mut all = consenting(&db, Some(purpose));
        all.extend(without(&db, purpose));
        all.sort();
        assert_eq!(
            all,
            ["greta@z.test", "nora@z.test", "olaf@z.test", "paul@z.test"],
            "{purpose}"
        );
    }
    // JSON says the same; a bad purpose is invalid data; --purpose needs --consenting.
    let json = crm(
        &db,
        &[
            "export",
            "contacts",
            "--consenting",
            "--purpose",
            "newsletter",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_eq!(json[0]["email"], "olaf@z.test");
    crm(
        &db,
        &[
            "export",
            "contacts",
            "--consenting",
            "--purpose",
            "Mar keting!",
        ],
    )
    .expect(5);
    crm(&db, &["export", "contacts", "--purpose", "newsletter"]).expect(2);
    let help = crm(&db, &["export", "--help"]).expect(0).stdout;
    assert!(help.contains("default marketing"), "{help}");
}

/// Issue 15, item 10: a dry run is not a receipt.
#[tokio::test]
async fn a_dry_run_erasure_says_it_is_one_and_shows_the_hashes_the_erasure_records() {
    // A fresh organization: no erasure key yet.
    let db = setup("Probelauf GmbH").await;
    let dora = crm_with(
        Some(&db),
        &["--format", "json", "contact", "add", "--json", "-"],
        &serde_json::json!({
            "first_name": "Dora",
            "last_name": "Probe",
            "email": "dora@probe.test",
            "emails": [{"email": "dora@privat.test", "kind": "personal"}],
        })
        .to_string(),
        &[],
    )
    .expect(0)
    .json();
    let id = dora["id"].as_str().unwrap().to_string();
    let dry = crm(
        &db,
        &["gdpr", "erase", "--contact", "dora@probe.test", "--dry-run"],
    )
    .expect(0);
    assert!(dry.stderr.contains("dry run"), "{}", dry.stderr);
    let dry: Value = dry.json();
    assert_eq!(dry["dry_run"], true);
    assert!(dry.get("receipt_id").is_none(), "{dry}");
    assert!(dry.get("erased_at").is_none(), "{dry}");
    assert_eq!(dry["contact_ids"], serde_json::json!([id]));
    assert_eq!(dry["counts"]["contacts"], 1);
    // Nothing happened and no receipt exists.
    crm(&db, &["contact", "show", &id]).expect(0);
    assert_eq!(
        crm(&db, &["gdpr", "receipts"]).expect(0).json(),
        serde_json::json!([])
    );
    // The table shows no receipt either.
    let table = crm_with(
        Some(&db),
        &[
            "--format",
            "table",
            "gdpr",
            "erase",
            "--contact",
            &id,
            "--dry-run",
        ],
        "",
        &[],
    )
    .expect(0);
    assert!(table.stdout.contains("true"), "{}", table.stdout);

    let real = crm(&db, &["gdpr", "erase", "--contact", &id, "--yes"])
        .expect(0)
        .json();
    assert!(real["receipt_id"].as_str().is_some(), "{real}");
    assert!(real["erased_at"].as_str().is_some(), "{real}");
    assert_eq!(real["dry_run"], false);
    assert_eq!(real["counts"], dry["counts"]);
    assert_eq!(dry["email_hashes"].as_array().unwrap().len(), 2);
    assert_eq!(real["email_hashes"], dry["email_hashes"]);
}
