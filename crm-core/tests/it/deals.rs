//! Deals: creation with defaults and validation, stage moves with history, the status
//! rules (won deals stay put, lost deals need a reason, in Rust and in the database),
//! optimistic locking, filtered and streamed lists, and the pipeline reports.

use chrono::{Datelike as _, Months, NaiveDate, Utc};
use crm_core::domain::{DealStatus, OwnerRole};
use crm_core::report;
use crm_core::store::deal::{self, DealFilter, DealPatch, NewDeal};
use crm_core::store::owner::Owner;
use crm_core::store::pipeline;
use crm_core::store::{Page, PageRequest};
use crm_core::testing::TestDb;
use crm_core::{CompanyId, ContactId, Error, OrgId, Tx, UserId};
use rust_decimal::Decimal;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn fields(e: &Error) -> Vec<String> {
    match e {
        Error::Validation(f) => f.0.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// A company, written directly (the company store is not under test here).
pub async fn company(tx: &mut Tx, name: &str) -> CompanyId {
    let id = CompanyId::new();
    sqlx::query("insert into companies (org_id, id, name) values ($1, $2, $3)")
        .bind(tx.org())
        .bind(id)
        .bind(name)
        .execute(tx.conn())
        .await
        .unwrap();
    id
}

/// A contact, written directly.
pub async fn contact(tx: &mut Tx, first: &str, last: &str) -> ContactId {
    let id = ContactId::new();
    sqlx::query("insert into contacts (org_id, id, first_name, last_name) values ($1, $2, $3, $4)")
        .bind(tx.org())
        .bind(id)
        .bind(first)
        .bind(last)
        .execute(tx.conn())
        .await
        .unwrap();
    id
}

fn new_deal(title: &str) -> NewDeal {
    NewDeal {
        title: title.into(),
        ..Default::default()
    }
}

async fn events(tx: &mut Tx, org: OrgId, entity: uuid::Uuid) -> Vec<(String, serde_json::Value)> {
    sqlx::query_as(
        "select topic, payload from events where org_id = $1 and entity_id = $2 order by seq",
    )
    .bind(org)
    .bind(entity)
    .fetch_all(tx.conn())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_new_deal_lands_in_the_first_stage_of_the_default_pipeline() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let acme = company(&mut tx, "Acme Maschinenbau GmbH").await;
    let anna = contact(&mut tx, "Anna", "Schütz").await;

    let d = deal::create(
        &mut tx,
        NewDeal {
            title: "  Rahmenvertrag 2027 ".into(),
            value: Some("1.234,50".into()),
            company_id: Some(acme),
            contact_id: Some(anna),
            expected_close_date: NaiveDate::from_ymd_opt(2027, 3, 31),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(d.title, "Rahmenvertrag 2027");
    assert_eq!((d.pipeline.as_str(), d.stage.as_str()), ("Sales", "Lead"));
    assert_eq!(d.value, dec("1234.50"));
    assert_eq!(d.currency, "EUR", "the organization's default currency");
    assert_eq!(d.status, DealStatus::Open);
    assert_eq!(d.company.as_deref(), Some("Acme Maschinenbau GmbH"));
    assert_eq!(d.contact.as_deref(), Some("Anna Schütz"));
    assert_eq!(d.probability, dec("10.00"));
    assert_eq!(d.closed_at, None);
    assert_eq!(
        d.owners,
        [Owner {
            user_id: owner,
            role: OwnerRole::Owner
        }]
    );
    assert_eq!(d.version, 1);

    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["value"], "1234.50");
    assert_eq!(json["status"], "open");
    assert_eq!(json["expected_close_date"], "2027-03-31");
    assert_eq!(json["lost_reason"], serde_json::Value::Null);

    let history = deal::stage_history(&mut tx, d.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].from_stage_id, None);
    assert_eq!(history[0].to_stage.as_deref(), Some("Lead"));
    assert_eq!(history[0].actor_id, Some(owner));
    let ev = events(&mut tx, org, d.id.uuid()).await;
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].0, "deal.created");
    let audit: serde_json::Value =
        sqlx::query_scalar("select payload from audit_log where org_id = $1 and entity_id = $2")
            .bind(org)
            .bind(d.id)
            .fetch_one(tx.conn())
            .await
            .unwrap();
    assert!(audit.get("title").is_some());
    assert!(
        audit.get("contact").is_none(),
        "no contact name in the audit payload"
    );

    // JSON input as the CLI sends it, with a named pipeline and stage, a number value.
    let named: NewDeal = serde_json::from_value(serde_json::json!({
        "title": "Wartung", "value": 980.5, "currency": "chf",
        "pipeline": "sales", "stage": "proposal",
    }))
    .unwrap();
    let d2 = deal::create(&mut tx, named).await.unwrap();
    assert_eq!(
        (d2.stage.as_str(), d2.currency.as_str()),
        ("Proposal", "CHF")
    );
    assert_eq!(d2.value, dec("980.50"));
}

