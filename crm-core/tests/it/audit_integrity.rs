//! A forged audit entry never verifies, and redaction is not a tool for rewriting history
//! (issue 14, item 7): verification checks every payload that is present, and the audit
//! log can only be redacted by an erasure, for what the erasure derived from the person.

use crm_core::audit;
use crm_core::gdpr;
use crm_core::store::contact::{self, NewContact};
use crm_core::testing::TestDb;
use serde_json::json;

#[tokio::test]
async fn a_payload_marked_redacted_but_present_is_checked() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Kette GmbH").await;
    let scope = db.crm.scope(org, owner);
    for i in 0..3 {
        scope
            .run(async |tx| {
                tx.record("note", None, "create", &json!({"n": i}), None, &json!(null))
                    .await
            })
            .await
            .unwrap();
    }
    let mut o = db.owner().await;
    let seq: i64 = sqlx::query_scalar("select max(seq) - 1 from audit_log where org_id = $1")
        .bind(org)
        .fetch_one(&mut o)
        .await
        .unwrap();
    // Forged: another payload, flagged as redacted so the digest check used to be skipped.
    sqlx::query(
        "update audit_log set payload = '{\"n\": 42}', redacted_at = now() \
         where org_id = $1 and seq = $2",
    )
    .bind(org)
    .bind(seq)
    .execute(&mut o)
    .await
    .unwrap();
    let r = &db.crm.verify_audit_chains().await.unwrap()[0];
    assert_eq!(
        (r.broken_seq, r.problem.as_deref()),
        (Some(seq), Some("payload was changed"))
    );
    let (_, broken, _) = scope.run(async |tx| audit::verify(tx).await).await.unwrap();
    assert_eq!(broken, Some(seq));
    // A payload removed without a redaction mark is a change too.
    sqlx::query(
        "update audit_log set payload = null, redacted_at = null where org_id = $1 and seq = $2",
    )
    .bind(org)
    .bind(seq)
    .execute(&mut o)
    .await
    .unwrap();
    let r = &db.crm.verify_audit_chains().await.unwrap()[0];
    assert_eq!(r.broken_seq, Some(seq));
    // A genuine redaction (payload gone, mark set) verifies.
    sqlx::query("update audit_log set redacted_at = now() where org_id = $1 and seq = $2")
        .bind(org)
        .bind(seq)
        .execute(&mut o)
        .await
        .unwrap();
    assert!(db.crm.verify_audit_chains().await.unwrap()[0].intact());
}

#[tokio::test]
async fn an_admin_cannot_redact_entries_with_patterns_of_their_choice() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Kette GmbH").await;
    let scope = db.crm.scope(org, owner);
    let id = scope
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    first_name: "Rita".into(),
                    last_name: "Rot".into(),
                    email: Some("rita@rot.example".into()),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap()
        .id;
    scope
        .run(async |tx| {
            tx.record(
                "note",
                None,
                "create",
                &json!({"text": "Rechnung 4711 an Dritte"}),
                None,
                &json!(null),
            )
            .await
        })
        .await
        .unwrap();
    let redacted = async || -> i64 {
        let mut o = db.owner().await;
        sqlx::query_scalar("select count(*) from audit_log where payload is null")
            .fetch_one(&mut o)
            .await
            .unwrap()
    };
    let before = redacted().await;
    // Whatever redaction function the app role may call, it refuses a pattern or needle the
    // erasure did not derive from the person.
    let mut calls = vec![
        // The old interface: arbitrary regular expressions.
        "select crm_gdpr_redact_audit(array[]::text[], array[]::uuid[], array[]::text[], \
         array[]::uuid[], array['.'], '.')"
            .to_string(),
    ];
    let mut o = db.owner().await;
    let functions: Vec<String> = sqlx::query_scalar(
        "select p.oid::regprocedure::text from pg_proc p \
         where p.proname like 'crm_gdpr_redact%' \
           and has_function_privilege('crm_app', p.oid, 'execute')",
    )
    .fetch_all(&mut o)
    .await
    .unwrap();
    if functions
        .iter()
        .any(|f| f.starts_with("crm_gdpr_redact_person("))
    {
        calls.push(format!(
            "select crm_gdpr_redact_person(array['{id}']::uuid[], array['Rechnung'], array['Dritte'])"
        ));
        calls.push(format!(
            "select crm_gdpr_redact_person(array['{id}']::uuid[], array['.*'], array[]::text[])"
        ));
    }
    for sql in &calls {
        let r = scope
            .run(async |tx| {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(tx.conn())
                    .await?;
                Ok(())
            })
            .await;
        assert!(r.is_err(), "{sql} was accepted");
    }
    if functions
        .iter()
        .any(|f| f.starts_with("crm_gdpr_redact_purged("))
    {
        // Only entries about records already purged: a live contact's stay.
        scope
            .run(async |tx| {
                sqlx::query("select crm_gdpr_redact_purged(array['contact'], array[$1]::uuid[])")
                    .bind(id)
                    .execute(tx.conn())
                    .await?;
                Ok(())
            })
            .await
            .unwrap();
    }
    assert_eq!(redacted().await, before);
    assert!(
        functions.iter().all(|f| {
            f.starts_with("crm_gdpr_redact_person(") || f.starts_with("crm_gdpr_redact_purged(")
        }),
        "{functions:?}"
    );
    // The erasure itself still redacts what is about the person, and the chain verifies.
    let receipt = scope
        .run(async |tx| gdpr::erase(tx, "rita@rot.example", false).await)
        .await
        .unwrap();
    assert!(receipt.counts.audit_redacted >= 1);
    assert!(db.crm.verify_audit_chains().await.unwrap()[0].intact());
    let mut o = db.owner().await;
    let third: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where payload::text like '%Rechnung 4711%'",
    )
    .fetch_one(&mut o)
    .await
    .unwrap();
    assert_eq!(third, 1, "an entry not about the person stays");
}
