//! Vouchers (invoices, credit notes, quotations, order confirmations) cached from Lexware
//! Office, their links to deals, and the open amounts shown on companies and deals.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::ids::{CompanyId, DealId};
use crate::tenancy::Tx;

/// A voucher as fetched from the voucher list, to be cached.
#[derive(Debug, Clone)]
pub struct VoucherRow {
    /// Its id in Lexware.
    pub lexware_id: Uuid,
    /// `invoice`, `creditnote`, `quotation`, `orderconfirmation`, ...
    pub voucher_type: String,
    /// Its number (`RE1012`).
    pub voucher_number: Option<String>,
    /// Its date.
    pub voucher_date: Option<NaiveDate>,
    /// `open`, `paid`, `draft`, ...
    pub voucher_status: Option<String>,
    /// Total amount.
    pub total_amount: Option<Decimal>,
    /// Amount still open (invoices only).
    pub open_amount: Option<Decimal>,
    /// Currency (`EUR`).
    pub currency: Option<String>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Archived in Lexware.
    pub archived: bool,
    /// Last changed in Lexware.
    pub updated_date: Option<DateTime<Utc>>,
    /// The Lexware contact it is addressed to (`None`: the collective contact).
    pub lexware_contact_id: Option<Uuid>,
    /// The voucher list item as received (names the customer: redacted on erasure).
    pub payload: Value,
}

/// A cached voucher.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CachedVoucher {
    /// Its id in the CRM.
    pub id: Uuid,
    /// Its id in Lexware.
    pub lexware_id: Uuid,
    /// Type.
    pub voucher_type: String,
    /// Number.
    pub voucher_number: Option<String>,
    /// Date.
    pub voucher_date: Option<NaiveDate>,
    /// Status.
    pub voucher_status: Option<String>,
    /// Total amount.
    pub total_amount: Option<Decimal>,
    /// Open amount.
    pub open_amount: Option<Decimal>,
    /// Currency.
    pub currency: Option<String>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Archived.
    pub archived: bool,
    /// The Lexware contact.
    pub lexware_contact_id: Option<Uuid>,
    /// When it was fetched.
    pub fetched_at: DateTime<Utc>,
    /// Deals it is linked to.
    pub deals: Vec<Uuid>,
}

const SELECT: &str = "select v.id, v.lexware_id, v.voucher_type, v.voucher_number, v.voucher_date, \
    v.voucher_status, v.total_amount, v.open_amount, v.currency, v.due_date, v.archived, \
    v.lexware_contact_id, v.fetched_at, \
    coalesce((select array_agg(dv.deal_id order by dv.deal_id) from deal_vouchers dv \
              where dv.org_id = v.org_id and dv.voucher_id = v.id), '{}') as deals \
    from lexware_vouchers v";

/// Stores fetched vouchers (new ones inserted, known ones updated) with the fetch time.
/// Returns how many were written.
pub async fn upsert(tx: &mut Tx, rows: &[VoucherRow]) -> Result<u64> {
    tx.require(Permission::Write)?;
    let mut n = 0;
    for r in rows {
        n += sqlx::query(
            "insert into lexware_vouchers (org_id, id, lexware_id, voucher_type, voucher_number, \
                 voucher_date, voucher_status, total_amount, open_amount, currency, due_date, \
                 archived, updated_date, lexware_contact_id, payload, fetched_at) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, now()) \
             on conflict (org_id, lexware_id) do update set voucher_type = excluded.voucher_type, \
                 voucher_number = excluded.voucher_number, voucher_date = excluded.voucher_date, \
                 voucher_status = excluded.voucher_status, total_amount = excluded.total_amount, \
                 open_amount = excluded.open_amount, currency = excluded.currency, \
                 due_date = excluded.due_date, archived = excluded.archived, \
                 updated_date = excluded.updated_date, \
                 lexware_contact_id = excluded.lexware_contact_id, payload = excluded.payload, \
                 fetched_at = now()",
        )
        .bind(tx.org())
        .bind(Uuid::now_v7())
        .bind(r.lexware_id)
        .bind(&r.voucher_type)
        .bind(&r.voucher_number)
        .bind(r.voucher_date)
        .bind(&r.voucher_status)
        .bind(r.total_amount)
        .bind(r.open_amount)
        .bind(
            r.currency
                .as_deref()
                .map(|c| c.chars().take(3).collect::<String>()),
        )
        .bind(r.due_date)
        .bind(r.archived)
        .bind(r.updated_date)
        .bind(r.lexware_contact_id)
        .bind(&r.payload)
        .execute(tx.conn())
        .await?
        .rows_affected();
    }
    Ok(n)
}

