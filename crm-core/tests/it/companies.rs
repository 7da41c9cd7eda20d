//! Companies: creation with validated values, updates with optimistic locking and audit,
//! soft delete and restore, lists, relationships and tenant isolation.

use crm_core::domain::{CompanySize, EmailKind, EntityStatus, OwnerRole, PhoneKind};
use crm_core::store::PageRequest;
use crm_core::store::company::{
    self, Company, CompanyFilter, CompanyPatch, Direction, NewCompany, NewCompanyEmail,
    NewCompanyPhone,
};
use crm_core::store::owner::Owner;
use crm_core::testing::TestDb;
use crm_core::{CompanyId, Error, OrgId, Scope, UserId};
use serde_json::json;

/// A valid German VAT id (check digit correct), and another one.
const VAT_A: &str = "DE136695976";
const VAT_B: &str = "DE129273398";

async fn owner_scope(db: &TestDb, name: &str) -> Scope {
    let (org, owner) = db.org(name).await;
    db.crm.scope(org, owner)
}

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

fn named(name: &str) -> NewCompany {
    NewCompany {
        name: name.into(),
        ..Default::default()
    }
}

fn fields(e: &Error) -> Vec<String> {
    match e {
        Error::Validation(fe) => fe.0.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn create_validates_resolves_and_reads_back() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Anlage GmbH").await;
    let owner_id = scope.actor();
    let mut tx = scope.begin().await.unwrap();
    let new: NewCompany = serde_json::from_value(json!({
        "name": "  Müller Maschinenbau GmbH ",
        "website": "WWW.Mueller-Maschinen.de/kontakt",
        "vat_id": "de 136 695 976",
        "industry": "Maschinenbau",
        "account_type": "Kunde",
        "employees": 120,
        "billing_street": "Hauptstraße 1",
        "billing_postal_code": "50667",
        "billing_city": "Köln",
        "billing_country": "de",
        "trade_register_number": "HRB 12345",
        "email": "info@mueller-maschinen.de",
        "emails": [
            {"email": "buchhaltung@mueller-maschinen.de", "kind": "work"},
            {"email": "INFO@mueller-maschinen.de", "kind": "other"}
        ],
        "phone": "0221 1234567",
        "phones": [{"number": "+49 171 2345678", "kind": "mobile"}],
        "tags": ["Key Account", "key account", "Messe"],
        "owners": [{"user_id": owner_id, "role": "owner"}],
        "custom": {"kundennummer": 4711}
    }))
    .unwrap();
    let c = company::create(&mut tx, new).await.unwrap();
    assert_eq!(c.name, "Müller Maschinenbau GmbH");
    assert_eq!(
        c.website.as_deref(),
        Some("https://www.mueller-maschinen.de/kontakt")
    );
    assert_eq!(
        c.domain.as_deref(),
        Some("mueller-maschinen.de"),
        "derived from the web site"
    );
    assert_eq!(c.vat_id.as_deref(), Some(VAT_A));
    assert_eq!(c.industry.as_deref(), Some("mechanical_engineering"));
    assert_eq!(c.account_type.as_deref(), Some("customer"));
    assert_eq!(c.size, CompanySize::Medium);
    assert_eq!(c.status, EntityStatus::Active);
    assert_eq!(c.billing_country.as_deref(), Some("DE"));
    assert_eq!(c.billing_city.as_deref(), Some("Köln"));
    // The primary e-mail: the `email` shorthand, merged with its duplicate in `emails`.
    assert_eq!(c.email.as_deref(), Some("info@mueller-maschinen.de"));
    assert_eq!(c.emails.len(), 2);
    assert!(c.emails[0].primary && c.emails[0].email == "info@mueller-maschinen.de");
    assert!(!c.emails[1].primary);
    assert_eq!(c.emails[1].kind, EmailKind::Work);
    assert_eq!(
        c.phone.as_deref(),
        Some("+492211234567"),
        "E.164 in the default region"
    );
    assert_eq!(c.phones.len(), 2);
    assert!(c.phones[0].primary && c.phones[0].raw == "0221 1234567");
    assert_eq!(c.phones[1].kind, PhoneKind::Mobile);
    assert_eq!(c.tags, ["Key Account", "Messe"]);
    assert_eq!(
        c.owners,
        [Owner {
            user_id: owner_id,
            role: OwnerRole::Owner
        }]
    );
    assert_eq!(c.custom, json!({"kundennummer": 4711}));
    assert_eq!(c.contacts, 0);
    assert_eq!(c.version, 1);
    assert!(c.deleted_at.is_none());

    let read = company::get(&mut tx, c.id).await.unwrap();
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        serde_json::to_value(&c).unwrap()
    );
    let by_vat = company::find_by_vat(&mut tx, "DE 136.695.976")
        .await
        .unwrap();
    assert_eq!(by_vat.map(|x| x.id), Some(c.id));
    let by_domain = company::find_by_domain(&mut tx, "https://mueller-maschinen.de")
        .await
        .unwrap();
    assert_eq!(by_domain.iter().map(|x| x.id).collect::<Vec<_>>(), [c.id]);
    let by_name = company::find_by_name(&mut tx, "MUELLER maschinenbau gmbh")
        .await
        .unwrap();
    assert_eq!(by_name.iter().map(|x| x.id).collect::<Vec<_>>(), [c.id]);
    tx.commit().await.unwrap();

    // The stored primary columns equal the rows marked primary.
    let mut owner = db.owner().await;
    let (email, phone, primaries): (Option<String>, Option<String>, i64) = sqlx::query_as(
        "select c.email, c.phone, \
                (select count(*) from company_emails e where e.company_id = c.id and e.is_primary \
                   and e.email = c.email) \
         from companies c where c.id = $1",
    )
    .bind(c.id)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!(email.as_deref(), Some("info@mueller-maschinen.de"));
    assert_eq!(phone.as_deref(), Some("+492211234567"));
    assert_eq!(primaries, 1);

    // The created event names the id only.
    let payload: serde_json::Value = sqlx::query_scalar(
        "select payload from events where topic = 'company.created' and entity_id = $1",
    )
    .bind(c.id)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!(payload, json!({"id": c.id}));
}

