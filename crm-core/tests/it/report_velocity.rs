//! Issue 18: velocity from the stage history (days per stage, conversion), win rate and
//! lost reasons per month, and stuck deals; every figure computed by hand.

use chrono::{Duration, Utc};
use crm_core::report::{self, LostReasonCount, VelocityQuery};
use crm_core::store::deal::{self, NewDeal};
use crm_core::testing::TestDb;
use crm_core::{DealId, Scope};
use rust_decimal::Decimal;

use crate::report_as_of::{day, stamp};

async fn create(scope: &Scope, title: &str) -> DealId {
    let new = NewDeal {
        title: title.into(),
        ..Default::default()
    };
    scope
        .run(async |tx| deal::create(tx, new).await)
        .await
        .unwrap()
        .id
}

async fn move_to(scope: &Scope, id: DealId, stage: &str) {
    scope
        .run(async |tx| deal::move_to_stage(tx, id, stage, None).await)
        .await
        .unwrap();
}

fn dec(s: &str) -> Option<Decimal> {
    Some(s.parse().unwrap())
}

#[tokio::test]
async fn velocity_measures_stays_conversion_and_closings_per_month() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let scope = db.crm.scope(org, owner);
    let mut conn = db.owner().await;

    // February: V2 Lead 4 days, Qualified 1 day, lost (price); V3 Lead 6 days, then stays
    // in Qualified; V4 Lead 3 days, lost (competitor).
    let v2 = create(&scope, "V2").await;
    let v3 = create(&scope, "V3").await;
    let v4 = create(&scope, "V4").await;
    stamp(&mut conn, org, day(2, 1)).await;
    scope
        .run(async |tx| deal::lose(tx, v4, "competitor", None, None).await)
        .await
        .unwrap();
    stamp(&mut conn, org, day(2, 4)).await;
    move_to(&scope, v2, "Qualified").await;
    stamp(&mut conn, org, day(2, 5)).await;
    scope
        .run(async |tx| deal::lose(tx, v2, "price", None, None).await)
        .await
        .unwrap();
    stamp(&mut conn, org, day(2, 6)).await;
    move_to(&scope, v3, "Qualified").await;
    stamp(&mut conn, org, day(2, 7)).await;
    // March: V1 Lead 2 days, Qualified 4, Proposal 4, won.
    let v1 = create(&scope, "V1").await;
    stamp(&mut conn, org, day(3, 1)).await;
    move_to(&scope, v1, "Qualified").await;
    stamp(&mut conn, org, day(3, 3)).await;
    move_to(&scope, v1, "Proposal").await;
    stamp(&mut conn, org, day(3, 7)).await;
    scope
        .run(async |tx| deal::win(tx, v1, None).await)
        .await
        .unwrap();
    stamp(&mut conn, org, day(3, 11)).await;
    // Today: V5, fresh in Lead (an unfinished stay; not stuck).
    create(&scope, "V5").await;

    let v = scope
        .run(async |tx| report::velocity(tx, &VelocityQuery::default()).await)
        .await
        .unwrap();
    let stages: Vec<_> = v
        .stages
        .iter()
        .map(|s| {
            (
                s.stage.as_str(),
                s.stays,
                s.avg_days,
                s.median_days,
                s.entered,
                s.advanced,
                s.conversion,
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            // Stays 2, 4, 6, 3; V1, V2, V3 went on (V4 lost, V5 still there).
            ("Lead", 4, dec("3.75"), dec("3.50"), 5, 3, dec("60.00")),
            // Stays 4 (V1) and 1 (V2); V3 still there; only V1 went on.
            ("Qualified", 2, dec("2.50"), dec("2.50"), 3, 1, dec("33.33")),
            ("Proposal", 1, dec("4.00"), dec("4.00"), 1, 1, dec("100.00")),
            ("Negotiation", 0, None, None, 0, 0, None),
            ("Commit", 0, None, None, 0, 0, None),
        ]
    );
    let periods: Vec<_> = v
        .periods
        .iter()
        .map(|p| {
            (
                p.month.to_string(),
                p.won,
                p.lost,
                p.win_rate,
                p.lost_reasons.clone(),
            )
        })
        .collect();
    let reason = |r: &str| LostReasonCount {
        reason: r.into(),
        deals: 1,
    };
    assert_eq!(
        periods,
        [
            (
                "2026-02-01".into(),
                0,
                2,
                dec("0.00"),
                vec![reason("competitor"), reason("price")]
            ),
            ("2026-03-01".into(), 1, 0, dec("100.00"), vec![]),
        ]
    );

    // Bounded to March: only V1's stays and closing.
    let march = VelocityQuery {
        since: Some(day(3, 1) - Duration::hours(12)),
        until: Some(day(4, 1)),
        ..Default::default()
    };
    let v = scope
        .run(async |tx| report::velocity(tx, &march).await)
        .await
        .unwrap();
    assert_eq!(v.stages[0].stays, 1);
    assert_eq!(v.stages[0].avg_days, dec("2.00"));
    assert_eq!(v.periods.len(), 1);

    // Stuck: V3 has been in Qualified since 7 February; V5 is fresh.
    let stuck = scope
        .run(async |tx| report::stuck(tx, None, 30).await)
        .await
        .unwrap();
    assert_eq!(
        stuck
            .iter()
            .map(|s| (s.id, s.stage.as_str()))
            .collect::<Vec<_>>(),
        [(v3, "Qualified")]
    );
    assert_eq!(stuck[0].entered_at, day(2, 7));
    assert_eq!(
        i64::from(stuck[0].days_in_stage),
        (Utc::now() - day(2, 7)).num_days()
    );
    let long = (Utc::now() - day(2, 7)).num_days() as u32;
    assert!(
        scope
            .run(async |tx| report::stuck(tx, None, long + 1).await)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        scope
            .run(async |tx| report::stuck(tx, None, 0).await)
            .await
            .is_err()
    );
}