#[tokio::test]
async fn invalid_deals_report_every_field_at_once() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let e = deal::create(
        &mut tx,
        NewDeal {
            title: " ".into(),
            value: Some("-5".into()),
            currency: Some("XXX".into()),
            pipeline: Some("Nope".into()),
            contact_id: Some(ContactId::new()),
            owners: vec![Owner {
                user_id: UserId::new(),
                role: OwnerRole::Owner,
            }],
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        fields(&e),
        [
            "title",
            "currency",
            "value",
            "pipeline",
            "contact_id",
            "owners"
        ]
    );
    let e = deal::create(
        &mut tx,
        NewDeal {
            value: Some("10,125".into()),
            stage: Some("Won't".into()),
            ..new_deal("X")
        },
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&e), ["value", "stage"]);
    let e = deal::create(
        &mut tx,
        NewDeal {
            value: Some("12,5".into()),
            currency: Some("JPY".into()),
            ..new_deal("X")
        },
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&e), ["value"]);
}

#[tokio::test]
async fn moving_records_history_with_the_actor_and_an_event() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let d = deal::create(&mut tx, new_deal("Move me")).await.unwrap();
    let lead = d.stage_id;

    let moved = deal::move_to_stage(&mut tx, d.id, "qualified", Some(d.version))
        .await
        .unwrap();
    assert_eq!(moved.stage, "Qualified");
    assert_eq!(moved.probability, dec("25.00"));
    assert_eq!(moved.version, d.version + 1);
    let history = deal::stage_history(&mut tx, d.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].from_stage_id, Some(lead));
    assert_eq!(history[1].from_stage.as_deref(), Some("Lead"));
    assert_eq!(history[1].to_stage_id, Some(moved.stage_id));
    assert_eq!(history[1].actor_id, Some(owner));
    let ev = events(&mut tx, org, d.id.uuid()).await;
    let (topic, payload) = ev.last().unwrap();
    assert_eq!(topic, "deal.stage_changed");
    assert_eq!(payload["from"], lead.to_string());
    assert_eq!(payload["to"], moved.stage_id.to_string());

    // A stale version, an unknown stage, the same stage.
    let e = deal::move_to_stage(&mut tx, d.id, "Proposal", Some(d.version))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let e = deal::move_to_stage(&mut tx, d.id, "Nowhere", None)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["stage"]);
    let same = deal::move_to_stage(&mut tx, d.id, "Qualified", None)
        .await
        .unwrap();
    assert_eq!(same.version, moved.version, "no move, no change");

    // To another pipeline's stage by id: the pipeline follows. By name it is not found.
    let p = pipeline::create(&mut tx, "Partners", &[("Intro", Decimal::from(15))], false)
        .await
        .unwrap();
    let e = deal::move_to_stage(&mut tx, d.id, "Intro", None)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["stage"]);
    let across = deal::move_to_stage(&mut tx, d.id, &p.stages[0].id.to_string(), None)
        .await
        .unwrap();
    assert_eq!((across.pipeline_id, across.stage.as_str()), (p.id, "Intro"));
    assert_eq!(deal::stage_history(&mut tx, d.id).await.unwrap().len(), 3);
}