#[tokio::test]
async fn every_invalid_field_is_reported_at_once() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Fehler GmbH").await;
    let mut tx = scope.begin().await.unwrap();
    let e = company::create(
        &mut tx,
        NewCompany {
            name: "   ".into(),
            vat_id: Some("DE123456789".into()),
            website: Some("not a web site".into()),
            industry: Some("Raumfahrt".into()),
            billing_country: Some("Deutschland".into()),
            emails: vec![NewCompanyEmail {
                email: "kein-at-zeichen".into(),
                ..Default::default()
            }],
            phones: vec![NewCompanyPhone {
                number: "12".into(),
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    let mut got = fields(&e);
    got.sort();
    assert_eq!(
        got,
        [
            "billing_country",
            "emails[0].email",
            "industry",
            "name",
            "phones[0].number",
            "vat_id",
            "website"
        ]
    );
    // No input value is quoted in the message.
    let msg = e.to_string();
    assert!(
        !msg.contains("DE123456789") && !msg.contains("kein-at-zeichen"),
        "{msg}"
    );
    // Nothing was written, and the transaction is still usable.
    let page = company::list(&mut tx, &CompanyFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());
}

#[tokio::test]
async fn vat_ids_are_unique_among_live_companies() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Steuer GmbH").await;
    let mut tx = scope.begin().await.unwrap();
    let with_vat = |name: &str| NewCompany {
        vat_id: Some(VAT_A.into()),
        ..named(name)
    };
    let first = company::create(&mut tx, with_vat("Erste GmbH"))
        .await
        .unwrap();
    let e = company::create(&mut tx, with_vat("Zweite GmbH"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    // Updating another company to the taken VAT id conflicts as well.
    let other = company::create(&mut tx, named("Dritte GmbH"))
        .await
        .unwrap();
    let e = company::update(
        &mut tx,
        other.id,
        CompanyPatch {
            vat_id: Some(Some(VAT_A.into())),
            ..CompanyPatch::at(other.version)
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");

    // After the first is soft-deleted its VAT id is free.
    company::delete(&mut tx, first.id, Some(first.version))
        .await
        .unwrap();
    assert!(matches!(
        company::get(&mut tx, first.id).await,
        Err(Error::NotFound { entity: "company" })
    ));
    let deleted = company::get_including_deleted(&mut tx, first.id)
        .await
        .unwrap();
    assert!(deleted.deleted_at.is_some());
    let second = company::create(&mut tx, with_vat("Zweite GmbH"))
        .await
        .unwrap();
    assert_eq!(
        company::find_by_vat(&mut tx, VAT_A)
            .await
            .unwrap()
            .map(|c| c.id),
        Some(second.id)
    );

    // Restoring the first now collides with the second.
    let e = company::restore(&mut tx, first.id).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    // Once the second moves to another VAT id, the first comes back.
    company::update(
        &mut tx,
        second.id,
        CompanyPatch {
            vat_id: Some(Some(VAT_B.into())),
            ..CompanyPatch::at(second.version)
        },
    )
    .await
    .unwrap();
    let restored = company::restore(&mut tx, first.id).await.unwrap();
    assert!(restored.deleted_at.is_none());
    assert_eq!(restored.vat_id.as_deref(), Some(VAT_A));
    assert!(matches!(
        company::restore(&mut tx, first.id).await,
        Err(Error::Conflict(_))
    ));
    tx.commit().await.unwrap();

    let mut owner = db.owner().await;
    let topics: Vec<String> =
        sqlx::query_scalar("select topic from events where entity_id = $1 order by seq")
            .bind(first.id)
            .fetch_all(&mut owner)
            .await
            .unwrap();
    assert_eq!(
        topics,
        ["company.created", "company.deleted", "company.restored"]
    );
}

#[tokio::test]
async fn updates_need_the_current_version_and_write_an_audit_diff() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Version GmbH").await;
    let c = scope
        .run(async |tx| {
            company::create(
                tx,
                NewCompany {
                    website: Some("alt.example".into()),
                    billing_city: Some("Bonn".into()),
                    tax_id: Some("123/456/789".into()),
                    email: Some("info@alt.example".into()),
                    custom: json!({"a": 1, "b": 2})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                    ..named("Alt GmbH")
                },
            )
            .await
        })
        .await
        .unwrap();

    let mut tx = scope.begin().await.unwrap();
    let patch: CompanyPatch = serde_json::from_value(json!({
        "version": c.version,
        "name": "Neu GmbH",
        "website": "https://www.neu.example",
        "billing_city": "Köln",
        "tax_id": null,
        "status": "inactive",
        "email": "vertrieb@neu.example",
        "tags": ["Lieferant"],
        "custom": {"a": 3}
    }))
    .unwrap();
    let updated = company::update(&mut tx, c.id, patch).await.unwrap();
    assert_eq!(updated.version, c.version + 1);
    assert_eq!(updated.name, "Neu GmbH");
    assert_eq!(
        updated.domain.as_deref(),
        Some("neu.example"),
        "followed the web site"
    );
    assert_eq!(updated.billing_city.as_deref(), Some("Köln"));
    assert_eq!(updated.tax_id, None);
    assert_eq!(updated.status, EntityStatus::Inactive);
    assert_eq!(updated.email.as_deref(), Some("vertrieb@neu.example"));
    assert_eq!(
        updated
            .emails
            .iter()
            .map(|e| (e.email.as_str(), e.primary))
            .collect::<Vec<_>>(),
        [("vertrieb@neu.example", true), ("info@alt.example", false)]
    );
    assert_eq!(updated.tags, ["Lieferant"]);
    assert_eq!(updated.custom, json!({"a": 3}));

    // A patch naming the old version is refused, and nothing changes.
    let e = company::update(
        &mut tx,
        c.id,
        CompanyPatch {
            name: Some("Zu spät GmbH".into()),
            ..CompanyPatch::at(c.version)
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    assert_eq!(company::get(&mut tx, c.id).await.unwrap().name, "Neu GmbH");

    // Removing the primary address promotes the next one; the column follows.
    let again = company::update(
        &mut tx,
        c.id,
        CompanyPatch {
            email: Some(None),
            ..CompanyPatch::at(updated.version)
        },
    )
    .await
    .unwrap();
    assert_eq!(again.email.as_deref(), Some("info@alt.example"));
    assert_eq!(again.emails.len(), 1);
    assert!(again.emails[0].primary);

    // An empty patch changes nothing, not even the version.
    let same = company::update(&mut tx, c.id, CompanyPatch::at(again.version))
        .await
        .unwrap();
    assert_eq!(same.version, again.version);
    // Unknown company: not found.
    assert!(matches!(
        company::update(&mut tx, CompanyId::new(), CompanyPatch::at(1)).await,
        Err(Error::NotFound { entity: "company" })
    ));
    tx.commit().await.unwrap();

    let mut owner = db.owner().await;
    let diff: serde_json::Value = sqlx::query_scalar(
        "select payload from audit_log where entity_id = $1 and action = 'update' order by seq limit 1",
    )
    .bind(c.id)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    assert_eq!(
        diff["name"],
        json!({"before": "Alt GmbH", "after": "Neu GmbH"})
    );
    assert_eq!(
        diff["billing_city"],
        json!({"before": "Bonn", "after": "Köln"})
    );
    assert_eq!(
        diff["tax_id"],
        json!({"before": "123/456/789", "after": null})
    );
    assert!(diff.get("version").is_none() && diff.get("vat_id").is_none());

    let event: serde_json::Value = sqlx::query_scalar(
        "select payload from events where entity_id = $1 and topic = 'company.updated' order by seq limit 1",
    )
    .bind(c.id)
    .fetch_one(&mut owner)
    .await
    .unwrap();
    let mut names: Vec<String> = serde_json::from_value(event["fields"].clone()).unwrap();
    names.sort();
    assert_eq!(
        names,
        [
            "billing_city",
            "custom",
            "domain",
            "email",
            "emails",
            "name",
            "status",
            "tags",
            "tax_id",
            "website"
        ]
    );
    // Field names only: no personal data in the event.
    let text = event.to_string();
    assert!(
        !text.contains("Neu GmbH") && !text.contains("neu.example"),
        "{text}"
    );
}

#[tokio::test]
async fn list_filters_and_pages_through_every_row_exactly_once() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Liste GmbH").await;
    let colleague = add_user(&db, scope.org(), "user").await;
    let mut tx = scope.begin().await.unwrap();
    let mut created: Vec<Company> = Vec::new();
    for i in 0..23 {
        let c = company::create(
            &mut tx,
            NewCompany {
                industry: Some(if i % 3 == 0 { "retail" } else { "software" }.into()),
                account_type: (i % 5 == 0).then(|| "partner".to_string()),
                status: (i % 4 == 0).then_some(EntityStatus::Inactive),
                size: (i % 2 == 0).then_some(CompanySize::Small),
                tags: if i % 6 == 0 {
                    vec!["Messe 2026".into()]
                } else {
                    vec![]
                },
                owners: if i == 7 {
                    vec![Owner {
                        user_id: colleague,
                        role: OwnerRole::Member,
                    }]
                } else {
                    vec![]
                },
                billing_city: Some(if i == 11 { "Düsseldorf" } else { "Berlin" }.into()),
                ..named(&format!("Firma {i:02}"))
            },
        )
        .await
        .unwrap();
        created.push(c);
    }
    company::delete(&mut tx, created[22].id, None)
        .await
        .unwrap();
    let ids = |cs: &[Company]| cs.iter().map(|c| c.id).collect::<Vec<_>>();
    let live: Vec<CompanyId> = ids(&created[..22]);

    // Pages of 5: every live company exactly once, in creation order.
    let mut seen = Vec::new();
    let mut page = PageRequest {
        limit: 5,
        after: None,
    };
    let mut pages = 0;
    loop {
        let p = company::list(&mut tx, &CompanyFilter::default(), page)
            .await
            .unwrap();
        pages += 1;
        assert!(p.items.len() <= 5);
        seen.extend(ids(&p.items));
        match p.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, live);

    let run = async |tx: &mut crm_core::Tx, f: CompanyFilter| -> Vec<CompanyId> {
        let p = company::list(tx, &f, PageRequest::default()).await.unwrap();
        assert!(p.next.is_none());
        ids(&p.items)
    };
    let expect = |pred: &dyn Fn(usize) -> bool| -> Vec<CompanyId> {
        (0..22)
            .filter(|&i| pred(i))
            .map(|i| created[i].id)
            .collect()
    };
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                industry: Some("Einzelhandel".into()),
                ..Default::default()
            }
        )
        .await,
        expect(&|i| i % 3 == 0)
    );
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                account_type: Some("partner".into()),
                ..Default::default()
            }
        )
        .await,
        expect(&|i| i % 5 == 0)
    );
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                status: Some(EntityStatus::Inactive),
                ..Default::default()
            }
        )
        .await,
        expect(&|i| i % 4 == 0)
    );
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                size: Some(CompanySize::Small),
                ..Default::default()
            }
        )
        .await,
        expect(&|i| i % 2 == 0)
    );
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                tag: Some("messe 2026".into()),
                ..Default::default()
            }
        )
        .await,
        expect(&|i| i % 6 == 0)
    );
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                tag: Some("no such tag".into()),
                ..Default::default()
            }
        )
        .await,
        Vec::<CompanyId>::new()
    );
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                owner: Some(colleague),
                ..Default::default()
            }
        )
        .await,
        [created[7].id]
    );
    // Text search folds German spellings: Düsseldorf is found as "duesseldorf".
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                text: Some("DUESSELDORF".into()),
                ..Default::default()
            }
        )
        .await,
        [created[11].id]
    );
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                text: Some("firma 1".into()),
                ..Default::default()
            }
        )
        .await,
        expect(&|i| (10..20).contains(&i))
    );
    // LIKE wildcards in the text are taken literally.
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                text: Some("firma _".into()),
                ..Default::default()
            }
        )
        .await,
        Vec::<CompanyId>::new()
    );
    // Combined filters all hold.
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                industry: Some("retail".into()),
                size: Some(CompanySize::Small),
                ..Default::default()
            }
        )
        .await,
        expect(&|i| i % 6 == 0)
    );
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                only_deleted: true,
                ..Default::default()
            }
        )
        .await,
        [created[22].id]
    );
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                include_deleted: true,
                ..Default::default()
            }
        )
        .await,
        ids(&created)
    );
    let after = created[20].created_at;
    assert_eq!(
        run(
            &mut tx,
            CompanyFilter {
                created_after: Some(after),
                ..Default::default()
            }
        )
        .await
        .len(),
        run(
            &mut tx,
            CompanyFilter {
                created_before: Some(after + chrono::Duration::seconds(1)),
                ..Default::default()
            }
        )
        .await
        .len(),
        "all were created in one transaction, so at one time"
    );

    // Streaming in batches visits every live company once.
    let mut streamed = Vec::new();
    let mut batches = 0;
    let total = company::for_each_batch(&mut tx, &CompanyFilter::default(), 4, async |batch| {
        batches += 1;
        streamed.extend(batch.iter().map(|c| c.id));
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(total, 22);
    assert_eq!(batches, 6);
    assert_eq!(streamed, live);
}

#[tokio::test]
async fn relationships_show_in_both_directions() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Konzern AG").await;
    let mut tx = scope.begin().await.unwrap();
    let parent = company::create(&mut tx, named("Holding AG")).await.unwrap();
    let child = company::create(&mut tx, named("Tochter GmbH"))
        .await
        .unwrap();
    let partner = company::create(&mut tx, named("Partner KG")).await.unwrap();

    let rel = company::relate(
        &mut tx,
        parent.id,
        child.id,
        "Muttergesellschaft von",
        Some("100 %".into()),
    )
    .await
    .unwrap();
    assert_eq!(rel.type_key, "parent_of");
    assert_eq!(rel.direction, Direction::Outgoing);
    assert_eq!(rel.other_company_id, child.id);
    company::relate(&mut tx, partner.id, child.id, "partner_of", None)
        .await
        .unwrap();

    let of_child = company::relationships(&mut tx, child.id).await.unwrap();
    assert_eq!(of_child.len(), 2);
    assert!(of_child.iter().all(|r| r.direction == Direction::Incoming));
    let parent_view = of_child.iter().find(|r| r.type_key == "parent_of").unwrap();
    assert_eq!(parent_view.other_company_id, parent.id);
    assert_eq!(parent_view.other_company_name, "Holding AG");
    assert_eq!(parent_view.type_label_de, "Muttergesellschaft von");
    assert_eq!(parent_view.note.as_deref(), Some("100 %"));
    let of_parent = company::relationships(&mut tx, parent.id).await.unwrap();
    assert_eq!(of_parent.len(), 1);
    assert_eq!(of_parent[0].other_company_name, "Tochter GmbH");
    assert_eq!(of_parent[0].direction, Direction::Outgoing);

    // A company cannot be related to itself; the same relationship twice conflicts.
    let e = company::relate(&mut tx, parent.id, parent.id, "partner_of", None)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["to_company_id"]);
    let e = company::relate(&mut tx, parent.id, child.id, "parent_of", None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let e = company::relate(&mut tx, parent.id, child.id, "Erzfeind", None)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["type"]);
    assert!(matches!(
        company::relate(&mut tx, parent.id, CompanyId::new(), "partner_of", None).await,
        Err(Error::NotFound { entity: "company" })
    ));

    // Relationships to a soft-deleted company are hidden.
    company::delete(&mut tx, partner.id, None).await.unwrap();
    assert_eq!(
        company::relationships(&mut tx, child.id)
            .await
            .unwrap()
            .len(),
        1
    );

    company::unrelate(&mut tx, rel.id).await.unwrap();
    assert!(
        company::relationships(&mut tx, parent.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        company::unrelate(&mut tx, rel.id).await,
        Err(Error::NotFound { .. })
    ));
    tx.commit().await.unwrap();

    let mut owner = db.owner().await;
    let topics: Vec<String> = sqlx::query_scalar(
        "select topic from events where topic like 'company.%related' order by seq",
    )
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert_eq!(
        topics,
        ["company.related", "company.related", "company.unrelated"]
    );
}

