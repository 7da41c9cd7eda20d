//! The typed error of the Lexware Office client, with both error body shapes of the API
//! parsed. Messages never contain the API key or personal data.

use serde::{Deserialize, Serialize};

/// One entry of the legacy `IssueList` error body (contacts, files, vouchers endpoints).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Issue {
    /// What is wrong (`missing_entity`, `invalid_value`, ...).
    #[serde(default)]
    pub i18n_key: Option<String>,
    /// Which field (`company.name`, `version`, ...).
    #[serde(default)]
    pub source: Option<String>,
    /// The kind (`validation_failure`, `bad_request_error`).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// One entry of the `details` of the regular error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// The rule broken (`NOTNULL`, ...).
    #[serde(default)]
    pub violation: Option<String>,
    /// Which field.
    #[serde(default)]
    pub field: Option<String>,
    /// The API's words.
    #[serde(default)]
    pub message: Option<String>,
}

/// An error response body, in whichever shape the endpoint uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum ErrorBody {
    /// `{"IssueList":[...]}` (contacts, files, vouchers).
    Legacy {
        /// The issues.
        issues: Vec<Issue>,
    },
    /// `{"timestamp","status","error","path","traceId","message","details"}` (every other
    /// endpoint, voucherlist included).
    Regular {
        /// The error's name (`Not Acceptable`).
        error: Option<String>,
        /// The API's message.
        message: Option<String>,
        /// Per-field details.
        details: Vec<Detail>,
        /// The trace id, for Lexware support.
        trace_id: Option<String>,
    },
    /// `{"message": ...}` from the gateway (401, 403, 429, 500, 504).
    Gateway {
        /// The message (may be null).
        message: Option<String>,
    },
    /// Anything else (kept out of messages: it may echo the request).
    Unknown,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "IssueList")]
    issue_list: Option<Vec<Issue>>,
    timestamp: Option<serde_json::Value>,
    error: Option<String>,
    message: Option<String>,
    details: Option<Vec<Detail>>,
    #[serde(rename = "traceId")]
    trace_id: Option<String>,
}

impl ErrorBody {
    /// Parses a response body; never fails.
    pub fn parse(body: &[u8]) -> ErrorBody {
        let Ok(raw) = serde_json::from_slice::<Raw>(body) else {
            return ErrorBody::Unknown;
        };
        if let Some(issues) = raw.issue_list {
            return ErrorBody::Legacy { issues };
        }
        if raw.timestamp.is_some() || raw.details.is_some() || raw.trace_id.is_some() {
            return ErrorBody::Regular {
                error: raw.error,
                message: raw.message,
                details: raw.details.unwrap_or_default(),
                trace_id: raw.trace_id,
            };
        }
        ErrorBody::Gateway {
            message: raw.message,
        }
    }

    /// Whether a field named `field` is the subject of the error (legacy `source` or
    /// regular `details[].field`).
    pub fn names_field(&self, field: &str) -> bool {
        match self {
            ErrorBody::Legacy { issues } => {
                issues.iter().any(|i| i.source.as_deref() == Some(field))
            }
            ErrorBody::Regular { details, .. } => {
                details.iter().any(|d| d.field.as_deref() == Some(field))
            }
            _ => false,
        }
    }

    /// Whether any message says the 10,000-entry search window was exceeded.
    pub fn is_window_exceeded(&self) -> bool {
        let hit = |s: &Option<String>| {
            s.as_deref()
                .is_some_and(|m| m.to_ascii_lowercase().contains("search window"))
        };
        match self {
            ErrorBody::Regular {
                message, details, ..
            } => hit(message) || details.iter().any(|d| hit(&d.message)),
            ErrorBody::Gateway { message } => hit(message),
            ErrorBody::Legacy { issues } => issues.iter().any(|i| hit(&i.source)),
            ErrorBody::Unknown => false,
        }
    }