#[tokio::test]
async fn won_deals_stay_put_and_lost_deals_need_a_known_reason() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let d = deal::create(&mut tx, new_deal("Win me")).await.unwrap();

    let e = deal::win(&mut tx, d.id, Some(d.version + 5))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let won = deal::win(&mut tx, d.id, Some(d.version)).await.unwrap();
    assert_eq!(won.status, DealStatus::Won);
    assert!(won.closed_at.is_some());
    let e = deal::move_to_stage(&mut tx, d.id, "Commit", None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Conflict(m) if m.contains("reopen")),
        "{e:?}"
    );
    let e = deal::win(&mut tx, d.id, None).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let e = deal::lose(&mut tx, d.id, "price", None, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Conflict(m) if m.contains("reopen it first")),
        "{e:?}"
    );
    assert_eq!(
        events(&mut tx, org, d.id.uuid()).await.last().unwrap().0,
        "deal.won"
    );

    let reopened = deal::reopen(&mut tx, d.id).await.unwrap();
    assert_eq!(
        (reopened.status, reopened.closed_at),
        (DealStatus::Open, None)
    );

    let e = deal::lose(&mut tx, d.id, "  ", None, None)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["lost_reason"]);
    let e = deal::lose(&mut tx, d.id, "bad_weather", Some("x".repeat(2001)), None)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["lost_reason_text", "lost_reason"]);
    // A reason that was switched off no longer counts.
    sqlx::query("update lost_reasons set active = false where org_id = $1 and key = 'timing'")
        .bind(org)
        .execute(tx.conn())
        .await
        .unwrap();
    let e = deal::lose(&mut tx, d.id, "timing", None, None)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["lost_reason"]);

    // By German label.
    let lost = deal::lose(
        &mut tx,
        d.id,
        "kein budget",
        Some(" Budget 2027 gestrichen ".into()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(lost.status, DealStatus::Lost);
    assert_eq!(lost.lost_reason.as_deref(), Some("no_budget"));
    assert_eq!(
        lost.lost_reason_text.as_deref(),
        Some("Budget 2027 gestrichen")
    );
    assert!(lost.closed_at.is_some());
    assert_eq!(
        events(&mut tx, org, d.id.uuid()).await.last().unwrap().0,
        "deal.lost"
    );

    let reopened = deal::reopen(&mut tx, d.id).await.unwrap();
    assert_eq!(reopened.status, DealStatus::Open);
    assert_eq!(
        (reopened.lost_reason, reopened.lost_reason_text),
        (None, None)
    );
    assert_eq!(reopened.closed_at, None);
    let e = deal::reopen(&mut tx, d.id).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
}

#[tokio::test]
async fn the_database_refuses_a_lost_deal_without_a_reason() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let d = db
        .crm
        .scope(org, owner)
        .run(async |tx| deal::create(tx, new_deal("Tamper")).await)
        .await
        .unwrap();
    let mut conn = db.owner().await;
    let e = sqlx::query("update deals set status = 'lost', closed_at = now() where id = $1")
        .bind(d.id)
        .execute(&mut conn)
        .await
        .unwrap_err();
    let db_err = e.as_database_error().expect("a database error");
    assert_eq!(db_err.code().as_deref(), Some("23514"));
    assert_eq!(db_err.constraint(), Some("deals_lost_needs_reason"));
    // Mapped for users: a validation error naming the field.
    assert_eq!(fields(&Error::from(e)), ["lost_reason"]);
}

