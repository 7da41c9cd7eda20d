//! The voucher list: the only index of invoices, credit notes, quotations and order
//! confirmations. Past the API's 10,000-entry search window the date range is halved until
//! every part fits.

use std::collections::HashSet;

use chrono::{Duration as Days, NaiveDate, Utc};
use uuid::Uuid;

use super::Client;
use crate::error::{LexwareError, Result};
use crate::model::VoucherItem;

/// The voucher types the CRM caches (sales documents made in the app).
pub const SALES_TYPES: &str = "invoice,creditnote,quotation,orderconfirmation";

/// The search window of the API.
pub const WINDOW: u64 = 10_000;

/// A voucher-list query.
#[derive(Debug, Clone)]
pub struct VoucherQuery {
    /// Comma list of types, or `any`.
    pub types: String,
    /// Comma list of states, or `any`.
    pub statuses: String,
    /// Only this contact's vouchers.
    pub contact_id: Option<Uuid>,
    /// Only vouchers changed on or after this day (incremental refresh).
    pub updated_from: Option<NaiveDate>,
}

impl VoucherQuery {
    /// The sales documents of one contact, optionally changed since a day.
    pub fn for_contact(contact_id: Uuid, updated_from: Option<NaiveDate>) -> Self {
        Self {
            types: SALES_TYPES.into(),
            statuses: "any".into(),
            contact_id: Some(contact_id),
            updated_from,
        }
    }

    fn params(&self, range: Option<(NaiveDate, NaiveDate)>) -> Vec<(&'static str, String)> {
        let mut q = vec![
            ("voucherType", self.types.clone()),
            ("voucherStatus", self.statuses.clone()),
        ];
        if let Some(c) = self.contact_id {
            q.push(("contactId", c.to_string()));
        }
        if let Some(d) = self.updated_from {
            q.push(("updatedDateFrom", d.format("%Y-%m-%d").to_string()));
        }
        if let Some((from, to)) = range {
            q.push(("voucherDateFrom", from.format("%Y-%m-%d").to_string()));
            q.push(("voucherDateTo", to.format("%Y-%m-%d").to_string()));
        }
        q.push(("sort", "voucherDate,DESC".into()));
        q
    }
}

/// The earliest voucher date searched when a list must be split by date.
fn earliest() -> NaiveDate {
    NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or_default()
}

impl Client {
    /// Every voucher matching `q`, across all pages; lists beyond the 10,000-entry window
    /// are fetched in date ranges narrow enough to fit.
    pub async fn voucher_list(&self, q: &VoucherQuery) -> Result<Vec<VoucherItem>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        // A stack of ranges to fetch; `None` is "no date filter".
        let mut todo: Vec<Option<(NaiveDate, NaiveDate)>> = vec![None];
        while let Some(range) = todo.pop() {
            match self.voucher_range(q, range).await? {
                Some(items) => {
                    for v in items {
                        if seen.insert(v.id) {
                            out.push(v);
                        }
                    }
                }
                None => {
                    let (from, to) =
                        range.unwrap_or((earliest(), Utc::now().date_naive() + Days::days(366)));
                    if from >= to {
                        return Err(LexwareError::WindowTooNarrow);
                    }
                    let mid = from + Days::days((to - from).num_days() / 2);
                    todo.push(Some((mid + Days::days(1), to)));
                    todo.push(Some((from, mid)));
                }
            }
        }
        Ok(out)
    }

    /// One date range to the end, or `None` when it does not fit in the window.
    async fn voucher_range(
        &self,
        q: &VoucherQuery,
        range: Option<(NaiveDate, NaiveDate)>,
    ) -> Result<Option<Vec<VoucherItem>>> {
        let params = q.params(range);
        let mut items = Vec::new();
        let mut n = 0u32;
        loop {
            let page = match self
                .page::<VoucherItem>("/v1/voucherlist", &params, n)
                .await
            {
                Ok(p) => p,
                Err(LexwareError::Api { ref body, .. }) if body.is_window_exceeded() => {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            if n == 0 && page.total_elements.is_some_and(|t| t >= WINDOW) {
                return Ok(None);
            }
            let empty = page.content.is_empty();
            items.extend(page.content);
            if page.last.unwrap_or(empty)
                || empty
                || page.total_pages.is_some_and(|t| u64::from(n) + 1 >= t)
            {
                return Ok(Some(items));
            }
            n += 1;
        }
    }
}
