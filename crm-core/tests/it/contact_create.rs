//! Creating a contact in one statement (issue 3): what it returns equals what is stored and
//! audited, the company and owners are checked in the same statement, and the phone region
//! comes from the organization.

use crm_core::domain::{EmailKind, OwnerRole, PhoneKind};
use crm_core::store::contact::{self, NewContact, NewContactEmail, NewContactPhone};
use crm_core::store::diff;
use crm_core::store::owner::Owner;
use crm_core::testing::TestDb;
use crm_core::{CompanyId, Error, OrgId, UserId};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

async fn add_user(conn: &mut PgConnection, org: OrgId, email: &str, visibility: &str) -> UserId {
    let id = UserId::new();
    sqlx::query(
        "insert into users (org_id, id, email, email_norm, role, visibility) \
         values ($1, $2, $3, $3, 'user', $4)",
    )
    .bind(org)
    .bind(id)
    .bind(email)
    .bind(visibility)
    .execute(conn)
    .await
    .unwrap();
    id
}

async fn add_company(conn: &mut PgConnection, org: OrgId, name: &str) -> CompanyId {
    let id = CompanyId::new();
    sqlx::query("insert into companies (org_id, id, name) values ($1, $2, $3)")
        .bind(org)
        .bind(id)
        .bind(name)
        .execute(conn)
        .await
        .unwrap();
    id
}

async fn count(conn: &mut PgConnection, sql: &'static str, org: OrgId) -> i64 {
    sqlx::query_scalar(sql)
        .bind(org)
        .fetch_one(conn)
        .await
        .unwrap()
}

fn field_names(err: &Error) -> Vec<String> {
    match err {
        Error::Validation(e) => e.0.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_created_contact_equals_the_stored_one_and_its_audit_entry_holds_all_of_it() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Einmal GmbH").await;
    let mut conn = db.owner().await;
    let acme = add_company(&mut conn, org, "Acme AG").await;
    let colleague = add_user(&mut conn, org, "kollege@einmal.test", "all").await;
    // An existing tag keeps its spelling.
    sqlx::query("insert into tags (org_id, id, name, name_norm) values ($1, $2, 'VIP', 'vip')")
        .bind(org)
        .bind(Uuid::now_v7())
        .execute(&mut conn)
        .await
        .unwrap();
    let scope = db.crm.scope(org, owner);
    let custom = json!({"shoe_size": 38, "z": {"nested": [1.5, "x", null]}, "a": true});
    let created = scope
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    first_name: "Anna".into(),
                    last_name: "Zweig".into(),
                    company_id: Some(acme),
                    emails: vec![
                        NewContactEmail {
                            email: "anna@privat.test".into(),
                            kind: EmailKind::Personal,
                            primary: false,
                        },
                        NewContactEmail {
                            email: "Anna@Acme.test".into(),
                            kind: EmailKind::Work,
                            primary: true,
                        },
                    ],
                    phones: vec![
                        NewContactPhone {
                            number: "030 1234567".into(),
                            kind: PhoneKind::Office,
                            primary: false,
                        },
                        NewContactPhone {
                            number: "0171 1234567".into(),
                            kind: PhoneKind::Mobile,
                            primary: false,
                        },
                    ],
                    tags: vec!["vip".into(), "Zebra".into(), "alpha".into()],
                    owners: vec![
                        Owner {
                            user_id: colleague,
                            role: OwnerRole::Owner,
                        },
                        Owner {
                            user_id: owner,
                            role: OwnerRole::Owner,
                        },
                        // Listed twice: the last role wins.
                        Owner {
                            user_id: colleague,
                            role: OwnerRole::Watcher,
                        },
                    ],
                    custom: custom.as_object().unwrap().clone(),
                    ..NewContact::default()
                },
            )
            .await
        })
        .await
        .unwrap();

    let stored = scope
        .run(async |tx| contact::get(tx, created.id).await)
        .await
        .unwrap();
    assert_eq!(created, stored);
    assert_eq!(
        serde_json::to_value(&created).unwrap(),
        serde_json::to_value(&stored).unwrap()
    );
    assert_eq!(created.company.as_deref(), Some("Acme AG"));
    assert_eq!(created.tags, ["alpha", "VIP", "Zebra"]);
    assert_eq!(created.email.as_deref(), Some("Anna@Acme.test"));
    assert_eq!(created.phone.as_deref(), Some("+49301234567"));
    assert_eq!(
        created.owners,
        [
            Owner {
                user_id: owner,
                role: OwnerRole::Owner
            },
            Owner {
                user_id: colleague,
                role: OwnerRole::Watcher
            }
        ]
    );
    assert_eq!(created.custom, custom);

    let audit: Vec<(String, Value)> = sqlx::query_as(
        "select action, payload from audit_log where org_id = $1 and entity_id = $2 order by seq",
    )
    .bind(org)
    .bind(created.id)
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].0, "create");
    assert_eq!(audit[0].1, diff(None, Some(&stored)));
    assert_eq!(audit[0].1["company"]["after"], "Acme AG");
    assert_eq!(
        audit[0].1["tags"]["after"],
        json!(["alpha", "VIP", "Zebra"])
    );

    let events: Vec<(String, Value)> =
        sqlx::query_as("select topic, payload from events where org_id = $1 and entity_id = $2")
            .bind(org)
            .bind(created.id)
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        events,
        [("contact.created".to_string(), json!({ "id": created.id }))]
    );
}

