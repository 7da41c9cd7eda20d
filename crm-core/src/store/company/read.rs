//! Reading companies: one, by VAT id, domain, name or reference, pages filtered, and batches for streaming.

use super::*;
use crate::store::children::{Parent, group, tag_names};
use crate::store::pages;
use crate::store::pattern::contains_pattern;

/// The company columns as stored, industry and account type as keys.
#[derive(sqlx::FromRow)]
pub(super) struct CompanyRow {
    id: CompanyId,
    name: String,
    domain: Option<String>,
    website: Option<String>,
    industry: Option<String>,
    account_type: Option<String>,
    vat_id: Option<String>,
    tax_id: Option<String>,
    trade_register_number: Option<String>,
    trade_register_court: Option<String>,
    size: CompanySize,
    status: EntityStatus,
    billing_street: Option<String>,
    billing_postal_code: Option<String>,
    billing_city: Option<String>,
    billing_country: Option<String>,
    delivery_street: Option<String>,
    delivery_postal_code: Option<String>,
    delivery_city: Option<String>,
    delivery_country: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    custom: Value,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

/// The select list and joins every company read uses (aliases: `c` company).
pub(super) const SELECT: &str = "select c.id, c.name, c.domain, c.website, i.key as industry, \
        a.key as account_type, c.vat_id, c.tax_id, c.trade_register_number, \
        c.trade_register_court, c.size, c.status, c.billing_street, c.billing_postal_code, \
        c.billing_city, c.billing_country::text as billing_country, c.delivery_street, \
        c.delivery_postal_code, c.delivery_city, c.delivery_country::text as delivery_country, \
        c.email, c.phone, c.custom, c.version, c.created_at, c.updated_at, c.deleted_at \
    from companies c \
    left join industries i on i.org_id = c.org_id and i.id = c.industry_id \
    left join account_types a on a.org_id = c.org_id and a.id = c.account_type_id";

/// Loads the addresses, numbers, tags, owners and contact counts of `rows` in a fixed
/// number of queries, keeping the order of `rows`.
pub(super) async fn with_children(tx: &mut Tx, rows: Vec<CompanyRow>) -> Result<Vec<Company>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id.uuid()).collect();
    let mut children = Children::load(tx, &ids).await?;
    Ok(rows.into_iter().map(|r| children.attach(r)).collect())
}

/// The addresses, numbers, tags, owners and contact counts of a set of companies.
struct Children {
    emails: HashMap<Uuid, Vec<CompanyEmail>>,
    phones: HashMap<Uuid, Vec<CompanyPhone>>,
    tags: HashMap<Uuid, Vec<String>>,
    owners: HashMap<Uuid, Vec<Owner>>,
    contacts: HashMap<Uuid, i64>,
}

impl Children {
    /// Loads the children of the companies `ids` in five queries.
    async fn load(tx: &mut Tx, ids: &[Uuid]) -> Result<Self> {
        let org = tx.org();
        let emails: Vec<(Uuid, String, EmailKind, bool)> = sqlx::query_as(
            "select company_id, email, kind, is_primary from company_emails \
             where org_id = $1 and company_id = any($2) order by company_id, is_primary desc, id",
        )
        .bind(org)
        .bind(ids)
        .fetch_all(tx.conn())
        .await?;
        let phones: Vec<(Uuid, String, String, PhoneKind, bool)> = sqlx::query_as(
            "select company_id, number_e164, number_raw, kind, is_primary from company_phones \
             where org_id = $1 and company_id = any($2) order by company_id, is_primary desc, id",
        )
        .bind(org)
        .bind(ids)
        .fetch_all(tx.conn())
        .await?;
        let tags = tag_names(tx, Parent::Company, ids).await?;
        let owners: Vec<(Uuid, UserId, OwnerRole)> = sqlx::query_as(
            "select company_id, user_id, role from company_owners \
             where org_id = $1 and company_id = any($2) order by company_id, role, user_id",
        )
        .bind(org)
        .bind(ids)
        .fetch_all(tx.conn())
        .await?;
        let contacts: Vec<(Uuid, i64)> = sqlx::query_as(
            "select company_id, count(*) from contacts \
             where org_id = $1 and company_id = any($2) and deleted_at is null group by company_id",
        )
        .bind(org)
        .bind(ids)
        .fetch_all(tx.conn())
        .await?;
        Ok(Self {
            emails: group(emails.into_iter().map(|(id, email, kind, primary)| {
                let e = CompanyEmail {
                    email,
                    kind,
                    primary,
                };
                (id, e)
            })),
            phones: group(phones.into_iter().map(|(id, number, raw, kind, primary)| {
                let p = CompanyPhone {
                    number,
                    raw,
                    kind,
                    primary,
                };
                (id, p)
            })),
            tags,
            owners: group(
                owners
                    .into_iter()
                    .map(|(id, user_id, role)| (id, Owner { user_id, role })),
            ),
            contacts: contacts.into_iter().collect(),
        })
    }