/// Notes that the vouchers of a link were refreshed at `at` (the start of the fetch, so
/// the next incremental refresh overlaps rather than misses).
pub async fn mark_refreshed(tx: &mut Tx, link_id: Uuid, at: DateTime<Utc>) -> Result<()> {
    tx.require(Permission::Write)?;
    sqlx::query(
        "update lexware_contact_links set vouchers_refreshed_at = $3 where org_id = $1 and id = $2",
    )
    .bind(tx.org())
    .bind(link_id)
    .bind(at)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The cached vouchers of a Lexware contact, newest first.
pub async fn for_contact(tx: &mut Tx, lexware_contact_id: Uuid) -> Result<Vec<CachedVoucher>> {
    tx.require(Permission::Read)?;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} where v.org_id = $1 and v.lexware_contact_id = $2 \
         order by v.voucher_date desc nulls last, v.voucher_number"
    )))
    .bind(tx.org())
    .bind(lexware_contact_id)
    .fetch_all(tx.conn())
    .await?)
}

/// The vouchers linked to a deal.
pub async fn for_deal(tx: &mut Tx, deal: DealId) -> Result<Vec<CachedVoucher>> {
    tx.require(Permission::Read)?;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} join deal_vouchers d on d.org_id = v.org_id and d.voucher_id = v.id \
         where v.org_id = $1 and d.deal_id = $2 order by v.voucher_date desc nulls last"
    )))
    .bind(tx.org())
    .bind(deal)
    .fetch_all(tx.conn())
    .await?)
}

/// Every cached voucher, newest first.
pub async fn list(tx: &mut Tx) -> Result<Vec<CachedVoucher>> {
    tx.require(Permission::Read)?;
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} where v.org_id = $1 order by v.voucher_date desc nulls last, v.voucher_number"
    )))
    .bind(tx.org())
    .fetch_all(tx.conn())
    .await?)
}

/// Finds a cached voucher by its CRM id, Lexware id or voucher number.
pub async fn resolve(tx: &mut Tx, reference: &str) -> Result<CachedVoucher> {
    tx.require(Permission::Read)?;
    let id = Uuid::parse_str(reference.trim()).ok();
    let mut rows: Vec<CachedVoucher> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} where v.org_id = $1 and (v.id = $2 or v.lexware_id = $2 or v.voucher_number = $3) \
         limit 2"
    )))
    .bind(tx.org())
    .bind(id)
    .bind(reference.trim())
    .fetch_all(tx.conn())
    .await?;
    match rows.len() {
        0 => Err(Error::NotFound {
            entity: "cached voucher (run `crm lexware vouchers refresh` first)",
        }),
        1 => Ok(rows.remove(0)),
        _ => Err(Error::invalid(
            "voucher",
            "the number matches several vouchers; give its id",
        )),
    }
}

/// Links a cached voucher to a deal (linking twice is a no-op). Audited on the deal.
pub async fn link_deal(tx: &mut Tx, deal: DealId, voucher: Uuid) -> Result<()> {
    tx.require(Permission::Write)?;
    let added = sqlx::query(
        "insert into deal_vouchers (org_id, deal_id, voucher_id) \
         select $1, d.id, $3 from deals d where d.org_id = $1 and d.id = $2 and d.deleted_at is null \
         on conflict do nothing",
    )
    .bind(tx.org())
    .bind(deal)
    .bind(voucher)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if added == 0 && !deal_exists(tx, deal).await? {
        return Err(Error::NotFound { entity: "deal" });
    }
    if added > 0 {
        let payload = json!({ "voucher_id": voucher });
        tx.record(
            "deal",
            Some(deal.uuid()),
            "voucher_linked",
            &payload,
            Some("deal.voucher_linked"),
            &payload,
        )
        .await?;
    }
    Ok(())
}

