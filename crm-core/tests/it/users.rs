//! Users, roles, sessions and record visibility (issue 7).

use crm_core::auth::session::LOGIN_FAILED;
use crm_core::auth::user::{self, NewUser, Visibility};
use crm_core::auth::{Permission, allows};
use crm_core::domain::UserRole;
use crm_core::testing::TestDb;
use crm_core::{Error, OrgId, Scope, UserId};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery";

fn new_user(email: &str, role: UserRole, password: Option<&str>) -> NewUser {
    NewUser {
        email: email.into(),
        first_name: "Test".into(),
        last_name: "User".into(),
        role,
        password: password.map(str::to_string),
        team: None,
        visibility: None,
    }
}

/// Adds a user as the organization's owner.
async fn add(db: &TestDb, org: OrgId, owner: UserId, new: NewUser) -> UserId {
    db.crm
        .scope(org, owner)
        .run(async |tx| user::add(tx, new).await)
        .await
        .expect("add user")
        .id
}

fn denied_message(e: Error) -> String {
    match e {
        Error::PermissionDenied(m) => m,
        other => panic!("expected PermissionDenied, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Login, lockout, sessions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn wrong_password_and_unknown_user_are_indistinguishable() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Login GmbH").await;
    add(
        &db,
        org,
        owner,
        new_user("anna@login.test", UserRole::User, Some(PASSWORD)),
    )
    .await;
    let wrong = db
        .crm
        .login(org, "anna@login.test", "not the password")
        .await
        .unwrap_err();
    let unknown = db
        .crm
        .login(org, "nobody@login.test", PASSWORD)
        .await
        .unwrap_err();
    // A user without a password cannot log in either, with the same answer.
    let no_password = db
        .crm
        .login(org, "owner@login-gmbh.test", "")
        .await
        .unwrap_err();
    let wrong = denied_message(wrong);
    assert_eq!(wrong, LOGIN_FAILED);
    assert_eq!(denied_message(unknown), wrong);
    assert_eq!(denied_message(no_password), wrong);

    // The right password works, ignoring the address's case, and is recorded.
    let session = db
        .crm
        .login(org, " ANNA@login.test ", PASSWORD)
        .await
        .unwrap();
    assert_eq!(session.role, UserRole::User);
    let anna = db
        .crm
        .scope(org, owner)
        .run(async |tx| user::get(tx, session.user_id).await)
        .await
        .unwrap();
    assert!(anna.last_login_at.is_some());
    // Only hashes are stored.
    let mut conn = db.owner().await;
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from sessions where encode(access_hash, 'hex') = split_part($1, '.', 2) \
         or encode(refresh_hash, 'hex') = split_part($2, '.', 2)",
    )
    .bind(&session.access_token)
    .bind(&session.refresh_token)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(stored, 0, "tokens must not be stored in the clear");
    // A login in another organization does not find the user.
    let (other, _) = db.org("Other AG").await;
    let e = db
        .crm
        .login(other, "anna@login.test", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(denied_message(e), LOGIN_FAILED);
}

#[tokio::test]
async fn five_failures_lock_the_account_even_for_the_right_password() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Lock GmbH").await;
    let anna = add(
        &db,
        org,
        owner,
        new_user("anna@lock.test", UserRole::User, Some(PASSWORD)),
    )
    .await;
    for _ in 0..4 {
        let e = db
            .crm
            .login(org, "anna@lock.test", "wrong guess")
            .await
            .unwrap_err();
        assert_eq!(denied_message(e), LOGIN_FAILED);
    }
    let fifth = db
        .crm
        .login(org, "anna@lock.test", "wrong guess")
        .await
        .unwrap_err();
    assert_eq!(denied_message(fifth), LOGIN_FAILED);
    // Locked: the right password is refused with the same message.
    let e = db
        .crm
        .login(org, "anna@lock.test", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(denied_message(e), LOGIN_FAILED);
    let scope = db.crm.scope(org, owner);
    let shown = scope
        .run(async |tx| user::get(tx, anna).await)
        .await
        .unwrap();
    let until = shown.locked_until.expect("locked_until is shown");
    let minutes = (until - chrono::Utc::now()).num_minutes();
    assert!((14..=15).contains(&minutes), "locked for {minutes} min");

    // Fifteen minutes later (simulated) the right password works and resets the count.
    let mut conn = db.owner().await;
    sqlx::query("update users set locked_until = now() - interval '1 second' where id = $1")
        .bind(anna)
        .execute(&mut conn)
        .await
        .unwrap();
    db.crm.login(org, "anna@lock.test", PASSWORD).await.unwrap();
    let failed: i32 = sqlx::query_scalar("select failed_logins from users where id = $1")
        .bind(anna)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(failed, 0);

    // An admin lifts a lock with reactivate.
    for _ in 0..5 {
        db.crm
            .login(org, "anna@lock.test", "wrong guess")
            .await
            .unwrap_err();
    }
    let unlocked = scope
        .run(async |tx| user::reactivate(tx, anna).await)
        .await
        .unwrap();
    assert_eq!(unlocked.locked_until, None);
    db.crm.login(org, "anna@lock.test", PASSWORD).await.unwrap();
    // The lock was audited without personal data.
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_log where org_id = $1 and entity_id = $2 order by seq",
    )
    .bind(org)
    .bind(anna.uuid())
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(actions.iter().filter(|a| *a == "lock").count(), 2);
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_revokes_the_family() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Rotate GmbH").await;
    let anna = add(
        &db,
        org,
        owner,
        new_user("anna@rotate.test", UserRole::Manager, Some(PASSWORD)),
    )
    .await;
    let first = db
        .crm
        .login(org, "anna@rotate.test", PASSWORD)
        .await
        .unwrap();
    let other_login = db
        .crm
        .login(org, "anna@rotate.test", PASSWORD)
        .await
        .unwrap();
    assert_eq!(
        db.crm.authenticate(&first.access_token).await.unwrap(),
        (org, anna, UserRole::Manager)
    );
    assert!(
        first.access_expires_at - chrono::Utc::now() <= chrono::Duration::minutes(15)
            && first.refresh_expires_at - chrono::Utc::now() > chrono::Duration::days(6)
    );
    // A refresh token is not an access token.
    assert!(db.crm.authenticate(&first.refresh_token).await.is_err());

    let second = db.crm.refresh(&first.refresh_token).await.unwrap();
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(second.refresh_token, first.refresh_token);
    assert!(
        db.crm.authenticate(&first.access_token).await.is_err(),
        "the rotated pair stops working"
    );
    assert_eq!(
        db.crm.authenticate(&second.access_token).await.unwrap().1,
        anna
    );

    // The old refresh token again: theft. The whole family is revoked.
    let e = db.crm.refresh(&first.refresh_token).await.unwrap_err();
    assert!(denied_message(e).contains("already used"));
    assert!(db.crm.authenticate(&second.access_token).await.is_err());
    assert!(db.crm.refresh(&second.refresh_token).await.is_err());
    // Another login of the same user is another family and keeps working.
    assert!(db.crm.authenticate(&other_login.access_token).await.is_ok());
    let mut conn = db.owner().await;
    let reuse: i64 = sqlx::query_scalar(
        "select count(*) from events where org_id = $1 and topic = 'user.session_reuse_detected'",
    )
    .bind(org)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(reuse, 1);

    // Expired tokens fail.
    sqlx::query(
        "update sessions set access_expires_at = now() - interval '1 second', \
                             refresh_expires_at = now() - interval '1 second' \
         where user_id = $1",
    )
    .bind(anna)
    .execute(&mut conn)
    .await
    .unwrap();
    assert!(
        db.crm
            .authenticate(&other_login.access_token)
            .await
            .is_err()
    );
    assert!(db.crm.refresh(&other_login.refresh_token).await.is_err());
    // Garbage and tokens naming another organization fail the same way.
    for bad in ["", "x.y", &other_login.access_token.replacen('.', "", 1)] {
        assert!(matches!(
            db.crm.authenticate(bad).await,
            Err(Error::PermissionDenied(_))
        ));
    }
}

