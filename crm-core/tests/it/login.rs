//! Login hardening (issue 14, item 15): atomic lockout under parallel guesses, one answer
//! for unknown / wrong / locked, the current password to change one's own, a maximum
//! password length before hashing.

use crm_core::auth::password::MAX_LENGTH;
use crm_core::auth::session::{LOGIN_FAILED, MAX_FAILED_LOGINS};
use crm_core::auth::user::{self, NewUser};
use crm_core::domain::UserRole;
use crm_core::testing::TestDb;
use crm_core::{Error, OrgId, UserId};

const PASSWORD: &str = "correct horse battery";

async fn add(db: &TestDb, org: OrgId, owner: UserId, email: &str) -> UserId {
    db.crm
        .scope(org, owner)
        .run(async |tx| {
            user::add(
                tx,
                NewUser {
                    email: email.into(),
                    first_name: "Test".into(),
                    last_name: "User".into(),
                    role: UserRole::User,
                    password: Some(PASSWORD.into()),
                    team: None,
                    visibility: None,
                },
            )
            .await
        })
        .await
        .expect("add user")
        .id
}

fn message(e: Error) -> String {
    match e {
        Error::PermissionDenied(m) => m,
        other => panic!("expected PermissionDenied, got {other:?}"),
    }
}

/// Parallel guesses cannot test more passwords than the limit: a deactivated account
/// answers "deactivated" only to a password checked against its hash and found right, so
/// the number of such answers is the number of guesses that were checked.
#[tokio::test]
async fn parallel_guesses_cannot_exceed_the_lockout_limit() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Parallel GmbH").await;
    let anna = add(&db, org, owner, "anna@parallel.test").await;
    db.crm
        .scope(org, owner)
        .run(async |tx| user::deactivate(tx, anna).await)
        .await
        .unwrap();

    let attempts = 3 * MAX_FAILED_LOGINS as usize;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..attempts {
        let crm = db.crm.clone();
        tasks.spawn(async move {
            message(
                crm.login(org, "anna@parallel.test", PASSWORD)
                    .await
                    .unwrap_err(),
            )
        });
    }
    let answers = tasks.join_all().await;
    let checked = answers.iter().filter(|m| m.contains("deactivated")).count();
    assert_eq!(checked, MAX_FAILED_LOGINS as usize, "{answers:?}");
    assert_eq!(
        answers.iter().filter(|m| *m == LOGIN_FAILED).count(),
        attempts - MAX_FAILED_LOGINS as usize
    );
    // The account is locked now.
    let mut conn = db.owner().await;
    let locked: bool = sqlx::query_scalar("select locked_until > now() from users where id = $1")
        .bind(anna)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(locked);
}

/// The same holds for wrong guesses: after many parallel ones, exactly one lock was
/// recorded and the right password is refused like any other.
#[tokio::test]
async fn parallel_wrong_guesses_lock_once_and_the_answer_stays_the_same() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Guess GmbH").await;
    let anna = add(&db, org, owner, "anna@guess.test").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..(2 * MAX_FAILED_LOGINS) {
        let crm = db.crm.clone();
        tasks.spawn(async move {
            message(
                crm.login(org, "anna@guess.test", &format!("wrong guess {i}"))
                    .await
                    .unwrap_err(),
            )
        });
    }
    for answer in tasks.join_all().await {
        assert_eq!(answer, LOGIN_FAILED);
    }
    let locked = message(
        db.crm
            .login(org, "anna@guess.test", PASSWORD)
            .await
            .unwrap_err(),
    );
    let unknown = message(
        db.crm
            .login(org, "nobody@guess.test", PASSWORD)
            .await
            .unwrap_err(),
    );
    add(&db, org, owner, "bert@guess.test").await;
    let wrong_elsewhere = {
        message(
            db.crm
                .login(org, "bert@guess.test", "not his password")
                .await
                .unwrap_err(),
        )
    };
    assert_eq!(locked, LOGIN_FAILED, "locked");
    assert_eq!(unknown, LOGIN_FAILED, "unknown");
    assert_eq!(wrong_elsewhere, LOGIN_FAILED, "wrong");
    let mut conn = db.owner().await;
    let locks: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where org_id = $1 and entity_id = $2 and action = 'lock'",
    )
    .bind(org)
    .bind(anna.uuid())
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(locks, 1);
}

#[tokio::test]
async fn a_password_over_the_maximum_length_is_refused_without_counting() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Long GmbH").await;
    let anna = add(&db, org, owner, "anna@long.test").await;
    let huge = "x".repeat(MAX_LENGTH + 1);
    for _ in 0..(2 * MAX_FAILED_LOGINS) {
        let e = db
            .crm
            .login(org, "anna@long.test", &huge)
            .await
            .unwrap_err();
        assert_eq!(message(e), LOGIN_FAILED);
    }
    // Refused before anything was counted: the account is not locked.
    db.crm.login(org, "anna@long.test", PASSWORD).await.unwrap();
    // Nor can such a password be set.
    let e = db
        .crm
        .scope(org, owner)
        .run(async |tx| user::set_password(tx, anna, &huge).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
}

#[tokio::test]
async fn changing_ones_own_password_needs_the_current_one() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Own GmbH").await;
    let anna = add(&db, org, owner, "anna@own.test").await;
    let as_anna = db.crm.scope(org, anna);
    // Without the current password: refused, also for an admin's own account.
    let e = as_anna
        .run(async |tx| user::set_password(tx, anna, "a takeover attempt").await)
        .await
        .unwrap_err();
    assert!(message(e).contains("current"));
    let e = as_anna
        .run(async |tx| user::change_own_password(tx, "a wrong guess", "a takeover attempt").await)
        .await
        .unwrap_err();
    assert_eq!(message(e), "the current password is wrong");
    db.crm.login(org, "anna@own.test", PASSWORD).await.unwrap();
    // With it: changed, and only the new one works.
    as_anna
        .run(async |tx| user::change_own_password(tx, PASSWORD, "my own new secret").await)
        .await
        .unwrap();
    db.crm
        .login(org, "anna@own.test", "my own new secret")
        .await
        .unwrap();
    assert!(db.crm.login(org, "anna@own.test", PASSWORD).await.is_err());
    // An owner with a password set needs it too; one without any may set a first one.
    let as_owner = db.crm.scope(org, owner);
    as_owner
        .run(async |tx| user::set_password(tx, owner, "the owner's first").await)
        .await
        .unwrap();
    let e = as_owner
        .run(async |tx| user::set_password(tx, owner, "the owner's second").await)
        .await
        .unwrap_err();
    assert!(message(e).contains("current"));
}
