//! Retention: soft-deleted records are kept for the organization's retention period (days,
//! `organizations.retention_days`, default 30) and then purged for good.

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::isolated;
use crate::auth::Permission;
use crate::dedupe::Kind;
use crate::error::{Error, Result};
use crate::search::words;
use crate::tenancy::Tx;

/// The shortest and longest retention period an organization can set, in days.
pub const RETENTION_DAYS: std::ops::RangeInclusive<i32> = 1..=3650;

/// What a retention run purged (or, in a dry run, would purge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionSummary {
    /// Records soft-deleted before this time were purged.
    pub cutoff: DateTime<Utc>,
    /// The period used, in seconds.
    pub older_than_secs: i64,
    /// Contacts purged (with their addresses, tags, owners, consents and Lexware links).
    pub contacts: i64,
    /// Companies purged (with their addresses, tags, owners and relationships).
    pub companies: i64,
    /// Deals purged (with their owners, stage history and voucher links).
    pub deals: i64,
    /// Activities purged: soft-deleted ones past the period, and those linked only to
    /// purged records.
    pub activities: i64,
    /// Activities kept but unlinked from a purged record.
    pub activities_unlinked: i64,
    /// Audit entries of purged contacts and activities whose payload was redacted.
    pub audit_redacted: i64,
    /// Outbox events about purged records removed.
    pub events_purged: i64,
    /// Whether this was a dry run (nothing changed).
    pub dry_run: bool,
}

/// The organization's retention period in days.
pub async fn retention_days(tx: &mut Tx) -> Result<i32> {
    tx.require(Permission::Read)?;
    Ok(
        sqlx::query_scalar("select retention_days from organizations where id = $1")
            .bind(tx.org())
            .fetch_one(tx.conn())
            .await?,
    )
}

/// Sets the organization's retention period (1 to 3650 days). Requires
/// [`Permission::Erase`]; audited on the organization.
pub async fn set_retention_days(tx: &mut Tx, days: i32) -> Result<i32> {
    tx.require(Permission::Erase)?;
    if !RETENTION_DAYS.contains(&days) {
        return Err(Error::invalid(
            "retention_days",
            "must be between 1 and 3650 days",
        ));
    }
    let org = tx.org();
    let before: i32 =
        sqlx::query_scalar("select retention_days from organizations where id = $1 for update")
            .bind(org)
            .fetch_one(tx.conn())
            .await?;
    if before != days {
        sqlx::query("update organizations set retention_days = $2 where id = $1")
            .bind(org)
            .bind(days)
            .execute(tx.conn())
            .await?;
        tx.record(
            "organization",
            Some(org.uuid()),
            "update",
            &json!({ "retention_days": { "before": before, "after": days } }),
            Some("organization.updated"),
            &json!({ "id": org, "fields": ["retention_days"] }),
        )
        .await?;
    }
    Ok(days)
}

/// Purges contacts, companies, deals and activities soft-deleted longer ago than
/// `older_than` (default: the organization's retention period), with their dependents, in
/// the caller's transaction. Activities linked to a purged record and to a kept one stay,
/// unlinked from the purged one. Audit payloads of purged contacts and activities are
/// redacted and outbox events about purged records removed. Requires
/// [`Permission::Erase`]. With `dry_run`, everything is done and rolled back: the summary
/// is exact and nothing changes.
pub async fn retention(
    tx: &mut Tx,
    older_than: Option<TimeDelta>,
    dry_run: bool,
) -> Result<RetentionSummary> {
    tx.require(Permission::Erase)?;
    if older_than.is_some_and(|d| d <= TimeDelta::zero()) {
        return Err(Error::invalid("older_than", "must be a positive period"));
    }
    isolated(tx, !dry_run, async |tx| {
        let mut s = purge(tx, older_than).await?;
        s.dry_run = dry_run;
        Ok(s)
    })
    .await
}

