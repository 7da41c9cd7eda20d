//! The transactional outbox: events written with their change (so an event exists if and
//! only if its change committed), announced with NOTIFY, and read as a resumable stream.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::postgres::PgListener;
use uuid::Uuid;

use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::tenancy::{Scope, Tx};

/// One event.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Event {
    /// Sequence number; increasing, the resume point of a consumer.
    pub seq: i64,
    /// Unique id (for idempotent consumers).
    pub id: Uuid,
    /// What happened (`contact.created`, `deal.won`, ...).
    pub topic: String,
    /// What kind of record.
    pub entity_type: String,
    /// Which record.
    pub entity_id: Option<Uuid>,
    /// Who acted.
    pub actor_id: Option<UserId>,
    /// Ids and changed field names; never personal data.
    pub payload: Value,
    /// When the change committed.
    pub created_at: DateTime<Utc>,
}

/// Events after `after_seq`, oldest first, at most `limit` (1 to 10,000).
pub async fn since(tx: &mut Tx, after_seq: i64, limit: u32) -> Result<Vec<Event>> {
    tx.require(Permission::Read)?;
    Ok(sqlx::query_as(
        "select seq, id, topic, entity_type, entity_id, actor_id, payload, created_at from events \
         where org_id = $1 and seq > $2 order by seq limit $3",
    )
    .bind(tx.org())
    .bind(after_seq)
    .bind(i64::from(limit.clamp(1, 10_000)))
    .fetch_all(tx.conn())
    .await?)
}

/// The last sequence number a named consumer has processed (0 if none).
pub async fn cursor(tx: &mut Tx, consumer: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar(
            "select last_seq from event_cursors where org_id = $1 and consumer = $2",
        )
        .bind(tx.org())
        .bind(consumer)
        .fetch_optional(tx.conn())
        .await?
        .unwrap_or(0),
    )
}

/// Stores a consumer's position (in the caller's transaction, so a consumer can commit its
/// own work and its position together).
pub async fn save_cursor(tx: &mut Tx, consumer: &str, seq: i64) -> Result<()> {
    if consumer.trim().is_empty() || consumer.len() > 200 {
        return Err(Error::invalid("consumer", "must be 1 to 200 characters"));
    }
    sqlx::query(
        "insert into event_cursors (org_id, consumer, last_seq) values ($1, $2, $3) \
         on conflict (org_id, consumer) do update set last_seq = excluded.last_seq, updated_at = now()",
    )
    .bind(tx.org())
    .bind(consumer)
    .bind(seq)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A resumable stream of one organization's events: [`EventStream::next_batch`] returns the
/// events after the last one returned, waiting for a NOTIFY (or polling every few seconds,
/// so a missed notification only delays) when there are none.
#[derive(Debug)]
pub struct EventStream {
    scope: Scope,
    /// None behind a transaction pooler without a session URL: the stream then polls.
    listener: Option<PgListener>,
    last_seq: i64,
    batch: u32,
}

impl EventStream {
    /// Starts after `after_seq` (0: from the beginning).
    pub async fn open(scope: Scope, after_seq: i64) -> Result<Self> {
        // LISTEN needs a session of its own: on a direct connection (the session URL behind
        // a transaction pooler, which would drop it after one transaction).
        let listener = match scope.crm().session_options() {
            Some(options) => {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect_lazy_with(options);
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen("crm_events").await?;
                Some(listener)
            }
            None => None,
        };
        Ok(Self {
            scope,
            listener,
            last_seq: after_seq,
            batch: 500,
        })
    }

    /// The sequence number of the last event returned.
    pub fn position(&self) -> i64 {
        self.last_seq
    }

    /// The next events, waiting up to `wait` for new ones; empty when none arrived.
    pub async fn next_batch(&mut self, wait: Duration) -> Result<Vec<Event>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let after = self.last_seq;
            let batch = self.batch;
            let events = self
                .scope
                .run(async |tx| since(tx, after, batch).await)
                .await?;
            if let Some(last) = events.last() {
                self.last_seq = last.seq;
                return Ok(events);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            // Any notification (or the poll interval) triggers a new look.
            match &mut self.listener {
                Some(listener) => {
                    let slice = (deadline - now).min(Duration::from_secs(5));
                    let _ = tokio::time::timeout(slice, listener.recv()).await;
                }
                None => {
                    tokio::time::sleep((deadline - now).min(Duration::from_secs(1))).await;
                }
            }
        }
    }
}
