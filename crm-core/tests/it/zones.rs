//! The time zone local times are read in: the user's, else the organization's, else the
//! machine's (DESIGN.md, "Decisions for this wave").

use crm_core::Error;
use crm_core::auth::user::{self, NewUser};
use crm_core::auth::zone;
use crm_core::domain::{UserRole, Zone};
use crm_core::testing::TestDb;

#[tokio::test]
async fn a_users_zone_overrides_the_organizations_which_overrides_the_machines() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Zeit GmbH").await;
    let scope = db.crm.scope(org, owner);
    let acting =
        async |scope: &crm_core::Scope| scope.run(async |tx| zone::acting(tx).await).await.unwrap();
    assert_eq!(acting(&scope).await, Zone::Machine);

    let zurich = Zone::parse("Europe/Zurich").unwrap();
    let berlin = Zone::parse("Europe/Berlin").unwrap();
    scope
        .run(async |tx| zone::set_for_org(tx, Some(zurich)).await)
        .await
        .unwrap();
    assert_eq!(acting(&scope).await, zurich);
    scope
        .run(async |tx| zone::set_for_user(tx, owner, Some(berlin)).await)
        .await
        .unwrap();
    assert_eq!(acting(&scope).await, berlin);

    // Another user of the organization gets the organization's zone and may set only their own.
    let anna = scope
        .run(async |tx| {
            user::add(
                tx,
                NewUser {
                    email: "anna@zeit.test".into(),
                    first_name: "Anna".into(),
                    last_name: "Zeit".into(),
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
    let as_anna = db.crm.scope(org, anna);
    assert_eq!(acting(&as_anna).await, zurich);
    let e = as_anna
        .run(async |tx| zone::set_for_user(tx, owner, None).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");
    let e = as_anna
        .run(async |tx| zone::set_for_org(tx, None).await)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");
    as_anna
        .run(async |tx| zone::set_for_user(tx, anna, Some(berlin)).await)
        .await
        .unwrap();
    assert_eq!(acting(&as_anna).await, berlin);

    // Clearing falls back again, and every change is audited.
    scope
        .run(async |tx| zone::set_for_user(tx, owner, None).await)
        .await
        .unwrap();
    assert_eq!(acting(&scope).await, zurich);
    let mut conn = db.owner().await;
    let changes: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where org_id = $1 and action = 'set_time_zone'",
    )
    .bind(org)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(changes, 4);
}
