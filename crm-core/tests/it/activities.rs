//! Activities: a link to a contact, company or deal is required (in Rust and in the
//! database), completing is one-way until reopened, the due list leads with what is
//! overdue, and another organization sees nothing.

use chrono::{Duration, Utc};
use crm_core::domain::ActivityType;
use crm_core::store::PageRequest;
use crm_core::store::activity::{self, ActivityFilter, ActivityPatch, ActivityState, NewActivity};
use crm_core::store::deal::{self, NewDeal};
use crm_core::testing::TestDb;
use crm_core::{Error, UserId};

use crate::deals::{company, contact};

fn fields(e: &Error) -> Vec<(String, String)> {
    match e {
        Error::Validation(f) => {
            f.0.iter()
                .map(|f| (f.field.clone(), f.message.clone()))
                .collect()
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn an_activity_needs_a_link_in_rust_and_in_the_database() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();

    let e = activity::create(
        &mut tx,
        NewActivity {
            subject: " ".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        fields(&e),
        [
            ("subject".into(), "must not be empty".into()),
            (
                "activity".into(),
                "link it to a contact, company or deal".into()
            )
        ]
    );
    assert_eq!(
        e.to_string(),
        "invalid input: subject: must not be empty; activity: link it to a contact, company or deal"
    );
    let e = activity::create(
        &mut tx,
        NewActivity {
            subject: "Call".into(),
            contact_id: Some(crm_core::ContactId::new()),
            assignee_id: Some(UserId::new()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    let names: Vec<String> = fields(&e).into_iter().map(|(f, _)| f).collect();
    assert_eq!(names, ["contact_id", "assignee_id"]);

    let acme = company(&mut tx, "Acme AG").await;
    let a = activity::create(
        &mut tx,
        NewActivity {
            kind: ActivityType::Meeting,
            subject: "Kick-off".into(),
            company_id: Some(acme),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (a.kind, a.company.as_deref()),
        (ActivityType::Meeting, Some("Acme AG"))
    );
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["kind"], "meeting");

    // Unlinking the last link is refused too.
    let e = activity::update(
        &mut tx,
        a.id,
        ActivityPatch {
            version: a.version,
            company_id: Some(None),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&e)[0].0, "activity");
    tx.commit().await.unwrap();

    let mut conn = db.owner().await;
    let e = sqlx::query("update activities set company_id = null where id = $1")
        .bind(a.id)
        .execute(&mut conn)
        .await
        .unwrap_err();
    let db_err = e.as_database_error().expect("a database error");
    assert_eq!(db_err.code().as_deref(), Some("23514"));
    assert_eq!(db_err.constraint(), Some("activities_needs_link"));
    assert_eq!(fields(&Error::from(e))[0].0, "activity");
}

#[tokio::test]
async fn completing_twice_is_a_conflict_and_updates_name_their_version() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let d = deal::create(
        &mut tx,
        NewDeal {
            title: "Lizenz".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let a = activity::create(
        &mut tx,
        NewActivity {
            kind: ActivityType::Task,
            subject: "Angebot schicken".into(),
            deal_id: Some(d.id),
            due_at: Some(Utc::now() + Duration::days(1)),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(a.deal.as_deref(), Some("Lizenz"));

    let done = activity::complete(&mut tx, a.id).await.unwrap();
    assert!(done.done_at.is_some());
    let e = activity::complete(&mut tx, a.id).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let open = activity::reopen(&mut tx, a.id).await.unwrap();
    assert_eq!(open.done_at, None);
    let e = activity::reopen(&mut tx, a.id).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let topics: Vec<String> = sqlx::query_scalar(
        "select topic from events where org_id = $1 and entity_id = $2 order by seq",
    )
    .bind(org)
    .bind(a.id)
    .fetch_all(tx.conn())
    .await
    .unwrap();
    assert_eq!(
        topics,
        [
            "activity.created",
            "activity.completed",
            "activity.reopened"
        ]
    );

    let changed = activity::update(
        &mut tx,
        a.id,
        ActivityPatch {
            version: open.version,
            subject: Some("Angebot v2 schicken".into()),
            body: Some(Some("mit Rabatt".into())),
            due_at: Some(None),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(changed.subject, "Angebot v2 schicken");
    assert_eq!(
        (changed.body.as_deref(), changed.due_at),
        (Some("mit Rabatt"), None)
    );
    assert_eq!(changed.version, open.version + 1);
    let e = activity::update(
        &mut tx,
        a.id,
        ActivityPatch {
            version: open.version,
            subject: Some("x".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");

    activity::delete(&mut tx, a.id).await.unwrap();
    assert!(matches!(
        activity::get(&mut tx, a.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        activity::complete(&mut tx, a.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    let restored = activity::restore(&mut tx, a.id).await.unwrap();
    assert_eq!(restored.deleted_at, None);
}

#[tokio::test]
async fn due_lists_open_activities_oldest_first_with_linked_names() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let other = UserId::new();
    sqlx::query(
        "insert into users (org_id, id, email, email_norm, first_name, last_name, role) \
         values ($1, $2, 'u@alpha.test', 'u@alpha.test', 'Uwe', 'User', 'user')",
    )
    .bind(org)
    .bind(other)
    .execute(tx.conn())
    .await
    .unwrap();
    let anna = contact(&mut tx, "Anna", "Schütz").await;
    let now = Utc::now();
    // (subject, due in hours from now, assignee, completed)
    let specs = [
        ("tomorrow", Some(24), Some(owner), false),
        ("two days late", Some(-48), Some(owner), false),
        ("next week", Some(24 * 7), Some(owner), false),
        ("an hour late", Some(-1), Some(other), false),
        ("done already", Some(-72), Some(owner), true),
        ("no due date", None, Some(owner), false),
    ];
    let mut ids = Vec::new();
    for (subject, hours, assignee, completed) in specs {
        let a = activity::create(
            &mut tx,
            NewActivity {
                kind: ActivityType::Followup,
                subject: subject.into(),
                contact_id: Some(anna),
                due_at: hours.map(|h| now + Duration::hours(h)),
                assignee_id: assignee,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        if completed {
            activity::complete(&mut tx, a.id).await.unwrap();
        }
        ids.push(a.id);
    }

    let due = activity::due(&mut tx, now + Duration::days(2), None)
        .await
        .unwrap();
    let subjects: Vec<(&str, bool)> = due
        .iter()
        .map(|a| (a.subject.as_str(), a.overdue))
        .collect();
    assert_eq!(
        subjects,
        [
            ("two days late", true),
            ("an hour late", true),
            ("tomorrow", false)
        ]
    );
    assert!(
        due.iter()
            .all(|a| a.contact.as_deref() == Some("Anna Schütz"))
    );
    assert_eq!(due[1].assignee.as_deref(), Some("Uwe User"));

    let mine = activity::due(&mut tx, now + Duration::days(2), Some(owner))
        .await
        .unwrap();
    let subjects: Vec<&str> = mine.iter().map(|a| a.subject.as_str()).collect();
    assert_eq!(subjects, ["two days late", "tomorrow"]);

    // The list's filters.
    let list = async |tx: &mut crm_core::Tx, f: ActivityFilter| {
        let page = activity::list(tx, &f, PageRequest::default())
            .await
            .unwrap();
        page.items
            .into_iter()
            .map(|a| a.subject)
            .collect::<Vec<String>>()
    };
    assert_eq!(
        list(
            &mut tx,
            ActivityFilter {
                overdue: true,
                ..Default::default()
            }
        )
        .await,
        ["two days late", "an hour late"]
    );
    assert_eq!(
        list(
            &mut tx,
            ActivityFilter {
                state: Some(ActivityState::Done),
                ..Default::default()
            }
        )
        .await,
        ["done already"]
    );
    assert_eq!(
        list(
            &mut tx,
            ActivityFilter {
                assignee_id: Some(other),
                ..Default::default()
            }
        )
        .await,
        ["an hour late"]
    );
    assert_eq!(
        list(
            &mut tx,
            ActivityFilter {
                due_after: Some(now),
                due_before: Some(now + Duration::days(30)),
                ..Default::default()
            }
        )
        .await,
        ["tomorrow", "next week"]
    );
    assert_eq!(
        list(
            &mut tx,
            ActivityFilter {
                contact_id: Some(anna),
                ..Default::default()
            }
        )
        .await
        .len(),
        6
    );
    assert!(
        list(
            &mut tx,
            ActivityFilter {
                kind: Some(ActivityType::Call),
                ..Default::default()
            }
        )
        .await
        .is_empty()
    );

    let mut seen = Vec::new();
    let n = activity::for_each_batch(&mut tx, &ActivityFilter::default(), 4, async |batch| {
        seen.extend(batch.into_iter().map(|a| a.id));
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(n, 6);
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn activities_of_another_organization_are_invisible() {
    let db = TestDb::new().await;
    let (a, a_owner) = db.org("Alpha GmbH").await;
    let (b, b_owner) = db.org("Beta AG").await;
    let (act, anna) = db
        .crm
        .scope(a, a_owner)
        .run(async |tx| {
            let anna = contact(tx, "Anna", "Schütz").await;
            let act = activity::create(
                tx,
                NewActivity {
                    subject: "Call Anna".into(),
                    contact_id: Some(anna),
                    due_at: Some(Utc::now() - Duration::hours(1)),
                    ..Default::default()
                },
            )
            .await?;
            Ok((act, anna))
        })
        .await
        .unwrap();
    let mut tx = db.crm.scope(b, b_owner).begin().await.unwrap();
    assert!(matches!(
        activity::get(&mut tx, act.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        activity::complete(&mut tx, act.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(
        activity::due(&mut tx, Utc::now(), None)
            .await
            .unwrap()
            .is_empty()
    );
    let page = activity::list(&mut tx, &ActivityFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());
    // Nor can org B link its activity to org A's contact.
    let e = activity::create(
        &mut tx,
        NewActivity {
            subject: "Sneaky".into(),
            contact_id: Some(anna),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&e)[0].0, "contact_id");
}
