//! Who a person is, for subject export and erasure (issue 14, item 4): the record named,
//! the records merged into it or it into (a dedicated column only a merge writes), and what
//! the operator names explicitly. Nothing a plain user can write pulls someone else in, and
//! records that merely share an address are listed for the operator, never taken silently.

use crm_core::auth::user::{self, NewUser};
use crm_core::domain::UserRole;
use crm_core::gdpr;
use crm_core::store::contact::{self, ContactPatch, NewContact};
use crm_core::testing::TestDb;
use crm_core::{ContactId, Scope};
use serde_json::{Map, json};
use uuid::Uuid;

async fn person(scope: &Scope, first: &str, last: &str, email: &str) -> ContactId {
    scope
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    first_name: first.into(),
                    last_name: last.into(),
                    email: Some(email.into()),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap()
        .id
}

async fn exists(db: &TestDb, id: ContactId) -> bool {
    let mut o = db.owner().await;
    sqlx::query_scalar("select exists(select 1 from contacts where id = $1)")
        .bind(id)
        .fetch_one(&mut o)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_merge_planted_by_a_user_does_not_pull_a_victim_into_an_erasure() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Opfer GmbH").await;
    let scope = db.crm.scope(org, owner);
    let victim = person(&scope, "Viktor", "Opfer", "viktor@opfer.example").await;
    let plain = scope
        .run(async |tx| {
            user::add(
                tx,
                NewUser {
                    email: "u@opfer.example".into(),
                    first_name: "Uwe".into(),
                    last_name: "User".into(),
                    role: UserRole::User,
                    password: None,
                    team: None,
                    visibility: None,
                },
            )
            .await
        })
        .await
        .unwrap()
        .id;
    let as_user = db.crm.scope(org, plain);
    let mallory = person(&as_user, "Mallory", "Plant", "mallory@plant.example").await;
    // The free-form custom fields: anyone who may write the record may put anything there.
    let mut custom = Map::new();
    custom.insert("merged_into".into(), json!(victim));
    as_user
        .run(async |tx| {
            let v = contact::get(tx, mallory).await?.version;
            contact::update(
                tx,
                mallory,
                ContactPatch {
                    custom: Some(custom),
                    ..ContactPatch::at(v)
                },
            )
            .await
        })
        .await
        .unwrap();
    // The merge column itself is not the user's to write, by SQL either.
    let planted = as_user
        .run(async |tx| {
            Ok(
                sqlx::query("update contacts set merged_into_id = $1 where id = $2")
                    .bind(victim)
                    .bind(mallory)
                    .execute(tx.conn())
                    .await?
                    .rows_affected(),
            )
        })
        .await;
    assert!(!matches!(planted, Ok(1)), "{planted:?}");
    let receipt = scope
        .run(async |tx| gdpr::erase(tx, "mallory@plant.example", false).await)
        .await
        .unwrap();
    assert_eq!(receipt.counts.contacts, 1);
    assert!(!exists(&db, mallory).await);
    assert!(
        exists(&db, victim).await,
        "the victim was erased with Mallory"
    );
}

#[tokio::test]
async fn records_sharing_a_mailbox_are_listed_and_taken_only_when_named() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Postfach GmbH").await;
    let scope = db.crm.scope(org, owner);
    // Someone else, who once used the shared mailbox, soft-deleted.
    let other = person(&scope, "Otto", "Anders", "info@postfach.example").await;
    scope
        .run(async |tx| contact::delete(tx, other, None).await)
        .await
        .unwrap();
    let petra = person(&scope, "Petra", "Post", "info@postfach.example").await;
    let dry = scope
        .run(async |tx| gdpr::erase(tx, &petra.to_string(), true).await)
        .await
        .unwrap();
    assert_eq!(dry.counts.contacts, 1);
    assert_eq!(dry.candidates, vec![other]);
    let receipt = scope
        .run(async |tx| gdpr::erase(tx, &petra.to_string(), false).await)
        .await
        .unwrap();
    assert_eq!(receipt.counts.contacts, 1);
    assert!(
        exists(&db, other).await,
        "a record sharing the mailbox was erased silently"
    );
    // Named by the operator, it goes too.
    let again = person(&scope, "Petra", "Post", "petra@postfach.example").await;
    let receipt = scope
        .run(async |tx| gdpr::erase_including(tx, &again.to_string(), &[other], false).await)
        .await
        .unwrap();
    assert_eq!(receipt.counts.contacts, 2);
    assert!(!exists(&db, other).await);
}

#[tokio::test]
async fn a_merge_is_recorded_in_its_own_column_and_the_erasure_follows_it() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Merge GmbH").await;
    let scope = db.crm.scope(org, owner);
    let keep = person(&scope, "Karl", "Behalten", "karl@merge.example").await;
    let gone = person(&scope, "Karl", "Behalten", "k.behalten@alt.example").await;
    scope
        .run(async |tx| contact::merge(tx, keep, gone).await)
        .await
        .unwrap();
    let mut o = db.owner().await;
    let (merged_into, custom): (Option<Uuid>, serde_json::Value) =
        sqlx::query_as("select merged_into_id, custom from contacts where id = $1")
            .bind(gone)
            .fetch_one(&mut o)
            .await
            .unwrap();
    assert_eq!(merged_into, Some(keep.uuid()));
    assert!(custom.get("merged_into").is_none(), "{custom}");
    let receipt = scope
        .run(async |tx| gdpr::erase(tx, "karl@merge.example", false).await)
        .await
        .unwrap();
    assert_eq!(receipt.counts.contacts, 2);
    assert!(!exists(&db, gone).await);
}
