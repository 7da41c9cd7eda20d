//! Issue 18: the forecast by month, owner and stage over one pipeline or all, each
//! currency apart, with the value won beside it; every figure computed by hand.

use chrono::{Datelike as _, Months, NaiveDate, Utc};
use crm_core::domain::OwnerRole;
use crm_core::report::{self, ForecastBy, ForecastGroup, ForecastQuery};
use crm_core::store::deal::{self, NewDeal};
use crm_core::store::owner::Owner;
use crm_core::store::pipeline;
use crm_core::testing::TestDb;
use crm_core::{DealId, Tx, UserId};
use rust_decimal::Decimal;

/// A deal through the store: value, currency, pipeline, stage, expected close, owner.
async fn make(
    tx: &mut Tx,
    title: &str,
    value: &str,
    currency: &str,
    stage: (&str, &str),
    close: Option<NaiveDate>,
    owner: UserId,
) -> DealId {
    deal::create(
        tx,
        NewDeal {
            title: title.into(),
            value: Some(value.into()),
            currency: Some(currency.into()),
            pipeline: Some(stage.0.into()),
            stage: Some(stage.1.into()),
            expected_close_date: close,
            owners: vec![Owner {
                user_id: owner,
                role: OwnerRole::Owner,
            }],
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .id
}

/// (month, owner name, stage name, currency, open deals, value, weighted, won, won value)
type Line = (
    Option<NaiveDate>,
    Option<String>,
    Option<String>,
    String,
    i64,
    String,
    String,
    i64,
    String,
);

fn lines(rows: &[ForecastGroup]) -> Vec<Line> {
    rows.iter()
        .map(|r| {
            (
                r.month,
                r.owner.clone(),
                r.stage.clone(),
                r.currency.clone(),
                r.deals,
                r.value.to_string(),
                r.weighted.to_string(),
                r.won_deals,
                r.won_value.to_string(),
            )
        })
        .collect()
}

fn line(
    month: Option<NaiveDate>,
    owner: Option<&str>,
    stage: Option<&str>,
    currency: &str,
    open: (i64, &str, &str),
    won: (i64, &str),
) -> Line {
    (
        month,
        owner.map(str::to_string),
        stage.map(str::to_string),
        currency.into(),
        open.0,
        open.1.into(),
        open.2.into(),
        won.0,
        won.1.into(),
    )
}

#[tokio::test]
async fn the_forecast_groups_by_month_owner_and_stage_and_keeps_currencies_apart() {
    let db = TestDb::new().await;
    let (org, olga) = db.org("Alpha GmbH").await;
    let uwe = UserId::new();
    let mut conn = db.owner().await;
    sqlx::query(
        "insert into users (org_id, id, email, email_norm, role, first_name, last_name) \
         values ($1, $2, 'uwe@alpha.test', 'uwe@alpha.test', 'user', 'Uwe', 'User')",
    )
    .bind(org)
    .bind(uwe)
    .execute(&mut conn)
    .await
    .unwrap();
    let mut tx = db.crm.scope(org, olga).begin().await.unwrap();
    pipeline::create(
        &mut tx,
        "Projects",
        &[("Scoping", Decimal::from(20)), ("Build", Decimal::from(60))],
        false,
    )
    .await
    .unwrap();
    let this_month = Utc::now().date_naive().with_day(15).unwrap();
    let next_month = this_month.checked_add_months(Months::new(1)).unwrap();
    let far = this_month.checked_add_months(Months::new(12)).unwrap();
    let past = this_month.checked_sub_months(Months::new(2)).unwrap();
    let s = |stage| ("Sales", stage);
    make(
        &mut tx,
        "A",
        "1000",
        "EUR",
        s("Lead"),
        Some(this_month),
        olga,
    )
    .await; // 100
    make(
        &mut tx,
        "B",
        "2000",
        "EUR",
        s("Proposal"),
        Some(next_month),
        uwe,
    )
    .await; // 1000
    make(&mut tx, "C", "400", "EUR", s("Proposal"), Some(past), uwe).await; // 200, now
    make(
        &mut tx,
        "D",
        "3000",
        "CHF",
        s("Negotiation"),
        Some(next_month),
        olga,
    )
    .await; // 2250
    make(&mut tx, "E", "999", "EUR", s("Commit"), Some(far), olga).await; // beyond
    make(&mut tx, "F", "500", "EUR", s("Qualified"), None, uwe).await; // 125, undated
    let g = make(&mut tx, "G", "7000", "EUR", s("Lead"), Some(far), olga).await;
    let h = ("Projects", "Build");
    make(&mut tx, "H", "800", "EUR", h, Some(this_month), uwe).await; // 480
    let i = make(
        &mut tx,
        "I",
        "600",
        "EUR",
        s("Lead"),
        Some(this_month),
        olga,
    )
    .await;
    deal::win(&mut tx, g, None).await.unwrap();
    deal::lose(&mut tx, i, "price", None, None).await.unwrap();
    let first = this_month.with_day(1).unwrap();
    let next = next_month.with_day(1).unwrap();

    let mut q = ForecastQuery {
        months: 3,
        ..Default::default()
    };
    let all = report::forecast_by(&mut tx, &q).await.unwrap();
    assert_eq!(
        (all.from, all.until),
        (first, first.checked_add_months(Months::new(3)).unwrap())
    );
    assert_eq!(
        lines(&all.rows),
        [
            line(
                Some(first),
                None,
                None,
                "EUR",
                (3, "2200.00", "780.00"),
                (1, "7000.00")
            ),
            line(
                Some(next),
                None,
                None,
                "CHF",
                (1, "3000.00", "2250.00"),
                (0, "0")
            ),
            line(
                Some(next),
                None,
                None,
                "EUR",
                (1, "2000.00", "1000.00"),
                (0, "0")
            ),
            line(None, None, None, "EUR", (1, "500.00", "125.00"), (0, "0")),
        ]
    );

    let sales = pipeline::default(&mut tx).await.unwrap();
    q.pipeline = Some(sales.id);
    let one = report::forecast_by(&mut tx, &q).await.unwrap();
    assert_eq!(
        lines(&one.rows)[0],
        line(
            Some(first),
            None,
            None,
            "EUR",
            (2, "1400.00", "300.00"),
            (1, "7000.00")
        ),
        "H is in the other pipeline"
    );

    q.pipeline = None;
    q.by = ForecastBy::Owner;
    let by_owner = report::forecast_by(&mut tx, &q).await.unwrap();
    assert_eq!(
        lines(&by_owner.rows),
        [
            line(
                None,
                Some("Olga Owner"),
                None,
                "CHF",
                (1, "3000.00", "2250.00"),
                (0, "0")
            ),
            line(
                None,
                Some("Olga Owner"),
                None,
                "EUR",
                (1, "1000.00", "100.00"),
                (1, "7000.00")
            ),
            line(
                None,
                Some("Uwe User"),
                None,
                "EUR",
                (4, "3700.00", "1805.00"),
                (0, "0")
            ),
        ]
    );
    assert_eq!(by_owner.rows[2].owner_id, Some(uwe));

    q.by = ForecastBy::Stage;
    let by_stage = report::forecast_by(&mut tx, &q).await.unwrap();
    assert_eq!(
        lines(&by_stage.rows),
        [
            line(
                None,
                None,
                Some("Build"),
                "EUR",
                (1, "800.00", "480.00"),
                (0, "0")
            ),
            line(
                None,
                None,
                Some("Lead"),
                "EUR",
                (1, "1000.00", "100.00"),
                (1, "7000.00")
            ),
            line(
                None,
                None,
                Some("Qualified"),
                "EUR",
                (1, "500.00", "125.00"),
                (0, "0")
            ),
            line(
                None,
                None,
                Some("Proposal"),
                "EUR",
                (2, "2400.00", "1200.00"),
                (0, "0")
            ),
            line(
                None,
                None,
                Some("Negotiation"),
                "CHF",
                (1, "3000.00", "2250.00"),
                (0, "0")
            ),
        ],
        "pipelines by name (Projects, Sales), stages by position; E is beyond the window"
    );
    assert_eq!(by_stage.rows[1].pipeline_id, Some(sales.id));

    q.months = 13;
    let longer = report::forecast_by(&mut tx, &q).await.unwrap();
    let commit = longer
        .rows
        .iter()
        .find(|r| r.stage.as_deref() == Some("Commit"));
    assert_eq!(
        commit.map(|r| r.weighted.to_string()),
        Some("899.10".into())
    );
}

#[test]
fn the_grouping_is_read_from_its_name() {
    assert_eq!("Owner".parse::<ForecastBy>().unwrap(), ForecastBy::Owner);
    assert_eq!(" stage ".parse::<ForecastBy>().unwrap(), ForecastBy::Stage);
    assert!("quarter".parse::<ForecastBy>().is_err());
}
