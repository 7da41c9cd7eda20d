//! Persistence per aggregate. Every operation takes `&mut Tx` (a transaction in a tenant
//! scope), checks the actor's permission, validates its input into domain values (all field
//! errors at once), writes, and records its audit entry and outbox event in the same
//! transaction.
//!
//! Conventions shared by the aggregates:
//! - `NewX` (insert input) differs from `X` (a row as read); updates are `XPatch` values
//!   that name the `version` they were read at. A stale version is [`Error::Conflict`],
//!   never a silent overwrite; a missing or soft-deleted row is [`Error::NotFound`].
//! - Patch fields are `Option<T>` ("leave unchanged" when `None`) and, for nullable
//!   columns, `Option<Option<T>>` (`Some(None)` clears the value); see [`double_option`].
//! - Audit payloads are field-level diffs made by [`diff`]; events carry ids and changed
//!   field names, never personal data.
//! - Lists are keyset-paginated by `(created_at, id)` or `id` (UUIDv7 ids are time-ordered),
//!   returned as a [`Page`] with an opaque cursor for the next page.
//!
//! One write strategy, in this order, for every aggregate write (`contact`, `company`):
//! 1. the permission check ([`Tx::require`](crate::tenancy::Tx::require));
//! 2. for a change, the row locked at the version the caller read (`select ... for
//!    update`; a stale version is [`Error::Conflict`]) and the record read as `before`;
//! 3. the input checked without the database in the aggregate's `input` module (every
//!    field error at once, in field order, unit-tested), with the checks that need the
//!    database (list entries, the company and owners, the phone region) between those
//!    steps, then all errors returned together;
//! 4. the row written (its mirrored primary e-mail and phone with it), then the child
//!    e-mails, phones and tags replaced through `children` (one module for both kinds)
//!    and the owners through [`owner`];
//! 5. one audit entry with the field-level [`diff`] and one outbox event through
//!    [`Tx::record`](crate::tenancy::Tx::record), in the same transaction.
//!
//! One exception, kept for speed: `contact::create` does steps 4 and 5 in one statement
//! (which also checks the company and owners) and builds the contact from what it wrote.

pub mod activity;
mod children;
pub mod company;
pub mod contact;
pub mod deal;
pub mod dependents;
pub mod list;
pub mod owner;
mod pages;
mod pattern;
pub mod pipeline;
pub mod tag;
mod vocab;

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::ids::OrgId;

/// One page of a keyset-paginated list.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The records of this page, in list order.
    pub items: Vec<T>,
    /// The cursor for the next page, `None` on the last page.
    pub next: Option<Cursor>,
}

/// Where a page starts: the id of the last record of the previous page. Ids are UUIDv7 and
/// therefore ordered by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub Uuid);

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for Cursor {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Uuid::parse_str(s)
            .map(Cursor)
            .map_err(|_| Error::invalid("cursor", "is not a cursor returned by a list"))
    }
}

/// Page size and start of a list request.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct PageRequest {
    /// Records per page (1 to 10,000; default 100).
    pub limit: u32,
    /// Start after this cursor.
    pub after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: 100,
            after: None,
        }
    }
}

impl PageRequest {
    /// The limit clamped to 1..=10,000, as the SQL `limit` (one extra row is fetched to
    /// know whether there is a next page).
    pub fn sql_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, 10_000)) + 1
    }

    /// Builds the page from rows fetched with [`PageRequest::sql_limit`]: drops the extra
    /// row and sets the cursor from the last kept row's id.
    pub fn finish<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> Uuid) -> Page<T> {
        let limit = self.limit.clamp(1, 10_000) as usize;
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| Cursor(id(r)))
        } else {
            None
        };
        Page { items: rows, next }
    }
}

/// A field-level diff of two serialisable values: `{"field": {"before": .., "after": ..}}`
/// for every top-level field whose value differs. `before` of `None` (a creation) yields
/// every non-null field with `before: null`; `after` of `None` (a deletion) the reverse.
pub fn diff<T: Serialize>(before: Option<&T>, after: Option<&T>) -> Value {
    let as_map = |v: Option<&T>| -> Map<String, Value> {
        match v.map(serde_json::to_value) {
            Some(Ok(Value::Object(m))) => m,
            _ => Map::new(),
        }
    };
    let (b, a) = (as_map(before), as_map(after));
    let mut out = Map::new();
    let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    for k in keys {
        if matches!(k.as_str(), "version" | "updated_at" | "created_at") {
            continue;
        }
        let bv = b.get(k).cloned().unwrap_or(Value::Null);
        let av = a.get(k).cloned().unwrap_or(Value::Null);
        if bv != av {
            out.insert(k.clone(), serde_json::json!({ "before": bv, "after": av }));
        }
    }
    Value::Object(out)
}