    /// A one-line summary for messages: field names and rule keys only.
    pub fn summary(&self) -> String {
        match self {
            ErrorBody::Legacy { issues } => issues
                .iter()
                .map(|i| {
                    format!(
                        "{}: {}",
                        i.source.as_deref().unwrap_or("?"),
                        i.i18n_key.as_deref().unwrap_or("?")
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            ErrorBody::Regular { error, details, .. } => {
                let mut parts: Vec<String> = details
                    .iter()
                    .map(|d| {
                        format!(
                            "{}: {}",
                            d.field.as_deref().unwrap_or("?"),
                            d.violation.as_deref().unwrap_or("?")
                        )
                    })
                    .collect();
                if parts.is_empty() {
                    parts.push(error.clone().unwrap_or_default());
                }
                parts.join("; ")
            }
            // Gateway messages can quote the Authorization header (403): not repeated.
            ErrorBody::Gateway { .. } | ErrorBody::Unknown => String::new(),
        }
    }
}

/// Everything that can go wrong talking to Lexware Office or syncing with it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LexwareError {
    /// No API key: neither `LEXWARE_API_KEY` nor one stored with `crm lexware configure`.
    #[error(
        "Lexware Office is not configured: set LEXWARE_API_KEY or run `crm lexware configure --api-key-stdin`"
    )]
    NotConfigured,
    /// The API answered with an error status.
    #[error("Lexware Office answered {status} on {what}{}", detail(body))]
    Api {
        /// The HTTP status.
        status: u16,
        /// Which request (`GET /v1/contacts`), never with query values.
        what: String,
        /// The parsed body.
        body: ErrorBody,
    },
    /// Stale version: the record changed in Lexware since it was read (409, or 406 naming
    /// `version`).
    #[error("the Lexware contact was changed in Lexware since it was read (version conflict)")]
    VersionConflict,
    /// The Lexware contact has lists with more than one entry; the API refuses updates.
    #[error(
        "the Lexware contact has more than one {0} and cannot be updated through the API; edit it in Lexware Office"
    )]
    NotUpdatable(String),
    /// Still rate limited after every retry.
    #[error("Lexware Office kept answering 429 (rate limited) after {0} tries; try again later")]
    RateLimited(u32),
    /// No answer in time.
    #[error("Lexware Office did not answer {0} in time{hint}", hint = if *.1 { "" } else { "; it may still have been processed, check in Lexware Office before retrying" })]
    Timeout(String, bool),
    /// The server could not be reached.
    #[error("cannot reach Lexware Office ({0})")]
    Unreachable(String),
    /// A response that does not have the documented shape.
    #[error("unexpected answer from Lexware Office on {0}")]
    BadResponse(String),
    /// A voucher list that cannot be narrowed below the 10,000-entry window.
    #[error("more than 10,000 vouchers on one day; cannot page through them")]
    WindowTooNarrow,
    /// A CRM operation failed.
    #[error(transparent)]
    Core(#[from] crm_core::Error),
}

fn detail(body: &ErrorBody) -> String {
    let s = body.summary();
    if s.trim().is_empty() {
        String::new()
    } else {
        format!(" ({s})")
    }
}

impl LexwareError {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            LexwareError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether this is a refusal of the input (400 / 406 / 415 / 422) rather than a
    /// failure of the service or the network.
    pub fn is_validation(&self) -> bool {
        matches!(self.status(), Some(400 | 406 | 415 | 422))
    }

    /// Whether a later try may succeed (rate limits, timeouts, 5xx, unreachable).
    pub fn is_transient(&self) -> bool {
        match self {
            LexwareError::RateLimited(_)
            | LexwareError::Timeout(..)
            | LexwareError::Unreachable(_) => true,
            LexwareError::Api { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = LexwareError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_issue_list_is_parsed_with_field_and_key() {
        let b = ErrorBody::parse(
            br#"{"IssueList":[{"i18nKey":"invalid_value","source":"version","type":"validation_failure"}]}"#,
        );
        assert!(b.names_field("version"));
        assert_eq!(b.summary(), "version: invalid_value");
    }

    #[test]
    fn regular_body_is_parsed_with_details() {
        let b = ErrorBody::parse(
            br#"{"timestamp":"2023-05-11T17:12:31.233+02:00","status":406,"error":"Not Acceptable","path":"/v1/invoices","traceId":"90d78d0777be","message":"Validation failed","details":[{"violation":"NOTNULL","field":"lineItems[0].unitPrice","message":"darf nicht leer sein"}]}"#,
        );
        match &b {
            ErrorBody::Regular { trace_id, .. } => {
                assert_eq!(trace_id.as_deref(), Some("90d78d0777be"))
            }
            other => panic!("wrong shape {other:?}"),
        }
        assert_eq!(b.summary(), "lineItems[0].unitPrice: NOTNULL");
    }

    #[test]
    fn gateway_message_is_not_repeated_in_the_error_text() {
        let b = ErrorBody::parse(
            br#"{"message":"'secret-key' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer secret-key'."}"#,
        );
        let e = LexwareError::Api {
            status: 403,
            what: "GET /v1/contacts".into(),
            body: b,
        };
        assert!(!e.to_string().contains("secret-key"));
        assert!(e.to_string().contains("403"));
    }

    #[test]
    fn window_exceeded_is_recognised_in_either_shape() {
        let b = ErrorBody::parse(
            br#"{"timestamp":"x","status":400,"message":"Maximum search window size exceeded"}"#,
        );
        assert!(b.is_window_exceeded());
        assert!(!ErrorBody::parse(br#"{"message":null}"#).is_window_exceeded());
    }
}