/// Removes the link of a voucher to a deal. Audited on the deal.
pub async fn unlink_deal(tx: &mut Tx, deal: DealId, voucher: Uuid) -> Result<()> {
    tx.require(Permission::Write)?;
    let removed = sqlx::query(
        "delete from deal_vouchers where org_id = $1 and deal_id = $2 and voucher_id = $3",
    )
    .bind(tx.org())
    .bind(deal)
    .bind(voucher)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if removed == 0 {
        return Err(Error::NotFound {
            entity: "link of this voucher to this deal",
        });
    }
    let payload = json!({ "voucher_id": voucher });
    tx.record(
        "deal",
        Some(deal.uuid()),
        "voucher_unlinked",
        &payload,
        Some("deal.voucher_unlinked"),
        &payload,
    )
    .await
}

async fn deal_exists(tx: &mut Tx, deal: DealId) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "select exists(select 1 from deals where org_id = $1 and id = $2 and deleted_at is null)",
    )
    .bind(tx.org())
    .bind(deal)
    .fetch_one(tx.conn())
    .await?)
}

/// Open amounts of a company or deal from the cached vouchers: the sum of `open_amount`
/// over invoice-like vouchers that are not voided, drafts or archived, per currency.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpenAmounts {
    /// `(currency, amount)`, one entry per currency, sorted.
    pub by_currency: Vec<(String, Decimal)>,
    /// How many vouchers were summed.
    pub vouchers: i64,
    /// When the oldest of them was fetched (how fresh the figure is).
    pub fetched_at: Option<DateTime<Utc>>,
}

const OPEN_FILTER: &str = "v.open_amount is not null and v.open_amount <> 0 and not v.archived \
    and coalesce(v.voucher_status, '') not in ('voided', 'draft', 'paid', 'paidoff')";

/// The open amounts of a company: vouchers of the Lexware contact linked to it.
pub async fn open_for_company(tx: &mut Tx, company: CompanyId) -> Result<Option<OpenAmounts>> {
    tx.require(Permission::Read)?;
    let linked: Option<Uuid> = sqlx::query_scalar(
        "select lexware_id from lexware_contact_links where org_id = $1 and company_id = $2",
    )
    .bind(tx.org())
    .bind(company)
    .fetch_optional(tx.conn())
    .await?;
    let Some(lexware_id) = linked else {
        return Ok(None);
    };
    let rows: Vec<(String, Decimal, i64, Option<DateTime<Utc>>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select coalesce(v.currency, 'EUR'), sum(v.open_amount), count(*), min(v.fetched_at) \
             from lexware_vouchers v where v.org_id = $1 and v.lexware_contact_id = $2 \
             and {OPEN_FILTER} group by 1 order by 1"
        )))
        .bind(tx.org())
        .bind(lexware_id)
        .fetch_all(tx.conn())
        .await?;
    Ok(Some(fold(rows)))
}

/// The open amounts of the vouchers linked to a deal.
pub async fn open_for_deal(tx: &mut Tx, deal: DealId) -> Result<OpenAmounts> {
    tx.require(Permission::Read)?;
    let rows: Vec<(String, Decimal, i64, Option<DateTime<Utc>>)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select coalesce(v.currency, 'EUR'), sum(v.open_amount), count(*), min(v.fetched_at) \
             from lexware_vouchers v join deal_vouchers d on d.org_id = v.org_id and d.voucher_id = v.id \
             where v.org_id = $1 and d.deal_id = $2 and {OPEN_FILTER} group by 1 order by 1"
        )))
        .bind(tx.org())
        .bind(deal)
        .fetch_all(tx.conn())
        .await?;
    Ok(fold(rows))
}

fn fold(rows: Vec<(String, Decimal, i64, Option<DateTime<Utc>>)>) -> OpenAmounts {
    let mut out = OpenAmounts::default();
    for (currency, amount, n, fetched) in rows {
        out.by_currency.push((currency.trim().to_string(), amount));
        out.vouchers += n;
        out.fetched_at = match (out.fetched_at, fetched) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    out
}