#[tokio::test]
async fn another_organization_can_neither_see_nor_change_a_company() {
    let db = TestDb::new().await;
    let a = owner_scope(&db, "Alpha Firmen").await;
    let b = owner_scope(&db, "Beta Firmen").await;
    let c = a
        .run(async |tx| {
            company::create(
                tx,
                NewCompany {
                    vat_id: Some(VAT_A.into()),
                    website: Some("alpha.example".into()),
                    ..named("Geheim GmbH")
                },
            )
            .await
        })
        .await
        .unwrap();

    let mut tx = b.begin().await.unwrap();
    assert!(matches!(
        company::get(&mut tx, c.id).await,
        Err(Error::NotFound { entity: "company" })
    ));
    assert!(matches!(
        company::get_including_deleted(&mut tx, c.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        company::update(
            &mut tx,
            c.id,
            CompanyPatch {
                name: Some("Gekapert".into()),
                ..CompanyPatch::at(c.version)
            }
        )
        .await,
        Err(Error::NotFound { entity: "company" })
    ));
    assert!(matches!(
        company::delete(&mut tx, c.id, None).await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        company::relationships(&mut tx, c.id).await,
        Err(Error::NotFound { .. })
    ));
    assert!(
        company::find_by_vat(&mut tx, VAT_A)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        company::find_by_domain(&mut tx, "alpha.example")
            .await
            .unwrap()
            .is_empty()
    );
    let all = company::list(
        &mut tx,
        &CompanyFilter {
            include_deleted: true,
            ..Default::default()
        },
        PageRequest::default(),
    )
    .await
    .unwrap();
    assert!(all.items.is_empty());
    // B's own company may use the same VAT id: uniqueness is per organization.
    company::create(
        &mut tx,
        NewCompany {
            vat_id: Some(VAT_A.into()),
            ..named("Beta GmbH")
        },
    )
    .await
    .unwrap();
    let e = company::relate(&mut tx, c.id, c.id, "partner_of", None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Validation(_)), "{e:?}");
    tx.commit().await.unwrap();

    let mut tx = a.begin().await.unwrap();
    assert_eq!(
        company::get(&mut tx, c.id).await.unwrap().name,
        "Geheim GmbH"
    );
}

