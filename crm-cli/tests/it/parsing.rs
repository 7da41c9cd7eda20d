//! German amounts, dates and times are accepted by every flag as by import, read in the
//! acting user's time zone (issue 15 item 4; DESIGN.md, "Decisions for this wave").

use crm_core::testing::TestDb;

use crate::support::{crm, crm_with};

async fn setup() -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Format GmbH",
            "--admin-email",
            "a@format.test",
            "--no-password",
        ],
    )
    .expect(0);
    crm_with(
        Some(&db),
        &["--format", "json", "import", "contacts", "-"],
        "first_name,last_name,email\nAnna,A,anna@format.test\n",
        &[],
    )
    .expect(0);
    db
}

/// Gives the organization a time zone, as `auth::zone::set_for_org` does.
async fn set_org_zone(db: &TestDb, zone: &str) {
    let mut conn = db.owner().await;
    sqlx::query("update organizations set time_zone = $1")
        .bind(zone)
        .execute(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn deal_flags_take_german_amounts_and_dates() {
    let db = setup().await;
    let d = crm(
        &db,
        &[
            "deal",
            "add",
            "--title",
            "Rahmenvertrag",
            "--value",
            "12.500,00 €",
            "--close-date",
            "31.12.2026",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(d["value"], "12500.00");
    assert_eq!(d["currency"], "EUR");
    assert_eq!(d["expected_close_date"], "2026-12-31");

    let chf = crm(
        &db,
        &[
            "deal",
            "add",
            "--title",
            "Zürich",
            "--value",
            "CHF 12'500.00",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(
        (chf["value"].as_str(), chf["currency"].as_str()),
        (Some("12500.00"), Some("CHF"))
    );

    // Never guessed: a lone separator before three digits, or a sign for another currency.
    let e = crm(&db, &["deal", "add", "--title", "X", "--value", "12.500"]).expect(5);
    assert!(e.stderr.contains("ambiguous"), "{}", e.stderr);
    crm(
        &db,
        &[
            "deal",
            "add",
            "--title",
            "X",
            "--value",
            "12,00 €",
            "--currency",
            "CHF",
        ],
    )
    .expect(5);
    crm(
        &db,
        &["deal", "add", "--title", "X", "--close-date", "31.13.2026"],
    )
    .expect(2);

    let listed = crm(
        &db,
        &[
            "deal",
            "list",
            "--close-from",
            "30.12.2026",
            "--close-to",
            "31.12.2026",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn a_bare_due_date_is_the_end_of_that_day_in_the_users_time_zone() {
    let db = setup().await;
    set_org_zone(&db, "Europe/Berlin").await;
    let add = |due: &str| {
        crm(
            &db,
            &[
                "activity",
                "add",
                "--contact",
                "anna@format.test",
                "--type",
                "task",
                "--subject",
                "Nachfassen",
                "--due",
                due,
            ],
        )
        .expect(0)
        .json()
    };
    let due = |v: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(v["due_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    assert_eq!(due(&add("02.12.2026")), "2026-12-02T22:59:59Z");
    assert_eq!(due(&add("2026-12-02")), "2026-12-02T22:59:59Z");
    assert_eq!(due(&add("02.12.2026 14:30")), "2026-12-02T13:30:00Z");
    assert_eq!(due(&add("2026-07-01 14:30")), "2026-07-01T12:30:00Z");
    assert_eq!(due(&add("2026-12-02T14:30:00Z")), "2026-12-02T14:30:00Z");

    set_org_zone(&db, "America/New_York").await;
    assert_eq!(due(&add("02.12.2026")), "2026-12-03T04:59:59Z");

    let bad = crm(
        &db,
        &[
            "activity",
            "add",
            "--contact",
            "anna@format.test",
            "--subject",
            "X",
            "--due",
            "bald",
        ],
    )
    .expect(2);
    assert!(bad.stderr.contains("is not a time"), "{}", bad.stderr);
}

#[tokio::test]
async fn created_bounds_take_a_bare_date_as_start_and_end_of_the_day() {
    let db = setup().await;
    set_org_zone(&db, "UTC").await;
    let today = chrono::Utc::now().format("%d.%m.%Y").to_string();
    let found = |args: &[&str]| {
        let mut all = vec!["contact", "list"];
        all.extend_from_slice(args);
        crm(&db, &all).expect(0).json().as_array().unwrap().len()
    };
    assert_eq!(found(&["--created-after", &today]), 1);
    assert_eq!(found(&["--created-before", &today]), 1);
    assert_eq!(found(&["--created-after", "tomorrow"]), 0);
    assert_eq!(found(&["--created-before", "yesterday"]), 0);
    assert_eq!(found(&["--created-after=-1h"]), 1);
}

#[test]
fn every_subcommands_help_lists_the_global_options_under_their_heading() {
    for args in [
        &["contact", "add", "--help"][..],
        &["deal", "list", "--help"],
        &["export", "--help"],
        &["gdpr", "export", "--help"],
        &["activity", "add", "--help"],
    ] {
        let run = crm_with(None, args, "", &[]).expect(0);
        let (_, global) = run
            .stdout
            .split_once("Global options:")
            .unwrap_or_else(|| panic!("{args:?}: no Global options heading:\n{}", run.stdout));
        for flag in [
            "--database-url",
            "--org",
            "--as",
            "--format",
            "--excel",
            "--raw",
        ] {
            assert!(
                global.contains(flag),
                "{args:?}: {flag} not under Global options"
            );
        }
    }
}
