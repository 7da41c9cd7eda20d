//! Groups of live contacts that look like the same person.

use super::*;

/// Groups of live contacts that are probably the same person: sharing an e-mail address
/// (any of their addresses, ignoring case) or having the same first and last name (ignoring
/// case and accents) and the same company (or both none). At most `limit` groups, the
/// groups with the oldest contacts first.
pub async fn duplicates(tx: &mut Tx, limit: u32) -> Result<Vec<DuplicateGroup>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let rows: Vec<(String, Vec<ContactId>)> = sqlx::query_as(
        "with live as ( \
             select id, email_norm, first_name, last_name, company_id from contacts \
             where org_id = $1 and deleted_at is null), \
         addresses as ( \
             select l.id, l.email_norm as norm from live l where l.email_norm is not null \
             union \
             select l.id, e.email_norm from live l \
             join contact_emails e on e.org_id = $1 and e.contact_id = l.id), \
         groups as ( \
             select 'email' as reason, array_agg(id order by id) as ids from addresses \
             group by norm having count(*) > 1 \
             union all \
             select 'name_and_company', array_agg(id order by id) from live \
             where btrim(first_name) <> '' and btrim(last_name) <> '' \
             group by crm_fold(btrim(first_name)), crm_fold(btrim(last_name)), company_id \
             having count(*) > 1) \
         select reason, ids from (select distinct reason, ids from groups) g \
         order by ids[1], reason, ids limit $2",
    )
    .bind(org)
    .bind(i64::from(limit.clamp(1, 10_000)))
    .fetch_all(tx.conn())
    .await?;
    rows.into_iter()
        .map(|(reason, contact_ids)| {
            let reason = DuplicateReason::parse(&reason)
                .ok_or_else(|| Error::Database("unknown duplicate reason".into()))?;
            Ok(DuplicateGroup {
                reason,
                contact_ids,
            })
        })
        .collect()
}
