//! Pipelines and stages: creation with validation, stage positions kept contiguous when
//! stages are added, reordered and removed, and the rules that protect deals.

use crm_core::store::deal::{self, NewDeal};
use crm_core::store::pipeline::{self, Pipeline};
use crm_core::testing::TestDb;
use crm_core::{Error, StageId, Tx};
use rust_decimal::Decimal;

fn pct(n: i64) -> Decimal {
    Decimal::from(n)
}

fn names(p: &Pipeline) -> Vec<(&str, i32)> {
    p.stages
        .iter()
        .map(|s| (s.name.as_str(), s.position))
        .collect()
}

fn fields(e: &Error) -> Vec<String> {
    match e {
        Error::Validation(f) => f.0.iter().map(|f| f.field.clone()).collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

async fn partners(tx: &mut Tx) -> Pipeline {
    pipeline::create(
        tx,
        "Partners",
        &[
            ("Intro", pct(10)),
            ("Pilot", pct(40)),
            ("Contract", pct(80)),
        ],
        false,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn create_keeps_stage_order_and_reports_every_invalid_field() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();

    let p = partners(&mut tx).await;
    assert_eq!(names(&p), [("Intro", 0), ("Pilot", 1), ("Contract", 2)]);
    assert!(
        !p.is_default,
        "the organization already has a default pipeline"
    );
    assert_eq!(p.stages[1].probability.to_string(), "40.00");
    assert_eq!(pipeline::default(&mut tx).await.unwrap().name, "Sales");
    assert_eq!(
        pipeline::get_by_name(&mut tx, "partners").await.unwrap().id,
        p.id
    );
    assert_eq!(
        pipeline::find(&mut tx, &p.id.to_string())
            .await
            .unwrap()
            .name,
        "Partners"
    );
    let all: Vec<String> = pipeline::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(all, ["Sales", "Partners"]);

    let no_stages: &[(&str, Decimal)] = &[];
    let e = pipeline::create(&mut tx, "  ", no_stages, false)
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["name", "stages"]);
    let e = pipeline::create(
        &mut tx,
        "Bad",
        &[
            ("", pct(10)),
            ("A", pct(150)),
            ("a", Decimal::new(12345, 3)),
        ],
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(
        fields(&e),
        [
            "stages[0].name",
            "stages[1].probability",
            "stages[2].name",
            "stages[2].probability"
        ]
    );
    let e = pipeline::create(&mut tx, "Partners", &[("X", pct(1))], false)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
}

#[tokio::test]
async fn make_default_moves_the_default_and_deals_follow_it() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let p = pipeline::create(&mut tx, "Projects", &[("Scoping", pct(20))], true)
        .await
        .unwrap();
    assert!(p.is_default);
    let defaults: Vec<String> = pipeline::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| p.is_default)
        .map(|p| p.name)
        .collect();
    assert_eq!(defaults, ["Projects"]);
    let d = deal::create(
        &mut tx,
        NewDeal {
            title: "Rollout".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (d.pipeline.as_str(), d.stage.as_str()),
        ("Projects", "Scoping")
    );

    let sales = pipeline::get_by_name(&mut tx, "Sales").await.unwrap();
    let sales = pipeline::set_default(&mut tx, sales.id).await.unwrap();
    assert!(sales.is_default);
    assert!(!pipeline::get(&mut tx, p.id).await.unwrap().is_default);
}

#[tokio::test]
async fn adding_a_stage_in_the_middle_shifts_the_later_ones() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let p = partners(&mut tx).await;

    let s = pipeline::add_stage(&mut tx, p.id, "Demo", pct(25), Some(1))
        .await
        .unwrap();
    assert_eq!(s.position, 1);
    let after = pipeline::get(&mut tx, p.id).await.unwrap();
    assert_eq!(
        names(&after),
        [("Intro", 0), ("Demo", 1), ("Pilot", 2), ("Contract", 3)]
    );
    assert!(
        after.version > p.version,
        "a stage change bumps the pipeline's version"
    );

    // No position, or one past the end: appended.
    pipeline::add_stage(&mut tx, p.id, "Signed", pct(100), None)
        .await
        .unwrap();
    pipeline::add_stage(&mut tx, p.id, "Live", pct(100), Some(99))
        .await
        .unwrap();
    // At the front.
    pipeline::add_stage(&mut tx, p.id, "Lead", pct(5), Some(0))
        .await
        .unwrap();
    let after = pipeline::get(&mut tx, p.id).await.unwrap();
    assert_eq!(
        names(&after),
        [
            ("Lead", 0),
            ("Intro", 1),
            ("Demo", 2),
            ("Pilot", 3),
            ("Contract", 4),
            ("Signed", 5),
            ("Live", 6)
        ]
    );

    let e = pipeline::add_stage(&mut tx, p.id, "demo", pct(30), Some(1))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let e = pipeline::add_stage(&mut tx, p.id, "", pct(300), Some(-1))
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["name", "probability", "position"]);

    let renamed = pipeline::rename_stage(&mut tx, s.id, "Product demo")
        .await
        .unwrap();
    assert_eq!(renamed.name, "Product demo");
    let e = pipeline::rename_stage(&mut tx, s.id, "pilot")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let changed = pipeline::set_probability(&mut tx, s.id, Decimal::new(335, 1))
        .await
        .unwrap();
    assert_eq!(changed.probability.to_string(), "33.50");
    let e = pipeline::set_probability(&mut tx, s.id, pct(101))
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["probability"]);
}

