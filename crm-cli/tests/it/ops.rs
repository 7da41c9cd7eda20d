//! Operations: `crm db backup` and `crm db restore`.

use std::path::PathBuf;

use crm_core::testing::TestDb;
use serde_json::Value;

use crate::support::crm;

/// A directory of its own for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crm-ops-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn emails(db: &TestDb) -> Vec<String> {
    let list = crm(db, &["contact", "list"]).expect(0).json();
    let mut out: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["email"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_restored_backup_brings_back_a_deleted_contact_and_drops_later_ones() {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Sicherung GmbH",
            "--admin-email",
            "chef@sicherung.test",
            "--no-password",
        ],
    )
    .expect(0);
    let anna: Value = crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "Anna",
            "--last-name",
            "Schäfer",
            "--email",
            "anna@schaefer.test",
        ],
    )
    .expect(0)
    .json();
    let anna_id = anna["id"].as_str().unwrap().to_string();

    let dir = scratch("roundtrip");
    let file = dir.join("crm.dump");
    let file_arg = file.to_str().unwrap();
    let info = crm(&db, &["db", "backup", "--out", file_arg])
        .expect(0)
        .json();
    assert!(info["bytes"].as_u64().unwrap() > 0, "{info}");
    assert!(file.is_file());
    assert!(
        !dir.join("crm.dump.partial").exists(),
        "no partial file is left"
    );

    crm(&db, &["contact", "delete", &anna_id, "--yes"]).expect(0);
    crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "Ben",
            "--last-name",
            "Später",
            "--email",
            "ben@spaeter.test",
        ],
    )
    .expect(0);
    assert_eq!(emails(&db), ["ben@spaeter.test"]);

    // Destructive: without a terminal it needs --yes (usage error, nothing changes).
    let refused = crm(&db, &["db", "restore", file_arg]).expect(2);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(emails(&db), ["ben@spaeter.test"]);

    let restored = crm(&db, &["db", "restore", file_arg, "--yes"]).expect(0);
    assert!(
        restored.stderr.contains("erasures re-applied"),
        "{}",
        restored.stderr
    );
    assert_eq!(emails(&db), ["anna@schaefer.test"]);
    let shown = crm(&db, &["contact", "show", &anna_id]).expect(0).json();
    assert_eq!(shown["last_name"], "Schäfer");
    // The audit chain came back whole with the data.
    crm(&db, &["audit", "verify"]).expect(0);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn restoring_something_that_is_not_a_backup_changes_nothing() {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Acme",
            "--admin-email",
            "a@acme.test",
            "--no-password",
        ],
    )
    .expect(0);
    let dir = scratch("garbage");
    let file = dir.join("notes.txt");
    std::fs::write(&file, "Vorname;Nachname\nAnna;Schäfer\n").unwrap();
    let run = crm(&db, &["db", "restore", file.to_str().unwrap(), "--yes"]).expect(5);
    assert!(run.stderr.contains("not a backup"), "{}", run.stderr);
    let missing = dir.join("missing.dump");
    crm(&db, &["db", "restore", missing.to_str().unwrap(), "--yes"]).expect(3);
    assert_eq!(
        crm(&db, &["org", "list"]).expect(0).json()[0]["name"],
        "Acme"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 8: a backup from before an erasure must not bring the person back.
#[tokio::test]
async fn restoring_an_older_backup_re_applies_later_erasures() {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Vergessen GmbH",
            "--admin-email",
            "chef@vergessen.test",
            "--no-password",
        ],
    )
    .expect(0);
    for (first, email) in [
        ("Erika", "erika@vergessen.test"),
        ("Max", "max@vergessen.test"),
    ] {
        crm(
            &db,
            &[
                "contact",
                "add",
                "--first-name",
                first,
                "--last-name",
                "Muster",
                "--email",
                email,
            ],
        )
        .expect(0);
    }
    let dir = scratch("reapply");
    let file = dir.join("before-erasure.dump");
    crm(&db, &["db", "backup", "--out", file.to_str().unwrap()]).expect(0);
    crm(
        &db,
        &[
            "gdpr",
            "erase",
            "--contact",
            "erika@vergessen.test",
            "--yes",
        ],
    )
    .expect(0);
    assert_eq!(emails(&db), vec!["max@vergessen.test"]);
    let restore = crm(&db, &["db", "restore", file.to_str().unwrap(), "--yes"]).expect(0);
    assert!(
        restore.stderr.contains("1 contact(s) erased again"),
        "{}",
        restore.stderr
    );
    // The person stays erased; the other contact is back as it was.
    assert_eq!(emails(&db), vec!["max@vergessen.test"]);
    crm(&db, &["contact", "show", "erika@vergessen.test"]).expect(3);
    assert_eq!(
        crm(&db, &["audit", "verify"]).expect(0).json()["intact"],
        true
    );
    // Re-applying again finds nothing more to do.
    let again = crm(&db, &["gdpr", "reapply-erasures"]).expect(0);
    assert!(
        again.stderr.contains("0 contact(s) erased again"),
        "{}",
        again.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Issue 14, item 6: a restore that cannot carry the erasure receipts across replaces
/// nothing.
#[tokio::test]
async fn a_restore_that_cannot_save_the_erasure_receipts_changes_nothing() {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Quittung GmbH",
            "--admin-email",
            "chef@quittung.test",
            "--no-password",
        ],
    )
    .expect(0);
    for email in ["erika@quittung.test", "max@quittung.test"] {
        crm(
            &db,
            &["contact", "add", "--first-name", "X", "--email", email],
        )
        .expect(0);
    }
    let dir = scratch("unsaved");
    let file = dir.join("before.dump");
    crm(&db, &["db", "backup", "--out", file.to_str().unwrap()]).expect(0);
    crm(
        &db,
        &["gdpr", "erase", "--contact", "erika@quittung.test", "--yes"],
    )
    .expect(0);
    crm(
        &db,
        &[
            "contact",
            "add",
            "--first-name",
            "Neu",
            "--email",
            "neu@quittung.test",
        ],
    )
    .expect(0);
    // Where the receipts would be saved, something that cannot be written.
    std::fs::create_dir_all(dir.join("before.erasures.json")).unwrap();
    let run = crm(&db, &["db", "restore", file.to_str().unwrap(), "--yes"]).expect(1);
    assert!(
        run.stderr.contains("nothing was restored") && run.stderr.contains("erasure receipts"),
        "{}",
        run.stderr
    );
    // Nothing was replaced: the later contact is there, the erased person is not.
    assert_eq!(emails(&db), vec!["max@quittung.test", "neu@quittung.test"]);
    // Receipts that cannot be read stop it too (they were once taken as "none").
    std::fs::remove_dir_all(dir.join("before.erasures.json")).unwrap();
    let mut owner = db.owner().await;
    sqlx::query("alter table erasure_receipts rename to erasure_receipts_away")
        .execute(&mut owner)
        .await
        .unwrap();
    let run = crm(&db, &["db", "restore", file.to_str().unwrap(), "--yes"]).expect(1);
    assert!(
        run.stderr.contains("nothing was restored") && run.stderr.contains("erasure receipts"),
        "{}",
        run.stderr
    );
    sqlx::query("alter table erasure_receipts_away rename to erasure_receipts")
        .execute(&mut owner)
        .await
        .unwrap();
    assert_eq!(emails(&db), vec!["max@quittung.test", "neu@quittung.test"]);
    // With both in order, the restore goes through and the erasure stays.
    crm(&db, &["db", "restore", file.to_str().unwrap(), "--yes"]).expect(0);
    assert_eq!(emails(&db), vec!["max@quittung.test"]);
    std::fs::remove_dir_all(&dir).ok();
}
