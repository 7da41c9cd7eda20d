//! Admin-configurable lists: industries, account types, relationship types, lost reasons.

use crm_core::store::company::{self, NewCompany};
use crm_core::store::list::{self, ListKind};
use crm_core::testing::TestDb;
use crm_core::{Error, OrgId, Scope, UserId};
use uuid::Uuid;

async fn owner_scope(db: &TestDb, name: &str) -> Scope {
    let (org, owner) = db.org(name).await;
    db.crm.scope(org, owner)
}

/// Adds a user with `role` to `org` directly in the database.
async fn add_user(db: &TestDb, org: OrgId, role: &str) -> UserId {
    let id = UserId::new();
    let email = format!("{role}-{}@example.test", id.uuid().simple());
    let mut owner = db.owner().await;
    sqlx::query(
        "insert into users (org_id, id, email, email_norm, role) values ($1, $2, $3, $3, $4)",
    )
    .bind(org)
    .bind(id)
    .bind(&email)
    .bind(role)
    .execute(&mut owner)
    .await
    .unwrap();
    id
}

fn fields(e: &Error) -> Vec<String> {
    match e {
        Error::Validation(fe) => fe.0.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn new_organizations_get_the_default_lists() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Defaults GmbH").await;
    let mut tx = scope.begin().await.unwrap();
    for kind in ListKind::ALL {
        let entries = list::list(&mut tx, *kind).await.unwrap();
        assert!(entries.len() >= 5, "{kind}: {}", entries.len());
        assert!(entries.iter().all(|e| e.active));
        let positions: Vec<i32> = entries.iter().map(|e| e.position).collect();
        let mut sorted = positions.clone();
        sorted.sort();
        assert_eq!(positions, sorted, "{kind} is listed in position order");
    }
    let reasons = list::list(&mut tx, ListKind::LostReason).await.unwrap();
    assert!(
        reasons
            .iter()
            .any(|r| r.key == "no_budget" && r.label_de == "Kein Budget")
    );
}

#[tokio::test]
async fn add_rename_deactivate_and_remove_an_entry() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Listen GmbH").await;
    let mut tx = scope.begin().await.unwrap();

    let added = list::add(
        &mut tx,
        ListKind::Industry,
        "robotics",
        "Robotics",
        "Robotik",
    )
    .await
    .unwrap();
    assert_eq!(
        (
            added.key.as_str(),
            added.label_en.as_str(),
            added.label_de.as_str()
        ),
        ("robotics", "Robotics", "Robotik")
    );
    assert!(added.active);
    let all = list::list(&mut tx, ListKind::Industry).await.unwrap();
    assert_eq!(all.last().map(|e| e.id), Some(added.id), "added at the end");
    assert!(
        all.iter()
            .all(|e| e.id == added.id || e.position < added.position)
    );

    let renamed = list::rename(&mut tx, ListKind::Industry, added.id, " Robots ", "Roboter")
        .await
        .unwrap();
    assert_eq!(
        (
            renamed.key.as_str(),
            renamed.label_en.as_str(),
            renamed.label_de.as_str()
        ),
        ("robotics", "Robots", "Roboter")
    );
    // An empty German label takes the English one.
    let renamed = list::rename(&mut tx, ListKind::Industry, added.id, "Robots", "")
        .await
        .unwrap();
    assert_eq!(renamed.label_de, "Robots");

    let off = list::set_active(&mut tx, ListKind::Industry, added.id, false)
        .await
        .unwrap();
    assert!(!off.active);
    let listed = list::get(&mut tx, ListKind::Industry, added.id)
        .await
        .unwrap();
    assert!(!listed.active, "deactivated entries stay listed, flagged");
    let on = list::set_active(&mut tx, ListKind::Industry, added.id, true)
        .await
        .unwrap();
    assert!(on.active);

    list::remove(&mut tx, ListKind::Industry, added.id)
        .await
        .unwrap();
    assert!(matches!(
        list::get(&mut tx, ListKind::Industry, added.id).await,
        Err(Error::NotFound { entity: "industry" })
    ));
    assert!(matches!(
        list::remove(&mut tx, ListKind::Industry, added.id).await,
        Err(Error::NotFound { .. })
    ));
    tx.commit().await.unwrap();

    // Every change is audited and announced as list.changed, without labels in the event.
    let mut owner = db.owner().await;
    let actions: Vec<String> =
        sqlx::query_scalar("select action from audit_log where entity_id = $1 order by seq")
            .bind(added.id.uuid())
            .fetch_all(&mut owner)
            .await
            .unwrap();
    assert_eq!(
        actions,
        [
            "add",
            "rename",
            "rename",
            "deactivate",
            "activate",
            "remove"
        ]
    );
    let events: Vec<serde_json::Value> = sqlx::query_scalar(
        "select payload from events where entity_id = $1 and topic = 'list.changed' order by seq",
    )
    .bind(added.id.uuid())
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert_eq!(events.len(), 6);
    assert_eq!(events[0]["list"], "industry");
    assert_eq!(events[0]["key"], "robotics");
    assert!(!events.iter().any(|e| e.to_string().contains("Robot")));
}

