//! `crm user`: adding, listing, roles, deactivation, passwords, teams and visibility.

use crm_core::testing::TestDb;

use crate::support::{Run, crm, crm_with};

const OWNER: &str = "chefin@acme.test";

async fn acme() -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Acme",
            "--admin-email",
            OWNER,
            "--no-password",
        ],
    )
    .expect(0);
    db
}

/// Runs `crm --format json ARGS` with `stdin`.
fn crm_in(db: &TestDb, args: &[&str], stdin: &str) -> Run {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    crm_with(Some(db), &all, stdin, &[])
}

#[tokio::test]
async fn users_are_added_listed_and_given_roles() {
    let db = acme().await;
    let added = crm_in(
        &db,
        &[
            "user",
            "add",
            "--email",
            "Bea@acme.test",
            "--role",
            "user",
            "--first-name",
            "Bea",
            "--last-name",
            "Becker",
            "--password-stdin",
        ],
        "a long enough secret\n",
    )
    .expect(0)
    .json();
    assert_eq!(added["email"], "Bea@acme.test");
    assert_eq!(added["role"], "user");
    assert_eq!(added["visibility"], "all");
    assert_eq!(added["active"], true);
    assert!(
        added.get("password_hash").is_none() && !added.to_string().contains("argon2"),
        "{added}"
    );

    let list = crm(&db, &["user", "list"]).expect(0).json();
    let emails: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["Bea@acme.test", OWNER]);

    let changed = crm(&db, &["user", "set-role", "bea@ACME.test", "manager"])
        .expect(0)
        .json();
    assert_eq!(changed["role"], "manager");
    // German labels are understood too; an unknown role is a usage error.
    crm(&db, &["user", "set-role", "bea@acme.test", "Nur lesen"]).expect(0);
    crm(&db, &["user", "set-role", "bea@acme.test", "emperor"]).expect(2);
    // The same address again, in other case: a conflict.
    let dup = crm(
        &db,
        &["user", "add", "--email", "BEA@acme.test", "--role", "admin"],
    )
    .expect(4);
    assert!(dup.stderr.contains("e-mail"), "{}", dup.stderr);
    // The last owner cannot step down.
    crm(&db, &["user", "set-role", OWNER, "admin"]).expect(4);
    // Table and CSV output work too.
    let csv = crm_with(Some(&db), &["--format", "csv", "user", "list"], "", &[]).expect(0);
    assert!(csv.stdout.starts_with("email,name,role,"), "{}", csv.stdout);
    let table = crm_with(Some(&db), &["--format", "table", "user", "list"], "", &[]).expect(0);
    assert!(table.stdout.contains("read_only"), "{}", table.stdout);
}

#[tokio::test]
async fn a_deactivated_user_cannot_act_and_roles_limit_the_rest() {
    let db = acme().await;
    crm(
        &db,
        &[
            "user",
            "add",
            "--email",
            "dora@acme.test",
            "--role",
            "admin",
        ],
    )
    .expect(0);
    crm(
        &db,
        &[
            "user",
            "add",
            "--email",
            "rita@acme.test",
            "--role",
            "read_only",
        ],
    )
    .expect(0);
    // A read-only user may list but not add users.
    crm(&db, &["--as", "rita@acme.test", "user", "list"]).expect(0);
    let denied = crm(
        &db,
        &[
            "--as",
            "rita@acme.test",
            "user",
            "add",
            "--email",
            "x@acme.test",
            "--role",
            "user",
        ],
    )
    .expect(6);
    assert!(denied.stderr.contains("manage users"), "{}", denied.stderr);
    // An admin may not make owners.
    crm(
        &db,
        &[
            "--as",
            "dora@acme.test",
            "user",
            "set-role",
            "rita@acme.test",
            "owner",
        ],
    )
    .expect(6);

    let off = crm(&db, &["user", "deactivate", "dora@acme.test"])
        .expect(0)
        .json();
    assert_eq!(off["active"], false);
    let run = crm(&db, &["--as", "dora@acme.test", "user", "list"]).expect(6);
    assert!(run.stderr.contains("deactivated"), "{}", run.stderr);
    crm(&db, &["user", "reactivate", "dora@acme.test"]).expect(0);
    crm(&db, &["--as", "dora@acme.test", "user", "list"]).expect(0);
    // An unknown user is not found.
    crm(&db, &["user", "deactivate", "nobody@acme.test"]).expect(3);
}

