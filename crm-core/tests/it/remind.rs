//! Issue 18: `activity.due_soon` and `activity.overdue` fire exactly once per activity and
//! due time: not twice under concurrent runs, not at all from a run that did not commit,
//! again after rescheduling, never for completed or deleted activities.

use chrono::{DateTime, Duration, Utc};
use crm_core::remind::{self, Reminded};
use crm_core::store::activity::{self, ActivityPatch, NewActivity};
use crm_core::testing::TestDb;
use crm_core::{ActivityId, OrgId, Scope};
use serde_json::Value;

use crate::deals::contact;

const HOUR: std::time::Duration = std::time::Duration::from_secs(3600);

async fn add(scope: &Scope, subject: &str, due: DateTime<Utc>) -> ActivityId {
    scope
        .run(async |tx| {
            let contact_id = Some(contact(tx, "Rita", "Reminder").await);
            let new = NewActivity {
                subject: subject.into(),
                due_at: Some(due),
                contact_id,
                ..Default::default()
            };
            activity::create(tx, new).await
        })
        .await
        .unwrap()
        .id
}

/// (topic, activity id) of every reminder event, in order.
async fn fired(db: &TestDb, org: OrgId) -> Vec<(String, String)> {
    let mut conn = db.owner().await;
    let rows: Vec<(String, Value)> = sqlx::query_as(
        "select topic, payload from events where org_id = $1 \
         and topic in ('activity.due_soon', 'activity.overdue') order by seq",
    )
    .bind(org)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(t, p)| (t, p["id"].as_str().unwrap_or_default().to_string()))
        .collect()
}

async fn run(scope: &Scope) -> Reminded {
    scope
        .run(async |tx| remind::run(tx, HOUR).await)
        .await
        .unwrap()
}

#[tokio::test]
async fn reminders_fire_once_each_even_with_concurrent_runs() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let scope = db.crm.scope(org, owner);
    let now = Utc::now();
    let soon = add(&scope, "Call back", now + Duration::minutes(30)).await;
    let late = add(&scope, "Send offer", now - Duration::hours(2)).await;
    add(&scope, "Later", now + Duration::hours(3)).await;
    let done = add(&scope, "Done already", now - Duration::hours(1)).await;
    let gone = add(&scope, "Deleted", now - Duration::hours(1)).await;
    scope
        .run(async |tx| activity::complete(tx, done).await)
        .await
        .unwrap();
    scope
        .run(async |tx| activity::delete(tx, gone).await)
        .await
        .unwrap();

    // A run that does not commit (a crash before the end) fires nothing.
    let mut tx = scope.begin().await.unwrap();
    let r = remind::run(&mut tx, HOUR).await.unwrap();
    assert_eq!(
        r,
        Reminded {
            due_soon: 1,
            overdue: 1
        }
    );
    drop(tx);
    assert!(fired(&db, org).await.is_empty());

    // Eight runs at once: each reminder once.
    let runs = (0..8).map(|_| run(&scope));
    let results = futures_util::future::join_all(runs).await;
    let total = results.iter().fold(Reminded::default(), |a, r| Reminded {
        due_soon: a.due_soon + r.due_soon,
        overdue: a.overdue + r.overdue,
    });
    assert_eq!(
        total,
        Reminded {
            due_soon: 1,
            overdue: 1
        }
    );
    assert_eq!(
        fired(&db, org).await,
        [
            ("activity.overdue".to_string(), late.to_string()),
            ("activity.due_soon".to_string(), soon.to_string()),
        ]
    );
    assert_eq!(run(&scope).await, Reminded::default(), "nothing new");

    // The payload names records by id only (the subject may be personal data).
    let mut conn = db.owner().await;
    let payload: Value = sqlx::query_scalar(
        "select payload from events where org_id = $1 and topic = 'activity.due_soon'",
    )
    .bind(org)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(payload.get("contact_id").is_some_and(|c| c.is_string()));
    assert!(!payload.to_string().contains("Call back"));

    // Rescheduling re-arms: the due-soon reminder again, then overdue once it has passed.
    scope
        .run(async |tx| {
            let a = activity::get(tx, soon).await?;
            let patch = ActivityPatch {
                version: a.version,
                due_at: Some(Some(Utc::now() + Duration::minutes(45))),
                ..Default::default()
            };
            activity::update(tx, soon, patch).await
        })
        .await
        .unwrap();
    assert_eq!(
        run(&scope).await,
        Reminded {
            due_soon: 1,
            overdue: 0
        }
    );
    scope
        .run(async |tx| {
            let a = activity::get(tx, soon).await?;
            let patch = ActivityPatch {
                version: a.version,
                due_at: Some(Some(Utc::now() - Duration::minutes(1))),
                ..Default::default()
            };
            activity::update(tx, soon, patch).await
        })
        .await
        .unwrap();
    assert_eq!(
        run(&scope).await,
        Reminded {
            due_soon: 0,
            overdue: 1
        }
    );
    assert_eq!(run(&scope).await, Reminded::default());
    assert_eq!(fired(&db, org).await.len(), 4);
}

#[tokio::test]
async fn concurrent_runs_over_many_activities_fire_each_once() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let scope = db.crm.scope(org, owner);
    let now = Utc::now();
    for i in 0..40 {
        add(
            &scope,
            "Follow up",
            now - Duration::minutes(i) + Duration::minutes(20),
        )
        .await;
    }
    let runs = (0..6).map(|_| run(&scope));
    let results = futures_util::future::join_all(runs).await;
    let fired_total: u64 = results.iter().map(|r| r.due_soon + r.overdue).sum();
    assert_eq!(fired_total, 40);
    let events = fired(&db, org).await;
    let mut ids: Vec<&String> = events.iter().map(|(_, id)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((events.len(), ids.len()), (40, 40));
}

#[tokio::test]
async fn the_window_is_bounded() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let scope = db.crm.scope(org, owner);
    let year = std::time::Duration::from_secs(400 * 86_400);
    assert!(
        scope
            .run(async |tx| remind::run(tx, year).await)
            .await
            .is_err()
    );
}
