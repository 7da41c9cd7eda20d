//! Reading contacts: one, by e-mail or reference, pages filtered, and batches for streaming.

use super::*;
use crate::store::children::{Parent, group, tag_names};
use crate::store::pages;
use crate::store::pattern::contains_pattern;

#[derive(sqlx::FromRow)]
pub(super) struct ContactRow {
    id: ContactId,
    first_name: String,
    last_name: String,
    salutation: Option<String>,
    title: Option<String>,
    job_title: Option<String>,
    department: Option<String>,
    linkedin_url: Option<String>,
    birthday: Option<NaiveDate>,
    source: ContactSource,
    status: EntityStatus,
    company_id: Option<CompanyId>,
    company: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    city: Option<String>,
    street: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    home_street: Option<String>,
    home_postal_code: Option<String>,
    home_city: Option<String>,
    home_country: Option<String>,
    external_system: Option<String>,
    external_id: Option<String>,
    custom: Value,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

/// Loads e-mails, phones, tags and owners for `rows` in four queries and builds the
/// contacts, in the order of `rows`.
pub(super) async fn attach(tx: &mut Tx, rows: Vec<ContactRow>) -> Result<Vec<Contact>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id.uuid()).collect();
    let mut children = Children::load(tx, &ids).await?;
    Ok(rows.into_iter().map(|r| children.attach(r)).collect())
}

/// The addresses, numbers, tags and owners of a set of contacts.
struct Children {
    emails: HashMap<Uuid, Vec<ContactEmail>>,
    phones: HashMap<Uuid, Vec<ContactPhone>>,
    tags: HashMap<Uuid, Vec<String>>,
    owners: HashMap<Uuid, Vec<Owner>>,
}

impl Children {
    /// Loads the children of the contacts `ids` in four queries.
    async fn load(tx: &mut Tx, ids: &[Uuid]) -> Result<Self> {
        let org = tx.org();
        let emails: Vec<(Uuid, String, EmailKind, bool)> = sqlx::query_as(
            "select contact_id, email, kind, is_primary from contact_emails \
             where org_id = $1 and contact_id = any($2) order by contact_id, is_primary desc, id",
        )
        .bind(org)
        .bind(ids)
        .fetch_all(tx.conn())
        .await?;
        let phones: Vec<(Uuid, String, String, PhoneKind, bool, bool)> = sqlx::query_as(
            "select contact_id, coalesce(number_e164, number_raw), number_raw, kind, is_primary, \
                    number_e164 is not null from contact_phones \
             where org_id = $1 and contact_id = any($2) order by contact_id, is_primary desc, id",
        )
        .bind(org)
        .bind(ids)
        .fetch_all(tx.conn())
        .await?;
        let tags = tag_names(tx, Parent::Contact, ids).await?;
        let owners: Vec<(Uuid, UserId, OwnerRole)> = sqlx::query_as(
            "select contact_id, user_id, role from contact_owners \
             where org_id = $1 and contact_id = any($2) \
             order by contact_id, case role when 'owner' then 0 when 'member' then 1 else 2 end, \
                      user_id",
        )
        .bind(org)
        .bind(ids)
        .fetch_all(tx.conn())
        .await?;
        Ok(Self {
            emails: group(emails.into_iter().map(|(id, email, kind, primary)| {
                let e = ContactEmail {
                    email,
                    kind,
                    primary,
                };
                (id, e)
            })),
            phones: group(
                phones
                    .into_iter()
                    .map(|(id, number, raw, kind, primary, valid)| {
                        let p = ContactPhone {
                            number,
                            raw,
                            kind,
                            primary,
                            valid,
                        };
                        (id, p)
                    }),
            ),
            tags,
            owners: group(
                owners
                    .into_iter()
                    .map(|(id, user_id, role)| (id, Owner { user_id, role })),
            ),
        })
    }