    /// The company of row `r` with its children.
    fn attach(&mut self, r: CompanyRow) -> Company {
        let id = r.id.uuid();
        Company {
            id: r.id,
            name: r.name,
            domain: r.domain,
            website: r.website,
            industry: r.industry,
            account_type: r.account_type,
            vat_id: r.vat_id,
            tax_id: r.tax_id,
            trade_register_number: r.trade_register_number,
            trade_register_court: r.trade_register_court,
            size: r.size,
            status: r.status,
            billing_street: r.billing_street,
            billing_postal_code: r.billing_postal_code,
            billing_city: r.billing_city,
            billing_country: r.billing_country,
            delivery_street: r.delivery_street,
            delivery_postal_code: r.delivery_postal_code,
            delivery_city: r.delivery_city,
            delivery_country: r.delivery_country,
            email: r.email,
            emails: self.emails.remove(&id).unwrap_or_default(),
            phone: r.phone,
            phones: self.phones.remove(&id).unwrap_or_default(),
            tags: self.tags.remove(&id).unwrap_or_default(),
            owners: self.owners.remove(&id).unwrap_or_default(),
            custom: r.custom,
            contacts: self.contacts.get(&id).copied().unwrap_or(0),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        }
    }
}

/// Reads one company (live only unless `deleted`), without a permission check.
pub(super) async fn load(tx: &mut Tx, id: CompanyId, deleted: bool) -> Result<Company> {
    let tail = if deleted {
        " where c.org_id = $1 and c.id = $2"
    } else {
        " where c.org_id = $1 and c.id = $2 and c.deleted_at is null"
    };
    let sql = format!("{SELECT}{tail}");
    let row: Option<CompanyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?;
    let row = row.ok_or(Error::NotFound { entity: "company" })?;
    with_children(tx, vec![row])
        .await?
        .pop()
        .ok_or(Error::NotFound { entity: "company" })
}

/// Live companies matching a fixed condition on `$2`, by id.
pub(super) async fn load_where(
    tx: &mut Tx,
    tail: &'static str,
    value: &str,
) -> Result<Vec<Company>> {
    let sql =
        format!("{SELECT} where c.org_id = $1 and c.deleted_at is null and {tail} order by c.id");
    let rows: Vec<CompanyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(tx.org())
        .bind(value)
        .fetch_all(tx.conn())
        .await?;
    with_children(tx, rows).await
}

/// A live company.
pub async fn get(tx: &mut Tx, id: CompanyId) -> Result<Company> {
    tx.require(Permission::Read)?;
    load(tx, id, false).await
}

/// A company, soft-deleted or not.
pub async fn get_including_deleted(tx: &mut Tx, id: CompanyId) -> Result<Company> {
    tx.require(Permission::Read)?;
    load(tx, id, true).await
}

/// The live company with this VAT id (given in any common spelling: spaces, dots and case
/// are ignored). An invalid VAT id is a validation error.
pub async fn find_by_vat(tx: &mut Tx, vat_id: &str) -> Result<Option<Company>> {
    tx.require(Permission::Read)?;
    let vat = VatId::parse(vat_id).map_err(|e| Error::invalid("vat_id", e.to_string()))?;
    Ok(load_where(tx, "c.vat_id = $2", vat.as_str())
        .await?
        .into_iter()
        .next())
}

/// The live companies with this internet domain (`www.` and a scheme or path are
/// ignored: `https://www.example.com/x` finds `example.com`).
pub async fn find_by_domain(tx: &mut Tx, domain: &str) -> Result<Vec<Company>> {
    tx.require(Permission::Read)?;
    let domain = parse_domain(domain).map_err(|m| Error::invalid("domain", m))?;
    load_where(tx, "c.domain = $2", &domain).await
}

/// The live companies whose name equals `name` once normalised (case, accents, German
/// spellings and surrounding spaces ignored: `Müller GmbH` finds `MUELLER GMBH`).
pub async fn find_by_name(tx: &mut Tx, name: &str) -> Result<Vec<Company>> {
    tx.require(Permission::Read)?;
    let norm = normalize_name(name.trim());
    if norm.is_empty() {
        return Ok(Vec::new());
    }
    load_where(tx, "c.name_norm = $2", &norm).await
}

