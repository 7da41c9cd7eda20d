//! The organization's request pacer for Lexware Office, held in the database so every
//! process working for the organization (a `sync --watch` and an ad-hoc `search` at once)
//! shares it. Each request reserves the next free slot; slots are `interval` apart, so no
//! window of `interval * n` holds more than `n` requests.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::tenancy::Tx;

/// Reserves the next request slot at or after `now` (the database's clock when `None`)
/// and returns how long the caller must wait before sending. One row lock, one round trip.
pub async fn reserve(
    tx: &mut Tx,
    now: Option<DateTime<Utc>>,
    interval: Duration,
) -> Result<Duration> {
    let micros = i64::try_from(interval.as_micros()).unwrap_or(i64::MAX);
    let wait_us: f64 = sqlx::query_scalar(
        "with n as (select coalesce($2, clock_timestamp()) as now), \
         up as ( \
             insert into lexware_rate_buckets as b (org_id, next_free) \
             select $1, n.now + make_interval(secs => $3::float8 / 1e6) from n \
             on conflict (org_id) do update \
                 set next_free = greatest(b.next_free, (select now from n)) \
                                 + make_interval(secs => $3::float8 / 1e6) \
             returning next_free) \
         select greatest(extract(epoch from (up.next_free - make_interval(secs => $3::float8 / 1e6) \
                                              - n.now)) * 1e6, 0)::float8 \
         from up, n",
    )
    .bind(tx.org())
    .bind(now)
    .bind(micros as f64)
    .fetch_one(tx.conn())
    .await?;
    Ok(Duration::from_micros(wait_us.max(0.0) as u64))
}

/// Pushes the next free slot back to at least `until` (after a 429, every process of the
/// organization then waits, not only the one that was refused).
pub async fn hold_until(tx: &mut Tx, until: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "insert into lexware_rate_buckets as b (org_id, next_free) values ($1, $2) \
         on conflict (org_id) do update set next_free = greatest(b.next_free, excluded.next_free)",
    )
    .bind(tx.org())
    .bind(until)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Like [`hold_until`] but relative to the database's clock.
pub async fn hold_for(tx: &mut Tx, pause: Duration) -> Result<()> {
    sqlx::query(
        "insert into lexware_rate_buckets as b (org_id, next_free) \
         values ($1, clock_timestamp() + make_interval(secs => $2)) \
         on conflict (org_id) do update set next_free = greatest(b.next_free, excluded.next_free)",
    )
    .bind(tx.org())
    .bind(pause.as_secs_f64())
    .execute(tx.conn())
    .await?;
    Ok(())
}