#[tokio::test]
async fn reorder_takes_only_a_permutation_of_the_stages() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let p = partners(&mut tx).await;
    let ids: Vec<StageId> = p.stages.iter().map(|s| s.id).collect();

    let reversed: Vec<StageId> = ids.iter().rev().copied().collect();
    let after = pipeline::reorder_stages(&mut tx, p.id, &reversed)
        .await
        .unwrap();
    assert_eq!(names(&after), [("Contract", 0), ("Pilot", 1), ("Intro", 2)]);

    let sales = pipeline::default(&mut tx).await.unwrap();
    for bad in [
        vec![ids[0], ids[1]],
        vec![ids[0], ids[1], ids[1]],
        vec![ids[0], ids[1], ids[2], ids[2]],
        vec![ids[0], ids[1], sales.stages[0].id],
    ] {
        let e = pipeline::reorder_stages(&mut tx, p.id, &bad)
            .await
            .unwrap_err();
        assert_eq!(fields(&e), ["stages"]);
    }
    // Nothing changed by the refused attempts.
    assert_eq!(
        names(&pipeline::get(&mut tx, p.id).await.unwrap()),
        [("Contract", 0), ("Pilot", 1), ("Intro", 2)]
    );
}

#[tokio::test]
async fn removing_a_stage_with_deals_needs_a_target_and_records_the_moves() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let p = partners(&mut tx).await;
    let (intro, pilot, contract) = (p.stages[0].id, p.stages[1].id, p.stages[2].id);
    let mut deals = Vec::new();
    for title in ["Pilot A", "Pilot B"] {
        let d = deal::create(
            &mut tx,
            NewDeal {
                title: title.into(),
                pipeline: Some("Partners".into()),
                stage: Some("Pilot".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        deals.push(d);
    }
    // A lost deal pins the stage as much as an open one.
    deal::lose(&mut tx, deals[1].id, "price", None, None)
        .await
        .unwrap();

    let e = pipeline::remove_stage(&mut tx, pilot, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Conflict(m) if m.contains("2 deal")),
        "{e:?}"
    );
    let e = pipeline::remove_stage(&mut tx, pilot, Some(pilot))
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["move_deals_to"]);
    let sales = pipeline::default(&mut tx).await.unwrap();
    let e = pipeline::remove_stage(&mut tx, pilot, Some(sales.stages[0].id))
        .await
        .unwrap_err();
    assert_eq!(fields(&e), ["move_deals_to"]);

    pipeline::remove_stage(&mut tx, pilot, Some(contract))
        .await
        .unwrap();
    let after = pipeline::get(&mut tx, p.id).await.unwrap();
    assert_eq!(names(&after), [("Intro", 0), ("Contract", 1)]);
    for d in &deals {
        let moved = deal::get(&mut tx, d.id).await.unwrap();
        assert_eq!(moved.stage_id, contract);
        // The history keeps the removed stage by name, before and after the move.
        let history = deal::stage_history(&mut tx, d.id).await.unwrap();
        let steps: Vec<(Option<&str>, Option<&str>)> = history
            .iter()
            .map(|h| (h.from_stage.as_deref(), h.to_stage.as_deref()))
            .collect();
        assert_eq!(
            steps,
            [(None, Some("Pilot")), (Some("Pilot"), Some("Contract"))]
        );
        assert_eq!(history[0].to_stage_id, None, "the stage is gone");
        assert_eq!(history[1].to_stage_id, Some(contract));
        assert_eq!(history[1].actor_id, Some(owner));
    }
    let events: i64 = sqlx::query_scalar(
        "select count(*) from events where org_id = $1 and topic = 'deal.stage_changed' \
         and payload->>'reason' = 'stage_removed'",
    )
    .bind(org)
    .fetch_one(tx.conn())
    .await
    .unwrap();
    assert_eq!(events, 2);

    // An empty stage goes without a target; the last stage never goes.
    pipeline::remove_stage(&mut tx, intro, None).await.unwrap();
    let e = pipeline::remove_stage(&mut tx, contract, None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    assert_eq!(
        names(&pipeline::get(&mut tx, p.id).await.unwrap()),
        [("Contract", 0)]
    );
}

#[tokio::test]
async fn delete_refuses_the_default_and_pipelines_with_open_deals() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let mut tx = db.crm.scope(org, owner).begin().await.unwrap();
    let sales = pipeline::default(&mut tx).await.unwrap();
    let e = pipeline::delete(&mut tx, sales.id).await.unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");

    let p = partners(&mut tx).await;
    let d = deal::create(
        &mut tx,
        NewDeal {
            title: "Open one".into(),
            pipeline: Some(p.id.to_string()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let e = pipeline::delete(&mut tx, p.id).await.unwrap_err();
    assert!(
        matches!(&e, Error::Conflict(m) if m.contains("1 open deal")),
        "{e:?}"
    );
    deal::win(&mut tx, d.id, None).await.unwrap();
    pipeline::delete(&mut tx, p.id).await.unwrap();
    assert!(matches!(
        pipeline::get(&mut tx, p.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    assert_eq!(pipeline::list(&mut tx).await.unwrap().len(), 1);
    let restored = pipeline::restore(&mut tx, p.id).await.unwrap();
    assert!(!restored.is_default);

    // Renames name the version they read.
    let renamed = pipeline::rename(&mut tx, p.id, "Channel", restored.version)
        .await
        .unwrap();
    assert_eq!(renamed.name, "Channel");
    let e = pipeline::rename(&mut tx, p.id, "Stale", restored.version)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
    let e = pipeline::rename(&mut tx, p.id, "Sales", renamed.version)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict(_)), "{e:?}");
}

#[tokio::test]
async fn pipelines_need_configure_permission_and_stay_in_their_organization() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let (other, other_owner) = db.org("Beta AG").await;
    let user = crm_core::UserId::new();
    let mut conn = db.owner().await;
    sqlx::query(
        "insert into users (org_id, id, email, email_norm, role) \
         values ($1, $2, 'u@alpha.test', 'u@alpha.test', 'user')",
    )
    .bind(org)
    .bind(user)
    .execute(&mut conn)
    .await
    .unwrap();

    let mut tx = db.crm.scope(org, user).begin().await.unwrap();
    let e = partners_result(&mut tx).await.unwrap_err();
    assert!(matches!(e, Error::PermissionDenied(_)), "{e:?}");
    assert_eq!(
        pipeline::list(&mut tx).await.unwrap().len(),
        1,
        "a user may read"
    );
    drop(tx);

    let p = db
        .crm
        .scope(org, owner)
        .run(async |tx| partners_result(tx).await)
        .await
        .unwrap();
    let mut tx = db.crm.scope(other, other_owner).begin().await.unwrap();
    assert!(matches!(
        pipeline::get(&mut tx, p.id).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        pipeline::add_stage(&mut tx, p.id, "X", pct(1), None)
            .await
            .unwrap_err(),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        pipeline::remove_stage(&mut tx, p.stages[0].id, None)
            .await
            .unwrap_err(),
        Error::NotFound { .. }
    ));
    let names: Vec<String> = pipeline::list(&mut tx)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Sales"]);
}

async fn partners_result(tx: &mut Tx) -> crm_core::Result<Pipeline> {
    pipeline::create(tx, "Partners", &[("Intro", pct(10))], false).await
}