/// The company a person named by `reference`, for front-ends that take what people type.
/// Tried in this order, the first kind that matches anything wins:
///
/// 1. a full id: that company, live or soft-deleted;
/// 2. at least 4 hex digits (dashes ignored) that begin a company's id, or, when none
///    begins with them, that end one. Ids begin with their creation time, so companies
///    created in the same minute share their first 8 digits; lists therefore show the
///    last 8, and both ends work;
/// 3. a VAT id in any common spelling (`DE 123 456 789`);
/// 4. an internet domain (`example.com`, `https://www.example.com/`);
/// 5. the exact name, case, accents and German spellings ignored (`Mueller GmbH` finds
///    `Müller GmbH`).
///
/// Live companies win: a soft-deleted one is found only when no live one matches (so
/// [`restore`] can be given one). [`Error::NotFound`] when nothing matches; a
/// [`Error::Validation`] on the field `company` listing the candidates' ids when the
/// reference matches several companies.
pub async fn resolve(tx: &mut Tx, reference: &str) -> Result<CompanyId> {
    tx.require(Permission::Read)?;
    let reference = reference.trim();
    let not_found = Error::NotFound { entity: "company" };
    if reference.is_empty() {
        return Err(not_found);
    }
    let org = tx.org();
    if let Ok(id) = Uuid::parse_str(reference) {
        return if crate::store::id_exists(tx.conn(), "companies", org, id).await? {
            Ok(CompanyId(id))
        } else {
            Err(not_found)
        };
    }
    // Up to a few matches per kind, live ones first: enough to tell one from many and to
    // name the candidates.
    let mut matches: Vec<(Uuid, bool)> = match crate::store::id_digits(reference) {
        Some(digits) => {
            crate::store::match_id_digits(tx.conn(), "companies", org, &digits, 6).await?
        }
        None => Vec::new(),
    };
    if matches.is_empty()
        && let Ok(vat) = VatId::parse(reference)
    {
        matches = sqlx::query_as(
            "select id, deleted_at is null from companies where org_id = $1 and vat_id = $2 \
             order by deleted_at is not null, id limit 6",
        )
        .bind(org)
        .bind(vat.as_str())
        .fetch_all(tx.conn())
        .await?;
    }
    if matches.is_empty()
        && reference.contains('.')
        && let Ok(domain) = parse_domain(reference)
    {
        matches = sqlx::query_as(
            "select id, deleted_at is null from companies where org_id = $1 and domain = $2 \
             order by deleted_at is not null, id limit 6",
        )
        .bind(org)
        .bind(&domain)
        .fetch_all(tx.conn())
        .await?;
    }
    if matches.is_empty() {
        let norm = normalize_name(reference);
        if !norm.is_empty() {
            matches = sqlx::query_as(
                "select id, deleted_at is null from companies \
                 where org_id = $1 and name_norm = $2 \
                 order by deleted_at is not null, id limit 6",
            )
            .bind(org)
            .bind(&norm)
            .fetch_all(tx.conn())
            .await?;
        }
    }
    match crate::store::live_first(&matches).as_slice() {
        [] => Err(not_found),
        [one] => Ok(CompanyId(*one)),
        many => {
            let ids: Vec<String> = many.iter().take(5).map(|id| id.to_string()).collect();
            let more = if many.len() > 5 { ", ..." } else { "" };
            Err(Error::invalid(
                "company",
                format!(
                    "is ambiguous: it matches several companies ({}{more}); give the full id",
                    ids.join(", ")
                ),
            ))
        }
    }
}

/// A filter with its names resolved to ids, ready to run page after page.
pub(super) struct ResolvedFilter {
    owner: Option<UserId>,
    status: Option<EntityStatus>,
    tag: Option<TagId>,
    industry: Option<ListEntryId>,
    account_type: Option<ListEntryId>,
    size: Option<CompanySize>,
    pattern: Option<String>,
    created_after: Option<DateTime<Utc>>,
    created_before: Option<DateTime<Utc>>,
    include_deleted: bool,
    only_deleted: bool,
}