#[tokio::test]
async fn logout_ends_one_login_and_logout_everywhere_ends_all() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Logout GmbH").await;
    let anna = add(
        &db,
        org,
        owner,
        new_user("anna@logout.test", UserRole::User, Some(PASSWORD)),
    )
    .await;
    let a = db
        .crm
        .login(org, "anna@logout.test", PASSWORD)
        .await
        .unwrap();
    let b = db
        .crm
        .login(org, "anna@logout.test", PASSWORD)
        .await
        .unwrap();
    let c = db
        .crm
        .login(org, "anna@logout.test", PASSWORD)
        .await
        .unwrap();
    let a2 = db.crm.refresh(&a.refresh_token).await.unwrap();
    db.crm.logout(&a2.access_token).await.unwrap();
    assert!(db.crm.authenticate(&a2.access_token).await.is_err());
    assert!(
        db.crm.refresh(&a2.refresh_token).await.is_err(),
        "the login's refresh token ends too"
    );
    assert!(db.crm.authenticate(&b.access_token).await.is_ok());
    // Logging out twice, or with garbage, is not an error.
    db.crm.logout(&a2.access_token).await.unwrap();
    db.crm.logout("garbage").await.unwrap();

    let revoked = db.crm.logout_everywhere(org, anna).await.unwrap();
    assert_eq!(revoked, 2);
    assert!(db.crm.authenticate(&b.access_token).await.is_err());
    assert!(db.crm.authenticate(&c.access_token).await.is_err());
    assert!(db.crm.refresh(&c.refresh_token).await.is_err());
    assert!(matches!(
        db.crm.logout_everywhere(org, UserId::new()).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_deactivated_users_sessions_stop_working_and_they_cannot_act() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Deactivate GmbH").await;
    let anna = add(
        &db,
        org,
        owner,
        new_user("anna@deactivate.test", UserRole::Admin, Some(PASSWORD)),
    )
    .await;
    let session = db
        .crm
        .login(org, "anna@deactivate.test", PASSWORD)
        .await
        .unwrap();
    let (_, actor, _) = db.crm.authenticate(&session.access_token).await.unwrap();
    db.crm.scope(org, actor).begin().await.unwrap();

    let admin = db.crm.scope(org, owner);
    let shown = admin
        .run(async |tx| user::deactivate(tx, anna).await)
        .await
        .unwrap();
    assert!(!shown.active);
    assert!(db.crm.authenticate(&session.access_token).await.is_err());
    assert!(db.crm.refresh(&session.refresh_token).await.is_err());
    let e = db
        .crm
        .login(org, "anna@deactivate.test", PASSWORD)
        .await
        .unwrap_err();
    assert!(denied_message(e).contains("deactivated"));
    let e = db.crm.scope(org, anna).begin().await.unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");

    // Reactivated, they log in again; a session not revoked stops working the moment the
    // user is inactive, however that happened.
    admin
        .run(async |tx| user::reactivate(tx, anna).await)
        .await
        .unwrap();
    let again = db
        .crm
        .login(org, "anna@deactivate.test", PASSWORD)
        .await
        .unwrap();
    let mut conn = db.owner().await;
    sqlx::query("update users set active = false where id = $1")
        .bind(anna)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(db.crm.authenticate(&again.access_token).await.is_err());
}

#[tokio::test]
async fn a_password_hashed_with_weaker_parameters_is_rehashed_on_login() {
    use argon2::password_hash::{PasswordHasher as _, SaltString, rand_core::OsRng};
    let db = TestDb::new().await;
    let (org, owner) = db.org("Rehash GmbH").await;
    let anna = add(
        &db,
        org,
        owner,
        new_user("anna@rehash.test", UserRole::User, None),
    )
    .await;
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8192, 1, 1, None).unwrap(),
    )
    .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
    .unwrap()
    .to_string();
    let mut conn = db.owner().await;
    sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(anna)
        .bind(&weak)
        .execute(&mut conn)
        .await
        .unwrap();
    db.crm
        .login(org, "anna@rehash.test", PASSWORD)
        .await
        .unwrap();
    let stored: String = sqlx::query_scalar("select password_hash from users where id = $1")
        .bind(anna)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    db.crm
        .login(org, "anna@rehash.test", PASSWORD)
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// User management
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_permission_table_decides_what_each_role_may_do() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Roles GmbH").await;
    let tag = db
        .crm
        .scope(org, owner)
        .run(async |tx| Ok(crm_core::store::tag::resolve(tx, &["Messe".to_string()]).await?[0]))
        .await
        .unwrap();
    for (i, &role) in UserRole::ALL.iter().enumerate() {
        let actor = if role == UserRole::Owner {
            owner
        } else {
            add(
                &db,
                org,
                owner,
                new_user(&format!("{role}@roles.test"), role, None),
            )
            .await
        };
        let scope = db.crm.scope(org, actor);
        for (j, &p) in Permission::ALL.iter().enumerate() {
            let result: crm_core::Result<()> = match p {
                Permission::ManageUsers => {
                    let new = new_user(&format!("new-{i}-{j}@roles.test"), UserRole::User, None);
                    scope
                        .run(async |tx| user::add(tx, new).await.map(drop))
                        .await
                }
                Permission::Configure => {
                    let name = format!("Messe {i}");
                    scope
                        .run(async |tx| crm_core::store::tag::rename(tx, tag, &name).await)
                        .await
                }
                Permission::ReadAudit => {
                    scope
                        .run(async |tx| {
                            crm_core::audit::log(tx, &Default::default())
                                .await
                                .map(drop)
                        })
                        .await
                }
                Permission::Read => {
                    scope
                        .run(async |tx| crm_core::search::search(tx, "Müller", 5).await.map(drop))
                        .await
                }
                p => scope.run(async |tx| tx.require(p)).await,
            };
            assert_eq!(
                result.is_ok(),
                allows(role, p),
                "{role} / {p:?}: {result:?}"
            );
            if let Err(e) = result {
                assert!(
                    matches!(e, Error::PermissionDenied(_)),
                    "{role} / {p:?}: {e:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn adding_users_validates_everything_and_keeps_emails_unique_ignoring_case() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Add GmbH").await;
    let scope = db.crm.scope(org, owner);
    let mut bad = new_user("not-an-email", UserRole::User, Some("short"));
    bad.last_name = "x".repeat(201);
    let e = scope
        .run(async |tx| user::add(tx, bad).await)
        .await
        .unwrap_err();
    let Error::Validation(fields) = e else {
        panic!("expected validation, got {e:?}")
    };
    let named: Vec<&str> = fields.0.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(named, ["email", "last_name", "password"]);
    assert!(!format!("{fields:?}").contains("not-an-email"));

    let anna = scope
        .run(async |tx| {
            user::add(
                tx,
                new_user("Anna@Add.test", UserRole::User, Some(PASSWORD)),
            )
            .await
        })
        .await
        .unwrap();
    assert_eq!(
        (anna.email.as_str(), anna.role, anna.visibility, anna.active),
        ("Anna@Add.test", UserRole::User, Visibility::All, true)
    );
    let e = scope
        .run(async |tx| user::add(tx, new_user("anna@add.TEST", UserRole::Admin, None)).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let found = scope
        .run(async |tx| user::by_email(tx, "ANNA@add.test").await)
        .await
        .unwrap();
    assert_eq!(found.id, anna.id);
    assert!(!format!("{found:?}").contains("Anna@"), "Debug redacts");

    // Audit entries name the change but never a password or its hash.
    let mut conn = db.owner().await;
    let payloads: Vec<String> = sqlx::query_scalar(
        "select coalesce(payload::text, '') from audit_log where org_id = $1 and entity_type = 'user'",
    )
    .bind(org)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(!payloads.is_empty());
    for p in &payloads {
        assert!(!p.contains("argon2") && !p.contains(PASSWORD), "{p}");
    }
    let events: Vec<serde_json::Value> = sqlx::query_scalar(
        "select payload from events where org_id = $1 and topic = 'user.created'",
    )
    .bind(org)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(events.len(), 1);
    assert!(!events[0].to_string().contains("Anna"), "{}", events[0]);
}

#[tokio::test]
async fn owners_are_protected_and_the_last_active_owner_stays() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Owner GmbH").await;
    let as_owner = db.crm.scope(org, owner);
    let admin = add(
        &db,
        org,
        owner,
        new_user("admin@owner.test", UserRole::Admin, None),
    )
    .await;
    let as_admin = db.crm.scope(org, admin);

    // Only an owner makes owners or changes an owner's account.
    let e = as_admin
        .run(async |tx| user::add(tx, new_user("o2@owner.test", UserRole::Owner, None)).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");
    let e = as_admin
        .run(async |tx| user::set_role(tx, admin, UserRole::Owner).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");
    for result in [
        as_admin
            .run(async |tx| user::deactivate(tx, owner).await.map(drop))
            .await,
        as_admin
            .run(async |tx| user::set_role(tx, owner, UserRole::User).await.map(drop))
            .await,
        as_admin
            .run(async |tx| user::set_password(tx, owner, "a brand new secret").await)
            .await,
    ] {
        assert!(
            matches!(result, Err(Error::PermissionDenied(_))),
            "{result:?}"
        );
    }

    // The last active owner can be neither demoted nor deactivated, even by themselves.
    let e = as_owner
        .run(async |tx| user::set_role(tx, owner, UserRole::Admin).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let e = as_owner
        .run(async |tx| user::deactivate(tx, owner).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");

    // With a second owner, the first may step down.
    let promoted = as_owner
        .run(async |tx| user::set_role(tx, admin, UserRole::Owner).await)
        .await
        .unwrap();
    assert_eq!(promoted.role, UserRole::Owner);
    let demoted = as_owner
        .run(async |tx| user::set_role(tx, owner, UserRole::Manager).await)
        .await
        .unwrap();
    assert_eq!(demoted.role, UserRole::Manager);
    let e = as_admin
        .run(async |tx| user::deactivate(tx, admin).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let mut conn = db.owner().await;
    let changes: Vec<serde_json::Value> = sqlx::query_scalar(
        "select payload from audit_log where org_id = $1 and action = 'set_role' order by seq",
    )
    .bind(org)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        changes[1]["role"],
        serde_json::json!({"before": "owner", "after": "manager"})
    );
}

#[tokio::test]
async fn users_change_their_own_password_and_only_admins_change_others() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Passwd GmbH").await;
    let reader = add(
        &db,
        org,
        owner,
        new_user("reader@passwd.test", UserRole::ReadOnly, Some(PASSWORD)),
    )
    .await;
    let other = add(
        &db,
        org,
        owner,
        new_user("other@passwd.test", UserRole::User, Some(PASSWORD)),
    )
    .await;
    let session = db
        .crm
        .login(org, "reader@passwd.test", PASSWORD)
        .await
        .unwrap();
    let as_reader = db.crm.scope(org, reader);
    let e = as_reader
        .run(async |tx| user::change_own_password(tx, PASSWORD, "password").await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
    as_reader
        .run(async |tx| user::change_own_password(tx, PASSWORD, "my new long secret").await)
        .await
        .unwrap();
    assert!(
        db.crm.authenticate(&session.access_token).await.is_err(),
        "a new password ends the sessions"
    );
    db.crm
        .login(org, "reader@passwd.test", "my new long secret")
        .await
        .unwrap();
    assert!(
        db.crm
            .login(org, "reader@passwd.test", PASSWORD)
            .await
            .is_err()
    );
    let e = as_reader
        .run(async |tx| user::set_password(tx, other, "taking over now").await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");
    db.crm
        .scope(org, owner)
        .run(async |tx| user::set_password(tx, other, "reset by the owner").await)
        .await
        .unwrap();
    db.crm
        .login(org, "other@passwd.test", "reset by the owner")
        .await
        .unwrap();
}

#[tokio::test]
async fn teams_and_visibility_are_managed_and_listed() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Team GmbH").await;
    let scope = db.crm.scope(org, owner);
    let anna = add(
        &db,
        org,
        owner,
        new_user("anna@team.test", UserRole::User, None),
    )
    .await;
    let north = scope
        .run(async |tx| user::create_team(tx, " Nord ").await)
        .await
        .unwrap();
    assert_eq!(north.name, "Nord");
    let e = scope
        .run(async |tx| user::create_team(tx, "Nord").await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let updated = scope
        .run(async |tx| {
            user::set_team(tx, anna, Some(north.id)).await?;
            user::set_visibility(tx, anna, Visibility::Team).await
        })
        .await
        .unwrap();
    assert_eq!(updated.team.as_deref(), Some("Nord"));
    assert_eq!(updated.visibility, Visibility::Team);
    let e = scope
        .run(async |tx| user::set_team(tx, anna, Some(crm_core::TeamId::new())).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
    let teams = scope
        .run(async |tx| user::list_teams(tx).await)
        .await
        .unwrap();
    assert_eq!((teams.len(), teams[0].members), (1, 1));
    let users = scope.run(async |tx| user::list(tx).await).await.unwrap();
    assert_eq!(users.len(), 2);
    // Non-admins may not change teams or visibility.
    let e = db
        .crm
        .scope(org, anna)
        .run(async |tx| user::set_visibility(tx, anna, Visibility::All).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");
}

// ---------------------------------------------------------------------------------------
// Visibility, enforced by the database
// ---------------------------------------------------------------------------------------

/// An organization with three users: `own` (visibility own), `mate` (in `own`'s team) and
/// `stranger` (no team); a contact, a company and a deal owned by each, created with the
/// superuser connection.
struct World {
    db: TestDb,
    org: OrgId,
    owner: UserId,
    own: UserId,
    mate: UserId,
    stranger: UserId,
    /// (contact, company, deal) per user in the order own, mate, stranger.
    records: Vec<(Uuid, Uuid, Uuid)>,
}

async fn world() -> World {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Sicht GmbH").await;
    let scope = db.crm.scope(org, owner);
    let team = scope
        .run(async |tx| user::create_team(tx, "Vertrieb Süd").await)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (email, team) in [
        ("own@sicht.test", Some(team.id)),
        ("mate@sicht.test", Some(team.id)),
        ("stranger@sicht.test", None),
    ] {
        let mut new = new_user(email, UserRole::User, None);
        new.team = team;
        new.visibility = Some(Visibility::Own);
        ids.push(add(&db, org, owner, new).await);
    }
    let mut conn = db.owner().await;
    let (pipeline, stage): (Uuid, Uuid) = sqlx::query_as(
        "select pipeline_id, id from stages where org_id = $1 order by position limit 1",
    )
    .bind(org)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let mut records = Vec::new();
    for (i, user) in ids.iter().enumerate() {
        let (contact, company, deal) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let name = ["Zander", "Zimmer", "Zobel"][i];
        sqlx::query(
            "insert into companies (org_id, id, name) values ($1, $2, $3 || ' Zeltbau GmbH')",
        )
        .bind(org)
        .bind(company)
        .bind(name)
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "insert into contacts (org_id, id, first_name, last_name, company_id) \
             values ($1, $2, 'Zora', $3, $4)",
        )
        .bind(org)
        .bind(contact)
        .bind(name)
        .bind(company)
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "insert into deals (org_id, id, title, pipeline_id, stage_id, contact_id) \
             values ($1, $2, 'Zelte ' || $3, $4, $5, $6)",
        )
        .bind(org)
        .bind(deal)
        .bind(name)
        .bind(pipeline)
        .bind(stage)
        .bind(contact)
        .execute(&mut conn)
        .await
        .unwrap();
        // Each user holds their records in a different owner role: every role counts.
        let role = ["owner", "member", "watcher"][i];
        for (table, column, id) in [
            ("contact_owners", "contact_id", contact),
            ("company_owners", "company_id", company),
            ("deal_owners", "deal_id", deal),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "insert into {table} (org_id, {column}, user_id, role) values ($1, $2, $3, $4)"
            )))
            .bind(org)
            .bind(id)
            .bind(user)
            .bind(role)
            .execute(&mut conn)
            .await
            .unwrap();
        }
        records.push((contact, company, deal));
    }
    // Written past the library, so their words go into the search dictionary by hand (the
    // library's own writes do this themselves).
    sqlx::query("select set_config('crm.org_id', $1::text, false)")
        .bind(org)
        .execute(&mut conn)
        .await
        .unwrap();
    for (kind, ids) in [
        ("contact", records.iter().map(|r| r.0).collect::<Vec<_>>()),
        ("company", records.iter().map(|r| r.1).collect()),
    ] {
        sqlx::query("select crm_search_words_update($1, $2, '{}')")
            .bind(kind)
            .bind(ids)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    World {
        db,
        org,
        owner,
        own: ids[0],
        mate: ids[1],
        stranger: ids[2],
        records,
    }
}

/// The ids a raw, unfiltered query sees in `table` through the scope's connection.
async fn raw_ids(scope: &Scope, table: &'static str) -> Vec<Uuid> {
    scope
        .run(async |tx| {
            Ok(sqlx::query_scalar::<_, Uuid>(sqlx::AssertSqlSafe(format!(
                "select id from {table} order by id"
            )))
            .fetch_all(tx.conn())
            .await?)
        })
        .await
        .unwrap()
}

fn sorted(mut v: Vec<Uuid>) -> Vec<Uuid> {
    v.sort();
    v
}

#[tokio::test]
async fn an_own_user_cannot_read_change_or_delete_another_users_records_even_unfiltered() {
    let w = world().await;
    let as_own = w.db.crm.scope(w.org, w.own);
    let (mine, theirs) = (w.records[0], w.records[2]);
    assert_eq!(raw_ids(&as_own, "contacts").await, vec![mine.0]);
    assert_eq!(raw_ids(&as_own, "companies").await, vec![mine.1]);
    assert_eq!(raw_ids(&as_own, "deals").await, vec![mine.2]);

    for (table, id) in [
        ("contacts", theirs.0),
        ("companies", theirs.1),
        ("deals", theirs.2),
    ] {
        let (updated, deleted) = as_own
            .run(async |tx| {
                let u = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "update {table} set deleted_at = now() where id = $1"
                )))
                .bind(id)
                .execute(tx.conn())
                .await?
                .rows_affected();
                let d = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "delete from {table} where id = $1"
                )))
                .bind(id)
                .execute(tx.conn())
                .await?
                .rows_affected();
                Ok((u, d))
            })
            .await
            .unwrap();
        assert_eq!((updated, deleted), (0, 0), "{table}");
    }
    // Their own records they may change.
    let changed = as_own
        .run(async |tx| {
            Ok(
                sqlx::query("update contacts set first_name = 'Zoe' where id = $1")
                    .bind(mine.0)
                    .execute(tx.conn())
                    .await?
                    .rows_affected(),
            )
        })
        .await
        .unwrap();
    assert_eq!(changed, 1);
    let mut conn = w.db.owner().await;
    let live: i64 = sqlx::query_scalar(
        "select (select count(*) from contacts where deleted_at is null) \
              + (select count(*) from companies where deleted_at is null) \
              + (select count(*) from deals where deleted_at is null)",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(live, 9, "nothing of the others was touched");

    // An 'all' user (the owner) sees everything.
    let as_owner = w.db.crm.scope(w.org, w.owner);
    assert_eq!(raw_ids(&as_owner, "contacts").await.len(), 3);
    // Visibility is the user's, read when the transaction begins: widening it shows more.
    as_owner
        .run(async |tx| user::set_visibility(tx, w.own, Visibility::All).await)
        .await
        .unwrap();
    assert_eq!(raw_ids(&as_own, "contacts").await.len(), 3);
}