/// Deletes the records soft-deleted before the cutoff with their activities and events,
/// redacts their audit entries and records the purge.
async fn purge(tx: &mut Tx, older_than: Option<TimeDelta>) -> Result<RetentionSummary> {
    let org = tx.org();
    let (secs, cutoff) = find_cutoff(tx, older_than).await?;
    let expired = expired_records(tx, cutoff).await?;
    let (gone_activities, unlinked) = purge_activities(tx, &expired).await?;
    let Expired {
        contacts,
        companies,
        deals,
        ..
    } = expired;
    let delete = async |tx: &mut Tx, sql: &'static str, ids: &[Uuid]| -> Result<i64> {
        Ok(sqlx::query(sql)
            .bind(org)
            .bind(ids)
            .execute(tx.conn())
            .await?
            .rows_affected() as i64)
    };
    let deals_n = delete(
        tx,
        "delete from deals where org_id = $1 and id = any($2)",
        &deals,
    )
    .await?;
    tx.detach("contacts", &contacts).await?;
    tx.detach("companies", &companies).await?;
    let held = words::held(tx, Kind::Contact, &contacts)
        .await?
        .and(words::held(tx, Kind::Company, &companies).await?);
    let contacts_n = delete(
        tx,
        "delete from contacts where org_id = $1 and id = any($2)",
        &contacts,
    )
    .await?;
    let companies_n = delete(
        tx,
        "delete from companies where org_id = $1 and id = any($2)",
        &companies,
    )
    .await?;
    words::removed(tx, held).await?;

    let mut personal: Vec<Uuid> = contacts.clone();
    personal.extend(&gone_activities);
    let audit_redacted = if personal.is_empty() {
        0
    } else {
        let mut types: Vec<&str> = vec!["contact"; contacts.len()];
        types.extend(std::iter::repeat_n("activity", gone_activities.len()));
        sqlx::query_scalar::<_, i64>("select crm_gdpr_redact_purged($1, $2)")
            .bind(&types)
            .bind(&personal)
            .fetch_one(tx.conn())
            .await?
    };
    let mut purged: Vec<Uuid> = personal;
    purged.extend(&companies);
    purged.extend(&deals);
    let events_purged = delete(
        tx,
        "delete from events where org_id = $1 and entity_id = any($2)",
        &purged,
    )
    .await?;
    let summary = RetentionSummary {
        cutoff,
        older_than_secs: secs,
        contacts: contacts_n,
        companies: companies_n,
        deals: deals_n,
        activities: gone_activities.len() as i64,
        activities_unlinked: unlinked,
        audit_redacted,
        events_purged,
        dry_run: false,
    };
    let payload = serde_json::to_value(&summary)
        .map_err(|e| Error::Database(format!("encoding the summary failed: {e}")))?;
    tx.record(
        "organization",
        Some(org.uuid()),
        "retention",
        &payload,
        None,
        &serde_json::Value::Null,
    )
    .await?;
    Ok(summary)
}

/// The retention period in seconds (the organization's unless given) and the cutoff it
/// makes (the database's clock).
async fn find_cutoff(tx: &mut Tx, older_than: Option<TimeDelta>) -> Result<(i64, DateTime<Utc>)> {
    let org = tx.org();
    let secs = match older_than {
        Some(d) => d.num_seconds(),
        None => {
            let days: i32 =
                sqlx::query_scalar("select retention_days from organizations where id = $1")
                    .bind(org)
                    .fetch_one(tx.conn())
                    .await?;
            i64::from(days) * 86_400
        }
    };
    let cutoff: DateTime<Utc> = sqlx::query_scalar("select now() - make_interval(secs => $1)")
        .bind(secs as f64)
        .fetch_one(tx.conn())
        .await?;
    Ok((secs, cutoff))
}

/// The records soft-deleted before the cutoff (contacts, companies and deals locked).
struct Expired {
    contacts: Vec<Uuid>,
    companies: Vec<Uuid>,
    deals: Vec<Uuid>,
    activities: Vec<Uuid>,
}

/// Finds (and locks) the records soft-deleted before the cutoff.
async fn expired_records(tx: &mut Tx, cutoff: DateTime<Utc>) -> Result<Expired> {
    let org = tx.org();
    let expired = async |tx: &mut Tx, sql: &'static str| -> Result<Vec<Uuid>> {
        Ok(sqlx::query_scalar(sql)
            .bind(org)
            .bind(cutoff)
            .fetch_all(tx.conn())
            .await?)
    };
    let contacts = expired(
        tx,
        "select id from contacts where org_id = $1 and deleted_at < $2 for update",
    )
    .await?;
    let companies = expired(
        tx,
        "select id from companies where org_id = $1 and deleted_at < $2 for update",
    )
    .await?;
    let deals = expired(
        tx,
        "select id from deals where org_id = $1 and deleted_at < $2 for update",
    )
    .await?;
    let activities = expired(
        tx,
        "select id from activities where org_id = $1 and deleted_at < $2",
    )
    .await?;
    Ok(Expired {
        contacts,
        companies,
        deals,
        activities,
    })
}

/// Deletes the activities past the period and those whose every link goes to a purged
/// record, and unlinks the others from purged records; returns the deleted ids and how
/// many were unlinked.
async fn purge_activities(tx: &mut Tx, e: &Expired) -> Result<(Vec<Uuid>, i64)> {
    let org = tx.org();
    // Activities past the period, and those whose every link goes to a purged record.
    let gone_activities: Vec<Uuid> = sqlx::query_scalar(
        "delete from activities where org_id = $1 \
           and (id = any($2) \
                or ((contact_id = any($3) or company_id = any($4) or deal_id = any($5)) \
                    and (contact_id is null or contact_id = any($3)) \
                    and (company_id is null or company_id = any($4)) \
                    and (deal_id is null or deal_id = any($5)))) \
         returning id",
    )
    .bind(org)
    .bind(&e.activities)
    .bind(&e.contacts)
    .bind(&e.companies)
    .bind(&e.deals)
    .fetch_all(tx.conn())
    .await?;
    let unlinked = sqlx::query(
        "update activities set \
                contact_id = case when contact_id = any($2) then null else contact_id end, \
                company_id = case when company_id = any($3) then null else company_id end, \
                deal_id = case when deal_id = any($4) then null else deal_id end \
         where org_id = $1 \
           and (contact_id = any($2) or company_id = any($3) or deal_id = any($4))",
    )
    .bind(org)
    .bind(&e.contacts)
    .bind(&e.companies)
    .bind(&e.deals)
    .execute(tx.conn())
    .await?
    .rows_affected() as i64;
    Ok((gone_activities, unlinked))
}
