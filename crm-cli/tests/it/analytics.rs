//! Issue 18 as processes: `crm pipeline forecast --by`, `--all-pipelines`, `--as-of`,
//! `crm pipeline board --as-of`, `crm pipeline velocity`, `crm deal list --stuck`,
//! `crm activity due --within`, and `crm remind` run twice at once firing each reminder
//! once, seen in `crm events tail`.

use chrono::{Duration, Local, Utc};
use crm_core::testing::TestDb;
use serde_json::Value;

use crate::support::{crm, crm_with};

async fn setup() -> TestDb {
    let db = TestDb::new().await;
    crm(
        &db,
        &[
            "init",
            "--org",
            "Zahlen GmbH",
            "--admin-email",
            "a@x.test",
            "--no-password",
        ],
    )
    .expect(0);
    db
}

fn add_deal(db: &TestDb, title: &str, value: &str, stage: &str) -> String {
    let v = crm(
        db,
        &[
            "deal", "add", "--title", title, "--value", value, "--stage", stage,
        ],
    )
    .expect(0)
    .json();
    v["id"].as_str().unwrap().to_string()
}

/// (stage, currency, open deals, value, weighted, won deals, won value) of a forecast.
fn by_stage(v: &Value) -> Vec<(String, String, i64, String, String, i64, String)> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["stage"].as_str().unwrap_or_default().to_string(),
                r["currency"].as_str().unwrap().to_string(),
                r["deals"].as_i64().unwrap(),
                r["value"].as_str().unwrap().to_string(),
                r["weighted"].as_str().unwrap().to_string(),
                r["won_deals"].as_i64().unwrap(),
                r["won_value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn forecast_velocity_as_of_and_stuck_from_the_command_line() {
    let db = setup().await;
    add_deal(&db, "A", "1000", "Lead");
    let b = add_deal(&db, "B", "2000", "Proposal");
    let c = add_deal(&db, "C", "400", "Proposal");
    crm(&db, &["deal", "move", &c, "Commit"]).expect(0);
    crm(&db, &["deal", "win", &b]).expect(0);

    let f = crm(&db, &["pipeline", "forecast", "--by", "stage"])
        .expect(0)
        .json();
    let s = |stage: &str, n, v: &str, w: &str, won, wv: &str| {
        (
            stage.to_string(),
            "EUR".to_string(),
            n,
            v.to_string(),
            w.to_string(),
            won,
            wv.to_string(),
        )
    };
    assert_eq!(
        by_stage(&f),
        [
            s("Lead", 1, "1000.00", "100.00", 0, "0"),
            s("Proposal", 0, "0", "0", 1, "2000.00"),
            s("Commit", 1, "400.00", "360.00", 0, "0"),
        ]
    );
    let all = crm(
        &db,
        &["pipeline", "forecast", "--by", "owner", "--all-pipelines"],
    )
    .expect(0)
    .json();
    assert_eq!(
        all["rows"].as_array().unwrap().len(),
        1,
        "one owner, one currency"
    );
    assert_eq!(all["rows"][0]["weighted"], "460.00");
    crm(&db, &["pipeline", "forecast", "--by", "quarter"]).expect(2);

    // Yesterday nothing existed yet; now the board is today's.
    let yesterday = (Local::now().date_naive() - Duration::days(1)).to_string();
    let then = crm(&db, &["pipeline", "board", "--as-of", &yesterday])
        .expect(0)
        .json();
    let count = |v: &Value| -> usize {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["deals"].as_array().unwrap().len())
            .sum()
    };
    assert_eq!(count(&then), 0);
    let now = crm(&db, &["pipeline", "board", "--as-of", "now"])
        .expect(0)
        .json();
    let today = crm(&db, &["pipeline", "board"]).expect(0).json();
    assert_eq!((count(&now), count(&today)), (2, 2));
    let f = crm(&db, &["pipeline", "forecast", "--as-of", &yesterday])
        .expect(0)
        .json();
    assert_eq!(f["rows"], serde_json::json!([]));

    let v = crm(&db, &["pipeline", "velocity"]).expect(0).json();
    let entered: Vec<i64> = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["entered"].as_i64().unwrap())
        .collect();
    assert_eq!(
        entered,
        [1, 0, 2, 0, 1],
        "A in Lead; B, C in Proposal; C in Commit"
    );
    assert_eq!(v["periods"][0]["won"], 1);
    assert_eq!(v["stages"][2]["conversion"], "100.00", "B won, C moved on");

    // Stuck: nothing is 30 days old, until C's entry into Commit is.
    let stuck = crm(&db, &["deal", "list", "--stuck", "30d"])
        .expect(0)
        .json();
    assert_eq!(stuck, serde_json::json!([]));
    let mut conn = db.owner().await;
    sqlx::query("update deal_stage_history set moved_at = now() - interval '40 days' where deal_id = $1::uuid")
        .bind(&c)
        .execute(&mut conn)
        .await
        .unwrap();
    let stuck = crm(&db, &["deal", "list", "--stuck", "30d"])
        .expect(0)
        .json();
    assert_eq!(stuck[0]["id"], c.as_str());
    assert_eq!(stuck[0]["stage"], "Commit");
    assert_eq!(stuck[0]["days_in_stage"], 40);
    crm(&db, &["deal", "list", "--stuck", "12h"]).expect(2);
}

