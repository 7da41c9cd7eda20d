//! Audit chain, event outbox and search (the parts every aggregate shares).

use std::time::Duration;

use crm_core::events::EventStream;
use crm_core::testing::TestDb;
use serde_json::json;

async fn seeded(db: &TestDb, name: &str) -> crm_core::Scope {
    let (org, owner) = db.org(name).await;
    let scope = db.crm.scope(org, owner);
    crm_tools::demo::seed(&scope, 8).await.unwrap();
    scope
}

#[tokio::test]
async fn an_intact_chain_verifies_and_any_tampering_is_named() {
    let db = TestDb::new().await;
    let scope = seeded(&db, "Chain GmbH").await;
    for i in 0..3 {
        scope
            .run(async |tx| {
                tx.record("note", None, "create", &json!({"n": i}), None, &json!(null))
                    .await
            })
            .await
            .unwrap();
    }
    let reports = db.crm.verify_audit_chains().await.unwrap();
    assert_eq!(reports.len(), 1);
    assert!(reports[0].intact(), "{:?}", reports[0]);
    let total = reports[0].checked;
    assert!(total >= 5);

    let mut owner = db.owner().await;
    let original: serde_json::Value =
        sqlx::query_scalar("select payload from audit_log where seq = 3")
            .fetch_one(&mut owner)
            .await
            .unwrap();
    // An edited payload.
    sqlx::query("update audit_log set payload = '{\"n\": 99}' where seq = 3")
        .execute(&mut owner)
        .await
        .unwrap();
    let r = &db.crm.verify_audit_chains().await.unwrap()[0];
    assert_eq!(
        (r.broken_seq, r.problem.as_deref()),
        (Some(3), Some("payload was changed"))
    );
    assert_eq!(r.checked, 2);
    // Restore it, then remove an entry in the middle.
    sqlx::query("update audit_log set payload = $1 where seq = 3")
        .bind(&original)
        .execute(&mut owner)
        .await
        .unwrap();
    assert!(db.crm.verify_audit_chains().await.unwrap()[0].intact());
    sqlx::query("delete from audit_log where seq = 2")
        .execute(&mut owner)
        .await
        .unwrap();
    let r = &db.crm.verify_audit_chains().await.unwrap()[0];
    assert_eq!(
        (r.broken_seq, r.problem.as_deref()),
        (Some(2), Some("entry missing"))
    );
}

#[tokio::test]
async fn removing_the_newest_entries_is_detected() {
    let db = TestDb::new().await;
    let scope = seeded(&db, "Tail AG").await;
    scope
        .run(async |tx| {
            tx.record("note", None, "create", &json!({}), None, &json!(null))
                .await
        })
        .await
        .unwrap();
    let last: i64 = {
        let mut owner = db.owner().await;
        let last: i64 = sqlx::query_scalar("select max(seq) from audit_log")
            .fetch_one(&mut owner)
            .await
            .unwrap();
        sqlx::query("delete from audit_log where seq = $1")
            .bind(last)
            .execute(&mut owner)
            .await
            .unwrap();
        last
    };
    let r = &db.crm.verify_audit_chains().await.unwrap()[0];
    assert_eq!(r.broken_seq, Some(last));
}

#[tokio::test]
async fn an_entry_with_changed_fields_breaks_the_chain() {
    let db = TestDb::new().await;
    seeded(&db, "Fields KG").await;
    let mut owner = db.owner().await;
    sqlx::query("update audit_log set action = 'delete' where seq = 1")
        .execute(&mut owner)
        .await
        .unwrap();
    let r = &db.crm.verify_audit_chains().await.unwrap()[0];
    assert_eq!(
        (r.broken_seq, r.problem.as_deref()),
        (Some(1), Some("entry fields were changed"))
    );
}

