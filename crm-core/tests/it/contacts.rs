//! Contacts: validation, optimistic locking, audit and events, soft delete, lists, merge and
//! tenancy, against a real database.

use crm_core::domain::{EmailKind, OwnerRole, PhoneKind};
use crm_core::store::PageRequest;
use crm_core::store::contact::{
    self, Contact, ContactFilter, ContactPatch, DuplicateReason, NewContact, NewContactEmail,
    NewContactPhone,
};
use crm_core::store::owner::Owner;
use crm_core::testing::TestDb;
use crm_core::{CompanyId, ContactId, Error, OrgId, Scope, UserId};
use serde_json::Value;
use uuid::Uuid;

struct Setup {
    db: TestDb,
    org: OrgId,
    owner: UserId,
    scope: Scope,
}

async fn setup() -> Setup {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Kontakt GmbH").await;
    let scope = db.crm.scope(org, owner);
    Setup {
        db,
        org,
        owner,
        scope,
    }
}

fn person(first: &str, last: &str, email: &str) -> NewContact {
    NewContact {
        first_name: first.into(),
        last_name: last.into(),
        email: Some(email.into()),
        ..NewContact::default()
    }
}

async fn create(scope: &Scope, new: NewContact) -> crm_core::Result<Contact> {
    scope.run(async |tx| contact::create(tx, new).await).await
}

async fn get(scope: &Scope, id: ContactId) -> crm_core::Result<Contact> {
    scope.run(async |tx| contact::get(tx, id).await).await
}

async fn company(db: &TestDb, org: OrgId, name: &str) -> CompanyId {
    let id = CompanyId::new();
    let mut owner = db.owner().await;
    sqlx::query("insert into companies (org_id, id, name) values ($1, $2, $3)")
        .bind(org)
        .bind(id)
        .bind(name)
        .execute(&mut owner)
        .await
        .unwrap();
    id
}

async fn count(db: &TestDb, sql: &'static str, id: Uuid) -> i64 {
    let mut owner = db.owner().await;
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&mut owner)
        .await
        .unwrap()
}

