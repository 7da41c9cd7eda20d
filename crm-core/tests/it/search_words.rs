//! Search by words (issue 19): a typo of a name is found through the tenant's dictionary of
//! words, the dictionary follows renames and erasures, and the application role cannot
//! read it.

use crm_core::gdpr;
use crm_core::store::contact::{self, ContactPatch, NewContact};
use crm_core::testing::TestDb;
use crm_core::{OrgId, Scope};
use serde_json::json;

async fn dictionary_has(db: &TestDb, org: OrgId, word: &str) -> bool {
    let mut owner = db.owner().await;
    sqlx::query_scalar(
        "select exists (select 1 from crm_private.search_words where org_id = $1 and word = $2)",
    )
    .bind(org)
    .bind(word)
    .fetch_one(&mut owner)
    .await
    .unwrap()
}

async fn names(scope: &Scope, q: &str) -> Vec<String> {
    scope
        .run(async |tx| crm_core::search::search(tx, q, 20).await)
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.name)
        .collect()
}

async fn add(scope: &Scope, first: &str, last: &str, email: &str) -> contact::Contact {
    let new: NewContact = serde_json::from_value(json!({
        "first_name": first, "last_name": last, "email": email,
    }))
    .unwrap();
    scope
        .run(async |tx| contact::create(tx, new).await)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_typo_finds_the_name_and_a_rename_updates_the_dictionary() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Wort GmbH").await;
    let scope = db.crm.scope(org, owner);
    let c = add(&scope, "Quirin", "Zwackelmann-Öztürk", "qz@wort.example").await;
    add(&scope, "Anna", "Zwackel", "az@wort.example").await;
    assert!(dictionary_has(&db, org, "zwackelmann").await);
    assert!(dictionary_has(&db, org, "oeztuerk").await);
    for q in [
        "Zwackelman",
        "ZWACKELMANN",
        "zwackelmann-oeztürk",
        "Öztürk Quirin",
    ] {
        let found = names(&scope, q).await;
        assert_eq!(
            found.first().map(String::as_str),
            Some("Quirin Zwackelmann-Öztürk"),
            "query {q:?}: {found:?}"
        );
    }
    // Renamed: the old word leaves the dictionary (nobody else holds it), the new one is
    // searchable at once.
    let patch: ContactPatch =
        serde_json::from_value(json!({"version": c.version, "last_name": "Wackerbarth"})).unwrap();
    scope
        .run(async |tx| contact::update(tx, c.id, patch).await)
        .await
        .unwrap();
    assert!(!dictionary_has(&db, org, "zwackelmann").await);
    assert!(!dictionary_has(&db, org, "oeztuerk").await);
    assert!(dictionary_has(&db, org, "zwackel").await, "Anna keeps hers");
    assert_eq!(names(&scope, "Wackerbart").await, ["Quirin Wackerbarth"]);
    assert!(
        !names(&scope, "Zwackelmann")
            .await
            .iter()
            .any(|n| n == "Quirin Wackerbarth")
    );
}

#[tokio::test]
async fn an_erased_persons_name_does_not_stay_in_the_dictionary() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Lösch AG").await;
    let scope = db.crm.scope(org, owner);
    add(
        &scope,
        "Xaver",
        "Quappendorf",
        "xaver.quappendorf@privat.example",
    )
    .await;
    assert!(dictionary_has(&db, org, "quappendorf").await);
    scope
        .run(async |tx| gdpr::erase(tx, "xaver.quappendorf@privat.example", false).await)
        .await
        .unwrap();
    assert!(!dictionary_has(&db, org, "quappendorf").await);
    assert!(!dictionary_has(&db, org, "xaver").await);
    assert!(names(&scope, "Quappendorf").await.is_empty());
}

#[tokio::test]
async fn the_dictionary_is_not_readable_by_the_application() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Geheim GmbH").await;
    let scope = db.crm.scope(org, owner);
    add(&scope, "Berta", "Vielfraß", "bv@geheim.example").await;
    let err = scope
        .run(async |tx| {
            sqlx::query_scalar::<_, i64>("select count(*) from crm_private.search_words")
                .fetch_one(tx.conn())
                .await?;
            Ok(())
        })
        .await
        .unwrap_err();
    assert!(matches!(err, crm_core::Error::PermissionDenied(_)), "{err}");
}