#[tokio::test]
async fn an_event_exists_if_and_only_if_its_change_commits() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Outbox GmbH").await;
    let scope = db.crm.scope(org, owner);
    let count = async || -> i64 {
        scope
            .run(async |tx| Ok(crm_core::events::since(tx, 0, 10_000).await?.len() as i64))
            .await
            .unwrap()
    };
    let before = count().await;
    {
        let mut tx = scope.begin().await.unwrap();
        tx.record(
            "note",
            None,
            "create",
            &json!({}),
            Some("note.created"),
            &json!({}),
        )
        .await
        .unwrap();
        // Dropped without commit: rolled back.
    }
    assert_eq!(count().await, before);
    let mut tx = scope.begin().await.unwrap();
    tx.record(
        "note",
        None,
        "create",
        &json!({}),
        Some("note.created"),
        &json!({}),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count().await, before + 1);
}

#[tokio::test]
async fn the_event_stream_resumes_from_its_position_and_wakes_on_notify() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Stream AG").await;
    let scope = db.crm.scope(org, owner);
    let mut stream = EventStream::open(scope.clone(), 0).await.unwrap();
    let first = stream.next_batch(Duration::from_secs(1)).await.unwrap();
    assert!(first.iter().any(|e| e.topic == "organization.created"));
    let pos = stream.position();
    // Nothing new: an empty batch after the wait.
    assert!(
        stream
            .next_batch(Duration::from_millis(200))
            .await
            .unwrap()
            .is_empty()
    );
    // A change committed while the stream waits is delivered.
    let writer = scope.clone();
    let handle = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        writer
            .run(async |tx| {
                tx.record(
                    "deal",
                    None,
                    "win",
                    &json!({}),
                    Some("deal.won"),
                    &json!({}),
                )
                .await
            })
            .await
            .unwrap();
    });
    let next = stream.next_batch(Duration::from_secs(10)).await.unwrap();
    handle.await.unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].topic, "deal.won");
    assert!(next[0].seq > pos);
    // A consumer that was down resumes from its saved position and misses nothing.
    let mut resumed = EventStream::open(scope.clone(), pos).await.unwrap();
    let again = resumed.next_batch(Duration::from_secs(1)).await.unwrap();
    assert_eq!(
        again.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![next[0].seq]
    );
    scope
        .run(async |tx| {
            crm_core::events::save_cursor(tx, "mailer", next[0].seq).await?;
            assert_eq!(crm_core::events::cursor(tx, "mailer").await?, next[0].seq);
            Ok(())
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn search_folds_case_accents_and_german_spellings_and_tolerates_typos() {
    let db = TestDb::new().await;
    let scope = seeded(&db, "Suche GmbH").await;
    for q in [
        "Müller",
        "Mueller",
        "MÜLLER",
        "mueller",
        "Muller",
        "Mülller",
        "juergen mueller",
    ] {
        let hits = scope
            .run(async |tx| crm_core::search::search(tx, q, 10).await)
            .await
            .unwrap();
        assert!(
            hits.iter()
                .any(|h| h.kind == "contact" && h.name == "Jürgen Müller"),
            "query {q:?} did not find the contact: {hits:?}"
        );
    }
    // Deals are found by title too (issue 15); here the company is the point.
    let hits: Vec<_> = scope
        .run(async |tx| crm_core::search::search(tx, "Zürcher Präzision", 10).await)
        .await
        .unwrap()
        .into_iter()
        .filter(|h| h.kind != "deal")
        .collect();
    assert_eq!(hits[0].kind, "company");
    assert_eq!(hits[0].name, "Zürcher Präzision AG");
    let by_mail = scope
        .run(async |tx| crm_core::search::search(tx, "schaefer-soehne.de", 10).await)
        .await
        .unwrap();
    assert!(by_mail.iter().any(|h| {
        h.email
            .as_deref()
            .is_some_and(|e| e.ends_with("@schaefer-soehne.de"))
    }));
    let err = scope
        .run(async |tx| crm_core::search::search(tx, "  ", 10).await)
        .await
        .unwrap_err();
    assert!(matches!(err, crm_core::Error::Validation(_)));
}

#[tokio::test]
async fn search_never_returns_another_organizations_records() {
    let db = TestDb::new().await;
    seeded(&db, "Eins GmbH").await;
    let (org, owner) = db.org("Zwei GmbH").await;
    let other = db.crm.scope(org, owner);
    let hits = other
        .run(async |tx| crm_core::search::search(tx, "Müller", 10).await)
        .await
        .unwrap();
    assert!(hits.is_empty(), "{hits:?}");
}
