//! The HTTP client: every request paced by the [`Limiter`], retried on 429 (any method,
//! `Retry-After` honoured) and on 5xx / timeouts for idempotent methods only, errors parsed
//! into [`LexwareError`], pages followed to the end.

pub mod contacts;
pub mod encode;
pub mod vouchers;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret as _;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Config;
use crate::error::{ErrorBody, LexwareError, Result};
use crate::limiter::Limiter;

/// Counters of one client, for summaries and tests.
#[derive(Debug, Default)]
pub struct Stats {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    retried: AtomicU64,
    waited_ms: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    /// Requests sent (retries included).
    pub requests: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// Retries of any cause.
    pub retried: u64,
    /// Milliseconds waited for 429s and backoffs (pacing excluded).
    pub waited_ms: u64,
}

/// A Lexware Office API client. Cheap to clone; `Debug` never shows the key.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Arc<Config>,
    limiter: Limiter,
    stats: Arc<Stats>,
}

/// An outgoing request.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub method: Method,
    pub path: &'a str,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<&'a Value>,
}

impl<'a> Request<'a> {
    pub fn get(path: &'a str) -> Self {
        Self {
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
        }
    }
}

/// One page of a paged list.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PageOf<T> {
    #[serde(default = "Vec::new")]
    pub content: Vec<T>,
    #[serde(default)]
    pub last: Option<bool>,
    #[serde(default)]
    pub total_pages: Option<u64>,
    #[serde(default)]
    pub total_elements: Option<u64>,
}

/// The most entries per page the API accepts.
pub const PAGE_SIZE: u32 = 250;

impl Client {
    /// A client for `config`, paced by `limiter`.
    pub fn new(config: Config, limiter: Limiter) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("crm-lexware/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LexwareError::Unreachable(format!("TLS setup failed: {e}")))?;
        Ok(Self {
            http,
            config: Arc::new(config),
            limiter,
            stats: Arc::new(Stats::default()),
        })
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.config.base_url
    }

    /// Counters so far.
    pub fn stats(&self) -> StatsSnapshot {
        StatsSnapshot {
            requests: self.stats.requests.load(Ordering::Relaxed),
            rate_limited: self.stats.rate_limited.load(Ordering::Relaxed),
            retried: self.stats.retried.load(Ordering::Relaxed),
            waited_ms: self.stats.waited_ms.load(Ordering::Relaxed),
        }
    }

    /// Whether the API answers with this key (`GET /v1/profile`).
    pub async fn ping(&self) -> Result<()> {
        self.execute(Request::get("/v1/profile")).await.map(|_| ())
    }

    /// Sends a request and returns the body of a 2xx answer (JSON `null` when empty).
    pub(crate) async fn execute(&self, req: Request<'_>) -> Result<Value> {
        let what = format!("{} {}", req.method, req.path);
        let idempotent = matches!(
            req.method,
            Method::GET | Method::PUT | Method::DELETE | Method::HEAD
        );
        let policy = &self.config.retry;
        let mut url = format!("{}{}", self.config.base_url, req.path);
        if !req.query.is_empty() {
            url.push('?');
            url.push_str(&encode::query(&req.query));
        }
        let mut tries = 0u32;
        let mut limited = 0u32;
        loop {
            tries += 1;
            self.limiter.acquire().await?;
            self.stats.requests.fetch_add(1, Ordering::Relaxed);
            let mut rb = self
                .http
                .request(req.method.clone(), &url)
                .bearer_auth(self.config.api_key.expose_secret())
                .header("Accept", "application/json");
            if let Some(body) = req.body {
                rb = rb.json(body);
            }
            let outcome = rb.send().await;
            let retry_wait = match outcome {
                Ok(resp) => {
                    let status = resp.status();
                    if status.is_success() {
                        let bytes = resp
                            .bytes()
                            .await
                            .map_err(|_| LexwareError::BadResponse(what.clone()))?;
                        if bytes.is_empty() {
                            return Ok(Value::Null);
                        }
                        return serde_json::from_slice(&bytes)
                            .map_err(|_| LexwareError::BadResponse(what));
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                        limited += 1;
                        if tries >= policy.max_tries {
                            return Err(LexwareError::RateLimited(tries));
                        }
                        let wait = retry_after(resp.headers())
                            .map(|d| d.min(policy.max_retry_after))
                            .unwrap_or_else(|| {
                                backoff(policy.default_retry_after, limited, policy.max_retry_after)
                            });
                        // Every task (and process) of the organization waits, not only this one.
                        self.limiter.hold_for(wait).await?;
                        self.note_retry(wait);
                        continue;
                    }
                    let body = resp.bytes().await.unwrap_or_default();
                    let err = LexwareError::Api {
                        status: status.as_u16(),
                        what: what.clone(),
                        body: ErrorBody::parse(&body),
                    };
                    if status.is_server_error() && idempotent && tries < policy.max_tries {
                        backoff(policy.backoff, tries, policy.max_backoff)
                    } else {
                        return Err(err);
                    }
                }
                Err(e) if e.is_timeout() => {
                    if idempotent && tries < policy.max_tries {
                        backoff(policy.backoff, tries, policy.max_backoff)
                    } else {
                        return Err(LexwareError::Timeout(what, idempotent));
                    }
                }
                // Not connected: nothing was sent, so a retry is safe for every method.
                Err(e) if e.is_connect() && tries < policy.max_tries => {
                    backoff(policy.backoff, tries, policy.max_backoff)
                }
                Err(e) => {
                    return Err(LexwareError::Unreachable(if e.is_connect() {
                        "connection refused or no route".into()
                    } else {
                        "the request failed".into()
                    }));
                }
            };
            self.note_retry(retry_wait);
            tokio::time::sleep(retry_wait).await;
        }
    }

    fn note_retry(&self, wait: Duration) {
        self.stats.retried.fetch_add(1, Ordering::Relaxed);
        self.stats.waited_ms.fetch_add(
            u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Fetches one page.
    pub(crate) async fn page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&'static str, String)],
        page: u32,
    ) -> Result<PageOf<T>> {
        let mut q = query.to_vec();
        q.push(("page", page.to_string()));
        q.push(("size", PAGE_SIZE.to_string()));
        let v = self
            .execute(Request {
                method: Method::GET,
                path,
                query: q,
                body: None,
            })
            .await?;
        serde_json::from_value(v).map_err(|_| LexwareError::BadResponse(format!("GET {path}")))
    }

    /// Fetches every page of a list, to the end.
    pub(crate) async fn all_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&'static str, String)],
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut n = 0u32;
        loop {
            let page: PageOf<T> = self.page(path, query, n).await?;
            let empty = page.content.is_empty();
            out.extend(page.content);
            let last = page.last.unwrap_or(empty)
                || empty
                || page.total_pages.is_some_and(|t| u64::from(n) + 1 >= t);
            if last {
                return Ok(out);
            }
            n += 1;
        }
    }
}

/// `Retry-After` in seconds (the HTTP-date form is not used by this API; ignored).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let secs: f64 = v.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

/// `base * 2^(n-1)`, at most `max`.
fn backoff(base: Duration, n: u32, max: Duration) -> Duration {
    base.saturating_mul(1u32 << n.saturating_sub(1).min(16))
        .min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let s = Duration::from_secs(1);
        assert_eq!(backoff(s, 1, Duration::from_secs(30)), s);
        assert_eq!(
            backoff(s, 3, Duration::from_secs(30)),
            Duration::from_secs(4)
        );
        assert_eq!(
            backoff(s, 12, Duration::from_secs(30)),
            Duration::from_secs(30)
        );
    }
}
