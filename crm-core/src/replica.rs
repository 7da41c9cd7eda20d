//! Reading from a streaming replica (issue 20): which server a read-only transaction runs
//! on, read-your-writes, and the fallback to the primary when the standby is down or lags.
//!
//! [`Scope::begin_read`](crate::Scope::begin_read) asks [`Crm::begin_read_tx`]: the replica
//! serves it when it is reachable, has replayed every write this handle committed (so a
//! scope that just wrote reads its own write), and lags the primary by at most the bound
//! ([`Crm::with_replica_max_lag`], 30 s by default). Otherwise the primary serves it and a
//! warning goes to the handle's warning sink ([`Crm::on_warning`]); the user never sees an
//! error for it. A replica that could not be reached is skipped for a few seconds, so a
//! down standby costs one short wait, not one per transaction.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::{PgPool, Postgres, Transaction};

use crate::db::Crm;
use crate::error::Result;

/// How long a read waits for the replica's pool before it reads from the primary.
const REACH_TIMEOUT: Duration = Duration::from_secs(2);
/// How long an unreachable replica is skipped.
const SKIP_AFTER_FAILURE: Duration = Duration::from_secs(10);

/// A function that receives the library's warnings (one line of text, no personal data).
pub type WarningSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Shared by the clones of one [`Crm`] handle.
#[derive(Default)]
pub(crate) struct ReplicaState {
    /// The primary's WAL position (bytes) after this handle's latest committed write.
    written: AtomicU64,
    reads_on_replica: AtomicU64,
    reads_on_primary: AtomicU64,
    skip_until: Mutex<Option<Instant>>,
    last_warning: Mutex<Option<String>>,
    sink: Mutex<Option<WarningSink>>,
}

impl std::fmt::Debug for ReplicaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplicaState")
            .field("written", &self.written)
            .field("reads_on_replica", &self.reads_on_replica)
            .field("reads_on_primary", &self.reads_on_primary)
            .finish_non_exhaustive()
    }
}

impl ReplicaState {
    pub(crate) fn set_sink(&self, sink: WarningSink) {
        *self.sink.lock().unwrap_or_else(|e| e.into_inner()) = Some(sink);
    }

    fn warn(&self, message: String) {
        let sink = self.sink.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(sink) = sink {
            sink(&message);
        }
        *self.last_warning.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
    }
}

/// Where this handle's read-only transactions have gone so far (for `crm db status`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReadRouting {
    /// Read-only transactions served by the replica.
    pub on_replica: u64,
    /// Read-only transactions the primary served in the replica's place.
    pub on_primary: u64,
    /// Why the latest one went to the primary, if one did.
    pub last_warning: Option<String>,
}

impl Crm {
    /// Begins the transaction for [`crate::Scope::begin_read`]: on the replica when it may
    /// serve it, else on the primary (with a warning when a replica is configured).
    pub(crate) async fn begin_read_tx(&self) -> Result<Transaction<'static, Postgres>> {
        let state = self.replica_state();
        if let Some(replica) = self.replica_pool() {
            match try_replica(replica, state, self.replica_max_lag()).await {
                Ok(tx) => {
                    state.reads_on_replica.fetch_add(1, Ordering::Relaxed);
                    return Ok(tx);
                }
                Err(why) => {
                    state.reads_on_primary.fetch_add(1, Ordering::Relaxed);
                    state.warn(format!("{why}; reading from the primary"));
                }
            }
        }
        Ok(self.pool().begin().await?)
    }

    /// Notes that a write transaction of this handle committed: later reads wait for the
    /// replica to replay it (or go to the primary). Only with a replica configured.
    pub(crate) async fn note_write(&self) -> Result<()> {
        if self.replica_pool().is_none() {
            return Ok(());
        }
        // The insert position is past the commit record just written, on any connection.
        let lsn: i64 =
            sqlx::query_scalar("select (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")
                .fetch_one(self.pool())
                .await?;
        self.replica_state()
            .written
            .fetch_max(lsn.max(0) as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Where read-only transactions went so far.
    pub fn read_routing(&self) -> ReadRouting {
        let state = self.replica_state();
        ReadRouting {
            on_replica: state.reads_on_replica.load(Ordering::Relaxed),
            on_primary: state.reads_on_primary.load(Ordering::Relaxed),
            last_warning: state
                .last_warning
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }
}

async fn try_replica(
    pool: &PgPool,
    state: &ReplicaState,
    max_lag: Duration,
) -> std::result::Result<Transaction<'static, Postgres>, String> {
    {
        let skip = state.skip_until.lock().unwrap_or_else(|e| e.into_inner());
        if skip.is_some_and(|t| Instant::now() < t) {
            return Err("the read replica was unreachable a moment ago".into());
        }
    }
    let unreachable = |state: &ReplicaState| {
        *state.skip_until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + SKIP_AFTER_FAILURE);
        "the read replica is unreachable".to_string()
    };
    let mut tx = match tokio::time::timeout(REACH_TIMEOUT, pool.begin()).await {
        Ok(Ok(tx)) => tx,
        _ => return Err(unreachable(state)),
    };
    let written = state.written.load(Ordering::Relaxed) as i64;
    // Replayed this handle's writes? And the replay lag: 0 when everything received is
    // replayed (an idle primary is no lag), else the age of the last replayed commit
    // (unknown, so beyond any bound, when none was replayed since the standby started).
    let row: std::result::Result<(bool, bool, f64), sqlx::Error> = sqlx::query_as(
        "select pg_is_in_recovery(), \
                coalesce((pg_last_wal_replay_lsn() - '0/0'::pg_lsn) >= $1, true), \
                case when pg_last_wal_receive_lsn() is null \
                          or pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() then 0 \
                     else coalesce(extract(epoch from now() - pg_last_xact_replay_timestamp()), \
                                   'infinity') \
                end::float8",
    )
    .bind(written)
    .fetch_one(&mut *tx)
    .await;
    let (_, replayed, lag) = match row {
        Ok(r) => r,
        Err(_) => return Err(unreachable(state)),
    };
    if !replayed {
        return Err("the read replica has not yet replayed this session's latest write".into());
    }
    if lag > max_lag.as_secs_f64() {
        return Err(if lag.is_finite() {
            format!(
                "the read replica lags {lag:.1} s behind (bound {} s)",
                max_lag.as_secs_f64()
            )
        } else {
            "the read replica lags behind (it has replayed nothing since it started)".into()
        });
    }
    Ok(tx)
}

