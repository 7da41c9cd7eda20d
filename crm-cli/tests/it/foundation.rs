//! init, org, db, demo and the error contract.

use crm_core::testing::TestDb;

use crate::support::{crm, crm_with};

#[tokio::test]
async fn init_creates_an_organization_that_org_list_shows() {
    let db = TestDb::new().await;
    let run = crm(
        &db,
        &[
            "init",
            "--org",
            "Müller & Söhne GmbH",
            "--admin-email",
            "chef@mueller.de",
            "--no-password",
        ],
    )
    .expect(0);
    assert_eq!(run.json()["slug"], "mueller-soehne-gmbh");
    let list = crm(&db, &["org", "list"]).expect(0).json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["name"], "Müller & Söhne GmbH");
}

#[tokio::test]
async fn init_reads_the_password_from_stdin_and_refuses_a_weak_one() {
    let db = TestDb::new().await;
    let args = [
        "--format",
        "json",
        "init",
        "--org",
        "Acme",
        "--admin-email",
        "a@acme.test",
        "--password-stdin",
    ];
    let weak = crm_with(Some(&db), &args, "short\n", &[]).expect(5);
    assert!(weak.stderr.contains("password"), "{}", weak.stderr);
    assert!(
        !weak.stderr.contains("short"),
        "the password must not be echoed"
    );
    crm_with(Some(&db), &args, "a long enough secret\n", &[]).expect(0);
}

#[tokio::test]
async fn a_bad_email_is_a_validation_error_with_exit_5() {
    let db = TestDb::new().await;
    let run = crm(
        &db,
        &[
            "init",
            "--org",
            "Acme",
            "--admin-email",
            "not-an-email",
            "--no-password",
        ],
    )
    .expect(5);
    assert!(run.stderr.contains("email"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("not-an-email"),
        "input must not be echoed: {}",
        run.stderr
    );
}

#[tokio::test]
async fn a_duplicate_slug_is_a_conflict_with_exit_4() {
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
    let run = crm(
        &db,
        &[
            "init",
            "--org",
            "Acme",
            "--admin-email",
            "b@acme.test",
            "--no-password",
        ],
    )
    .expect(4);
    assert!(run.stderr.contains("slug"), "{}", run.stderr);
}

#[tokio::test]
async fn several_organizations_need_org_and_an_unknown_one_is_not_found() {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Alpha",
            "--admin-email",
            "a@alpha.test",
            "--no-password",
        ],
    )
    .expect(0);
    crm(
        &db,
        &[
            "init",
            "--org",
            "Beta",
            "--admin-email",
            "b@beta.test",
            "--no-password",
        ],
    )
    .expect(0);
    let run = crm(&db, &["org", "show"]).expect(2);
    assert!(run.stderr.contains("--org"), "{}", run.stderr);
    assert_eq!(
        crm(&db, &["--org", "beta", "org", "show"]).expect(0).json()["name"],
        "Beta"
    );
    crm(&db, &["--org", "gamma", "org", "show"]).expect(3);
}

#[tokio::test]
async fn demo_prints_a_pipeline_summary() {
    let db = TestDb::new().await;
    let out = crm(&db, &["demo", "--contacts", "8"]).expect(0).json();
    let stages = out["pipeline"]["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 5);
    assert_eq!(out["seeded"]["contacts"], 8);
    let deals: i64 = stages.iter().map(|s| s["deals"].as_i64().unwrap()).sum();
    assert!(deals > 0);
    // Decimals are strings in JSON.
    assert!(stages[0]["value"].is_string());
}

#[tokio::test]
async fn db_status_lists_applied_migrations() {
    let db = TestDb::new().await;
    let out = crm(&db, &["db", "status"]).expect(0).json();
    assert_eq!(out["pending"], 0);
    assert!(!out["migrations"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn db_tune_only_advises_a_server_it_does_not_manage() {
    let db = TestDb::new().await;
    let before = crm(&db, &["db", "tune"]).expect(0).json();
    assert_eq!(before["database"], "url");
    assert_eq!(before["applied"], false);
    let names: Vec<&str> = before["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "shared_buffers",
            "effective_cache_size",
            "work_mem",
            "maintenance_work_mem"
        ]
    );
    // Nothing was written: the server keeps its values.
    let after = crm(&db, &["db", "tune", "--dry-run"]).expect(0).json();
    for (b, a) in before["settings"]
        .as_array()
        .unwrap()
        .iter()
        .zip(after["settings"].as_array().unwrap())
    {
        assert_eq!(b["current"], a["current"]);
    }
}

#[test]
fn an_unreachable_database_exits_7_with_a_hint() {
    let run = crm_with(
        None,
        &[
            "--database-url",
            "postgresql:///crm?host=/nonexistent-dir&user=crm",
            "org",
            "list",
        ],
        "",
        &[],
    )
    .expect(7);
    assert!(run.stderr.contains("DATABASE_URL"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn a_missing_required_flag_is_a_usage_error() {
    let run = crm_with(None, &["init", "--org", "X"], "", &[]).expect(2);
    assert!(run.stderr.contains("--admin-email"), "{}", run.stderr);
}

#[test]
fn completions_and_man_page_are_generated() {
    let run = crm_with(None, &["completions", "bash"], "", &[]).expect(0);
    assert!(run.stdout.contains("crm"));
    let man = crm_with(None, &["man"], "", &[]).expect(0);
    assert!(man.stdout.contains(".TH"));
}

/// The embedded default: two processes starting the local cluster at once both succeed, a
/// later run reuses it, and `db stop` stops it.
#[test]
fn the_local_cluster_starts_once_is_reused_and_stops() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = std::env::temp_dir().join(format!("crm-cli-home-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let env = [("CRM_HOME", home.to_str().unwrap())];
    let runs: Vec<_> = (0..2)
        .map(|i| {
            let env = env.map(|(k, v)| (k.to_string(), v.to_string()));
            std::thread::spawn(move || {
                let env: Vec<(&str, &str)> =
                    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let slug = format!("--admin-email=a{i}@x.test");
                crate::support::crm_with(
                    None,
                    &[
                        "--format",
                        "json",
                        "--org",
                        &format!("Org {i}"),
                        "init",
                        &slug,
                        "--no-password",
                    ],
                    "",
                    &env,
                )
            })
        })
        .collect();
    for r in runs {
        r.join().unwrap().expect(0);
    }
    let pid_file = home.join("pgdata/postmaster.pid");
    assert!(pid_file.exists(), "the cluster runs");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let list = crm_with(None, &["--format", "json", "org", "list"], "", &env)
        .expect(0)
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap(),
        pid,
        "the same server was reused"
    );
    let url = crm_with(None, &["db", "url"], "", &env).expect(0);
    assert!(url.stdout.contains(home.to_str().unwrap()));
    // A new cluster is created sized for the machine: tuning finds nothing to change.
    let tune = crm_with(
        None,
        &["--format", "json", "db", "tune", "--dry-run"],
        "",
        &env,
    )
    .expect(0)
    .json();
    let settings = tune["settings"].as_array().unwrap();
    assert_eq!(settings.len(), 4, "{tune}");
    assert!(settings.iter().all(|s| s["changes"] == false), "{tune}");
    crm_with(None, &["db", "stop"], "", &env).expect(0);
    assert!(!pid_file.exists(), "the cluster stopped");
    std::fs::remove_dir_all(&home).ok();
}
