//! Reading deals: by reference, one, its stage history, filtered pages and batches.

use super::write::fetch;
use super::*;

/// The deal a person named by `reference`, for front-ends that take what people type:
///
/// - a full id: that deal, live or soft-deleted;
/// - at least 4 hex digits (dashes ignored) that begin exactly one deal's id, or, when none
///   begins with them, that end exactly one. Ids begin with their creation time, so deals
///   created in the same minute share their first 8 digits; lists therefore show the last
///   8, and both ends work.
///
/// Live deals win: a soft-deleted deal is found by digits only when no live one matches.
/// [`Error::NotFound`] when nothing matches; a [`Error::Validation`] on the field `id` when
/// the digits match several deals or the reference is not an id.
pub async fn resolve(tx: &mut Tx, reference: &str) -> Result<DealId> {
    tx.require(Permission::Read)?;
    let reference = reference.trim();
    let org = tx.org();
    if let Ok(id) = Uuid::parse_str(reference) {
        return if crate::store::id_exists(tx.conn(), "deals", org, id).await? {
            Ok(DealId(id))
        } else {
            Err(Error::NotFound { entity: "deal" })
        };
    }
    let Some(digits) = crate::store::id_digits(reference) else {
        return Err(Error::invalid(
            "id",
            "must be a deal id or at least 4 of its hex digits",
        ));
    };
    let matches = crate::store::match_id_digits(tx.conn(), "deals", org, &digits, 4).await?;
    match crate::store::live_first(&matches).as_slice() {
        [] => Err(Error::NotFound { entity: "deal" }),
        [one] => Ok(DealId(*one)),
        _ => Err(Error::invalid(
            "id",
            "is ambiguous: it matches several deals; give more digits or the full id",
        )),
    }
}

/// The live deal `id`.
pub async fn get(tx: &mut Tx, id: DealId) -> Result<Deal> {
    tx.require(Permission::Read)?;
    fetch(tx, id, false).await
}

/// The stage history of a live deal, oldest first.
pub async fn stage_history(tx: &mut Tx, id: DealId) -> Result<Vec<StageChange>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let exists: bool = sqlx::query_scalar(
        "select exists(select 1 from deals where org_id = $1 and id = $2 and deleted_at is null)",
    )
    .bind(org)
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    if !exists {
        return Err(Error::NotFound { entity: "deal" });
    }
    Ok(sqlx::query_as(
        "select h.id, h.from_stage_id, coalesce(f.name, h.from_stage_name) as from_stage, \
                h.to_stage_id, coalesce(t.name, h.to_stage_name) as to_stage, \
                h.moved_at, h.actor_id \
         from deal_stage_history h \
         left join stages t on t.org_id = h.org_id and t.id = h.to_stage_id \
         left join stages f on f.org_id = h.org_id and f.id = h.from_stage_id \
         where h.org_id = $1 and h.deal_id = $2 order by h.moved_at, h.id",
    )
    .bind(org)
    .bind(id)
    .fetch_all(tx.conn())
    .await?)
}

/// One page of deals matching `filter`, by id (creation order). Names of related records
/// come with the deals; owners take one more query per page.
pub async fn list(tx: &mut Tx, filter: &DealFilter, page: PageRequest) -> Result<Page<Deal>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new(concat!(deal_select!(), "where d.org_id = "));
    q.push_bind(org);
    if !filter.include_deleted {
        q.push(" and d.deleted_at is null");
    }
    if let Some(v) = filter.pipeline {
        q.push(" and d.pipeline_id = ").push_bind(v);
    }
    if let Some(v) = filter.stage {
        q.push(" and d.stage_id = ").push_bind(v);
    }
    if let Some(v) = filter.status {
        q.push(" and d.status = ").push_bind(v);
    }
    if let Some(v) = filter.owner {
        q.push(
            " and exists (select 1 from deal_owners o where o.org_id = d.org_id \
             and o.deal_id = d.id and o.user_id = ",
        )
        .push_bind(v)
        .push(")");
    }
    if let Some(v) = filter.company_id {
        q.push(" and d.company_id = ").push_bind(v);
    }
    if let Some(v) = filter.contact_id {
        q.push(" and d.contact_id = ").push_bind(v);
    }
    if let Some(v) = filter.currency {
        q.push(" and d.currency = ").push_bind(v.as_str());
    }
    if let Some(v) = filter.expected_close_from {
        q.push(" and d.expected_close_date >= ").push_bind(v);
    }
    if let Some(v) = filter.expected_close_to {
        q.push(" and d.expected_close_date <= ").push_bind(v);
    }
    if let Some(v) = filter.value_min {
        q.push(" and d.value >= ").push_bind(v);
    }
    if let Some(v) = filter.value_max {
        q.push(" and d.value <= ").push_bind(v);
    }
    if let Some(text) = clean(filter.text.as_deref()) {
        q.push(" and d.title ilike ")
            .push_bind(contains_pattern(&text));
    }
    if let Some(after) = page.after {
        q.push(" and d.id > ").push_bind(after.0);
    }
    q.push(" order by d.id limit ").push_bind(page.sql_limit());
    let rows: Vec<Deal> = q.build_query_as().fetch_all(tx.conn()).await?;
    let mut page = page.finish(rows, |d| d.id.uuid());
    let ids: Vec<Uuid> = page.items.iter().map(|d| d.id.uuid()).collect();
    let owners: Vec<(DealId, UserId, OwnerRole)> = sqlx::query_as(
        "select deal_id, user_id, role from deal_owners where org_id = $1 and deal_id = any($2) \
         order by deal_id, role, user_id",
    )
    .bind(org)
    .bind(&ids)
    .fetch_all(tx.conn())
    .await?;
    for (deal, user_id, role) in owners {
        if let Some(d) = page.items.iter_mut().find(|d| d.id == deal) {
            d.owners.push(Owner { user_id, role });
        }
    }
    Ok(page)
}

/// Streams every deal matching `filter` to `f` in batches of `batch` (1 to 10,000), in
/// list order, holding one batch in memory at a time. Returns how many were passed on.
pub async fn for_each_batch<F>(tx: &mut Tx, filter: &DealFilter, batch: u32, f: F) -> Result<u64>
where
    F: AsyncFnMut(Vec<Deal>) -> Result<()>,
{
    pages::walk(batch, async |r| list(tx, filter, r).await, f).await
}