#[tokio::test]
async fn updates_name_their_version_and_change_only_what_they_say() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let acme = company(&mut tx, "Acme AG").await;
    let d = deal::create(
        &mut tx,
        NewDeal {
            value: Some("1000".into()),
            company_id: Some(acme),
            ..new_deal("Lizenz")
        },
    )
    .await
    .unwrap();

    let patch = DealPatch {
        version: d.version,
        title: Some("Lizenz 50 Plätze".into()),
        value: Some("2500,00".into()),
        company_id: Some(None),
        custom: Some(
            serde_json::json!({ "source": "fair" })
                .as_object()
                .unwrap()
                .clone(),
        ),
        ..Default::default()
    };
    let after = deal::update(&mut tx, d.id, patch.clone()).await.unwrap();
    assert_eq!(after.title, "Lizenz 50 Plätze");
    assert_eq!(after.value, dec("2500.00"));
    assert_eq!((after.company_id, after.company), (None, None));
    assert_eq!(after.custom["source"], "fair");
    assert_eq!(after.stage_id, d.stage_id);
    assert_eq!(after.version, d.version + 1);
    let (topic, payload) = events(&mut tx, org, d.id.uuid()).await.pop().unwrap();
    assert_eq!(topic, "deal.updated");
    let mut changed: Vec<String> = serde_json::from_value(payload["fields"].clone()).unwrap();
    changed.sort();
    assert_eq!(changed, ["company_id", "custom", "title", "value"]);

    // The same patch again: its version is stale now.
    let e = deal::update(&mut tx, d.id, patch).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");

    // A currency change re-checks the stored value against the new currency.
    let e = deal::update(
        &mut tx,
        d.id,
        DealPatch {
            version: after.version,
            value: Some("10,5".into()),
            currency: Some("JPY".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&e), ["value"]);

    // Nothing to change: nothing written.
    let same = deal::update(
        &mut tx,
        d.id,
        DealPatch {
            version: after.version,
            title: Some("Lizenz 50 Plätze".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(same.version, after.version);

    let deleted_id = d.id;
    deal::delete(&mut tx, deleted_id).await.unwrap();
    assert!(matches!(
        deal::get(&mut tx, deleted_id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    let e = deal::update(
        &mut tx,
        deleted_id,
        DealPatch {
            version: same.version,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    let restored = deal::restore(&mut tx, deleted_id).await.unwrap();
    assert_eq!(restored.deleted_at, None);
}

#[tokio::test]
async fn lists_filter_page_and_stream() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let acme = company(&mut tx, "Acme AG").await;
    let mut ids = Vec::new();
    for (i, title) in ["Server 100%", "Server B", "Wartung", "Schulung", "Lizenz"]
        .iter()
        .enumerate()
    {
        let d = deal::create(
            &mut tx,
            NewDeal {
                value: Some(format!("{}", (i + 1) * 1000)),
                company_id: (i % 2 == 0).then_some(acme),
                expected_close_date: NaiveDate::from_ymd_opt(2027, 1 + i as u32, 15),
                ..new_deal(title)
            },
        )
        .await
        .unwrap();
        ids.push(d.id);
    }
    deal::win(&mut tx, ids[3], None).await.unwrap();
    deal::delete(&mut tx, ids[4]).await.unwrap();

    let list = async |tx: &mut Tx, f: DealFilter| {
        let page: Page<deal::Deal> = deal::list(tx, &f, PageRequest::default()).await.unwrap();
        page.items
            .into_iter()
            .map(|d| d.title)
            .collect::<Vec<String>>()
    };
    assert_eq!(
        list(&mut tx, DealFilter::default()).await,
        ["Server 100%", "Server B", "Wartung", "Schulung"]
    );
    assert_eq!(
        list(
            &mut tx,
            DealFilter {
                status: Some(DealStatus::Open),
                ..Default::default()
            }
        )
        .await,
        ["Server 100%", "Server B", "Wartung"]
    );
    assert_eq!(
        list(
            &mut tx,
            DealFilter {
                text: Some("server".into()),
                ..Default::default()
            }
        )
        .await,
        ["Server 100%", "Server B"]
    );
    assert_eq!(
        list(
            &mut tx,
            DealFilter {
                text: Some("100%".into()),
                ..Default::default()
            }
        )
        .await,
        ["Server 100%"],
        "a % in the text is literal"
    );
    assert_eq!(
        list(
            &mut tx,
            DealFilter {
                company_id: Some(acme),
                ..Default::default()
            }
        )
        .await,
        ["Server 100%", "Wartung"]
    );
    assert_eq!(
        list(
            &mut tx,
            DealFilter {
                value_min: Some(dec("2000")),
                value_max: Some(dec("3000")),
                ..Default::default()
            }
        )
        .await,
        ["Server B", "Wartung"]
    );
    assert_eq!(
        list(
            &mut tx,
            DealFilter {
                expected_close_from: NaiveDate::from_ymd_opt(2027, 3, 1),
                expected_close_to: NaiveDate::from_ymd_opt(2027, 4, 30),
                ..Default::default()
            }
        )
        .await,
        ["Wartung", "Schulung"]
    );
    assert_eq!(
        list(
            &mut tx,
            DealFilter {
                owner: Some(owner),
                include_deleted: true,
                ..Default::default()
            }
        )
        .await
        .len(),
        5
    );
    assert!(
        list(
            &mut tx,
            DealFilter {
                owner: Some(UserId::new()),
                ..Default::default()
            }
        )
        .await
        .is_empty()
    );
    let lead = pipeline::default(&mut tx).await.unwrap().stages[0].id;
    assert_eq!(
        list(
            &mut tx,
            DealFilter {
                stage: Some(lead),
                ..Default::default()
            }
        )
        .await
        .len(),
        4
    );

    // Pages of two cover everything once, with owners loaded per page.
    let mut seen = Vec::new();
    let mut req = PageRequest {
        limit: 2,
        after: None,
    };
    loop {
        let page = deal::list(&mut tx, &DealFilter::default(), req)
            .await
            .unwrap();
        assert!(
            page.items
                .iter()
                .all(|d| d.owners.len() == 1 && d.company.is_some() == d.company_id.is_some())
        );
        seen.extend(page.items.iter().map(|d| d.id));
        match page.next {
            Some(c) => req.after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ids[..4]);

    let mut batches = Vec::new();
    let n = deal::for_each_batch(&mut tx, &DealFilter::default(), 3, async |batch| {
        batches.push(batch.len());
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!((n, batches), (4, vec![3, 1]));
}

#[tokio::test]
async fn deals_of_another_organization_are_invisible() {
    let db = TestDb::new().await;
    let (a, a_owner) = db.org("Alpha GmbH").await;
    let (b, b_owner) = db.org("Beta AG").await;
    let d = db
        .crm
        .scope(a, a_owner)
        .run(async |tx| deal::create(tx, new_deal("Secret")).await)
        .await
        .unwrap();
    let mut tx = db.crm.scope(b, b_owner).begin().await.unwrap();
    assert!(matches!(
        deal::get(&mut tx, d.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        deal::win(&mut tx, d.id, None).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        deal::move_to_stage(&mut tx, d.id, "Qualified", None)
            .await
            .unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        deal::stage_history(&mut tx, d.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    let page = deal::list(&mut tx, &DealFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert!(page.items.is_empty());
    // Org B cannot put its deal into org A's stage either.
    let e = deal::create(
        &mut tx,
        NewDeal {
            stage: Some(d.stage_id.to_string()),
            ..new_deal("X")
        },
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&e), ["stage"]);
}

#[tokio::test]
async fn reports_count_open_deals_per_stage_and_weight_them() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let acme = company(&mut tx, "Acme AG").await;
    let bob = contact(&mut tx, "Bob", "Becker").await;
    let this_month = Utc::now().date_naive().with_day(15).unwrap();
    let next_month = this_month.checked_add_months(Months::new(1)).unwrap();
    let far = this_month.checked_add_months(Months::new(12)).unwrap();
    let past = this_month.checked_sub_months(Months::new(2)).unwrap();
    // (title, value, currency, stage, expected close)
    let specs: [(&str, &str, &str, &str, Option<NaiveDate>); 7] = [
        ("A", "1000", "EUR", "Lead", Some(this_month)), // 10% → 100
        ("B", "2000", "EUR", "Proposal", Some(next_month)), // 50% → 1000
        ("C", "400", "EUR", "Proposal", Some(past)),    // 50% → 200, counts now
        ("D", "3000", "CHF", "Negotiation", Some(next_month)), // 75% → 2250
        ("E", "999", "EUR", "Commit", Some(far)),       // beyond the window
        ("F", "500", "EUR", "Qualified", None),         // 25% → 125, undated
        ("G", "7000", "EUR", "Lead", Some(this_month)), // won below
    ];
    let mut ids = Vec::new();
    for (title, value, currency, stage, close) in specs {
        let d = deal::create(
            &mut tx,
            NewDeal {
                value: Some(value.into()),
                currency: Some(currency.into()),
                stage: Some(stage.into()),
                expected_close_date: close,
                company_id: (title == "B").then_some(acme),
                contact_id: (title == "B").then_some(bob),
                ..new_deal(title)
            },
        )
        .await
        .unwrap();
        ids.push(d.id);
    }
    deal::win(&mut tx, ids[6], None).await.unwrap();

    let summary = report::pipeline_summary(&mut tx, None).await.unwrap();
    let per_stage: Vec<(String, i64, String, String)> = summary
        .stages
        .iter()
        .map(|s| {
            (
                s.stage.clone(),
                s.deals,
                s.value.to_string(),
                s.currency.clone(),
            )
        })
        .collect();
    assert_eq!(
        per_stage,
        [
            ("Lead".into(), 1, "1000.00".into(), "EUR".into()),
            ("Qualified".into(), 1, "500.00".into(), "EUR".into()),
            ("Proposal".into(), 2, "2400.00".into(), "EUR".into()),
            ("Negotiation".into(), 1, "3000.00".into(), "CHF".into()),
            ("Commit".into(), 1, "999.00".into(), "EUR".into()),
        ]
    );
    assert_eq!((summary.won, summary.lost), (1, 0));

    let board = report::board(&mut tx, None).await.unwrap();
    let columns: Vec<(&str, i32, usize)> = board
        .iter()
        .map(|c| (c.stage.as_str(), c.position, c.deals.len()))
        .collect();
    assert_eq!(
        columns,
        [
            ("Lead", 0, 1),
            ("Qualified", 1, 1),
            ("Proposal", 2, 2),
            ("Negotiation", 3, 1),
            ("Commit", 4, 1)
        ]
    );
    let proposal: Vec<&str> = board[2].deals.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(proposal, ["C", "B"], "by expected close date");
    let b = &board[2].deals[1];
    assert_eq!(b.company.as_deref(), Some("Acme AG"));
    assert_eq!(b.contact.as_deref(), Some("Bob Becker"));
    assert_eq!((b.value, b.currency.as_str()), (dec("2000.00"), "EUR"));
    assert_eq!(b.expected_close_date, Some(next_month));
    assert_eq!(b.days_in_stage, 0);
    // Days in stage count from the last entry into the stage.
    sqlx::query("update deal_stage_history set moved_at = now() - interval '3 days 2 hours' where org_id = $1 and deal_id = $2")
        .bind(org)
        .bind(ids[1])
        .execute(tx.conn())
        .await
        .unwrap();
    let board = report::board(&mut tx, None).await.unwrap();
    assert_eq!(board[2].deals[1].days_in_stage, 3);

    let f = report::forecast(&mut tx, None, 3).await.unwrap();
    assert_eq!(f.from, this_month.with_day(1).unwrap());
    assert_eq!(f.until, f.from.checked_add_months(Months::new(3)).unwrap());
    let rows: Vec<(Option<NaiveDate>, &str, i64, String, String)> = f
        .rows
        .iter()
        .map(|r| {
            (
                r.month,
                r.currency.as_str(),
                r.deals,
                r.value.to_string(),
                r.weighted.to_string(),
            )
        })
        .collect();
    let next = f.from.checked_add_months(Months::new(1)).unwrap();
    assert_eq!(
        rows,
        [
            (Some(f.from), "EUR", 2, "1400.00".into(), "300.00".into()),
            (Some(next), "CHF", 1, "3000.00".into(), "2250.00".into()),
            (Some(next), "EUR", 1, "2000.00".into(), "1000.00".into()),
            (None, "EUR", 1, "500.00".into(), "125.00".into()),
        ]
    );
    let longer = report::forecast(&mut tx, None, 13).await.unwrap();
    assert!(
        longer
            .rows
            .iter()
            .any(|r| r.month == Some(far.with_day(1).unwrap()))
    );
}

#[tokio::test]
async fn a_user_who_sees_only_own_deals_can_create_one_for_someone_else() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let user = UserId::new();
    let mut conn = db.owner().await;
    sqlx::query(
        "insert into users (org_id, id, email, email_norm, role, visibility) \
         values ($1, $2, 'u@alpha.test', 'u@alpha.test', 'user', 'own')",
    )
    .bind(org)
    .bind(user)
    .execute(&mut conn)
    .await
    .unwrap();
    let mut tx = db.crm.scope(org, user).begin().await.unwrap();
    let d = deal::create(
        &mut tx,
        NewDeal {
            owners: vec![Owner {
                user_id: owner,
                role: OwnerRole::Owner,
            }],
            ..new_deal("Handed over")
        },
    )
    .await
    .unwrap();
    assert_eq!(
        d.owners,
        [Owner {
            user_id: owner,
            role: OwnerRole::Owner
        }]
    );
    assert!(matches!(
        deal::get(&mut tx, d.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    tx.commit().await.unwrap();
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    assert_eq!(deal::get(&mut tx, d.id).await.unwrap().title, "Handed over");
}