#[tokio::test]
async fn read_only_users_cannot_change_companies() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Nurlesen GmbH").await;
    let c = scope
        .run(async |tx| company::create(tx, named("Sichtbar GmbH")).await)
        .await
        .unwrap();
    let reader = add_user(&db, scope.org(), "read_only").await;
    let mut tx = db.crm.scope(scope.org(), reader).begin().await.unwrap();
    assert_eq!(company::get(&mut tx, c.id).await.unwrap().id, c.id);
    assert!(matches!(
        company::create(&mut tx, named("Neu")).await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(
        company::update(
            &mut tx,
            c.id,
            CompanyPatch {
                name: Some("x".into()),
                ..CompanyPatch::at(c.version)
            }
        )
        .await,
        Err(Error::PermissionDenied(_))
    ));
    assert!(matches!(
        company::delete(&mut tx, c.id, None).await,
        Err(Error::PermissionDenied(_))
    ));
}

#[tokio::test]
async fn unknown_owners_are_a_validation_error() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Besitz GmbH").await;
    let mut tx = scope.begin().await.unwrap();
    let e = company::create(
        &mut tx,
        NewCompany {
            owners: vec![Owner {
                user_id: UserId::new(),
                role: OwnerRole::Owner,
            }],
            billing_country: Some("XXL".into()),
            ..named("Niemand GmbH")
        },
    )
    .await
    .unwrap_err();
    let mut got = fields(&e);
    got.sort();
    assert_eq!(got, ["billing_country", "owners"]);
}