#[tokio::test]
async fn a_team_user_sees_records_owned_by_teammates() {
    let w = world().await;
    let as_owner = w.db.crm.scope(w.org, w.owner);
    as_owner
        .run(async |tx| user::set_visibility(tx, w.own, Visibility::Team).await)
        .await
        .unwrap();
    let as_own = w.db.crm.scope(w.org, w.own);
    let expected = |pick: fn(&(Uuid, Uuid, Uuid)) -> Uuid| {
        sorted(vec![pick(&w.records[0]), pick(&w.records[1])])
    };
    assert_eq!(raw_ids(&as_own, "contacts").await, expected(|r| r.0));
    assert_eq!(raw_ids(&as_own, "companies").await, expected(|r| r.1));
    assert_eq!(raw_ids(&as_own, "deals").await, expected(|r| r.2));
    // A 'team' user without a team sees their own records only.
    as_owner
        .run(async |tx| user::set_visibility(tx, w.stranger, Visibility::Team).await)
        .await
        .unwrap();
    let as_stranger = w.db.crm.scope(w.org, w.stranger);
    assert_eq!(
        raw_ids(&as_stranger, "contacts").await,
        vec![w.records[2].0]
    );
    // The teammate keeps visibility 'own'.
    let as_mate = w.db.crm.scope(w.org, w.mate);
    assert_eq!(raw_ids(&as_mate, "contacts").await, vec![w.records[1].0]);
}

