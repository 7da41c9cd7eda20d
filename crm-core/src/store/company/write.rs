//! The child writes create and update share: e-mails, phones and tags, and the primary values mirrored on the company row.

use super::*;

/// Replaces the e-mail rows of a company (one statement each way).
pub(super) async fn write_emails(tx: &mut Tx, id: CompanyId, rows: &[EmailRow]) -> Result<()> {
    let org = tx.org();
    sqlx::query("delete from company_emails where org_id = $1 and company_id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    // UUIDv7 ids made in order keep the given order when read back by id.
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
    let norms: Vec<&str> = rows.iter().map(|r| r.norm.as_str()).collect();
    let kinds: Vec<_> = rows.iter().map(|r| r.kind).collect();
    let primaries: Vec<bool> = rows.iter().map(|r| r.primary).collect();
    sqlx::query(
        "insert into company_emails (org_id, id, company_id, email, email_norm, kind, is_primary) \
         select $1, u.id, $2, u.email, u.norm, u.kind, u.prim \
         from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bool[]) \
              as u(id, email, norm, kind, prim)",
    )
    .bind(org)
    .bind(id)
    .bind(&ids)
    .bind(&emails)
    .bind(&norms)
    .bind(&kinds)
    .bind(&primaries)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces the phone rows of a company.
pub(super) async fn write_phones(tx: &mut Tx, id: CompanyId, rows: &[PhoneRow]) -> Result<()> {
    let org = tx.org();
    sqlx::query("delete from company_phones where org_id = $1 and company_id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let numbers: Vec<&str> = rows.iter().map(|r| r.e164.as_str()).collect();
    let raws: Vec<&str> = rows.iter().map(|r| r.raw.as_str()).collect();
    let kinds: Vec<_> = rows.iter().map(|r| r.kind).collect();
    let primaries: Vec<bool> = rows.iter().map(|r| r.primary).collect();
    sqlx::query(
        "insert into company_phones (org_id, id, company_id, number_e164, number_raw, kind, is_primary) \
         select $1, u.id, $2, u.num, u.raw, u.kind, u.prim \
         from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bool[]) \
              as u(id, num, raw, kind, prim)",
    )
    .bind(org)
    .bind(id)
    .bind(&ids)
    .bind(&numbers)
    .bind(&raws)
    .bind(&kinds)
    .bind(&primaries)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Replaces the tags of a company.
pub(super) async fn write_tags(tx: &mut Tx, id: CompanyId, names: &[String]) -> Result<()> {
    let tag_ids: Vec<Uuid> = crate::store::tag::resolve(tx, names)
        .await?
        .into_iter()
        .map(TagId::uuid)
        .collect();
    let org = tx.org();
    sqlx::query("delete from company_tags where org_id = $1 and company_id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if tag_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into company_tags (org_id, company_id, tag_id) \
         select $1, $2, t from unnest($3::uuid[]) as t on conflict do nothing",
    )
    .bind(org)
    .bind(id)
    .bind(&tag_ids)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The primary value of settled rows (the first, when primary).
pub(super) fn primary_email(rows: &[EmailRow]) -> Option<String> {
    rows.iter().find(|r| r.primary).map(|r| r.email.clone())
}

pub(super) fn primary_phone(rows: &[PhoneRow]) -> Option<String> {
    rows.iter().find(|r| r.primary).map(|r| r.e164.clone())
}