/// Resolves a filter; `None` when it cannot match anything (an unknown tag).
pub(super) async fn resolve_filter(
    tx: &mut Tx,
    filter: &CompanyFilter,
) -> Result<Option<ResolvedFilter>> {
    let tag = match clean(filter.tag.as_deref()) {
        Some(name) => {
            let id: Option<TagId> =
                sqlx::query_scalar("select id from tags where org_id = $1 and name_norm = $2")
                    .bind(tx.org())
                    .bind(normalize_name(&name))
                    .fetch_optional(tx.conn())
                    .await?;
            match id {
                Some(id) => Some(id),
                None => return Ok(None),
            }
        }
        None => None,
    };
    let industry = match clean(filter.industry.as_deref()) {
        Some(s) => Some(list::resolve(tx, ListKind::Industry, &s).await?),
        None => None,
    };
    let account_type = match clean(filter.account_type.as_deref()) {
        Some(s) => Some(list::resolve(tx, ListKind::AccountType, &s).await?),
        None => None,
    };
    let pattern = clean(filter.text.as_deref()).map(|t| contains_pattern(&fold_for_search(&t)));
    Ok(Some(ResolvedFilter {
        owner: filter.owner,
        status: filter.status,
        tag,
        industry,
        account_type,
        size: filter.size,
        pattern,
        created_after: filter.created_after,
        created_before: filter.created_before,
        include_deleted: filter.include_deleted,
        only_deleted: filter.only_deleted,
    }))
}

/// One page of companies matching a resolved filter, in id order.
pub(super) async fn fetch_page(
    tx: &mut Tx,
    f: &ResolvedFilter,
    page: PageRequest,
) -> Result<Page<Company>> {
    let mut qb: QueryBuilder<Postgres> = QueryBuilder::new(SELECT);
    qb.push(" where c.org_id = ").push_bind(tx.org());
    if f.only_deleted {
        qb.push(" and c.deleted_at is not null");
    } else if !f.include_deleted {
        qb.push(" and c.deleted_at is null");
    }
    if let Some(owner) = f.owner {
        qb.push(
            " and exists (select 1 from company_owners o where o.org_id = c.org_id \
             and o.company_id = c.id and o.user_id = ",
        )
        .push_bind(owner)
        .push(")");
    }
    if let Some(status) = f.status {
        qb.push(" and c.status = ").push_bind(status);
    }
    if let Some(tag) = f.tag {
        qb.push(
            " and exists (select 1 from company_tags t where t.org_id = c.org_id \
             and t.company_id = c.id and t.tag_id = ",
        )
        .push_bind(tag)
        .push(")");
    }
    if let Some(industry) = f.industry {
        qb.push(" and c.industry_id = ").push_bind(industry);
    }
    if let Some(account_type) = f.account_type {
        qb.push(" and c.account_type_id = ").push_bind(account_type);
    }
    if let Some(size) = f.size {
        qb.push(" and c.size = ").push_bind(size);
    }
    if let Some(pattern) = &f.pattern {
        qb.push(" and c.search_text ilike ")
            .push_bind(pattern.clone());
    }
    if let Some(after) = f.created_after {
        qb.push(" and c.created_at >= ").push_bind(after);
    }
    if let Some(before) = f.created_before {
        qb.push(" and c.created_at < ").push_bind(before);
    }
    if let Some(cursor) = page.after {
        qb.push(" and c.id > ").push_bind(cursor.0);
    }
    qb.push(" order by c.id limit ").push_bind(page.sql_limit());
    let rows: Vec<CompanyRow> = qb.build_query_as().fetch_all(tx.conn()).await?;
    let page_rows = page.finish(rows, |r| r.id.uuid());
    Ok(Page {
        items: with_children(tx, page_rows.items).await?,
        next: page_rows.next,
    })
}

/// One page of companies matching `filter`, in id (creation) order. Children are loaded
/// with a fixed number of queries per page.
pub async fn list(tx: &mut Tx, filter: &CompanyFilter, page: PageRequest) -> Result<Page<Company>> {
    tx.require(Permission::Read)?;
    match resolve_filter(tx, filter).await? {
        Some(f) => fetch_page(tx, &f, page).await,
        None => Ok(Page {
            items: Vec::new(),
            next: None,
        }),
    }
}

/// Streams every company matching `filter` to `f` in batches of `batch_size` (keyset
/// pagination, so memory stays constant however many there are). Returns how many were
/// passed; an error from `f` stops the stream and is returned.
pub async fn for_each_batch<F>(
    tx: &mut Tx,
    filter: &CompanyFilter,
    batch_size: u32,
    f: F,
) -> Result<u64>
where
    F: AsyncFnMut(Vec<Company>) -> Result<()>,
{
    tx.require(Permission::Read)?;
    let Some(resolved) = resolve_filter(tx, filter).await? else {
        return Ok(0);
    };
    pages::walk(batch_size, async |r| fetch_page(tx, &resolved, r).await, f).await
}