#[tokio::test]
async fn search_respects_visibility() {
    let w = world().await;
    let search = async |actor: UserId| -> Vec<Uuid> {
        sorted(
            w.db.crm
                .scope(w.org, actor)
                .run(async |tx| crm_core::search::search(tx, "Zeltbau", 20).await)
                .await
                .unwrap()
                .into_iter()
                // Contacts and companies here; deals by title are tested in visibility.rs.
                .filter(|h| h.kind != "deal")
                .map(|h| h.id)
                .collect(),
        )
    };
    assert_eq!(search(w.own).await, vec![w.records[0].1]);
    assert_eq!(search(w.owner).await.len(), 3);
    w.db.crm
        .scope(w.org, w.owner)
        .run(async |tx| user::set_visibility(tx, w.own, Visibility::Team).await)
        .await
        .unwrap();
    assert_eq!(
        search(w.own).await,
        sorted(vec![w.records[0].1, w.records[1].1])
    );
    let contacts: Vec<String> =
        w.db.crm
            .scope(w.org, w.stranger)
            .run(async |tx| crm_core::search::search(tx, "Zora", 20).await)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.name)
            .collect();
    assert_eq!(contacts, ["Zora Zobel"]);
}

#[tokio::test]
async fn a_restricted_user_creates_records_and_sees_them_as_their_creator() {
    let w = world().await;
    let as_own = w.db.crm.scope(w.org, w.own);
    let org = w.org;
    let own = w.own;
    // `insert ... returning` passes the select policy before any owner row exists.
    let (contact, created_by): (Uuid, Option<Uuid>) = as_own
        .run(async |tx| {
            let row = sqlx::query_as(
                "insert into contacts (org_id, id, first_name) values ($1, $2, 'Neu') \
                 returning id, created_by",
            )
            .bind(org)
            .bind(Uuid::now_v7())
            .fetch_one(tx.conn())
            .await?;
            Ok(row)
        })
        .await
        .unwrap();
    assert_eq!(created_by, Some(own.uuid()));
    assert!(raw_ids(&as_own, "contacts").await.contains(&contact));
    let as_stranger = w.db.crm.scope(w.org, w.stranger);
    assert!(!raw_ids(&as_stranger, "contacts").await.contains(&contact));
    // Once the record is assigned to someone else, it follows its owners.
    let mut conn = w.db.owner().await;
    sqlx::query("insert into contact_owners (org_id, contact_id, user_id) values ($1, $2, $3)")
        .bind(org)
        .bind(contact)
        .bind(w.stranger)
        .execute(&mut conn)
        .await
        .unwrap();
    assert!(!raw_ids(&as_own, "contacts").await.contains(&contact));
    assert!(raw_ids(&as_stranger, "contacts").await.contains(&contact));
}