    /// The contact of row `r` with its children. A contact written without address rows
    /// shows its mirrored primary values.
    fn attach(&mut self, r: ContactRow) -> Contact {
        let id = r.id.uuid();
        let emails = self.emails.remove(&id).unwrap_or_else(|| {
            r.email
                .iter()
                .map(|e| ContactEmail {
                    email: e.clone(),
                    kind: EmailKind::default(),
                    primary: true,
                })
                .collect()
        });
        let phones = self.phones.remove(&id).unwrap_or_else(|| {
            r.phone
                .iter()
                .map(|p| ContactPhone {
                    number: p.clone(),
                    raw: p.clone(),
                    kind: PhoneKind::default(),
                    primary: true,
                    valid: crate::domain::Phone::from_stored(p.as_str(), p.as_str()).is_ok(),
                })
                .collect()
        });
        Contact {
            id: r.id,
            first_name: r.first_name,
            last_name: r.last_name,
            salutation: r.salutation,
            title: r.title,
            job_title: r.job_title,
            department: r.department,
            linkedin_url: r.linkedin_url,
            birthday: r.birthday,
            source: r.source,
            status: r.status,
            company_id: r.company_id,
            company: r.company,
            email: r.email,
            phone: r.phone,
            emails,
            phones,
            city: r.city,
            street: r.street,
            postal_code: r.postal_code,
            country: r.country,
            home_street: r.home_street,
            home_postal_code: r.home_postal_code,
            home_city: r.home_city,
            home_country: r.home_country,
            external_system: r.external_system,
            external_id: r.external_id,
            tags: self.tags.remove(&id).unwrap_or_default(),
            owners: self.owners.remove(&id).unwrap_or_default(),
            custom: r.custom,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        }
    }
}

/// Loads one contact; `live_only` hides soft-deleted ones.
pub(super) async fn load(tx: &mut Tx, id: ContactId, live_only: bool) -> Result<Contact> {
    let org = tx.org();
    let row: Option<ContactRow> = sqlx::query_as(concat!(
        select_contacts!(),
        "where c.org_id = $1 and c.id = $2 and (not $3 or c.deleted_at is null)"
    ))
    .bind(org)
    .bind(id)
    .bind(live_only)
    .fetch_optional(tx.conn())
    .await?;
    let row = row.ok_or(Error::NotFound { entity: ENTITY })?;
    attach(tx, vec![row])
        .await?
        .pop()
        .ok_or(Error::NotFound { entity: ENTITY })
}

/// The contact `id`; [`Error::NotFound`] if it does not exist or is soft-deleted.
pub async fn get(tx: &mut Tx, id: ContactId) -> Result<Contact> {
    tx.require(Permission::Read)?;
    load(tx, id, true).await
}

/// The contact `id`, soft-deleted or not.
pub async fn get_including_deleted(tx: &mut Tx, id: ContactId) -> Result<Contact> {
    tx.require(Permission::Read)?;
    load(tx, id, false).await
}

/// The live contact that has the e-mail address `email` (any of its addresses, ignoring
/// case). When several have it, the one whose primary address it is, else the oldest.
pub async fn find_by_email(tx: &mut Tx, email: &str) -> Result<Contact> {
    tx.require(Permission::Read)?;
    let norm = Email::parse(email)
        .map_err(|e| Error::invalid("email", e.message()))?
        .normalized();
    let org = tx.org();
    let id: Option<ContactId> = sqlx::query_scalar(
        "select c.id from contacts c \
         where c.org_id = $1 and c.deleted_at is null \
           and c.id in (select id from contacts where org_id = $1 and email_norm = $2 \
                        union all \
                        select contact_id from contact_emails where org_id = $1 and email_norm = $2) \
         order by c.email_norm is not distinct from $2 desc, c.id \
         limit 1",
    )
    .bind(org)
    .bind(&norm)
    .fetch_optional(tx.conn())
    .await?;
    let id = id.ok_or(Error::NotFound { entity: ENTITY })?;
    load(tx, id, true).await
}

