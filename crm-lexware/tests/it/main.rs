//! Integration tests of crm-lexware against an in-process mock of the Lexware Office API
//! (see `mock.rs`) and a throwaway PostgreSQL.

mod client;
mod limiter;
mod mock;
mod sync;

use std::time::Duration;

use crm_lexware::config::RetryPolicy;
use crm_lexware::{Client, Config, Limiter};
use secrecy::SecretString;

/// The API key the tests use; asserted never to appear in errors.
pub const KEY: &str = "test-key-4711";

/// Fast retries, so tests do not wait long in real time.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_tries: 5,
        backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
        default_retry_after: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(2),
    }
}

/// A client for the mock with an in-process limiter of `interval`.
pub fn client_for(uri: &str, interval: Duration) -> Client {
    client_with_timeout(uri, interval, Duration::from_secs(10))
}

/// A client whose requests time out after `timeout`.
pub fn client_with_timeout(uri: &str, interval: Duration, timeout: Duration) -> Client {
    let mut cfg = Config::new(uri, SecretString::from(KEY.to_string()));
    cfg.retry = fast_retry();
    cfg.timeout = timeout;
    Client::new(cfg, Limiter::memory(interval)).unwrap()
}
