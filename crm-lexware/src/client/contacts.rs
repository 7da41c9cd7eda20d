//! The contacts endpoint: search, read, create (version 0) and update (with the version
//! just read; PUT replaces the whole record).

use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

use super::{Client, Request, encode};
use crate::error::{LexwareError, Result};
use crate::model::{ActionResult, LxContact};

/// A contact search. Filters combine with AND.
#[derive(Debug, Clone, Default)]
pub struct ContactQuery {
    /// Name contains (at least 3 characters).
    pub name: Option<String>,
    /// Any e-mail address contains (at least 3 characters).
    pub email: Option<String>,
    /// Customer or vendor number.
    pub number: Option<i64>,
    /// Only customers (`true`) or only non-customers (`false`).
    pub customer: Option<bool>,
}

/// A contact as read: typed for mapping, raw for the merge of an update.
#[derive(Debug, Clone)]
pub struct ReadContact {
    /// The typed view.
    pub contact: LxContact,
    /// The JSON as received.
    pub raw: Value,
}

impl ReadContact {
    fn from_raw(raw: Value) -> Result<Self> {
        let contact = serde_json::from_value(raw.clone())
            .map_err(|_| LexwareError::BadResponse("GET /v1/contacts".into()))?;
        Ok(Self { contact, raw })
    }
}

impl Client {
    /// Searches contacts; every page is fetched. `name` / `email` shorter than 3
    /// characters are refused here (the API would answer 400).
    pub async fn search_contacts(&self, q: &ContactQuery) -> Result<Vec<ReadContact>> {
        let mut query: Vec<(&'static str, String)> = Vec::new();
        for (key, value) in [("name", &q.name), ("email", &q.email)] {
            if let Some(v) = value {
                if v.trim().chars().count() < 3 {
                    return Err(crm_core::Error::invalid(key, "needs at least 3 characters").into());
                }
                query.push((key, encode::search_string(v)));
            }
        }
        if let Some(n) = q.number {
            query.push(("number", n.to_string()));
        }
        if let Some(c) = q.customer {
            query.push(("customer", c.to_string()));
        }
        let raw: Vec<Value> = self.all_pages("/v1/contacts", &query).await?;
        raw.into_iter().map(ReadContact::from_raw).collect()
    }

    /// Reads one contact.
    pub async fn get_contact(&self, id: Uuid) -> Result<ReadContact> {
        let path = format!("/v1/contacts/{id}");
        let raw = self.execute(Request::get(&path)).await.map_err(not_found)?;
        ReadContact::from_raw(raw)
    }

    /// Creates a contact (`version` is set to 0). Never retried after a timeout or 5xx:
    /// the API may have created it anyway.
    pub async fn create_contact(&self, body: &Value) -> Result<ActionResult> {
        let mut body = body.clone();
        body["version"] = Value::from(0);
        let v = self
            .execute(Request {
                method: Method::POST,
                path: "/v1/contacts",
                query: Vec::new(),
                body: Some(&body),
            })
            .await?;
        serde_json::from_value(v).map_err(|_| LexwareError::BadResponse("POST /v1/contacts".into()))
    }

    /// Replaces a contact; `body.version` must be the version just read. A stale version
    /// (409, or 406 naming `version`) is [`LexwareError::VersionConflict`].
    pub async fn update_contact(&self, id: Uuid, body: &Value) -> Result<ActionResult> {
        let path = format!("/v1/contacts/{id}");
        let v = self
            .execute(Request {
                method: Method::PUT,
                path: &path,
                query: Vec::new(),
                body: Some(body),
            })
            .await
            .map_err(|e| match e {
                LexwareError::Api { status: 409, .. } => LexwareError::VersionConflict,
                LexwareError::Api {
                    status: 406,
                    ref body,
                    ..
                } if body.names_field("version") => LexwareError::VersionConflict,
                e => not_found(e),
            })?;
        serde_json::from_value(v).map_err(|_| LexwareError::BadResponse("PUT /v1/contacts".into()))
    }
}

fn not_found(e: LexwareError) -> LexwareError {
    match e {
        LexwareError::Api { status: 404, .. } => crm_core::Error::NotFound {
            entity: "Lexware contact",
        }
        .into(),
        e => e,
    }
}
