//! `crm deal`, `crm pipeline` and `crm activity` as processes: the pipeline JSON contract,
//! a deal's way from add to won or lost, the exit codes of bad input, the board and the
//! forecast, and activities due and done.

use chrono::{Datelike as _, Duration, Local, Utc};
use crm_core::testing::TestDb;
use serde_json::Value;

use crate::support::{Run, crm, crm_with};

/// A fresh database with one organization and the contact Anna (anna@x.test), both made
/// through the binary.
async fn setup() -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Deals GmbH",
            "--admin-email",
            "a@x.test",
            "--no-password",
        ],
    )
    .expect(0);
    let run = crm_with(
        Some(&db),
        &["--format", "json", "import", "contacts", "-"],
        "first_name,last_name,email\nAnna,A,anna@x.test\n",
        &[],
    )
    .expect(0);
    assert_eq!(run.json()["created"], 1);
    db
}

/// `crm --format json GROUP ARGS`.
fn run(db: &TestDb, group: &str, args: &[&str]) -> Run {
    let mut all = vec![group];
    all.extend_from_slice(args);
    crm(db, &all)
}

fn deal(db: &TestDb, args: &[&str]) -> Run {
    run(db, "deal", args)
}

/// Adds a deal from flags and returns its JSON.
fn add_deal(db: &TestDb, args: &[&str]) -> Value {
    let mut all = vec!["add"];
    all.extend_from_slice(args);
    deal(db, &all).expect(0).json()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_string()
}

/// The last 8 hex digits of an id, as tables show them.
fn short(id: &str) -> String {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    hex[hex.len() - 8..].to_string()
}