/// The name keys duplicate checks look companies up by (`name_key`, `name_prefix`,
/// `name_initial_last`) follow the name on create and rename, and a statement that writes
/// them directly cannot make them disagree with it (migration 20261207010000 computes them
/// in a trigger, once per write, where they were generated columns).
#[tokio::test]
async fn the_name_keys_follow_the_name_whatever_is_written() {
    let db = TestDb::new().await;
    let scope = owner_scope(&db, "Schlüssel GmbH").await;
    let mut tx = scope.begin().await.unwrap();
    let c = company::create(&mut tx, named("Müller Maschinenbau GmbH & Co. KG"))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let keys = async |id: CompanyId| -> (String, String, String, bool) {
        let mut owner = db.owner().await;
        sqlx::query_as(
            "select name_key, name_prefix, name_initial_last, \
                    name_key = crm_company_key(name) \
                    and name_prefix = left(crm_company_key(name), 4) \
                    and name_initial_last = left(crm_company_key(name), 1) || ' ' \
                        || split_part(crm_company_key(name), ' ', -1) \
             from companies where id = $1",
        )
        .bind(id)
        .fetch_one(&mut owner)
        .await
        .unwrap()
    };
    assert_eq!(
        keys(c.id).await,
        (
            "mueller maschinenbau".into(),
            "muel".into(),
            "m maschinenbau".into(),
            true
        )
    );
    let mut tx = scope.begin().await.unwrap();
    company::update(
        &mut tx,
        c.id,
        CompanyPatch {
            name: Some("Nordlicht Logistik AG".into()),
            ..CompanyPatch::at(c.version)
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        keys(c.id).await,
        (
            "nordlicht logistik".into(),
            "nord".into(),
            "n logistik".into(),
            true
        )
    );
    // The application role writing the keys itself: replaced from the name.
    let mut tx = scope.begin().await.unwrap();
    sqlx::query(
        "update companies set name_key = 'planted', name_prefix = 'plan', \
         name_initial_last = 'p planted' where org_id = $1 and id = $2",
    )
    .bind(scope.org())
    .bind(c.id)
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(keys(c.id).await.0, "nordlicht logistik");
    assert!(keys(c.id).await.3);
    // A writer's search path does not reach the trigger (migration 20261211010000 dropped its
    // own `set search_path` and names every function and operator instead): under an empty
    // path, where an unqualified name would not resolve, the keys still follow the name.
    let mut tx = scope.begin().await.unwrap();
    sqlx::raw_sql("set local search_path = ''")
        .execute(tx.conn())
        .await
        .unwrap();
    sqlx::query(
        "update public.companies set name = 'Ostwind Energie GmbH' where org_id = $1 and id = $2",
    )
    .bind(scope.org())
    .bind(c.id)
    .execute(tx.conn())
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        keys(c.id).await,
        (
            "ostwind energie".into(),
            "ostw".into(),
            "o energie".into(),
            true
        )
    );
}
