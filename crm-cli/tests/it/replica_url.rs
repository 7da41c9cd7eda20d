//! `--replica-url` / `CRM_REPLICA_URL` and what `crm db status` shows of the pool and the
//! replica (issue 20). The library's tests run a real hot standby; here the replica is the
//! primary itself (reachable, not in recovery) or a server that does not exist.

use crm_core::testing::TestDb;

use crate::support::{crm, crm_with};

#[tokio::test]
async fn db_status_shows_the_pool_and_the_replica() {
    let db = TestDb::new().await;
    let url = db.url();
    let out = crm_with(
        Some(&db),
        &["--format", "json", "db", "status"],
        "",
        &[("CRM_REPLICA_URL", url.as_str())],
    )
    .expect(0)
    .json();
    assert_eq!(out["pool"]["max_connections"], 8);
    assert_eq!(out["pool"]["transaction_pooler"], false);
    assert_eq!(out["replica"]["reachable"], true);
    assert_eq!(out["replica"]["in_recovery"], false);
    assert_eq!(out["replica"]["lag_bytes"], 0);
    // Without one: no replica.
    let out = crm(&db, &["db", "status"]).expect(0).json();
    assert!(out["replica"].is_null(), "{out}");
}

#[tokio::test]
async fn an_unreachable_replica_is_a_warning_and_the_primary_serves_the_reads() {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Lesen GmbH",
            "--admin-email",
            "admin@lesen.example",
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
            "Anna",
            "--last-name",
            "Müller",
        ],
    )
    .expect(0);
    let gone = "postgresql:///crm?host=/nonexistent-crm-replica&user=crm";
    for args in [
        &["--format", "json", "export", "contacts"][..],
        &["--format", "json", "search", "Mueller"][..],
        &["--format", "json", "db", "status"][..],
    ] {
        let mut all = vec!["--replica-url", gone];
        all.extend_from_slice(args);
        let run = crm_with(Some(&db), &all, "", &[]).expect(0);
        assert!(run.stderr.contains("warning:"), "{args:?}: {}", run.stderr);
        assert!(
            !run.stderr.contains("nonexistent"),
            "the URL is not echoed: {}",
            run.stderr
        );
        if args.contains(&"db") {
            assert!(run.json()["replica"].is_null());
        } else {
            assert!(run.stdout.contains("Müller"), "{args:?}: {}", run.stdout);
        }
    }
}
