//! # crm-lexware
//!
//! The Lexware Office integration: linking CRM contacts and companies to Lexware contacts,
//! importing, pushing and syncing them, and caching vouchers linked to deals.
//!
//! This crate holds the pieces that do not need the network yet: the request pacing the
//! Lexware API demands (at most two requests per second per client). The HTTP client and
//! the sync logic build on it.

use std::time::{Duration, Instant};

/// Paces requests to at most `per_second` per second (the Lexware Office limit is 2):
/// [`Pacer::next_delay`] says how long to wait before the next request may go out.
#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    next_free: Option<Instant>,
}

impl Pacer {
    /// A pacer for `per_second` requests per second (at least one).
    pub fn new(per_second: u32) -> Self {
        let per_second = per_second.max(1);
        Self {
            interval: Duration::from_secs(1) / per_second,
            next_free: None,
        }
    }

    /// Reserves the next slot at or after `now` and returns how long to wait for it.
    pub fn next_delay(&mut self, now: Instant) -> Duration {
        let slot = match self.next_free {
            Some(t) if t > now => t,
            _ => now,
        };
        self.next_free = Some(slot + self.interval);
        slot - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_per_second_spaces_requests_half_a_second_apart() {
        let mut p = Pacer::new(2);
        let t0 = Instant::now();
        assert_eq!(p.next_delay(t0), Duration::ZERO);
        assert_eq!(p.next_delay(t0), Duration::from_millis(500));
        assert_eq!(p.next_delay(t0), Duration::from_millis(1000));
        // After a pause the budget does not accumulate beyond the next slot.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(p.next_delay(later), Duration::ZERO);
        assert_eq!(p.next_delay(later), Duration::from_millis(500));
    }
}