/// The names of the fields a [`diff`] reports as changed (for event payloads, which carry
/// no values).
pub fn changed_fields(diff: &Value) -> Vec<String> {
    diff.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Deserializes a patch field of a nullable column: absent → `None` (unchanged),
/// `null` → `Some(None)` (clear), a value → `Some(Some(v))`. Use with
/// `#[serde(default, deserialize_with = "double_option")]`.
pub fn double_option<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// After an `update ... where id = $ and version = $` touched no row: a [`Error::NotFound`]
/// when the (live) row is missing, else a stale-version [`Error::Conflict`].
///
/// `table` must be a fixed table name from this crate, never input.
pub async fn stale_or_missing(
    conn: &mut PgConnection,
    table: &'static str,
    entity: &'static str,
    org: OrgId,
    id: Uuid,
) -> Error {
    let sql = format!(
        "select exists(select 1 from {table} where org_id = $1 and id = $2 and deleted_at is null)"
    );
    match sqlx::query_scalar::<_, bool>(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(id)
        .fetch_one(conn)
        .await
    {
        Ok(true) => Error::stale(entity),
        Ok(false) => Error::NotFound { entity },
        Err(e) => e.into(),
    }
}

/// Whether `table` has a row `id` in the organization (live or soft-deleted).
///
/// `table` must be a fixed table name from this crate, never input.
pub(crate) async fn id_exists(
    conn: &mut PgConnection,
    table: &'static str,
    org: OrgId,
    id: Uuid,
) -> Result<bool> {
    let sql = format!("select exists (select 1 from {table} where org_id = $1 and id = $2)");
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(id)
        .fetch_one(conn)
        .await?)
}

/// The hex digits of an id reference (dashes ignored, lower case), when it is 4 to 32 of
/// them: the form tables print (the last 8 digits) or any prefix.
pub(crate) fn id_digits(reference: &str) -> Option<String> {
    let digits: String = reference
        .chars()
        .filter(|c| *c != '-')
        .collect::<String>()
        .to_ascii_lowercase();
    ((4..=32).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(digits)
}

/// Rows of `table` whose id starts with `digits`, or, when none does, ends with them; live
/// rows first, at most `limit`: enough to tell one match from many. Each row comes with
/// whether it is live. Ids are UUIDv7: records created in the same minute share their first
/// digits, so lists print the last ones and both ends must work.
///
/// `table` must be a fixed table name from this crate, never input.
pub(crate) async fn match_id_digits(
    conn: &mut PgConnection,
    table: &'static str,
    org: OrgId,
    digits: &str,
    limit: i64,
) -> Result<Vec<(Uuid, bool)>> {
    let pad = |fill: char| {
        let mut s = digits.to_string();
        s.extend(std::iter::repeat_n(
            fill,
            32usize.saturating_sub(digits.len()),
        ));
        Uuid::parse_str(&s).ok()
    };
    if let (Some(low), Some(high)) = (pad('0'), pad('f')) {
        let sql = format!(
            "select id, deleted_at is null from {table} where org_id = $1 and id between $2 and $3 \
             order by deleted_at is not null, id limit $4"
        );
        let by_prefix: Vec<(Uuid, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(org)
            .bind(low)
            .bind(high)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
        if !by_prefix.is_empty() {
            return Ok(by_prefix);
        }
    }
    let sql = format!(
        "select id, deleted_at is null from {table} \
         where org_id = $1 and right(replace(id::text, '-', ''), $2) = $3 \
         order by deleted_at is not null, id limit $4"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(i32::try_from(digits.len()).unwrap_or(32))
        .bind(digits)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

/// The candidates among matches `(id, live)`: the live ones, or all when none is live.
pub(crate) fn live_first(matches: &[(Uuid, bool)]) -> Vec<Uuid> {
    let live: Vec<Uuid> = matches.iter().filter(|m| m.1).map(|m| m.0).collect();
    if live.is_empty() {
        matches.iter().map(|m| m.0).collect()
    } else {
        live
    }
}

/// Trims a text input; empty becomes `None`.
pub fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct R {
        name: String,
        city: Option<String>,
        version: i32,
    }

    #[test]
    fn diff_reports_changed_fields_only() {
        let a = R {
            name: "A".into(),
            city: None,
            version: 1,
        };
        let b = R {
            name: "A".into(),
            city: Some("Köln".into()),
            version: 2,
        };
        let d = diff(Some(&a), Some(&b));
        assert_eq!(
            d,
            serde_json::json!({"city": {"before": null, "after": "Köln"}})
        );
        assert_eq!(changed_fields(&d), vec!["city"]);
        let created = diff(None, Some(&a));
        assert_eq!(changed_fields(&created), vec!["name"]);
    }

    #[test]
    fn page_finish_sets_the_cursor_only_when_more_rows_exist() {
        let req = PageRequest {
            limit: 2,
            after: None,
        };
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let page = req.finish(ids.clone(), |u| *u);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next, Some(Cursor(ids[1])));
        let last = req.finish(ids[..2].to_vec(), |u| *u);
        assert_eq!(last.next, None);
    }

    #[test]
    fn double_option_distinguishes_absent_null_and_value() {
        #[derive(Deserialize)]
        struct P {
            #[serde(default, deserialize_with = "double_option")]
            city: Option<Option<String>>,
        }
        let absent: P = serde_json::from_str("{}").unwrap();
        let null: P = serde_json::from_str(r#"{"city":null}"#).unwrap();
        let set: P = serde_json::from_str(r#"{"city":"Bern"}"#).unwrap();
        assert_eq!(absent.city, None);
        assert_eq!(null.city, Some(None));
        assert_eq!(set.city, Some(Some("Bern".into())));
    }
}