/// The connections of a handle, for operators (`crm db status`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Topology {
    /// The primary's pool.
    pub pool: PoolStatus,
    /// The read replica, when one is configured.
    pub replica: Option<ReplicaStatus>,
}

/// A pool's connections.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PoolStatus {
    /// Whether the URL goes through a transaction pooler ([`Crm::connect_pooled`]).
    pub transaction_pooler: bool,
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// Connections open now.
    pub open: u32,
    /// Of those, idle.
    pub idle: u32,
}

/// A read replica's state as seen now.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReplicaStatus {
    /// Whether a connection could be had within two seconds.
    pub reachable: bool,
    /// Whether it is a standby (in recovery); a primary named as replica says false.
    pub in_recovery: Option<bool>,
    /// WAL the primary has written that the replica has not replayed, in bytes.
    pub lag_bytes: Option<i64>,
    /// The replay lag in seconds (0 when it has replayed all it received).
    pub lag_seconds: Option<f64>,
    /// The bound beyond which reads go to the primary, in seconds.
    pub max_lag_seconds: f64,
    /// Where this handle's read-only transactions went so far.
    pub routing: ReadRouting,
}

impl Crm {
    /// The primary's pool and the replica's state (reachability, lag), for operators.
    pub async fn topology(&self) -> Result<Topology> {
        let pool = self.pool();
        let status = PoolStatus {
            transaction_pooler: self.is_pooled(),
            max_connections: pool.options().get_max_connections(),
            open: pool.size(),
            idle: pool.num_idle() as u32,
        };
        let replica = match self.replica_pool() {
            None => None,
            Some(replica) => Some(self.replica_status(replica).await?),
        };
        Ok(Topology {
            pool: status,
            replica,
        })
    }

    async fn replica_status(&self, replica: &PgPool) -> Result<ReplicaStatus> {
        let primary_lsn: i64 =
            sqlx::query_scalar("select (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")
                .fetch_one(self.pool())
                .await?;
        let row: Option<(bool, Option<i64>, f64)> =
            match tokio::time::timeout(REACH_TIMEOUT, replica.acquire()).await {
                Ok(Ok(mut conn)) => sqlx::query_as(
                    "select pg_is_in_recovery(), \
                        (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, \
                        case when pg_last_wal_receive_lsn() is null \
                                  or pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() then 0 \
                             else coalesce(extract(epoch from now() \
                                                   - pg_last_xact_replay_timestamp()), \
                                           'infinity') \
                        end::float8",
                )
                .fetch_optional(&mut *conn)
                .await
                .ok()
                .flatten(),
                _ => None,
            };
        Ok(ReplicaStatus {
            reachable: row.is_some(),
            in_recovery: row.as_ref().map(|r| r.0),
            lag_bytes: row
                .as_ref()
                .map(|r| r.1.map_or(0, |replayed| (primary_lsn - replayed).max(0))),
            lag_seconds: row.as_ref().map(|r| r.2).filter(|s| s.is_finite()),
            max_lag_seconds: self.replica_max_lag().as_secs_f64(),
            routing: self.read_routing(),
        })
    }
}
