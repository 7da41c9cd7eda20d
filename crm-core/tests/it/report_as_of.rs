//! Issue 18: the board, its summary and the forecast as they stood at a past moment,
//! rebuilt from the stage history and the audit log of a scripted history.

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use crm_core::report::{self, ForecastQuery};
use crm_core::store::deal::{self, DealPatch, NewDeal};
use crm_core::testing::TestDb;
use crm_core::{DealId, OrgId, Scope};
use sqlx::PgConnection;

/// Noon UTC of a day of 2026.
pub fn day(month: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, d, 12, 0, 0).unwrap()
}

/// The end of a day of 2026 (as `--as-of 2026-MM-DD` reads in UTC).
fn end_of(month: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, d, 23, 59, 59).unwrap()
}

fn date(month: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, d).unwrap()
}

/// Moves everything written in the last hour (creations, stage moves, closings,
/// deletions, audit entries) of `org` to `at`: the step just committed happened then.
pub async fn stamp(conn: &mut PgConnection, org: OrgId, at: DateTime<Utc>) {
    for sql in [
        "update deals set created_at = $2 where org_id = $1 and created_at > now() - interval '1 hour'",
        "update deals set closed_at = $2 where org_id = $1 and closed_at > now() - interval '1 hour'",
        "update deals set deleted_at = $2 where org_id = $1 and deleted_at > now() - interval '1 hour'",
        "update deal_stage_history set moved_at = $2 where org_id = $1 and moved_at > now() - interval '1 hour'",
        "update audit_log set at = $2 where org_id = $1 and at > now() - interval '1 hour'",
    ] {
        sqlx::query(sql)
            .bind(org)
            .bind(at)
            .execute(&mut *conn)
            .await
            .unwrap();
    }
}

async fn create(
    scope: &Scope,
    title: &str,
    value: &str,
    cur: &str,
    stage: &str,
    close: Option<NaiveDate>,
) -> DealId {
    let new = NewDeal {
        title: title.into(),
        value: Some(value.into()),
        currency: Some(cur.into()),
        stage: Some(stage.into()),
        expected_close_date: close,
        ..Default::default()
    };
    scope
        .run(async |tx| deal::create(tx, new).await)
        .await
        .unwrap()
        .id
}

/// Per stage: the titles, values, currencies and expected close dates of its deals.
async fn board(scope: &Scope, at: Option<DateTime<Utc>>) -> Vec<(String, Vec<String>)> {
    let columns = scope
        .run(async |tx| match at {
            Some(at) => report::board_as_of(tx, None, at).await,
            None => report::board(tx, None).await,
        })
        .await
        .unwrap();
    columns
        .into_iter()
        .map(|c| {
            let deals = c
                .deals
                .iter()
                .map(|d| {
                    let close = d
                        .expected_close_date
                        .map(|c| c.to_string())
                        .unwrap_or_default();
                    format!("{} {} {} {close}", d.title, d.value, d.currency)
                        .trim()
                        .to_string()
                })
                .collect();
            (c.stage, deals)
        })
        .collect()
}

fn cols(
    lead: &[&str],
    qualified: &[&str],
    proposal: &[&str],
    negotiation: &[&str],
    commit: &[&str],
) -> Vec<(String, Vec<String>)> {
    [
        ("Lead", lead),
        ("Qualified", qualified),
        ("Proposal", proposal),
        ("Negotiation", negotiation),
        ("Commit", commit),
    ]
    .into_iter()
    .map(|(s, d)| (s.to_string(), d.iter().map(|d| d.to_string()).collect()))
    .collect()
}

