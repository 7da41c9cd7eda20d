//! Ranked search across contacts, companies and deals: name, e-mail, phone, company, deal
//! title, tolerant of case, accents, German spellings (Müller = Mueller = MÜLLER) and small
//! typos.
//!
//! Goes through the `crm_search` and `crm_search_deals` SQL functions (`SECURITY DEFINER`),
//! which read the tenant from the transaction, so the indexes stay usable under row-level
//! security. Contacts are found by name through the word index and its dictionary, by e-mail
//! address (its start, or its domain) and by phone number (its start) through btrees;
//! companies and deals through trigram indexes as well.

pub(crate) mod words;

use serde::Serialize;
use uuid::Uuid;

use crate::auth::Permission;
use crate::domain::Phone;
use crate::error::{Error, Result};
use crate::tenancy::Tx;

/// One search hit.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Hit {
    /// `contact`, `company` or `deal`.
    pub kind: String,
    /// The record's id.
    pub id: Uuid,
    /// Display name (a deal's title).
    pub name: String,
    /// Primary e-mail, where there is one.
    pub email: Option<String>,
    /// Relevance from 0 to 1: trigram word similarity, plus a bonus when the query occurs
    /// verbatim (1: verbatim and whole).
    pub score: f32,
}

/// Searches the scope's organization; at most `limit` hits (1 to 200), best first.
pub async fn search(tx: &mut Tx, query: &str, limit: u32) -> Result<Vec<Hit>> {
    tx.require(Permission::Read)?;
    let q = query.trim();
    if q.is_empty() {
        return Err(Error::invalid("query", "must not be empty"));
    }
    if q.chars().count() > 200 {
        return Err(Error::invalid("query", "must be at most 200 characters"));
    }
    // A query that is (the start of) a phone number is matched as the start of an E.164
    // number, a national one read in the organization's region.
    let looks_like_phone = q.chars().filter(|c| c.is_ascii_digit()).count() >= 5
        && q.chars()
            .all(|c| c.is_ascii_digit() || " +-/().".contains(c));
    let q = if looks_like_phone {
        Phone::search_prefix(q, tx.default_region()).unwrap_or_else(|| q.to_string())
    } else {
        q.to_string()
    };
    let limit = limit.clamp(1, 200) as i32;
    // One round trip: the ranked contacts and companies, then (unless the query is a phone
    // number) the deals, each part in its own order.
    let rows: Vec<DealOrNot> = sqlx::query_as(
        "select h.kind, h.id, h.name, h.email, h.score, false as deal, h.n \
         from crm_search($1, $2) with ordinality h(kind, id, name, email, score, n) \
         union all \
         select d.kind, d.id, d.name, d.email, d.score, true, d.n \
         from crm_search_deals($1, $2) with ordinality d(kind, id, name, email, score, n) where not $3 \
         order by deal, n",
    )
    .bind(&q)
    .bind(limit)
    .bind(looks_like_phone)
    .fetch_all(tx.conn())
    .await?;
    let with_deals = rows.iter().any(|row| row.deal);
    let mut hits: Vec<Hit> = rows.into_iter().map(|row| row.hit).collect();
    if with_deals {
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.name.cmp(&b.name))
        });
        hits.truncate(limit as usize);
    }
    Ok(hits)
}

/// A row of [`search`]'s query: a hit and whether it came from the deals' search.
#[derive(sqlx::FromRow)]
struct DealOrNot {
    #[sqlx(flatten)]
    hit: Hit,
    deal: bool,
}