fn decimal(v: &Value) -> f64 {
    v.as_str()
        .unwrap_or_else(|| panic!("a decimal as a string, got {v}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn pipeline_show_prints_the_stages_in_order() {
    let db = setup().await;
    let p = run(&db, "pipeline", &["show"]).expect(0).json();
    assert_eq!(p["name"], "Sales");
    assert_eq!(p["is_default"], true);
    let stages = p["stages"].as_array().unwrap();
    let got: Vec<(String, i64, f64)> = stages
        .iter()
        .map(|s| {
            assert!(s["id"].is_string(), "stage id: {s}");
            (
                s["name"].as_str().unwrap().to_string(),
                s["position"].as_i64().unwrap(),
                decimal(&s["probability"]),
            )
        })
        .collect();
    let want: Vec<(String, i64, f64)> = [
        ("Lead", 10.0),
        ("Qualified", 25.0),
        ("Proposal", 50.0),
        ("Negotiation", 75.0),
        ("Commit", 90.0),
    ]
    .iter()
    .enumerate()
    .map(|(i, (n, p))| (n.to_string(), i as i64, *p))
    .collect();
    assert_eq!(got, want);
    // By name (any case) it is the same pipeline.
    assert_eq!(
        run(&db, "pipeline", &["show", "sales"]).expect(0).json()["id"],
        p["id"]
    );
    run(&db, "pipeline", &["show", "Nope"]).expect(3);
}

#[tokio::test]
async fn pipelines_and_stages_are_managed_by_name() {
    let db = setup().await;
    let p = run(
        &db,
        "pipeline",
        &[
            "add",
            "Projekte",
            "--stage",
            "Anfrage:10",
            "--stage",
            "Angebot:50",
            "--stage",
            "Auftrag:100",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(p["is_default"], false, "Sales stays the default");
    let names = |p: &Value| -> Vec<String> {
        p["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&p), ["Anfrage", "Angebot", "Auftrag"]);
    let stage = |args: &[&str]| {
        let mut all = vec!["stage"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--pipeline", "Projekte"]);
        run(&db, "pipeline", &all)
    };
    let p = stage(&["add", "Prüfung", "--probability", "30", "--position", "1"])
        .expect(0)
        .json();
    assert_eq!(names(&p), ["Anfrage", "Prüfung", "Angebot", "Auftrag"]);
    let p = stage(&["rename", "angebot", "Offerte"]).expect(0).json();
    assert_eq!(names(&p), ["Anfrage", "Prüfung", "Offerte", "Auftrag"]);
    let p = stage(&["probability", "Offerte", "60"]).expect(0).json();
    assert_eq!(decimal(&p["stages"][2]["probability"]), 60.0);
    let p = stage(&["reorder", "Anfrage", "Offerte", "Prüfung", "Auftrag"])
        .expect(0)
        .json();
    assert_eq!(names(&p), ["Anfrage", "Offerte", "Prüfung", "Auftrag"]);
    // A stage holding a deal is removed only with --move-to, which takes the deal along.
    let d = add_deal(
        &db,
        &[
            "--title",
            "Umbau",
            "--pipeline",
            "Projekte",
            "--stage",
            "Prüfung",
        ],
    );
    let refused = stage(&["remove", "Prüfung", "--yes"]).expect(4);
    assert!(refused.stderr.contains("deal"), "{}", refused.stderr);
    let p = stage(&["remove", "Prüfung", "--move-to", "Offerte", "--yes"])
        .expect(0)
        .json();
    assert_eq!(names(&p), ["Anfrage", "Offerte", "Auftrag"]);
    let moved = deal(&db, &["show", &id_of(&d)]).expect(0).json();
    assert_eq!(moved["stage"], "Offerte");
    // Bad input: a malformed stage spec is usage, a probability over 100 is validation.
    run(&db, "pipeline", &["add", "X", "--stage", "Lead"]).expect(2);
    let bad = run(&db, "pipeline", &["add", "X", "--stage", "Lead:150"]).expect(5);
    assert!(bad.stderr.contains("probability"), "{}", bad.stderr);
    stage(&["rename", "Nope", "Neu"]).expect(3);
    let list = run(&db, "pipeline", &["list"]).expect(0).json();
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_deal_is_added_moved_and_won() {
    let db = setup().await;
    let close = Utc::now().date_naive().to_string();
    let d = add_deal(
        &db,
        &[
            "--title",
            "Rahmenvertrag",
            "--value",
            "12500.00",
            "--currency",
            "EUR",
            "--contact",
            "anna@x.test",
            "--close-date",
            &close,
        ],
    );
    assert_eq!(d["title"], "Rahmenvertrag");
    assert_eq!(d["value"], "12500.00");
    assert_eq!(d["currency"], "EUR");
    assert_eq!(d["pipeline"], "Sales");
    assert_eq!(d["stage"], "Lead");
    assert_eq!(d["status"], "open");
    assert_eq!(d["contact"], "Anna A");
    assert_eq!(d["expected_close_date"], close.as_str());
    let id = id_of(&d);

    // The same through JSON on stdin, naming the stage and the contact by e-mail.
    let json = crm_with(
        Some(&db),
        &["--format", "json", "deal", "add", "--json", "-"],
        r#"{"title": "Wartung", "value": "1.234,50", "stage": "Qualified", "contact": "anna@x.test"}"#,
        &[],
    )
    .expect(0)
    .json();
    assert_eq!(json["value"], "1234.50");
    assert_eq!(json["stage"], "Qualified");
    assert_eq!(json["contact_id"], d["contact_id"]);

    // Moved by stage name, the deal named by the 8 digits tables show.
    let moved = deal(&db, &["move", &short(&id), "Proposal"])
        .expect(0)
        .json();
    assert_eq!(moved["stage"], "Proposal");
    assert_eq!(decimal(&moved["probability"]), 50.0);
    let won = deal(&db, &["win", &id]).expect(0).json();
    assert_eq!(won["status"], "won");
    assert!(won["closed_at"].is_string());

    // A won deal cannot move: a conflict (exit 4) that says what to do.
    let refused = deal(&db, &["move", &id, "Commit"]).expect(4);
    assert!(refused.stderr.contains("reopen"), "{}", refused.stderr);
    assert!(refused.stdout.is_empty());

    let shown = deal(&db, &["show", &id]).expect(0).json();
    let history: Vec<&str> = shown["stage_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["to_stage"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["Lead", "Proposal"]);

    // Filters: by status, by contact e-mail, by stage name.
    let won_list = deal(&db, &["list", "--status", "won"]).expect(0).json();
    assert_eq!(won_list.as_array().unwrap().len(), 1);
    let annas = deal(&db, &["list", "--contact", "anna@x.test"])
        .expect(0)
        .json();
    assert_eq!(annas.as_array().unwrap().len(), 2);
    let qualified = deal(&db, &["list", "--stage", "qualified"])
        .expect(0)
        .json();
    assert_eq!(qualified[0]["title"], "Wartung");

    // Reopened, it moves again.
    deal(&db, &["reopen", &id]).expect(0);
    deal(&db, &["move", &id, "Commit"]).expect(0);
}

#[tokio::test]
async fn losing_needs_a_known_lost_reason() {
    let db = setup().await;
    let id = id_of(&add_deal(&db, &["--title", "Lizenz", "--value", "900"]));
    let missing = deal(&db, &["lose", &id]).expect(2);
    assert!(missing.stderr.contains("--reason"), "{}", missing.stderr);
    let unknown = deal(&db, &["lose", &id, "--reason", "astrology"]).expect(5);
    assert!(
        unknown.stderr.contains("lost_reason") && unknown.stderr.contains("no_budget"),
        "names the field and the choices: {}",
        unknown.stderr
    );
    let lost = deal(
        &db,
        &["lose", &id, "--reason", "price", "--note", "zu teuer"],
    )
    .expect(0)
    .json();
    assert_eq!(lost["status"], "lost");
    assert_eq!(lost["lost_reason"], "price");
    assert_eq!(lost["lost_reason_text"], "zu teuer");
    // Lost is closed: winning it now is a conflict.
    deal(&db, &["win", &id]).expect(4);
}

#[tokio::test]
async fn a_stale_edit_is_a_conflict_and_unknown_deals_are_not_found() {
    let db = setup().await;
    let d = add_deal(&db, &["--title", "Alt", "--value", "100"]);
    let id = id_of(&d);
    let v1 = d["version"].as_i64().unwrap().to_string();
    let edited = deal(
        &db,
        &[
            "edit",
            &id,
            "--version",
            &v1,
            "--title",
            "Neu",
            "--value",
            "250",
        ],
    )
    .expect(0)
    .json();
    assert_eq!(edited["title"], "Neu");
    assert_eq!(edited["value"], "250.00");
    assert!(edited["version"].as_i64().unwrap() > d["version"].as_i64().unwrap());
    let stale = deal(&db, &["edit", &id, "--version", &v1, "--title", "Zu spät"]).expect(4);
    assert!(
        stale.stderr.contains("changed by someone else"),
        "{}",
        stale.stderr
    );
    assert_eq!(deal(&db, &["show", &id]).expect(0).json()["title"], "Neu");
    // A stale version on move is a conflict too.
    deal(&db, &["move", &id, "Proposal", "--version", &v1]).expect(4);
    // Edit through JSON: `show` output with a change round-trips.
    let mut shown = deal(&db, &["show", &id]).expect(0).json();
    shown["title"] = "Per JSON".into();
    let via_json = crm_with(
        Some(&db),
        &["--format", "json", "deal", "edit", &id, "--json", "-"],
        &shown.to_string(),
        &[],
    )
    .expect(0)
    .json();
    assert_eq!(via_json["title"], "Per JSON");

    let nobody = "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";
    let run = deal(&db, &["show", nobody]).expect(3);
    assert!(run.stderr.contains("deal"), "{}", run.stderr);
    deal(&db, &["win", nobody]).expect(3);
    deal(&db, &["move", "ffff0000", "Lead"]).expect(3);
    deal(&db, &["show", "x!"]).expect(2);
    // An unknown stage is a validation error on the field `stage`.
    let bad_stage = deal(&db, &["move", &id, "Nirgendwo"]).expect(5);
    assert!(bad_stage.stderr.contains("stage"), "{}", bad_stage.stderr);
    // Deleting asks; without a terminal --yes is required.
    deal(&db, &["delete", &id]).expect(2);
    deal(&db, &["delete", &id, "--yes"]).expect(0);
    deal(&db, &["show", &id]).expect(3);
}

#[tokio::test]
async fn board_and_forecast_add_up_the_open_deals() {
    let db = setup().await;
    let today = Utc::now().date_naive();
    let a = add_deal(
        &db,
        &[
            "--title",
            "A",
            "--value",
            "1000",
            "--close-date",
            &today.to_string(),
        ],
    );
    let b = add_deal(
        &db,
        &["--title", "B", "--value", "2000.50", "--stage", "Proposal"],
    );
    let c = add_deal(
        &db,
        &["--title", "C", "--value", "500", "--stage", "Proposal"],
    );
    deal(&db, &["win", &id_of(&c)]).expect(0);

    let board = run(&db, "pipeline", &["board"]).expect(0).json();
    let columns = board.as_array().unwrap();
    assert_eq!(columns.len(), 5);
    let column = |name: &str| -> Vec<(String, String)> {
        columns.iter().find(|c| c["stage"] == name).unwrap()["deals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                assert_eq!(d["days_in_stage"], 0);
                (
                    d["id"].as_str().unwrap().to_string(),
                    d["value"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(column("Lead"), [(id_of(&a), "1000.00".to_string())]);
    assert_eq!(column("Proposal"), [(id_of(&b), "2000.50".to_string())]);
    assert!(column("Commit").is_empty(), "won deals are off the board");

    let f = run(&db, "pipeline", &["forecast", "--months", "3"])
        .expect(0)
        .json();
    let first = today.with_day(1).unwrap();
    assert_eq!(f["from"], first.to_string());
    let rows = f["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{f}");
    assert_eq!(rows[0]["month"], first.to_string());
    assert_eq!(rows[0]["deals"], 1);
    assert_eq!(rows[0]["value"], "1000.00");
    assert_eq!(rows[0]["weighted"], "100.00");
    assert_eq!(rows[1]["month"], Value::Null);
    assert_eq!(rows[1]["value"], "2000.50");
    assert_eq!(rows[1]["weighted"], "1000.25");

    // The table form lists stage, title, value and days in stage.
    let table = crm_with(
        Some(&db),
        &["--format", "table", "pipeline", "board"],
        "",
        &[],
    )
    .expect(0);
    assert!(
        table.stdout.contains("Proposal") && table.stdout.contains("2000.50 EUR"),
        "{}",
        table.stdout
    );
    crm_with(
        Some(&db),
        &["--format", "csv", "pipeline", "forecast"],
        "",
        &[],
    )
    .expect(0);
}

#[tokio::test]
async fn activities_are_added_for_a_contact_by_email_listed_when_due_and_done() {
    let db = setup().await;
    let activity = |args: &[&str]| run(&db, "activity", args);
    let due_today = activity(&[
        "add",
        "--contact",
        "anna@x.test",
        "--type",
        "task",
        "--subject",
        "Angebot nachfassen",
        "--due",
        "today",
    ])
    .expect(0)
    .json();
    assert_eq!(due_today["kind"], "task");
    assert_eq!(due_today["contact"], "Anna A");
    assert!(
        due_today["assignee_id"].is_string(),
        "assigned to the actor"
    );
    let an_hour_ago = (Local::now() - Duration::hours(1))
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let overdue = activity(&[
        "add",
        "--contact",
        "anna@x.test",
        "--type",
        "call",
        "--subject",
        "Rückruf",
        "--due",
        &an_hour_ago,
    ])
    .expect(0)
    .json();
    assert_eq!(overdue["overdue"], true);
    let tomorrow = activity(&[
        "add",
        "--contact",
        "anna@x.test",
        "--type",
        "meeting",
        "--subject",
        "Termin",
        "--due",
        "tomorrow",
    ])
    .expect(0)
    .json();
    activity(&[
        "add",
        "--contact",
        "anna@x.test",
        "--subject",
        "Notiz",
        "--body",
        "Mag Kaffee",
    ])
    .expect(0);

    let ids = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    };
    // Due by the end of today, overdue first; tomorrow's only with --until.
    assert_eq!(
        ids(activity(&["due"]).expect(0).json()),
        [id_of(&overdue), id_of(&due_today)]
    );
    assert_eq!(ids(activity(&["due", "--mine"]).expect(0).json()).len(), 2);
    assert_eq!(
        ids(activity(&["due", "--until", "tomorrow"]).expect(0).json()),
        [id_of(&overdue), id_of(&due_today), id_of(&tomorrow)]
    );
    assert_eq!(
        ids(activity(&["list", "--overdue"]).expect(0).json()),
        [id_of(&overdue)]
    );
    assert_eq!(
        ids(activity(&["list", "--contact", "anna@x.test"])
            .expect(0)
            .json())
        .len(),
        4
    );

    let done = activity(&["done", &id_of(&overdue)]).expect(0).json();
    assert!(done["done_at"].is_string());
    assert_eq!(done["overdue"], false);
    assert_eq!(
        ids(activity(&["due"]).expect(0).json()),
        [id_of(&due_today)]
    );
    assert_eq!(
        ids(activity(&["list", "--done"]).expect(0).json()),
        [id_of(&overdue)]
    );
    // Done twice is a conflict; bad input has its codes.
    activity(&["done", &id_of(&overdue)]).expect(4);
    activity(&["done", "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee"]).expect(3);
    activity(&[
        "add",
        "--contact",
        "anna@x.test",
        "--subject",
        "x",
        "--type",
        "brief",
    ])
    .expect(2);
    activity(&[
        "add",
        "--contact",
        "anna@x.test",
        "--subject",
        "x",
        "--due",
        "soon",
    ])
    .expect(2);
    activity(&["add", "--contact", "nobody@x.test", "--subject", "x"]).expect(3);
    let unlinked = activity(&["add", "--subject", "x"]).expect(5);
    assert!(unlinked.stderr.contains("contact"), "{}", unlinked.stderr);

    // Linked to a deal, found by the deal.
    let d = add_deal(&db, &["--title", "Projekt"]);
    let on_deal = activity(&[
        "add",
        "--deal",
        &short(&id_of(&d)),
        "--subject",
        "Kickoff",
        "--type",
        "meeting",
    ])
    .expect(0)
    .json();
    assert_eq!(on_deal["deal"], "Projekt");
    assert_eq!(
        ids(activity(&["list", "--deal", &id_of(&d)]).expect(0).json()),
        [id_of(&on_deal)]
    );
}