#[tokio::test]
async fn two_remind_runs_at_once_fire_each_reminder_once() {
    let db = setup().await;
    crm_with(
        Some(&db),
        &["import", "contacts", "-"],
        "first_name,last_name,email\nAnna,A,anna@x.test\n",
        &[],
    )
    .expect(0);
    let due = (Utc::now() + Duration::minutes(30)).to_rfc3339();
    let late = (Utc::now() - Duration::hours(3)).to_rfc3339();
    let later = (Utc::now() + Duration::hours(5)).to_rfc3339();
    for (subject, at) in [("Call", &due), ("Offer", &late), ("Later", &later)] {
        crm(
            &db,
            &[
                "activity",
                "add",
                "--contact",
                "anna@x.test",
                "--type",
                "task",
                "--subject",
                subject,
                "--due",
                at,
            ],
        )
        .expect(0);
    }
    let within = crm(&db, &["activity", "due", "--within", "1h"])
        .expect(0)
        .json();
    let subjects: Vec<&str> = within
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["subject"].as_str().unwrap())
        .collect();
    assert_eq!(
        subjects,
        ["Offer", "Call"],
        "overdue first; the one in 5 hours is not within 1h"
    );
    crm(
        &db,
        &["activity", "due", "--within", "1h", "--until", "today"],
    )
    .expect(2);

    let runs: Vec<_> = (0..2)
        .map(|_| {
            let url = db.url();
            std::thread::spawn(move || {
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_crm"))
                    .args(["--format", "json", "remind", "--window", "1h"])
                    .env("DATABASE_URL", url)
                    .env_remove("CRM_ORG")
                    .env_remove("CRM_USER")
                    .output()
                    .expect("run crm remind");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                serde_json::from_slice::<Value>(&out.stdout).unwrap()
            })
        })
        .collect();
    let results: Vec<Value> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    let sum = |k: &str| results.iter().map(|r| r[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!((sum("due_soon"), sum("overdue")), (1, 1));

    let tail = crm_with(Some(&db), &["events", "tail", "--since", "0"], "", &[]).expect(0);
    let topics: Vec<String> = tail
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["topic"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .filter(|t| t.starts_with("activity.") && t != "activity.created")
        .collect();
    assert_eq!(topics, ["activity.overdue", "activity.due_soon"]);
    let again = crm(&db, &["remind"]).expect(0).json();
    assert_eq!(
        (again["due_soon"].as_u64(), again["overdue"].as_u64()),
        (Some(0), Some(0))
    );
}
