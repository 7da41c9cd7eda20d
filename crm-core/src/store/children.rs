//! The child rows contacts and companies share (e-mail addresses, phone numbers, tags),
//! read and written the same way for both: [`Parent`] names the record kind, and with it
//! the child tables and the column naming the record in them. Owners have their own module
//! ([`super::owner`]), shared with deals.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use uuid::Uuid;

use crate::domain::{EmailKind, PhoneKind};
use crate::error::Result;
use crate::tenancy::Tx;

/// A record kind with child e-mails, phones and tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Parent {
    /// `contact_emails`, `contact_phones`, `contact_tags` by `contact_id`.
    Contact,
    /// `company_emails`, `company_phones`, `company_tags` by `company_id`.
    Company,
}

impl Parent {
    /// The column naming the record in its child tables.
    fn fk(self) -> &'static str {
        match self {
            Parent::Contact => "contact_id",
            Parent::Company => "company_id",
        }
    }

    /// The e-mail, phone and tag tables.
    fn tables(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Parent::Contact => ("contact_emails", "contact_phones", "contact_tags"),
            Parent::Company => ("company_emails", "company_phones", "company_tags"),
        }
    }
}

/// One e-mail row as it is written.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct EmailRow {
    pub email: String,
    /// The address normalised (trimmed, lower case).
    pub norm: String,
    pub kind: EmailKind,
    pub primary: bool,
}

/// One phone row as it is written.
pub(crate) struct PhoneValues<'a> {
    /// `None` for a number that could not be placed in a country (kept as written).
    pub e164: Option<&'a str>,
    pub raw: &'a str,
    pub kind: PhoneKind,
    pub primary: bool,
}

/// Deletes the record's rows of a child `table` (a constant).
async fn clear(tx: &mut Tx, table: &str, fk: &str, id: Uuid) -> Result<()> {
    sqlx::query(AssertSqlSafe(format!(
        "delete from {table} where org_id = $1 and {fk} = $2"
    )))
    .bind(tx.org())
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces the e-mail rows of the record `id` (one statement each for delete and insert).
/// UUIDv7 ids made in order keep the given order when read back by id.
pub(crate) async fn replace_emails(
    tx: &mut Tx,
    parent: Parent,
    id: Uuid,
    rows: &[EmailRow],
) -> Result<()> {
    let ((table, _, _), fk) = (parent.tables(), parent.fk());
    clear(tx, table, fk, id).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
    let norms: Vec<&str> = rows.iter().map(|r| r.norm.as_str()).collect();
    let kinds: Vec<EmailKind> = rows.iter().map(|r| r.kind).collect();
    let primary: Vec<bool> = rows.iter().map(|r| r.primary).collect();
    sqlx::query(AssertSqlSafe(format!(
        "insert into {table} (org_id, id, {fk}, email, email_norm, kind, is_primary) \
         select $1, u.id, $2, u.email, u.norm, u.kind, u.is_primary \
         from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bool[]) \
              as u(id, email, norm, kind, is_primary)"
    )))
    .bind(tx.org())
    .bind(id)
    .bind(&ids)
    .bind(&emails)
    .bind(&norms)
    .bind(&kinds)
    .bind(&primary)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces the phone rows of the record `id`.
pub(crate) async fn replace_phones(
    tx: &mut Tx,
    parent: Parent,
    id: Uuid,
    rows: &[PhoneValues<'_>],
) -> Result<()> {
    let ((_, table, _), fk) = (parent.tables(), parent.fk());
    clear(tx, table, fk, id).await?;
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let e164: Vec<Option<&str>> = rows.iter().map(|r| r.e164).collect();
    let raw: Vec<&str> = rows.iter().map(|r| r.raw).collect();
    let kinds: Vec<PhoneKind> = rows.iter().map(|r| r.kind).collect();
    let primary: Vec<bool> = rows.iter().map(|r| r.primary).collect();
    sqlx::query(AssertSqlSafe(format!(
        "insert into {table} (org_id, id, {fk}, number_e164, number_raw, kind, is_primary) \
         select $1, u.id, $2, u.e164, u.raw, u.kind, u.is_primary \
         from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bool[]) \
              as u(id, e164, raw, kind, is_primary)"
    )))
    .bind(tx.org())
    .bind(id)
    .bind(&ids)
    .bind(&e164)
    .bind(&raw)
    .bind(&kinds)
    .bind(&primary)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces the tags of the record `id` with `names` (creating missing tags).
pub(crate) async fn replace_tags(
    tx: &mut Tx,
    parent: Parent,
    id: Uuid,
    names: &[String],
) -> Result<()> {
    let tag_ids: Vec<Uuid> = super::tag::resolve(tx, names)
        .await?
        .into_iter()
        .map(|t| t.uuid())
        .collect();
    let ((_, _, table), fk) = (parent.tables(), parent.fk());
    clear(tx, table, fk, id).await?;
    if tag_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(AssertSqlSafe(format!(
        "insert into {table} (org_id, {fk}, tag_id) \
         select $1, $2, t from unnest($3::uuid[]) as t on conflict do nothing"
    )))
    .bind(tx.org())
    .bind(id)
    .bind(&tag_ids)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Groups `(record id, child)` rows by record, keeping their order within a record.
pub(crate) fn group<V>(rows: impl IntoIterator<Item = (Uuid, V)>) -> HashMap<Uuid, Vec<V>> {
    let mut map: HashMap<Uuid, Vec<V>> = HashMap::new();
    for (id, v) in rows {
        map.entry(id).or_default().push(v);
    }
    map
}

/// The tag names of the records `ids`, by record, in tag order.
pub(crate) async fn tag_names(
    tx: &mut Tx,
    parent: Parent,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<String>>> {
    let ((_, _, table), fk) = (parent.tables(), parent.fk());
    let tags: Vec<(Uuid, String)> = sqlx::query_as(AssertSqlSafe(format!(
        "select x.{fk}, t.name from {table} x \
         join tags t on t.org_id = x.org_id and t.id = x.tag_id \
         where x.org_id = $1 and x.{fk} = any($2) order by x.{fk}, t.name_norm"
    )))
    .bind(tx.org())
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    Ok(group(tags))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_keeps_the_order_within_a_record() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let map = group([(a, 1), (b, 2), (a, 3)]);
        assert_eq!(map[&a], vec![1, 3]);
        assert_eq!(map[&b], vec![2]);
    }
}