fn fields(err: &Error) -> Vec<String> {
    match err {
        Error::Validation(e) => e.0.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn create_with_several_addresses_and_tags_then_get() {
    let s = setup().await;
    let acme = company(&s.db, s.org, "Acme AG").await;
    let created = create(
        &s.scope,
        NewContact {
            first_name: " Anna ".into(),
            last_name: "Müller".into(),
            title: Some("Dr.".into()),
            linkedin_url: Some("linkedin.com/in/anna-mueller".into()),
            birthday: chrono::NaiveDate::from_ymd_opt(1985, 4, 12),
            company_id: Some(acme),
            email: Some("Anna.Mueller@Acme.de".into()),
            emails: vec![
                NewContactEmail {
                    email: "anna@privat.de".into(),
                    kind: EmailKind::Personal,
                    primary: false,
                },
                NewContactEmail {
                    email: "anna.mueller@acme.de".into(),
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
                    primary: true,
                },
            ],
            city: Some("Berlin".into()),
            tags: vec!["VIP".into(), "Messe 2026".into(), "vip".into()],
            ..NewContact::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(created.version, 1);

    let c = get(&s.scope, created.id).await.unwrap();
    assert_eq!(c, created);
    assert_eq!(c.first_name, "Anna");
    assert_eq!(c.company.as_deref(), Some("Acme AG"));
    assert_eq!(
        c.linkedin_url.as_deref(),
        Some("https://linkedin.com/in/anna-mueller")
    );
    assert_eq!(c.email.as_deref(), Some("Anna.Mueller@Acme.de"));
    assert_eq!(c.emails.len(), 2);
    assert!(c.emails[0].primary && c.emails[0].email == "Anna.Mueller@Acme.de");
    assert_eq!(c.emails[1].kind, EmailKind::Personal);
    assert!(!c.emails[1].primary);
    assert_eq!(c.phone.as_deref(), Some("+491711234567"));
    assert_eq!(c.phones.len(), 2);
    assert_eq!(c.phones[0].number, "+491711234567");
    assert_eq!(c.phones[0].raw, "0171 1234567");
    assert_eq!(c.phones[1].number, "+49301234567");
    assert_eq!(c.tags, vec!["Messe 2026".to_string(), "VIP".to_string()]);
    assert_eq!(
        c.owners,
        vec![Owner {
            user_id: s.owner,
            role: OwnerRole::Owner
        }]
    );

    // The mirror columns equal the primary rows.
    let mut owner = s.db.owner().await;
    let (email, norm, phone): (String, String, String) =
        sqlx::query_as("select email, email_norm, phone from contacts where id = $1")
            .bind(c.id)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    assert_eq!(
        (email.as_str(), norm.as_str(), phone.as_str()),
        (
            "Anna.Mueller@Acme.de",
            "anna.mueller@acme.de",
            "+491711234567"
        )
    );

    // The JSON output and Debug.
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["birthday"], "1985-04-12");
    assert_eq!(json["emails"][1]["kind"], "personal");
    assert_eq!(json["phones"][0]["number"], "+491711234567");
    let debug = format!("{c:?}");
    assert!(
        !debug.contains("Anna") && !debug.contains("acme.de") && !debug.contains("1985"),
        "{debug}"
    );
}

#[tokio::test]
async fn validation_lists_every_bad_field_at_once() {
    let s = setup().await;
    let err = create(
        &s.scope,
        NewContact {
            first_name: "Bert".into(),
            email: Some("not-an-address".into()),
            phone: Some("12".into()),
            emails: vec![NewContactEmail {
                email: "also@bad".into(),
                ..NewContactEmail::default()
            }],
            linkedin_url: Some("https://example.com/in/bert".into()),
            birthday: chrono::NaiveDate::from_ymd_opt(2999, 1, 1),
            owners: vec![Owner {
                user_id: UserId::new(),
                role: OwnerRole::Owner,
            }],
            ..NewContact::default()
        },
    )
    .await
    .unwrap_err();
    let mut got = fields(&err);
    got.sort();
    assert_eq!(
        got,
        [
            "birthday",
            "email",
            "emails[0].email",
            "linkedin_url",
            "owners",
            "phone"
        ]
    );
    // The message names fields, never the values.
    let text = err.to_string();
    assert!(
        !text.contains("not-an-address") && !text.contains("bert"),
        "{text}"
    );

    let err = create(&s.scope, NewContact::default()).await.unwrap_err();
    assert_eq!(fields(&err), ["first_name"]);
    let none: i64 = count(
        &s.db,
        "select count(*) from contacts where org_id = $1",
        s.org.uuid(),
    )
    .await;
    assert_eq!(none, 0);
}

#[tokio::test]
async fn a_duplicate_primary_email_is_a_conflict() {
    let s = setup().await;
    create(&s.scope, person("Carla", "Eins", "carla@example.com"))
        .await
        .unwrap();
    let err = create(&s.scope, person("Carla", "Zwei", "CARLA@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    // The same address as a secondary one of another contact is allowed.
    let mut other = person("Carla", "Drei", "carla3@example.com");
    other.emails = vec![NewContactEmail {
        email: "carla@example.com".into(),
        ..NewContactEmail::default()
    }];
    create(&s.scope, other).await.unwrap();
}

#[tokio::test]
async fn a_stale_update_is_a_conflict_and_changes_nothing() {
    let s = setup().await;
    let c = create(&s.scope, person("Dora", "Alt", "dora@example.com"))
        .await
        .unwrap();
    let first = ContactPatch {
        city: Some(Some("Köln".into())),
        ..ContactPatch::at(c.version)
    };
    let updated = s
        .scope
        .run(async |tx| contact::update(tx, c.id, first).await)
        .await
        .unwrap();
    assert_eq!(updated.version, c.version + 1);

    // A writer still holding version 1.
    let stale = ContactPatch {
        last_name: Some("Neu".into()),
        email: Some(Some("dora.neu@example.com".into())),
        ..ContactPatch::at(c.version)
    };
    let err = s
        .scope
        .run(async |tx| contact::update(tx, c.id, stale).await)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let now = get(&s.scope, c.id).await.unwrap();
    assert_eq!(now, updated);
    assert_eq!(now.last_name, "Alt");
    assert_eq!(now.email.as_deref(), Some("dora@example.com"));

    // A missing contact is NotFound, not a conflict.
    let missing = s
        .scope
        .run(async |tx| contact::update(tx, ContactId::new(), ContactPatch::at(1)).await)
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
}

#[tokio::test]
async fn update_changes_fields_bumps_the_version_and_records_audit_and_event() {
    let s = setup().await;
    let c = create(&s.scope, person("Emil", "Ernst", "emil@example.com"))
        .await
        .unwrap();
    let patch = ContactPatch {
        job_title: Some(Some("CTO".into())),
        email: Some(Some("emil.ernst@example.com".into())),
        phones: Some(vec![NewContactPhone {
            number: "+41 44 668 18 00".into(),
            ..NewContactPhone::default()
        }]),
        tags: Some(vec!["Kunde".into()]),
        ..ContactPatch::at(c.version)
    };
    let after = s
        .scope
        .run(async |tx| contact::update(tx, c.id, patch).await)
        .await
        .unwrap();
    assert_eq!(after.version, c.version + 1);
    assert_eq!(after.job_title.as_deref(), Some("CTO"));
    // The new address replaced the primary one.
    assert_eq!(after.email.as_deref(), Some("emil.ernst@example.com"));
    assert_eq!(after.emails.len(), 1);
    assert_eq!(after.phone.as_deref(), Some("+41446681800"));
    assert_eq!(after.tags, ["Kunde"]);
    assert_eq!(get(&s.scope, c.id).await.unwrap(), after);
    // The old address no longer finds the contact, the new one does.
    let old = s
        .scope
        .run(async |tx| contact::find_by_email(tx, "emil@example.com").await)
        .await;
    assert!(matches!(old, Err(Error::NotFound { .. })));

    // Clearing a nullable field with null.
    let clear: ContactPatch =
        serde_json::from_value(serde_json::json!({"version": after.version, "job_title": null}))
            .unwrap();
    let cleared = s
        .scope
        .run(async |tx| contact::update(tx, c.id, clear).await)
        .await
        .unwrap();
    assert_eq!(cleared.job_title, None);
    assert_eq!(cleared.version, after.version + 1);

    let mut owner = s.db.owner().await;
    let audit: Vec<(String, Value)> = sqlx::query_as(
        "select action, payload from audit_log where org_id = $1 and entity_id = $2 order by seq",
    )
    .bind(s.org)
    .bind(c.id)
    .fetch_all(&mut owner)
    .await
    .unwrap();
    let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["create", "update", "update"]);
    assert_eq!(audit[0].1["first_name"]["after"], "Emil");
    let d = &audit[1].1;
    assert_eq!(
        d["job_title"],
        serde_json::json!({"before": null, "after": "CTO"})
    );
    assert_eq!(d["email"]["before"], "emil@example.com");
    assert_eq!(d["email"]["after"], "emil.ernst@example.com");
    assert!(
        d.get("first_name").is_none(),
        "unchanged fields are not in the diff: {d}"
    );
    assert!(d.get("version").is_none());

    let events: Vec<(String, Value)> = sqlx::query_as(
        "select topic, payload from events where org_id = $1 and entity_id = $2 order by seq",
    )
    .bind(s.org)
    .bind(c.id)
    .fetch_all(&mut owner)
    .await
    .unwrap();
    let topics: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        topics,
        ["contact.created", "contact.updated", "contact.updated"]
    );
    let mut changed: Vec<&str> = events[1].1["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    changed.sort();
    assert_eq!(
        changed,
        ["email", "emails", "job_title", "phone", "phones", "tags"]
    );
    for (_, payload) in &events {
        let text = payload.to_string();
        assert!(
            !text.contains("example.com") && !text.contains("Emil") && !text.contains("CTO"),
            "personal data in an event: {text}"
        );
    }
}

#[tokio::test]
async fn nothing_is_kept_when_the_transaction_is_not_committed() {
    let s = setup().await;
    let id = {
        let mut tx = s.scope.begin().await.unwrap();
        let c = contact::create(&mut tx, person("Fritz", "Flüchtig", "fritz@example.com"))
            .await
            .unwrap();
        // Visible inside its own transaction.
        assert_eq!(contact::get(&mut tx, c.id).await.unwrap().id, c.id);
        c.id
        // Dropped without commit.
    };
    assert!(matches!(
        get(&s.scope, id).await,
        Err(Error::NotFound { .. })
    ));
    for sql in [
        "select count(*) from contacts where id = $1",
        "select count(*) from contact_emails where contact_id = $1",
        "select count(*) from events where entity_id = $1",
        "select count(*) from audit_log where entity_id = $1",
    ] {
        assert_eq!(count(&s.db, sql, id.uuid()).await, 0, "{sql}");
    }
}

#[tokio::test]
async fn soft_delete_hides_and_restore_brings_back() {
    let s = setup().await;
    let c = create(&s.scope, person("Greta", "Grün", "greta@example.com"))
        .await
        .unwrap();
    // A stale version refuses the delete.
    let err = s
        .scope
        .run(async |tx| contact::delete(tx, c.id, Some(c.version + 5)).await)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    s.scope
        .run(async |tx| contact::delete(tx, c.id, Some(c.version)).await)
        .await
        .unwrap();
    assert!(matches!(
        get(&s.scope, c.id).await,
        Err(Error::NotFound { .. })
    ));
    let listed = s
        .scope
        .run(async |tx| contact::list(tx, &ContactFilter::default(), PageRequest::default()).await)
        .await
        .unwrap();
    assert!(listed.items.is_empty());
    let deleted = s
        .scope
        .run(async |tx| {
            let f = ContactFilter {
                only_deleted: true,
                ..ContactFilter::default()
            };
            contact::list(tx, &f, PageRequest::default()).await
        })
        .await
        .unwrap();
    assert_eq!(deleted.items.len(), 1);
    assert!(deleted.items[0].deleted_at.is_some());
    let again = s
        .scope
        .run(async |tx| contact::delete(tx, c.id, None).await)
        .await
        .unwrap_err();
    assert!(matches!(again, Error::NotFound { .. }), "{again:?}");

    // Its address is free while it is deleted; a restore then conflicts.
    let taker = create(&s.scope, person("Greta", "Zwei", "GRETA@example.com"))
        .await
        .unwrap();
    let err = s
        .scope
        .run(async |tx| contact::restore(tx, c.id).await)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    s.scope
        .run(async |tx| contact::delete(tx, taker.id, None).await)
        .await
        .unwrap();
    let restored = s
        .scope
        .run(async |tx| contact::restore(tx, c.id).await)
        .await
        .unwrap();
    assert_eq!(restored.deleted_at, None);
    assert_eq!(get(&s.scope, c.id).await.unwrap().email, c.email);

    let mut owner = s.db.owner().await;
    let topics: Vec<String> = sqlx::query_scalar(
        "select topic from events where org_id = $1 and entity_id = $2 order by seq",
    )
    .bind(s.org)
    .bind(c.id)
    .fetch_all(&mut owner)
    .await
    .unwrap();
    assert_eq!(
        topics,
        ["contact.created", "contact.deleted", "contact.restored"]
    );
}

#[tokio::test]
async fn list_pages_cover_every_row_once_and_filter() {
    let s = setup().await;
    let acme = company(&s.db, s.org, "Acme AG").await;
    let mut owner = s.db.owner().await;
    let colleague = UserId::new();
    sqlx::query(
        "insert into users (org_id, id, email, email_norm, role) \
         values ($1, $2, 'kollege@kontakt.test', 'kollege@kontakt.test', 'user')",
    )
    .bind(s.org)
    .bind(colleague)
    .execute(&mut owner)
    .await
    .unwrap();
    let mut ids = Vec::new();
    for i in 0..23 {
        let mut new = person(
            "Hans",
            &format!("Huber{i}"),
            &format!("hans{i}@example.com"),
        );
        if i % 3 == 0 {
            new.tags = vec!["Messe".into()];
        }
        if i % 4 == 0 {
            new.company_id = Some(acme);
        }
        if i % 5 == 0 {
            new.owners = vec![Owner {
                user_id: colleague,
                role: OwnerRole::Member,
            }];
        }
        if i == 7 {
            new.last_name = "Müller".into();
        }
        ids.push(create(&s.scope, new).await.unwrap().id);
    }

    let mut seen = Vec::new();
    let mut request = PageRequest {
        limit: 5,
        after: None,
    };
    let mut pages = 0;
    loop {
        let page = s
            .scope
            .run(async |tx| contact::list(tx, &ContactFilter::default(), request).await)
            .await
            .unwrap();
        pages += 1;
        assert!(page.items.len() <= 5);
        seen.extend(page.items.iter().map(|c| c.id));
        match page.next {
            Some(next) => request.after = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, ids, "every contact exactly once, in creation order");

    let filtered = async |f: ContactFilter| -> Vec<ContactId> {
        s.scope
            .run(async |tx| contact::list(tx, &f, PageRequest::default()).await)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.id)
            .collect()
    };
    let by = |keep: fn(usize) -> bool| -> Vec<ContactId> {
        ids.iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .map(|(_, id)| *id)
            .collect()
    };
    let tagged = filtered(ContactFilter {
        tag: Some("messe".into()),
        ..ContactFilter::default()
    })
    .await;
    assert_eq!(tagged, by(|i| i % 3 == 0));
    let at_acme = filtered(ContactFilter {
        company_id: Some(acme),
        ..ContactFilter::default()
    })
    .await;
    assert_eq!(at_acme, by(|i| i % 4 == 0));
    let colleagues = filtered(ContactFilter {
        owner: Some(colleague),
        ..ContactFilter::default()
    })
    .await;
    assert_eq!(colleagues, by(|i| i % 5 == 0));
    let mine = filtered(ContactFilter {
        owner: Some(s.owner),
        ..ContactFilter::default()
    })
    .await;
    assert_eq!(mine, by(|i| i % 5 != 0));
    let combined = filtered(ContactFilter {
        tag: Some("Messe".into()),
        company_id: Some(acme),
        ..ContactFilter::default()
    })
    .await;
    assert_eq!(combined, by(|i| i % 12 == 0));
    let text = filtered(ContactFilter {
        text: Some("MUELLER hans".into()),
        ..ContactFilter::default()
    })
    .await;
    assert_eq!(text, by(|i| i == 7));
    let wildcard = filtered(ContactFilter {
        text: Some("%".into()),
        ..ContactFilter::default()
    })
    .await;
    assert!(
        wildcard.is_empty(),
        "LIKE wildcards in the text are literal"
    );

    // Streaming in batches visits every contact once.
    let mut batches = Vec::new();
    let total = s
        .scope
        .run(async |tx| {
            contact::for_each_batch(tx, &ContactFilter::default(), 10, async |batch| {
                batches.push(batch.iter().map(|c| c.id).collect::<Vec<_>>());
                Ok(())
            })
            .await
        })
        .await
        .unwrap();
    assert_eq!(total, 23);
    assert_eq!(
        batches.iter().map(Vec::len).collect::<Vec<_>>(),
        [10, 10, 3]
    );
    assert_eq!(batches.concat(), ids);
}

#[tokio::test]
async fn find_by_email_matches_a_secondary_address() {
    let s = setup().await;
    let mut new = person("Ida", "Iser", "ida@work.example");
    new.emails = vec![NewContactEmail {
        email: "Ida.Privat@Home.example".into(),
        kind: EmailKind::Personal,
        primary: false,
    }];
    let c = create(&s.scope, new).await.unwrap();
    create(&s.scope, person("Other", "Person", "other@work.example"))
        .await
        .unwrap();
    let found = s
        .scope
        .run(async |tx| contact::find_by_email(tx, "ida.privat@HOME.example").await)
        .await
        .unwrap();
    assert_eq!(found.id, c.id);
    let primary = s
        .scope
        .run(async |tx| contact::find_by_email(tx, "IDA@work.example").await)
        .await
        .unwrap();
    assert_eq!(primary.id, c.id);
    let none = s
        .scope
        .run(async |tx| contact::find_by_email(tx, "nobody@work.example").await)
        .await;
    assert!(matches!(none, Err(Error::NotFound { .. })));
}

#[tokio::test]
async fn merge_moves_children_and_retires_the_other_contact() {
    let s = setup().await;
    let acme = company(&s.db, s.org, "Acme AG").await;
    let keep = create(
        &s.scope,
        NewContact {
            first_name: "Jana".into(),
            last_name: "Jung".into(),
            email: Some("jana@acme.example".into()),
            tags: vec!["A".into()],
            ..NewContact::default()
        },
    )
    .await
    .unwrap();
    let remove = create(
        &s.scope,
        NewContact {
            first_name: "Jana".into(),
            last_name: "Jung".into(),
            job_title: Some("CFO".into()),
            company_id: Some(acme),
            email: Some("j.jung@privat.example".into()),
            emails: vec![NewContactEmail {
                email: "JANA@acme.example".into(),
                ..NewContactEmail::default()
            }],
            phone: Some("030 1234567".into()),
            tags: vec!["A".into(), "B".into()],
            ..NewContact::default()
        },
    )
    .await
    .unwrap();

    // A deal, an activity and a consent of the contact to be removed.
    let mut owner = s.db.owner().await;
    let (pipeline, stage): (Uuid, Uuid) =
        sqlx::query_as("select pipeline_id, id from stages where org_id = $1 limit 1")
            .bind(s.org)
            .fetch_one(&mut owner)
            .await
            .unwrap();
    sqlx::query(
        "insert into deals (org_id, id, title, pipeline_id, stage_id, contact_id) \
         values ($1, gen_random_uuid(), 'Deal', $2, $3, $4)",
    )
    .bind(s.org)
    .bind(pipeline)
    .bind(stage)
    .bind(remove.id)
    .execute(&mut owner)
    .await
    .unwrap();
    sqlx::query(
        "insert into activities (org_id, id, kind, subject, contact_id) \
         values ($1, gen_random_uuid(), 'note', 'Notiz', $2)",
    )
    .bind(s.org)
    .bind(remove.id)
    .execute(&mut owner)
    .await
    .unwrap();
    sqlx::query(
        "insert into consents (org_id, id, contact_id, status, source) \
         values ($1, gen_random_uuid(), $2, 'granted', 'web')",
    )
    .bind(s.org)
    .bind(remove.id)
    .execute(&mut owner)
    .await
    .unwrap();

    let dups = s
        .scope
        .run(async |tx| contact::duplicates(tx, 10).await)
        .await
        .unwrap();
    assert!(
        dups.iter()
            .any(|g| g.reason == DuplicateReason::Email && g.contact_ids == [keep.id, remove.id]),
        "{dups:?}"
    );

    let merged = s
        .scope
        .run(async |tx| contact::merge(tx, keep.id, remove.id).await)
        .await
        .unwrap();
    assert_eq!(merged.email.as_deref(), Some("jana@acme.example"));
    let addresses: Vec<&str> = merged.emails.iter().map(|e| e.email.as_str()).collect();
    assert_eq!(addresses, ["jana@acme.example", "j.jung@privat.example"]);
    assert_eq!(merged.phone.as_deref(), Some("+49301234567"));
    assert_eq!(merged.tags, ["A", "B"]);
    assert_eq!(merged.job_title.as_deref(), Some("CFO"));
    assert_eq!(merged.company_id, Some(acme));

    for sql in [
        "select count(*) from deals where contact_id = $1",
        "select count(*) from activities where contact_id = $1",
        "select count(*) from consents where contact_id = $1",
    ] {
        assert_eq!(count(&s.db, sql, keep.id.uuid()).await, 1, "{sql}");
        assert_eq!(count(&s.db, sql, remove.id.uuid()).await, 0, "{sql}");
    }
    assert!(matches!(
        get(&s.scope, remove.id).await,
        Err(Error::NotFound { .. })
    ));
    let gone = s
        .scope
        .run(async |tx| contact::get_including_deleted(tx, remove.id).await)
        .await
        .unwrap();
    assert!(gone.deleted_at.is_some());
    // The merge is recorded in its own column, not in the custom fields (issue 14, item 4).
    assert!(gone.custom.get("merged_into").is_none());
    let mut o = s.db.owner().await;
    let merged_into: Option<uuid::Uuid> =
        sqlx::query_scalar("select merged_into_id from contacts where id = $1")
            .bind(remove.id)
            .fetch_one(&mut o)
            .await
            .unwrap();
    assert_eq!(merged_into, Some(keep.id.uuid()));
    assert!(gone.emails.is_empty() && gone.phones.is_empty() && gone.tags.is_empty());
    // Its old address now finds the kept contact.
    let found = s
        .scope
        .run(async |tx| contact::find_by_email(tx, "j.jung@privat.example").await)
        .await
        .unwrap();
    assert_eq!(found.id, keep.id);

    let merges = count(
        &s.db,
        "select count(*) from audit_log where action = 'merge' and org_id = $1",
        s.org.uuid(),
    )
    .await;
    // One audit entry per merge (issue 17).
    assert_eq!(merges, 1);
    let events = count(
        &s.db,
        "select count(*) from events where topic = 'contact.merged' and entity_id = $1",
        keep.id.uuid(),
    )
    .await;
    assert_eq!(events, 1);
    let dups = s
        .scope
        .run(async |tx| contact::duplicates(tx, 10).await)
        .await
        .unwrap();
    assert!(dups.is_empty(), "{dups:?}");
}

#[tokio::test]
async fn duplicates_by_name_and_company() {
    let s = setup().await;
    let acme = company(&s.db, s.org, "Acme AG").await;
    let mut a = person("Jörg", "Groß", "joerg1@example.com");
    a.company_id = Some(acme);
    let mut b = person("joerg", "GROSS", "joerg2@example.com");
    b.company_id = Some(acme);
    let c = person("Jörg", "Groß", "joerg3@example.com");
    let a = create(&s.scope, a).await.unwrap();
    let b = create(&s.scope, b).await.unwrap();
    create(&s.scope, c).await.unwrap();
    let dups = s
        .scope
        .run(async |tx| contact::duplicates(tx, 10).await)
        .await
        .unwrap();
    assert_eq!(dups.len(), 1, "{dups:?}");
    assert_eq!(dups[0].reason, DuplicateReason::NameAndCompany);
    assert_eq!(dups[0].contact_ids, [a.id, b.id]);
}

#[tokio::test]
async fn another_organization_cannot_see_or_change_the_contact() {
    let s = setup().await;
    let c = create(&s.scope, person("Karl", "Kunde", "karl@example.com"))
        .await
        .unwrap();
    let (other_org, other_owner) = s.db.org("Fremd AG").await;
    let other = s.db.crm.scope(other_org, other_owner);
    assert!(matches!(
        get(&other, c.id).await,
        Err(Error::NotFound { .. })
    ));
    let patch = ContactPatch {
        last_name: Some("Gekapert".into()),
        ..ContactPatch::at(c.version)
    };
    let upd = other
        .run(async |tx| contact::update(tx, c.id, patch).await)
        .await;
    assert!(matches!(upd, Err(Error::NotFound { .. })), "{upd:?}");
    let del = other
        .run(async |tx| contact::delete(tx, c.id, None).await)
        .await;
    assert!(matches!(del, Err(Error::NotFound { .. })), "{del:?}");
    let found = other
        .run(async |tx| contact::find_by_email(tx, "karl@example.com").await)
        .await;
    assert!(matches!(found, Err(Error::NotFound { .. })));
    let listed = other
        .run(async |tx| contact::list(tx, &ContactFilter::default(), PageRequest::default()).await)
        .await
        .unwrap();
    assert!(listed.items.is_empty());
    // The same address is free in the other organization.
    create(&other, person("Karl", "Anders", "karl@example.com"))
        .await
        .unwrap();
    let mine = get(&s.scope, c.id).await.unwrap();
    assert_eq!(mine, c);
}

#[tokio::test]
async fn a_read_only_user_may_read_but_not_create() {
    let s = setup().await;
    let c = create(&s.scope, person("Lena", "Lesbar", "lena@example.com"))
        .await
        .unwrap();
    let reader = UserId::new();
    let mut owner = s.db.owner().await;
    sqlx::query(
        "insert into users (org_id, id, email, email_norm, role) \
         values ($1, $2, 'leser@kontakt.test', 'leser@kontakt.test', 'read_only')",
    )
    .bind(s.org)
    .bind(reader)
    .execute(&mut owner)
    .await
    .unwrap();
    let scope = s.db.crm.scope(s.org, reader);
    let err = create(&scope, person("Neu", "Person", "neu@example.com"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
    let err = scope
        .run(async |tx| contact::delete(tx, c.id, None).await)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
    assert_eq!(get(&scope, c.id).await.unwrap().id, c.id);
}
