//! The voucher cache: each linked contact's sales documents, refreshed incrementally by
//! their updated date.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use crm_core::lexware::{Link, VoucherRow, links, vouchers};
use serde_json::Value;

use super::Lexware;
use crate::client::vouchers::VoucherQuery;
use crate::error::Result;
use crate::model::VoucherItem;

fn day(s: &Option<String>) -> Option<NaiveDate> {
    s.as_deref()
        .and_then(|s| NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok())
}

fn row(v: VoucherItem) -> VoucherRow {
    VoucherRow {
        lexware_id: v.id,
        voucher_type: v.voucher_type.clone().unwrap_or_else(|| "unknown".into()),
        voucher_number: v.voucher_number.clone(),
        voucher_date: day(&v.voucher_date),
        voucher_status: v.voucher_status.clone(),
        total_amount: v.total_amount,
        open_amount: v.open_amount,
        currency: v.currency.clone(),
        due_date: day(&v.due_date),
        archived: v.archived.unwrap_or(false),
        updated_date: v
            .updated_date
            .as_deref()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc)),
        lexware_contact_id: v.contact_id,
        payload: serde_json::to_value(&v).unwrap_or(Value::Null),
    }
}

impl Lexware {
    /// Refreshes the cached vouchers of one link: those changed since the last refresh
    /// (a day of overlap, the filter works on whole days), or all when `full`. Returns how
    /// many were stored.
    pub async fn refresh_vouchers(&self, link: &Link, full: bool) -> Result<u64> {
        let started = Utc::now();
        let since = if full {
            None
        } else {
            link.vouchers_refreshed_at
                .map(|t| (t - Duration::days(1)).date_naive())
        };
        let items = self
            .client
            .voucher_list(&VoucherQuery::for_contact(link.lexware_id, since))
            .await?;
        let rows: Vec<VoucherRow> = items.into_iter().map(row).collect();
        let link_id = link.id;
        Ok(self
            .scope
            .run(async |tx| {
                let n = vouchers::upsert(tx, &rows).await?;
                vouchers::mark_refreshed(tx, link_id, started).await?;
                Ok(n)
            })
            .await?)
    }

    /// Refreshes the vouchers of every link; returns (vouchers stored, links failed).
    pub async fn refresh_all_vouchers(&self, full: bool) -> Result<(u64, u64)> {
        let all = self.scope.run(async |tx| links::list(tx).await).await?;
        let (mut stored, mut failed) = (0, 0);
        for link in &all {
            match self.refresh_vouchers(link, full).await {
                Ok(n) => stored += n,
                Err(e) if e.is_transient() => return Err(e),
                Err(_) => failed += 1,
            }
        }
        Ok((stored, failed))
    }
}