#[tokio::test]
async fn keys_are_checked_and_duplicates_conflict() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Schluessel AG").await;
    let mut tx = scope.begin().await.unwrap();

    let e = list::add(&mut tx, ListKind::AccountType, "Key With Spaces", " ", "x")
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["key", "label_en"], "every problem at once");

    // `customer` is a default account type.
    let e = list::add(
        &mut tx,
        ListKind::AccountType,
        "customer",
        "Client",
        "Klient",
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    // A label another entry already has would make lookups by label ambiguous.
    let e = list::add(&mut tx, ListKind::AccountType, "kunde2", "KUNDE", "Kunde")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    // The same key in another list is fine.
    list::add(&mut tx, ListKind::Industry, "customer", "Customer", "Kunde")
        .await
        .unwrap();
    // The conflicts did not spoil the transaction.
    let distributor = list::add(
        &mut tx,
        ListKind::AccountType,
        "distributor",
        "Distributor",
        "Händler",
    )
    .await
    .unwrap();
    let e = list::rename(
        &mut tx,
        ListKind::AccountType,
        distributor.id,
        "Partner",
        "Partner",
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn resolve_by_key_or_label_in_either_language() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Aufloesung GmbH").await;
    let mut tx = scope.begin().await.unwrap();
    let by_key = list::resolve(&mut tx, ListKind::Industry, "mechanical_engineering")
        .await
        .unwrap();
    for input in [
        "Maschinenbau",
        "MASCHINENBAU",
        " mechanical engineering ",
        "Mechanical_Engineering",
    ] {
        assert_eq!(
            list::resolve(&mut tx, ListKind::Industry, input)
                .await
                .unwrap(),
            by_key,
            "{input}"
        );
    }
    let e = list::resolve(&mut tx, ListKind::RelationshipType, "Erzfeind von")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::NotFound {
                entity: "relationship type"
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "relationship type not found");
    // Deactivated entries still resolve (records keep them); companies refuse new uses.
    list::set_active(&mut tx, ListKind::Industry, by_key, false)
        .await
        .unwrap();
    assert_eq!(
        list::resolve(&mut tx, ListKind::Industry, "Maschinenbau")
            .await
            .unwrap(),
        by_key
    );
    let e = company::create(
        &mut tx,
        NewCompany {
            name: "Dreh & Fräs GmbH".into(),
            industry: Some("Maschinenbau".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&e), ["industry"]);
}

#[tokio::test]
async fn entries_in_use_are_not_removed_but_can_be_deactivated() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Nutzung GmbH").await;
    let mut tx = scope.begin().await.unwrap();
    let logistics = list::resolve(&mut tx, ListKind::Industry, "logistics")
        .await
        .unwrap();
    let c = company::create(
        &mut tx,
        NewCompany {
            name: "Spedition Weber".into(),
            industry: Some("Logistik".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let e = list::remove(&mut tx, ListKind::Industry, logistics)
        .await
        .unwrap_err();
    match &e {
        Error::Conflict(msg) => assert!(msg.contains("deactivate"), "{msg}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    list::set_active(&mut tx, ListKind::Industry, logistics, false)
        .await
        .unwrap();
    // The company keeps its deactivated industry, also across unrelated updates.
    let c = company::update(
        &mut tx,
        c.id,
        company::CompanyPatch {
            billing_city: Some(Some("Bremen".into())),
            industry: Some(Some("logistics".into())),
            ..company::CompanyPatch::at(c.version)
        },
    )
    .await
    .unwrap();
    assert_eq!(c.industry.as_deref(), Some("logistics"));
    // A soft-deleted company still counts: restoring it must find its industry.
    company::delete(&mut tx, c.id, None).await.unwrap();
    assert!(matches!(
        list::remove(&mut tx, ListKind::Industry, logistics).await,
        Err(Error::Conflict(_))
    ));

    // A relationship type in use.
    let other = company::create(
        &mut tx,
        NewCompany {
            name: "Lager Nord".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let third = company::create(
        &mut tx,
        NewCompany {
            name: "Lager Süd".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let rel = company::relate(&mut tx, other.id, third.id, "supplier_of", None)
        .await
        .unwrap();
    let supplier_of = list::resolve(&mut tx, ListKind::RelationshipType, "supplier_of")
        .await
        .unwrap();
    assert!(matches!(
        list::remove(&mut tx, ListKind::RelationshipType, supplier_of).await,
        Err(Error::Conflict(_))
    ));
    company::unrelate(&mut tx, rel.id).await.unwrap();
    list::remove(&mut tx, ListKind::RelationshipType, supplier_of)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    // A lost reason used by a deal.
    let mut owner = db.owner().await;
    let price = {
        let mut tx = scope.begin().await.unwrap();
        list::resolve(&mut tx, ListKind::LostReason, "price")
            .await
            .unwrap()
    };
    sqlx::query(
        "insert into deals (org_id, id, title, pipeline_id, stage_id, status, lost_reason_id, closed_at) \
         select s.org_id, $2, 'Lost deal', s.pipeline_id, s.id, 'lost', $3, now() \
         from stages s where s.org_id = $1 order by s.position limit 1",
    )
    .bind(scope.org())
    .bind(Uuid::now_v7())
    .bind(price)
    .execute(&mut owner)
    .await
    .unwrap();
    let mut tx = scope.begin().await.unwrap();
    assert!(matches!(
        list::remove(&mut tx, ListKind::LostReason, price).await,
        Err(Error::Conflict(_))
    ));
    let timing = list::resolve(&mut tx, ListKind::LostReason, "timing")
        .await
        .unwrap();
    list::remove(&mut tx, ListKind::LostReason, timing)
        .await
        .unwrap();
}

#[tokio::test]
async fn only_configuring_roles_change_lists() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Rollen GmbH").await;
    let user = add_user(&db, org, "user").await;
    let manager = add_user(&db, org, "manager").await;
    let industry = {
        let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
        list::resolve(&mut tx, ListKind::Industry, "retail")
            .await
            .unwrap()
    };

    let mut tx = db.crm.scope(org, user).begin().await.unwrap();
    assert!(
        !list::list(&mut tx, ListKind::Industry)
            .await
            .unwrap()
            .is_empty()
    );
    let denied = [
        list::add(
            &mut tx,
            ListKind::Industry,
            "robotics",
            "Robotics",
            "Robotik",
        )
        .await
        .map(|_| ()),
        list::rename(&mut tx, ListKind::Industry, industry, "Shops", "Läden")
            .await
            .map(|_| ()),
        list::set_active(&mut tx, ListKind::Industry, industry, false)
            .await
            .map(|_| ()),
        list::remove(&mut tx, ListKind::Industry, industry).await,
    ];
    for r in denied {
        assert!(matches!(r, Err(Error::PermissionDenied(_))), "{r:?}");
    }
    drop(tx);

    let mut tx = db.crm.scope(org, manager).begin().await.unwrap();
    list::add(
        &mut tx,
        ListKind::Industry,
        "robotics",
        "Robotics",
        "Robotik",
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn lists_are_per_organization() {
    let db = TestDb::new().await;
    let a = owner_scope(&db, "Alpha Listen").await;
    let b = owner_scope(&db, "Beta Listen").await;
    let added = a
        .run(async |tx| list::add(tx, ListKind::Industry, "robotics", "Robotics", "Robotik").await)
        .await
        .unwrap();
    let mut tx = b.begin().await.unwrap();
    assert!(matches!(
        list::get(&mut tx, ListKind::Industry, added.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        list::rename(&mut tx, ListKind::Industry, added.id, "Mine", "Meins").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        list::resolve(&mut tx, ListKind::Industry, "robotics").await,
        Err(Error::NotFound { .. })
    ));
    // B may add the same key for itself.
    list::add(
        &mut tx,
        ListKind::Industry,
        "robotics",
        "Robotics",
        "Robotik",
    )
    .await
    .unwrap();
}
