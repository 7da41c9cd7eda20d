//! The shared front-end set-up (issue 11, item 5): database, organization, actor.

use crm_core::auth::user::{self, NewUser};
use crm_core::domain::UserRole;
use crm_core::frontend::{self, ActorChoice, Options, SetupError};
use crm_core::testing::TestDb;

fn options(db: &TestDb, org: Option<&str>, actor: ActorChoice) -> Options {
    Options {
        database_url: Some(db.url()),
        home: None,
        organization: org.map(str::to_string),
        actor,
    }
}

#[tokio::test]
async fn the_only_organization_and_its_first_owner_are_the_defaults() {
    let db = TestDb::new().await;
    let none = frontend::start(&options(&db, None, ActorChoice::FirstOwner))
        .await
        .unwrap_err();
    assert!(matches!(none, SetupError::NoOrganization), "{none:?}");

    let (org, owner) = db.org("Einzig GmbH").await;
    let ready = frontend::start(&options(&db, None, ActorChoice::FirstOwner))
        .await
        .expect("set-up");
    assert_eq!(ready.organization.id, org);
    assert_eq!(ready.actor.id, owner);
    assert_eq!(ready.actor.role, UserRole::Owner);
    // The scope works in that organization as that user.
    let tx = ready.scope.begin().await.expect("begin");
    tx.commit().await.expect("commit");
}

#[tokio::test]
async fn several_organizations_are_listed_for_a_picker_unless_one_is_named() {
    let db = TestDb::new().await;
    let (first, _) = db.org("Erste AG").await;
    let (second, _) = db.org("Zweite AG").await;
    match frontend::start(&options(&db, None, ActorChoice::FirstOwner)).await {
        Err(SetupError::SeveralOrganizations { organizations }) => {
            let mut ids: Vec<_> = organizations.iter().map(|o| o.id).collect();
            ids.sort();
            let mut want = vec![first, second];
            want.sort();
            assert_eq!(ids, want);
        }
        other => panic!("expected SeveralOrganizations, got {other:?}"),
    }
    let ready = frontend::start(&options(&db, Some("zweite-ag"), ActorChoice::FirstOwner))
        .await
        .expect("named organization");
    assert_eq!(ready.organization.id, second);

    let unknown = frontend::start(&options(&db, Some("dritte"), ActorChoice::FirstOwner))
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown, SetupError::UnknownOrganization { slug } if slug == "dritte"),
        "{unknown:?}"
    );
}

#[tokio::test]
async fn the_actor_is_found_by_email_without_quoting_it_when_unknown() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Mail GmbH").await;
    let anna = db
        .crm
        .scope(org, owner)
        .run(async |tx| {
            user::add(
                tx,
                NewUser {
                    email: "anna@mail.test".into(),
                    first_name: "Anna".into(),
                    last_name: "Arbeit".into(),
                    role: UserRole::User,
                    password: None,
                    team: None,
                    visibility: None,
                },
            )
            .await
        })
        .await
        .expect("add user")
        .id;
    let ready = frontend::start(&options(
        &db,
        None,
        ActorChoice::Email("ANNA@mail.test".into()),
    ))
    .await
    .expect("set-up");
    assert_eq!(ready.actor.id, anna);
    assert_eq!(ready.actor.role, UserRole::User);

    let unknown = frontend::start(&options(
        &db,
        None,
        ActorChoice::Email("nobody@mail.test".into()),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(unknown, SetupError::UnknownUser { .. }),
        "{unknown:?}"
    );
    assert!(!unknown.to_string().contains("nobody"), "{unknown}");
}

#[tokio::test]
async fn a_session_names_its_organization_and_user() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Sitzung GmbH").await;
    db.org("Andere GmbH").await;
    db.crm
        .scope(org, owner)
        .run(async |tx| user::set_password(tx, owner, "correct horse battery").await)
        .await
        .expect("set password");
    let session = db
        .crm
        .login(org, "owner@sitzung-gmbh.test", "correct horse battery")
        .await
        .expect("login");
    let token = ActorChoice::Session(session.access_token.clone());

    let ready = frontend::start(&options(&db, None, token.clone()))
        .await
        .expect("set-up from the session");
    assert_eq!(ready.organization.id, org);
    assert_eq!(ready.actor.id, owner);

    let elsewhere = frontend::start(&options(&db, Some("andere-gmbh"), token))
        .await
        .unwrap_err();
    assert!(
        matches!(elsewhere, SetupError::SessionElsewhere { .. }),
        "{elsewhere:?}"
    );

    let forged = frontend::start(&options(&db, None, ActorChoice::Session("x".into())))
        .await
        .unwrap_err();
    assert!(
        matches!(
            forged,
            SetupError::Core(crm_core::Error::PermissionDenied(_))
        ),
        "{forged:?}"
    );
}
