//! Where the client connects and with which key: `LEXWARE_API_URL` (default the public
//! gateway) and `LEXWARE_API_KEY`, else the key stored for the organization.

use std::time::Duration;

use secrecy::SecretString;

use crate::error::{LexwareError, Result};

/// The public gateway.
pub const DEFAULT_BASE_URL: &str = "https://api.lexware.io";
/// The environment variable naming the base URL.
pub const ENV_URL: &str = "LEXWARE_API_URL";
/// The environment variable holding the API key.
pub const ENV_KEY: &str = "LEXWARE_API_KEY";

/// How often and how long to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries per request, the first included.
    pub max_tries: u32,
    /// First backoff after a 5xx or timeout of an idempotent request; doubles per try.
    pub backoff: Duration,
    /// Longest backoff.
    pub max_backoff: Duration,
    /// The wait after a 429 without `Retry-After` (doubles per consecutive 429).
    pub default_retry_after: Duration,
    /// The longest `Retry-After` honoured (longer ones are cut to this).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_tries: 6,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            default_retry_after: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// The client's settings. `Debug` never shows the key.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL without `/v1` (`https://api.lexware.io`).
    pub base_url: String,
    /// The private API key.
    pub api_key: SecretString,
    /// Timeout of one request (the gateway itself gives up after 30 s).
    pub timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
}

impl Config {
    /// A configuration for `base_url` and `api_key` with default timeouts and retries.
    pub fn new(base_url: impl Into<String>, api_key: SecretString) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            api_key,
            timeout: Duration::from_secs(35),
            retry: RetryPolicy::default(),
        }
    }

    /// From the environment: `LEXWARE_API_KEY`, else `stored_key` (the organization's key);
    /// [`LexwareError::NotConfigured`] when there is none.
    pub fn from_env(stored_key: Option<String>) -> Result<Self> {
        let key = std::env::var(ENV_KEY)
            .ok()
            .filter(|k| !k.trim().is_empty())
            .or(stored_key.filter(|k| !k.trim().is_empty()))
            .ok_or(LexwareError::NotConfigured)?;
        Ok(Self::new(
            base_url_from_env(),
            SecretString::from(key.trim().to_string()),
        ))
    }

    /// Whether a key is available from the environment alone.
    pub fn env_has_key() -> bool {
        std::env::var(ENV_KEY).is_ok_and(|k| !k.trim().is_empty())
    }
}

/// `LEXWARE_API_URL`, else the public gateway.
pub fn base_url_from_env() -> String {
    std::env::var(ENV_URL)
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
        .trim_end_matches('/')
        .to_string()
}
