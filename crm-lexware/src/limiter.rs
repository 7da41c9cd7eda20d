//! Request pacing for Lexware Office (2 requests per second per account, token bucket on
//! their side). Requests are spaced [`SAFE_INTERVAL`] apart (1.5 per second), which keeps
//! every one-second window at two requests or fewer, with the buffer the API docs ask for.
//!
//! [`Limiter::Database`] keeps the pacer in the database (one row per organization), so
//! every process working for the organization shares one budget; [`Limiter::Memory`] is the
//! same pacer in this process only (for a client without a database).

use std::sync::Arc;
use std::time::Duration;

use crm_core::Scope;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::error::Result;

/// The spacing of requests: 1.5 per second, safely under the API's 2 per second.
pub const SAFE_INTERVAL: Duration = Duration::from_millis(667);

/// Reserves slots `interval` apart: the pure logic shared by both limiters.
#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    next_free: Option<Instant>,
}

impl Pacer {
    /// A pacer with slots `interval` apart.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            next_free: None,
        }
    }

    /// Reserves the next slot at or after `now` and returns how long to wait for it.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        let slot = match self.next_free {
            Some(t) if t > now => t,
            _ => now,
        };
        self.next_free = Some(slot + self.interval);
        slot - now
    }

    /// Moves the next free slot to at least `until` (after a 429).
    pub fn hold_until(&mut self, until: Instant) {
        if self.next_free.is_none_or(|t| t < until) {
            self.next_free = Some(until);
        }
    }
}

/// Where the pacer lives.
#[derive(Debug, Clone)]
pub enum Limiter {
    /// In this process.
    Memory(Arc<Mutex<Pacer>>),
    /// In the database, shared by every process of the organization.
    Database {
        /// The organization's scope (any active user of it).
        scope: Box<Scope>,
        /// The spacing.
        interval: Duration,
    },
}

impl Limiter {
    /// An in-process limiter with slots `interval` apart.
    pub fn memory(interval: Duration) -> Self {
        Limiter::Memory(Arc::new(Mutex::new(Pacer::new(interval))))
    }

    /// The database-held limiter of the scope's organization.
    pub fn database(scope: Scope) -> Self {
        Self::database_with(scope, SAFE_INTERVAL)
    }

    /// The database-held limiter with slots `interval` apart (tests use a shorter one).
    pub fn database_with(scope: Scope, interval: Duration) -> Self {
        Limiter::Database {
            scope: Box::new(scope),
            interval,
        }
    }

    /// Waits until the next request may be sent.
    pub async fn acquire(&self) -> Result<()> {
        let wait = match self {
            Limiter::Memory(p) => p.lock().await.reserve(Instant::now()),
            Limiter::Database { scope, interval } => {
                let interval = *interval;
                scope
                    .run(async |tx| crm_core::lexware::rate::reserve(tx, None, interval).await)
                    .await?
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// Holds every request back for `pause` (after a 429): the next [`Limiter::acquire`]
    /// of any task (any process, for the database limiter) waits at least that long.
    pub async fn hold_for(&self, pause: Duration) -> Result<()> {
        match self {
            Limiter::Memory(p) => p.lock().await.hold_until(Instant::now() + pause),
            Limiter::Database { scope, .. } => {
                scope
                    .run(async |tx| crm_core::lexware::rate::hold_for(tx, pause).await)
                    .await?
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn slots_are_spaced_and_budget_does_not_accumulate() {
        let mut p = Pacer::new(Duration::from_millis(500));
        let t0 = Instant::now();
        assert_eq!(p.reserve(t0), Duration::ZERO);
        assert_eq!(p.reserve(t0), Duration::from_millis(500));
        assert_eq!(p.reserve(t0), Duration::from_millis(1000));
        let later = t0 + Duration::from_secs(10);
        assert_eq!(p.reserve(later), Duration::ZERO);
        assert_eq!(p.reserve(later), Duration::from_millis(500));
        p.hold_until(later + Duration::from_secs(5));
        assert_eq!(p.reserve(later), Duration::from_secs(5));
    }
}