#[tokio::test]
async fn a_minimal_contact_is_audited_without_company_and_with_empty_tags() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Knapp GmbH").await;
    let scope = db.crm.scope(org, owner);
    let created = scope
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    last_name: "Knapp".into(),
                    ..NewContact::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    let stored = scope
        .run(async |tx| contact::get(tx, created.id).await)
        .await
        .unwrap();
    assert_eq!(created, stored);
    let mut conn = db.owner().await;
    let payload: Value =
        sqlx::query_scalar("select payload from audit_log where org_id = $1 and entity_id = $2")
            .bind(org)
            .bind(created.id)
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(payload, diff(None, Some(&stored)));
    assert!(payload.get("company").is_none(), "{payload}");
    assert_eq!(payload["tags"], json!({"before": null, "after": []}));
}

#[tokio::test]
async fn a_deleted_company_or_a_foreign_owner_writes_nothing_and_names_the_fields() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Prüf GmbH").await;
    let (other_org, _) = db.org("Andere GmbH").await;
    let mut conn = db.owner().await;
    let gone = add_company(&mut conn, org, "Weg AG").await;
    sqlx::query("update companies set deleted_at = now() where id = $1")
        .bind(gone)
        .execute(&mut conn)
        .await
        .unwrap();
    let stranger = add_user(&mut conn, other_org, "fremd@andere.test", "all").await;
    let scope = db.crm.scope(org, owner);
    let attempt = |company_id: Option<CompanyId>, owners: Vec<Owner>, tags: Vec<String>| {
        let scope = scope.clone();
        async move {
            scope
                .run(async |tx| {
                    contact::create(
                        tx,
                        NewContact {
                            first_name: "Paula".into(),
                            email: Some("paula@pruef.test".into()),
                            phone: Some("030 1234567".into()),
                            company_id,
                            owners,
                            tags,
                            ..NewContact::default()
                        },
                    )
                    .await
                })
                .await
                .unwrap_err()
        }
    };
    let foreign = vec![Owner {
        user_id: stranger,
        role: OwnerRole::Owner,
    }];
    let err = attempt(Some(gone), Vec::new(), Vec::new()).await;
    assert_eq!(field_names(&err), ["company_id"]);
    let err = attempt(None, foreign.clone(), Vec::new()).await;
    assert_eq!(field_names(&err), ["owners"]);
    let err = attempt(Some(gone), foreign.clone(), vec!["Neu".into()]).await;
    assert_eq!(field_names(&err), ["company_id", "owners"]);

    // Inside one transaction: the failed create leaves nothing behind that a commit keeps.
    let mut tx = scope.begin().await.unwrap();
    let err = contact::create(
        &mut tx,
        NewContact {
            first_name: "Paula".into(),
            company_id: Some(gone),
            tags: vec!["Neu".into()],
            ..NewContact::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(field_names(&err), ["company_id"]);
    tx.commit().await.unwrap();

    for sql in [
        "select count(*) from contacts where org_id = $1",
        "select count(*) from contact_emails where org_id = $1",
        "select count(*) from contact_phones where org_id = $1",
        "select count(*) from contact_owners where org_id = $1",
        "select count(*) from tags where org_id = $1",
        "select count(*) from events where org_id = $1 and entity_type = 'contact'",
        "select count(*) from audit_log where org_id = $1 and entity_type = 'contact'",
    ] {
        assert_eq!(count(&mut conn, sql, org).await, 0, "{sql}");
    }
}

#[tokio::test]
async fn national_numbers_are_read_in_the_organizations_region() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Zürich AG").await;
    let mut conn = db.owner().await;
    sqlx::query("update organizations set default_region = 'CH' where id = $1")
        .bind(org)
        .execute(&mut conn)
        .await
        .unwrap();
    let created = db
        .crm
        .scope(org, owner)
        .run(async |tx| {
            assert_eq!(tx.default_region(), "CH");
            contact::create(
                tx,
                NewContact {
                    last_name: "Keller".into(),
                    phone: Some("044 668 18 00".into()),
                    ..NewContact::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    assert_eq!(created.phone.as_deref(), Some("+41446681800"));
}

#[tokio::test]
async fn a_user_who_sees_only_own_contacts_can_create_one_for_someone_else() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Sicht GmbH").await;
    let mut conn = db.owner().await;
    let user = add_user(&mut conn, org, "u@sicht.test", "own").await;
    let mut tx = db.crm.scope(org, user).begin().await.unwrap();
    let c = contact::create(
        &mut tx,
        NewContact {
            last_name: "Übergeben".into(),
            owners: vec![Owner {
                user_id: owner,
                role: OwnerRole::Owner,
            }],
            ..NewContact::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        c.owners,
        [Owner {
            user_id: owner,
            role: OwnerRole::Owner
        }]
    );
    // Handed over: the creator no longer sees it.
    assert!(matches!(
        contact::get(&mut tx, c.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    tx.commit().await.unwrap();
    let stored = db
        .crm
        .scope(org, owner)
        .run(async |tx| contact::get(tx, c.id).await)
        .await
        .unwrap();
    assert_eq!(stored, c);
}
