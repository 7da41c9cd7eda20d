//! Read-only transactions for exports and reports, optionally on a read replica.

use crm_core::Crm;
use crm_core::store::contact::{self, NewContact};
use crm_core::testing::TestDb;

async fn add_contact(scope: &crm_core::Scope, last: &str) {
    scope
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    first_name: "Anna".into(),
                    last_name: last.into(),
                    ..NewContact::default()
                },
            )
            .await
        })
        .await
        .unwrap();
}

/// The contacts' last names a read transaction of `scope` sees, and the SQLSTATE of a write
/// attempted in it.
async fn read_and_try_to_write(scope: &crm_core::Scope) -> (Vec<String>, Option<String>) {
    let mut tx = scope.begin_read().await.unwrap();
    // A query without its org filter: row-level security still confines it to the tenant.
    let names: Vec<String> = sqlx::query_scalar("select last_name from contacts order by 1")
        .fetch_all(tx.conn())
        .await
        .unwrap();
    let err = sqlx::query("update contacts set last_name = 'X' where org_id = $1")
        .bind(tx.org())
        .execute(tx.conn())
        .await
        .expect_err("a write in a read-only transaction");
    let code = err
        .as_database_error()
        .and_then(|e| e.code())
        .map(|c| c.to_string());
    (names, code)
}

#[tokio::test]
async fn a_read_transaction_sees_its_tenant_and_refuses_writes() {
    let db = TestDb::new().await;
    let (a, a_owner) = db.org("Lesen GmbH").await;
    let (b, b_owner) = db.org("Fremd AG").await;
    let scope = db.crm.scope(a, a_owner);
    add_contact(&scope, "Müller").await;
    add_contact(&db.crm.scope(b, b_owner), "Fremdmann").await;

    let (names, code) = read_and_try_to_write(&scope).await;
    assert_eq!(names, ["Müller"]);
    assert_eq!(code.as_deref(), Some("25006"));

    // Store reads work in it (an export or report takes it in place of a write
    // transaction); store writes fail and leave nothing behind.
    let mut tx = scope.begin_read().await.unwrap();
    let page = contact::list(&mut tx, &Default::default(), Default::default())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    // An export runs in it unchanged (COPY ... TO STDOUT is a read).
    let mut csv = Vec::new();
    let n = crm_core::export::export(
        &mut tx,
        crm_core::export::ExportKind::Contacts,
        crm_core::export::ExportFormat::Csv,
        &Default::default(),
        &mut csv,
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    assert!(String::from_utf8(csv).unwrap().contains("Müller"));
    let mut tx = scope.begin_read().await.unwrap();
    let err = contact::create(
        &mut tx,
        NewContact {
            last_name: "Neu".into(),
            ..NewContact::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, crm_core::Error::Database(_)), "{err}");
}

#[tokio::test]
async fn a_read_transaction_checks_the_actor_like_any_other() {
    let db = TestDb::new().await;
    let (org, _) = db.org("Wer GmbH").await;
    let stranger = crm_core::UserId::new();
    let err = db.crm.scope(org, stranger).begin_read().await.unwrap_err();
    assert!(matches!(err, crm_core::Error::Tenancy(_)), "{err}");
}

#[tokio::test]
async fn with_a_read_replica_read_transactions_use_its_pool() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Replik AG").await;
    add_contact(&db.crm.scope(org, owner), "Brändli").await;
    // No real replica here: a second URL of the same database stands in for one.
    let crm: Crm = db.crm.clone().with_read_replica(&db.url()).await.unwrap();
    assert!(!std::ptr::eq(crm.read_pool(), crm.pool()));
    let scope = crm.scope(org, owner);
    let (names, code) = read_and_try_to_write(&scope).await;
    assert_eq!(names, ["Brändli"]);
    assert_eq!(code.as_deref(), Some("25006"));
    // Without a replica, the read pool is the primary's.
    assert!(std::ptr::eq(db.crm.read_pool(), db.crm.pool()));

    let err = db
        .crm
        .clone()
        .with_read_replica("postgresql:///crm?host=/nonexistent-dir&user=crm")
        .await
        .unwrap_err();
    assert!(matches!(err, crm_core::Error::Unavailable(_)), "{err}");
}