#[tokio::test]
async fn passwords_come_from_stdin_and_weak_ones_are_refused() {
    let db = acme().await;
    let weak = crm_in(
        &db,
        &[
            "user",
            "add",
            "--email",
            "paul@acme.test",
            "--role",
            "user",
            "--password-stdin",
        ],
        "qwerty123\n",
    )
    .expect(5);
    assert!(weak.stderr.contains("password"), "{}", weak.stderr);
    assert!(!weak.stderr.contains("qwerty123"), "never echoed");
    // Nothing was added.
    assert_eq!(
        crm(&db, &["user", "list"])
            .expect(0)
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    crm(
        &db,
        &["user", "add", "--email", "paul@acme.test", "--role", "user"],
    )
    .expect(0);
    let short = crm_in(
        &db,
        &["user", "passwd", "paul@acme.test", "--password-stdin"],
        "kurz\n",
    )
    .expect(5);
    assert!(short.stderr.contains("at least 8"), "{}", short.stderr);
    crm_in(
        &db,
        &["user", "passwd", "paul@acme.test", "--password-stdin"],
        "ein langes Passwort\n",
    )
    .expect(0);
    // The password works for an embedding application's login.
    let org = db.crm.organization_by_slug("acme").await.unwrap();
    db.crm
        .login(org.id, "paul@acme.test", "ein langes Passwort")
        .await
        .unwrap();
    // Without a terminal and without --password-stdin there is nothing to read.
    let run = crm(&db, &["user", "passwd", "paul@acme.test"]).expect(2);
    assert!(run.stderr.contains("--password-stdin"), "{}", run.stderr);
    // A user changes their own password; a plain user cannot change another's.
    crm_with(
        Some(&db),
        &[
            "--as",
            "paul@acme.test",
            "user",
            "passwd",
            OWNER,
            "--password-stdin",
        ],
        "sneaky but long\n",
        &[],
    )
    .expect(6);
    // Changing one's own password needs the current one (second line of stdin).
    let own = |input: &'static str| {
        crm_with(
            Some(&db),
            &[
                "--as",
                "paul@acme.test",
                "user",
                "passwd",
                "paul@acme.test",
                "--password-stdin",
            ],
            input,
            &[],
        )
    };
    let run = own("mein neues Passwort\n").expect(6);
    assert!(run.stderr.contains("current password"), "{}", run.stderr);
    own("mein neues Passwort\nfalsch geraten\n").expect(6);
    own("mein neues Passwort\nein langes Passwort\n").expect(0);
    db.crm
        .login(org.id, "paul@acme.test", "mein neues Passwort")
        .await
        .unwrap();
}

#[tokio::test]
async fn teams_and_visibility_are_set_by_name() {
    let db = acme().await;
    crm(
        &db,
        &["user", "add", "--email", "ute@acme.test", "--role", "user"],
    )
    .expect(0);
    let team = crm(&db, &["user", "team", "create", "Vertrieb Nord"])
        .expect(0)
        .json();
    assert_eq!(team["name"], "Vertrieb Nord");
    crm(&db, &["user", "team", "create", "Vertrieb Nord"]).expect(4);
    let ute = crm(
        &db,
        &["user", "team", "set", "ute@acme.test", "Vertrieb Nord"],
    )
    .expect(0)
    .json();
    assert_eq!(ute["team"], "Vertrieb Nord");
    crm(
        &db,
        &["user", "team", "set", "ute@acme.test", "Gibt es nicht"],
    )
    .expect(3);
    let teams = crm(&db, &["user", "team", "list"]).expect(0).json();
    assert_eq!(teams[0]["members"], 1);
    let ute = crm(&db, &["user", "visibility", "ute@acme.test", "own"])
        .expect(0)
        .json();
    assert_eq!(ute["visibility"], "own");
    crm(&db, &["user", "visibility", "ute@acme.test", "some"]).expect(2);
    let ute = crm(&db, &["user", "team", "unset", "ute@acme.test"])
        .expect(0)
        .json();
    assert!(ute["team"].is_null());
    // Added directly into a team with a visibility.
    let eva = crm(
        &db,
        &[
            "user",
            "add",
            "--email",
            "eva@acme.test",
            "--role",
            "user",
            "--team",
            "Vertrieb Nord",
            "--visibility",
            "team",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(
        (eva["team"].as_str(), eva["visibility"].as_str()),
        (Some("Vertrieb Nord"), Some("team"))
    );
}
