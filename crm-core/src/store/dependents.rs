//! What a destructive operation takes with it: the records that depend on a company,
//! contact, deal, pipeline or stage, with the sums of the open deals among them, so that a
//! front-end's confirmation (or `--dry-run`) can name them: "1 open deal (87,400.50 EUR),
//! 1 contact".

use std::fmt;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::auth::Permission;
use crate::error::Result;
use crate::ids::{CompanyId, ContactId, DealId, PipelineId, StageId};
use crate::tenancy::Tx;

/// An amount in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sum {
    /// The ISO code (`EUR`).
    pub currency: String,
    /// The total, exact.
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// The live records that depend on one record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Dependents {
    /// Companies (of an organization).
    pub companies: i64,
    /// Contacts (of a company or an organization).
    pub contacts: i64,
    /// Open deals.
    pub open_deals: i64,
    /// The open deals' values, per currency (largest first).
    pub open_value: Vec<Sum>,
    /// Won or lost deals.
    pub closed_deals: i64,
    /// Activities.
    pub activities: i64,
}

impl Dependents {
    /// Whether nothing depends on the record.
    pub fn is_empty(&self) -> bool {
        self.companies == 0
            && self.contacts == 0
            && self.open_deals == 0
            && self.closed_deals == 0
            && self.activities == 0
    }
}

/// `12345.5` as `12,345.50`: thousands grouped, two decimals (more when the amount has them).
pub fn grouped(amount: Decimal) -> String {
    let scale = amount.scale().max(2);
    let text = format!("{:.*}", scale as usize, amount.abs());
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if amount.is_sign_negative() && !amount.is_zero() {
        out.insert(0, '-');
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    out
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl fmt::Display for Dependents {
    /// "1 open deal (87,400.50 EUR), 2 closed deals, 1 contact, 3 activities", or "nothing
    /// depends on it".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.open_deals > 0 {
            let sums: Vec<String> = self
                .open_value
                .iter()
                .map(|s| format!("{} {}", grouped(s.amount), s.currency))
                .collect();
            parts.push(format!(
                "{} ({})",
                plural(self.open_deals, "open deal", "open deals"),
                sums.join(" + ")
            ));
        }
        if self.closed_deals > 0 {
            parts.push(plural(self.closed_deals, "closed deal", "closed deals"));
        }
        if self.companies > 0 {
            parts.push(plural(self.companies, "company", "companies"));
        }
        if self.contacts > 0 {
            parts.push(plural(self.contacts, "contact", "contacts"));
        }
        if self.activities > 0 {
            parts.push(plural(self.activities, "activity", "activities"));
        }
        if parts.is_empty() {
            f.write_str("nothing depends on it")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

/// Deals where `column = id`, open ones summed per currency.
async fn deals(
    tx: &mut Tx,
    column: &'static str,
    id: uuid::Uuid,
    d: &mut Dependents,
) -> Result<()> {
    let sql = format!(
        "select status = 'open', currency, count(*), coalesce(sum(value), 0) from deals \
         where org_id = $1 and {column} = $2 and deleted_at is null \
         group by 1, 2 order by 4 desc"
    );
    let rows: Vec<(bool, String, i64, Decimal)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(id)
        .fetch_all(tx.conn())
        .await?;
    for (open, currency, n, sum) in rows {
        if open {
            d.open_deals += n;
            d.open_value.push(Sum {
                currency: currency.trim().to_string(),
                amount: sum,
            });
        } else {
            d.closed_deals += n;
        }
    }
    Ok(())
}

async fn count(tx: &mut Tx, sql: &'static str, id: uuid::Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar(sql)
        .bind(tx.org())
        .bind(id)
        .fetch_one(tx.conn())
        .await?)
}

/// What depends on a company: its contacts, deals and activities.
pub async fn of_company(tx: &mut Tx, id: CompanyId) -> Result<Dependents> {
    tx.require(Permission::Read)?;
    let mut d = Dependents::default();
    deals(tx, "company_id", id.uuid(), &mut d).await?;
    d.contacts = count(
        tx,
        "select count(*) from contacts where org_id = $1 and company_id = $2 \
         and deleted_at is null",
        id.uuid(),
    )
    .await?;
    d.activities = count(
        tx,
        "select count(*) from activities where org_id = $1 and company_id = $2 \
         and deleted_at is null",
        id.uuid(),
    )
    .await?;
    Ok(d)
}

/// What an organization holds: its companies, contacts, deals (open ones summed) and
/// activities (as far as the actor sees them; owners see everything).
pub async fn of_organization(tx: &mut Tx) -> Result<Dependents> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let (companies, contacts, activities): (i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from companies where org_id = $1 and deleted_at is null), \
                (select count(*) from contacts where org_id = $1 and deleted_at is null), \
                (select count(*) from activities where org_id = $1 and deleted_at is null)",
    )
    .bind(org)
    .fetch_one(tx.conn())
    .await?;
    let mut d = Dependents {
        companies,
        contacts,
        activities,
        ..Dependents::default()
    };
    deals(tx, "org_id", org.uuid(), &mut d).await?;
    Ok(d)
}

/// What depends on a contact: its deals and activities.
pub async fn of_contact(tx: &mut Tx, id: ContactId) -> Result<Dependents> {
    tx.require(Permission::Read)?;
    let mut d = Dependents::default();
    deals(tx, "contact_id", id.uuid(), &mut d).await?;
    d.activities = count(
        tx,
        "select count(*) from activities where org_id = $1 and contact_id = $2 \
         and deleted_at is null",
        id.uuid(),
    )
    .await?;
    Ok(d)
}

/// What depends on a deal: its activities.
pub async fn of_deal(tx: &mut Tx, id: DealId) -> Result<Dependents> {
    tx.require(Permission::Read)?;
    let activities = count(
        tx,
        "select count(*) from activities where org_id = $1 and deal_id = $2 \
         and deleted_at is null",
        id.uuid(),
    )
    .await?;
    Ok(Dependents {
        activities,
        ..Dependents::default()
    })
}

/// The deals in a pipeline.
pub async fn of_pipeline(tx: &mut Tx, id: PipelineId) -> Result<Dependents> {
    tx.require(Permission::Read)?;
    let mut d = Dependents::default();
    deals(tx, "pipeline_id", id.uuid(), &mut d).await?;
    Ok(d)
}

/// The deals in a stage.
pub async fn of_stage(tx: &mut Tx, id: StageId) -> Result<Dependents> {
    tx.require(Permission::Read)?;
    let mut d = Dependents::default();
    deals(tx, "stage_id", id.uuid(), &mut d).await?;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_grouped_and_records_named() {
        assert_eq!(grouped(Decimal::new(8_740_050, 2)), "87,400.50");
        assert_eq!(grouped(Decimal::new(5, 0)), "5.00");
        assert_eq!(grouped(Decimal::new(1_234_567_891, 3)), "1,234,567.891");
        let d = Dependents {
            contacts: 1,
            open_deals: 1,
            open_value: vec![Sum {
                currency: "EUR".into(),
                amount: Decimal::new(8_740_050, 2),
            }],
            ..Dependents::default()
        };
        assert_eq!(d.to_string(), "1 open deal (87,400.50 EUR), 1 contact");
        assert_eq!(Dependents::default().to_string(), "nothing depends on it");
    }
}
