//! The request pacer: never more than two requests in any one-second window, across tasks
//! and (database limiter) across processes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use crm_core::testing::TestDb;
use crm_lexware::Limiter;
use crm_lexware::limiter::SAFE_INTERVAL;
use tokio::time::Instant;

fn max_in_any_second(times: &[Instant]) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort();
    (0..sorted.len())
        .map(|i| {
            sorted[i..]
                .iter()
                .take_while(|t| **t - sorted[i] < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_50_calls_from_several_tasks_never_exceeds_two_per_second() {
    let limiter = Limiter::memory(SAFE_INTERVAL);
    let times = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let tasks: Vec<_> = (0..5)
        .map(|_| {
            let (limiter, times) = (limiter.clone(), times.clone());
            tokio::spawn(async move {
                for _ in 0..10 {
                    limiter.acquire().await.unwrap();
                    times.lock().unwrap().push(Instant::now());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let times = times.lock().unwrap().clone();
    assert_eq!(times.len(), 50);
    assert!(max_in_any_second(&times) <= 2);
    // ... and it is not slower than it must be: 49 gaps of 667 ms.
    assert!(Instant::now() - start <= SAFE_INTERVAL * 49 + Duration::from_millis(1));
}

#[tokio::test(start_paused = true)]
async fn a_hold_after_a_429_delays_every_task() {
    let limiter = Limiter::memory(SAFE_INTERVAL);
    limiter.acquire().await.unwrap();
    limiter.hold_for(Duration::from_secs(10)).await.unwrap();
    let before = Instant::now();
    limiter.acquire().await.unwrap();
    assert!(Instant::now() - before >= Duration::from_secs(10));
}

#[tokio::test]
async fn the_database_pacer_is_shared_by_every_process_of_an_organization() {
    let db = TestDb::new().await;
    let (org, owner) = db.org("Pacer GmbH").await;
    let (other_org, other_owner) = db.org("Other GmbH").await;
    let scope = db.crm.scope(org, owner);
    let t0 = Utc.with_ymd_and_hms(2026, 12, 2, 6, 0, 0).unwrap();
    let at = |ms: i64| Some(t0 + chrono::Duration::milliseconds(ms));
    // Two "processes" (separate transactions) reserving at the same instant get slots
    // 667 ms apart; the second must wait.
    let mut waits = Vec::new();
    for _ in 0..3 {
        let w = scope
            .run(async |tx| crm_core::lexware::rate::reserve(tx, at(0), SAFE_INTERVAL).await)
            .await
            .unwrap();
        waits.push(w.as_millis());
    }
    assert_eq!(waits, vec![0, 667, 1334]);
    // Much later, the budget has not accumulated: one slot free now, the next one later.
    let later: Vec<u128> = futures_wait(&scope, at(60_000)).await;
    assert_eq!(later, vec![0, 667]);
    // Another organization has its own bucket.
    let other = db.crm.scope(other_org, other_owner);
    let w = other
        .run(async |tx| crm_core::lexware::rate::reserve(tx, at(0), SAFE_INTERVAL).await)
        .await
        .unwrap();
    assert_eq!(w, Duration::ZERO);
}

async fn futures_wait(scope: &crm_core::Scope, now: Option<chrono::DateTime<Utc>>) -> Vec<u128> {
    let mut out = Vec::new();
    for _ in 0..2 {
        let w = scope
            .run(async |tx| crm_core::lexware::rate::reserve(tx, now, SAFE_INTERVAL).await)
            .await
            .unwrap();
        out.push(w.as_millis());
    }
    out
}