#[tokio::test]
async fn the_board_as_of_a_date_replays_a_scripted_history() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Alpha GmbH").await;
    let scope = db.crm.scope(org, owner);
    let mut conn = db.owner().await;

    let a = create(&scope, "A", "1000", "EUR", "Lead", Some(date(3, 15))).await;
    stamp(&mut conn, org, day(1, 10)).await;
    let d = create(&scope, "D", "300", "EUR", "Lead", None).await;
    stamp(&mut conn, org, day(1, 15)).await;
    let b = create(&scope, "B", "2000", "EUR", "Lead", Some(date(2, 10))).await;
    stamp(&mut conn, org, day(1, 20)).await;
    scope
        .run(async |tx| deal::move_to_stage(tx, a, "Proposal", None).await)
        .await
        .unwrap();
    stamp(&mut conn, org, day(2, 1)).await;
    scope
        .run(async |tx| {
            let v = deal::get(tx, b).await?.version;
            deal::update(
                tx,
                b,
                DealPatch {
                    version: v,
                    value: Some("2500".into()),
                    ..Default::default()
                },
            )
            .await
        })
        .await
        .unwrap();
    stamp(&mut conn, org, day(2, 5)).await;
    scope
        .run(async |tx| deal::win(tx, b, None).await)
        .await
        .unwrap();
    stamp(&mut conn, org, day(2, 15)).await;
    let c = create(&scope, "C", "500", "CHF", "Qualified", None).await;
    stamp(&mut conn, org, day(3, 1)).await;
    scope
        .run(async |tx| {
            deal::move_to_stage(tx, a, "Commit", None).await?;
            let v = deal::get(tx, a).await?.version;
            let patch = DealPatch {
                version: v,
                value: Some("1200".into()),
                expected_close_date: Some(Some(date(4, 30))),
                ..Default::default()
            };
            deal::update(tx, a, patch).await
        })
        .await
        .unwrap();
    stamp(&mut conn, org, day(3, 10)).await;
    scope
        .run(async |tx| {
            deal::reopen(tx, b).await?;
            deal::move_to_stage(tx, b, "Negotiation", None).await
        })
        .await
        .unwrap();
    stamp(&mut conn, org, day(4, 1)).await;
    scope
        .run(async |tx| deal::lose(tx, c, "price", None, None).await)
        .await
        .unwrap();
    stamp(&mut conn, org, day(4, 5)).await;
    scope
        .run(async |tx| deal::delete(tx, d).await)
        .await
        .unwrap();
    stamp(&mut conn, org, day(4, 20)).await;

    let none: &[&str] = &[];
    assert_eq!(
        board(&scope, Some(day(1, 9))).await,
        cols(none, none, none, none, none)
    );
    assert_eq!(
        board(&scope, Some(end_of(1, 31))).await,
        cols(
            &[
                "B 2000.00 EUR 2026-02-10",
                "A 1000.00 EUR 2026-03-15",
                "D 300.00 EUR"
            ],
            none,
            none,
            none,
            none
        )
    );
    assert_eq!(
        board(&scope, Some(end_of(2, 10))).await,
        cols(
            &["B 2500.00 EUR 2026-02-10", "D 300.00 EUR"],
            none,
            &["A 1000.00 EUR 2026-03-15"],
            none,
            none
        ),
        "B's value changed on 5 February, A moved on 1 February"
    );
    assert_eq!(
        board(&scope, Some(end_of(2, 20))).await,
        cols(
            &["D 300.00 EUR"],
            none,
            &["A 1000.00 EUR 2026-03-15"],
            none,
            none
        ),
        "B was won on 15 February"
    );
    assert_eq!(
        board(&scope, Some(end_of(3, 15))).await,
        cols(
            &["D 300.00 EUR"],
            &["C 500.00 CHF"],
            none,
            none,
            &["A 1200.00 EUR 2026-04-30"]
        )
    );
    assert_eq!(
        board(&scope, Some(end_of(4, 10))).await,
        cols(
            &["D 300.00 EUR"],
            none,
            none,
            &["B 2500.00 EUR 2026-02-10"],
            &["A 1200.00 EUR 2026-04-30"]
        ),
        "B reopened and moved on 1 April, C lost on 5 April"
    );
    let today = cols(
        none,
        none,
        none,
        &["B 2500.00 EUR 2026-02-10"],
        &["A 1200.00 EUR 2026-04-30"],
    );
    assert_eq!(
        board(&scope, Some(end_of(5, 1))).await,
        today,
        "D deleted on 20 April"
    );
    assert_eq!(
        board(&scope, None).await,
        today,
        "the history ends where today is"
    );

    // Days in the stage count up to the moment shown.
    let columns = scope
        .run(async |tx| report::board_as_of(tx, None, end_of(3, 15)).await)
        .await
        .unwrap();
    assert_eq!(columns[4].deals[0].days_in_stage, 5);
    assert_eq!(columns[0].deals[0].days_in_stage, 59, "D since 15 January");

    // The summary counts the same deals and the closings up to then.
    let s = scope
        .run(async |tx| report::pipeline_summary_as_of(tx, None, end_of(2, 20)).await)
        .await
        .unwrap();
    let per_stage: Vec<(String, i64, String, String)> = s
        .stages
        .iter()
        .map(|s| {
            (
                s.stage.clone(),
                s.deals,
                s.value.to_string(),
                s.weighted.to_string(),
            )
        })
        .collect();
    assert_eq!(
        per_stage,
        [
            ("Lead".into(), 1, "300.00".into(), "30.00".into()),
            ("Qualified".into(), 0, "0".into(), "0".into()),
            ("Proposal".into(), 1, "1000.00".into(), "500.00".into()),
            ("Negotiation".into(), 0, "0".into(), "0".into()),
            ("Commit".into(), 0, "0".into(), "0".into()),
        ]
    );
    assert_eq!((s.won, s.lost), (1, 0));
    let s = scope
        .run(async |tx| report::pipeline_summary_as_of(tx, None, end_of(4, 10)).await)
        .await
        .unwrap();
    assert_eq!((s.won, s.lost), (0, 1), "B reopened, C lost");

    // The forecast as of 20 February: February holds B's win, March A, D has no date.
    let q = ForecastQuery {
        months: 3,
        as_of: Some(end_of(2, 20)),
        ..Default::default()
    };
    let f = scope
        .run(async |tx| report::forecast_by(tx, &q).await)
        .await
        .unwrap();
    assert_eq!((f.from, f.until), (date(2, 1), date(5, 1)));
    let rows: Vec<(Option<NaiveDate>, i64, String, String, i64, String)> = f
        .rows
        .iter()
        .map(|r| {
            (
                r.month,
                r.deals,
                r.value.to_string(),
                r.weighted.to_string(),
                r.won_deals,
                r.won_value.to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                Some(date(2, 1)),
                0,
                "0".into(),
                "0".into(),
                1,
                "2500.00".into()
            ),
            (
                Some(date(3, 1)),
                1,
                "1000.00".into(),
                "500.00".into(),
                0,
                "0".into()
            ),
            (None, 1, "300.00".into(), "30.00".into(), 0, "0".into()),
        ]
    );
}