/// The contact a person named by `reference`, for front-ends that take what people type:
///
/// - an e-mail address (anything with `@`): the live contact that has it ([`find_by_email`]);
/// - a full id: that contact, live or soft-deleted;
/// - at least 4 hex digits (dashes ignored) that begin exactly one contact's id, or, when
///   none begins with them, that end exactly one. Ids begin with their creation time, so
///   contacts created in the same minute share their first 8 digits; lists therefore show
///   the last 8, and both ends work.
///
/// Live contacts win: a soft-deleted contact is found by digits only when no live one
/// matches (so [`restore`] can be given one). [`Error::NotFound`] when nothing matches; a
/// [`Error::Validation`] on the field `id` when the digits match several contacts or the
/// reference is none of the above.
pub async fn resolve(tx: &mut Tx, reference: &str) -> Result<ContactId> {
    tx.require(Permission::Read)?;
    let reference = reference.trim();
    if reference.contains('@') {
        return Ok(find_by_email(tx, reference).await?.id);
    }
    let org = tx.org();
    if let Ok(id) = Uuid::parse_str(reference) {
        return if crate::store::id_exists(tx.conn(), "contacts", org, id).await? {
            Ok(ContactId(id))
        } else {
            Err(Error::NotFound { entity: ENTITY })
        };
    }
    let Some(digits) = crate::store::id_digits(reference) else {
        return Err(Error::invalid(
            "id",
            "must be a contact id, at least 4 of its hex digits, or an e-mail address",
        ));
    };
    let matches = crate::store::match_id_digits(tx.conn(), "contacts", org, &digits, 4).await?;
    match crate::store::live_first(&matches).as_slice() {
        [] => Err(Error::NotFound { entity: ENTITY }),
        [one] => Ok(ContactId(*one)),
        _ => Err(Error::invalid(
            "id",
            "is ambiguous: it matches several contacts; give more digits or the full id",
        )),
    }
}

/// One page of contacts matching `filter`, ordered by id (creation order). Pass the page's
/// `next` cursor as `after` for the following page.
pub async fn list(tx: &mut Tx, filter: &ContactFilter, page: PageRequest) -> Result<Page<Contact>> {
    tx.require(Permission::Read)?;
    let org = tx.org();
    let mut qb = QueryBuilder::<Postgres>::new(select_contacts!());
    qb.push("where c.org_id = ").push_bind(org);
    if filter.only_deleted {
        qb.push(" and c.deleted_at is not null");
    } else if !filter.include_deleted {
        qb.push(" and c.deleted_at is null");
    }
    if let Some(after) = page.after {
        qb.push(" and c.id > ").push_bind(after.0);
    }
    if let Some(owner) = filter.owner {
        qb.push(
            " and exists (select 1 from contact_owners o where o.org_id = c.org_id \
              and o.contact_id = c.id and o.user_id = ",
        )
        .push_bind(owner)
        .push(")");
    }
    if let Some(status) = filter.status {
        qb.push(" and c.status = ").push_bind(status);
    }
    if let Some(tag) = filter.tag.as_deref().and_then(|t| clean(Some(t))) {
        qb.push(
            " and exists (select 1 from contact_tags ct join tags t \
              on t.org_id = ct.org_id and t.id = ct.tag_id \
              where ct.org_id = c.org_id and ct.contact_id = c.id and t.name_norm = ",
        )
        .push_bind(normalize_name(&tag))
        .push(")");
    }
    if let Some(company) = filter.company_id {
        qb.push(" and c.company_id = ").push_bind(company);
    }
    if let Some(t) = filter.created_after {
        qb.push(" and c.created_at >= ").push_bind(t);
    }
    if let Some(t) = filter.created_before {
        qb.push(" and c.created_at < ").push_bind(t);
    }
    if let Some(t) = filter.updated_after {
        qb.push(" and c.updated_at >= ").push_bind(t);
    }
    if let Some(source) = filter.source {
        qb.push(" and c.source = ").push_bind(source);
    }
    if let Some(text) = filter.text.as_deref() {
        for word in fold_for_search(text).split_whitespace() {
            qb.push(" and c.search_text ilike ")
                .push_bind(contains_pattern(word));
        }
    }
    qb.push(" order by c.id limit ").push_bind(page.sql_limit());
    let rows: Vec<ContactRow> = qb.build_query_as().fetch_all(tx.conn()).await?;
    let page_rows = page.finish(rows, |r| r.id.uuid());
    let items = attach(tx, page_rows.items).await?;
    Ok(Page {
        items,
        next: page_rows.next,
    })
}

/// Walks every contact matching `filter` in pages of `batch_size` (keyset pagination, so
/// memory stays constant however many there are) and hands each page to `f`. Stops at the
/// first error of `f`. Returns the number of contacts visited.
pub async fn for_each_batch<F>(
    tx: &mut Tx,
    filter: &ContactFilter,
    batch_size: u32,
    f: F,
) -> Result<u64>
where
    F: AsyncFnMut(Vec<Contact>) -> Result<()>,
{
    pages::walk(batch_size, async |r| list(tx, filter, r).await, f).await
}
