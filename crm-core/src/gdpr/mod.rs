//! Data protection (GDPR / DSGVO): subject export (Art. 15 and 20), erasure (Art. 17),
//! consent, retention, and the organization-wide export and deletion of a tenant leaving.
//!
//! A *person* is found by contact id (or id digits) or by any of their e-mail addresses,
//! and is every contact record that belongs to them: the one named, contacts merged into it
//! (and the contact it was merged into) as the `merged_into_id` column records, which only
//! a merge writes, repeated until nothing new turns up, and the records the operator names
//! explicitly. Soft-deleted records of others sharing an address (a shared mailbox such as
//! `info@...`) are listed as candidates, never taken silently. Subject export and erasure
//! work on all of the person's records at once.
//!
//! These are organization-level duties, so they see every record of the organization
//! whatever the acting user's record visibility (team / own); the permissions still apply:
//! [`Permission::Export`](crate::auth::Permission::Export) for subject and organization
//! export, [`Permission::Erase`](crate::auth::Permission::Erase) for erasure, retention and
//! deleting the organization.

pub mod consent;
pub mod erase;
pub mod org;
pub mod reapply;
pub mod retention;
pub mod subject_export;

pub use consent::{Consent, ConsentStatus, ContactWithoutConsent};
pub use erase::{ErasureCounts, ErasureReceipt, erase, erase_including, receipts, was_erased};
pub use org::{OrgDeletion, OrgExport, TableExport, delete_organization, org_export};
pub use retention::{RetentionSummary, retention, retention_days, set_retention_days};
pub use subject_export::{SubjectExport, subject_export, write_csv_bundle};

use serde::Serialize;
use uuid::Uuid;

use crate::domain::Email;
use crate::error::{Error, Result};
use crate::ids::ContactId;
use crate::store::contact;
use crate::tenancy::Tx;

/// How many rounds of "records sharing an e-mail or a merge with the ones found" are
/// followed before giving up growing the set (a chain longer than this is not one person).
const MAX_ROUNDS: usize = 16;

/// How the person was named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// By contact id (or its digits).
    Id,
    /// By one of their e-mail addresses.
    Email,
}

/// The contact records of one person.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    /// The record named (the live one when named by e-mail), first of `ids`.
    pub main: ContactId,
    /// Every record of the person, `main` first.
    pub ids: Vec<Uuid>,
    /// How the person was named.
    pub matched_by: MatchedBy,
    /// Soft-deleted records of others sharing one of the person's addresses: not part of
    /// the person unless the operator names them.
    pub candidates: Vec<ContactId>,
}

/// Finds the person named by `reference` (a contact id, at least 4 of its hex digits, or an
/// e-mail address) with all their records: the record named, the records merged into it or
/// it into (the `merged_into_id` column, which only a merge writes), repeated, and the
/// records the operator names in `include` (with their merges). By e-mail: the live contact
/// that has the address; when none does, the one soft-deleted contact that has it. Several
/// contacts sharing the address is a validation error on the field `contact` (name one by
/// id). Other soft-deleted records sharing one of the person's addresses are not taken:
/// they are returned as `candidates` for the operator to include.
pub(crate) async fn find_person(tx: &mut Tx, reference: &str, include: &[Uuid]) -> Result<Person> {
    let reference = reference.trim();
    let (seed, matched_by) = if reference.contains('@') {
        (seed_by_email(tx, reference).await?, MatchedBy::Email)
    } else {
        (
            vec![contact::resolve(tx, reference).await?.uuid()],
            MatchedBy::Id,
        )
    };
    let mut ids = seed;
    add_included(tx, &mut ids, include).await?;
    add_merged(tx, &mut ids).await?;
    let candidates = candidates_of(tx, &ids).await?;
    let main = put_main_first(tx, &mut ids).await?;
    Ok(Person {
        main: ContactId(main),
        ids,
        matched_by,
        candidates: candidates.into_iter().map(ContactId).collect(),
    })
}

/// The contact an e-mail address names: the live contact that has it, else the one
/// soft-deleted contact that has it.
async fn seed_by_email(tx: &mut Tx, reference: &str) -> Result<Vec<Uuid>> {
    let org = tx.org();
    let norm = Email::parse(reference)
        .map_err(|e| Error::invalid("contact", e.message()))?
        .normalized();
    // Live and soft-deleted rows separately: each has a partial index on the address.
    let rows: Vec<(Uuid, bool)> = sqlx::query_as(
        "select c.id, c.deleted_at is null from contacts c \
         where c.org_id = $1 \
           and c.id in (select id from contacts \
                        where org_id = $1 and email_norm = $2 and deleted_at is null \
                        union all \
                        select id from contacts \
                        where org_id = $1 and email_norm = $2 and deleted_at is not null \
                        union all \
                        select contact_id from contact_emails \
                        where org_id = $1 and email_norm = $2) \
         order by c.deleted_at is null desc, c.id desc",
    )
    .bind(org)
    .bind(&norm)
    .fetch_all(tx.conn())
    .await?;
    let live: Vec<Uuid> = rows.iter().filter(|r| r.1).map(|r| r.0).collect();
    let seed = match (live.len(), rows.len()) {
        (_, 0) => return Err(Error::NotFound { entity: "contact" }),
        (1, _) | (0, 1) => vec![live.first().copied().unwrap_or(rows[0].0)],
        (0, _) => {
            return Err(Error::invalid(
                "contact",
                "several deleted contacts have this e-mail address; name the contact by id",
            ));
        }
        _ => {
            return Err(Error::invalid(
                "contact",
                "several live contacts have this e-mail address; name the contact by id",
            ));
        }
    };
    Ok(seed)
}

/// Adds the records the operator names (each must exist).
async fn add_included(tx: &mut Tx, ids: &mut Vec<Uuid>, include: &[Uuid]) -> Result<()> {
    let org = tx.org();
    for id in include {
        let found: bool = sqlx::query_scalar(
            "select exists(select 1 from contacts where org_id = $1 and id = $2)",
        )
        .bind(org)
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
        if !found {
            return Err(Error::invalid(
                "include",
                "names a contact that does not exist",
            ));
        }
        if !ids.contains(id) {
            ids.push(*id);
        }
    }
    Ok(())
}

/// Adds the records merged into these and the records these were merged into, repeated.
async fn add_merged(tx: &mut Tx, ids: &mut Vec<Uuid>) -> Result<()> {
    let org = tx.org();
    for _ in 0..MAX_ROUNDS {
        // Records merged into these, and the records these were merged into.
        let found: Vec<Uuid> = sqlx::query_scalar(
            "select id from contacts where org_id = $1 and merged_into_id = any($2) \
             union \
             select merged_into_id from contacts \
             where org_id = $1 and id = any($2) and merged_into_id is not null",
        )
        .bind(org)
        .bind(&*ids)
        .fetch_all(tx.conn())
        .await?;
        let new: Vec<Uuid> = found.into_iter().filter(|id| !ids.contains(id)).collect();
        if new.is_empty() {
            break;
        }
        ids.extend(new);
    }
    Ok(())
}

/// Soft-deleted records of others sharing one of the person's addresses.
async fn candidates_of(tx: &mut Tx, ids: &[Uuid]) -> Result<Vec<Uuid>> {
    let org = tx.org();
    // Soft-deleted records of others sharing one of the person's addresses: listed only.
    let candidates: Vec<Uuid> = sqlx::query_scalar(
        "with mine as ( \
             select email_norm from contacts \
             where org_id = $1 and id = any($2) and email_norm is not null \
             union select email_norm from contact_emails where org_id = $1 and contact_id = any($2)) \
         select id from contacts \
         where org_id = $1 and deleted_at is not null and email_norm in (select email_norm from mine) \
           and id <> all($2) \
         union \
         select e.contact_id from contact_emails e \
         join contacts c on c.org_id = e.org_id and c.id = e.contact_id \
         where e.org_id = $1 and e.email_norm in (select email_norm from mine) \
           and c.deleted_at is not null and e.contact_id <> all($2) \
         order by 1",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    Ok(candidates)
}

/// Puts the main record first (the first live one found, else the first) and returns it.
async fn put_main_first(tx: &mut Tx, ids: &mut Vec<Uuid>) -> Result<Uuid> {
    let org = tx.org();
    // The main record: the first live one found, else the first.
    let live: Vec<Uuid> = sqlx::query_scalar(
        "select id from contacts where org_id = $1 and id = any($2) and deleted_at is null",
    )
    .bind(org)
    .bind(&*ids)
    .fetch_all(tx.conn())
    .await?;
    let main = ids
        .iter()
        .copied()
        .find(|id| live.contains(id))
        .unwrap_or(ids[0]);
    ids.retain(|id| *id != main);
    ids.insert(0, main);
    Ok(main)
}

/// Runs `f` in a savepoint of the caller's transaction with record visibility widened to
/// the whole organization. The savepoint is released when `f` succeeds and `keep` is set;
/// otherwise (an error, or a dry run) everything `f` did is rolled back, so the caller's
/// transaction never holds half of it.
pub(crate) async fn isolated<T>(
    tx: &mut Tx,
    keep: bool,
    f: impl AsyncFnOnce(&mut Tx) -> Result<T>,
) -> Result<T> {
    let before: Option<String> =
        sqlx::query_scalar("select current_setting('crm.visibility', true)")
            .fetch_one(tx.conn())
            .await?;
    sqlx::raw_sql("savepoint crm_gdpr")
        .execute(tx.conn())
        .await?;
    sqlx::raw_sql("set local crm.visibility = 'all'")
        .execute(tx.conn())
        .await?;
    let out = f(tx).await;
    let end = if out.is_ok() && keep {
        sqlx::raw_sql("release savepoint crm_gdpr")
            .execute(tx.conn())
            .await
    } else {
        sqlx::raw_sql("rollback to savepoint crm_gdpr; release savepoint crm_gdpr")
            .execute(tx.conn())
            .await
    };
    let out = match (out, end) {
        (Ok(v), Ok(_)) => v,
        (Err(e), _) => return Err(e),
        (Ok(_), Err(e)) => return Err(e.into()),
    };
    // `set local` (which Citus forwards to its workers) takes no parameter: the value is
    // one of the fixed visibility keys, anything else restores the narrowest.
    let restore = match before.as_deref() {
        Some("all") => "set local crm.visibility = 'all'",
        Some("team") => "set local crm.visibility = 'team'",
        _ => "set local crm.visibility = 'own'",
    };
    sqlx::raw_sql(restore).execute(tx.conn()).await?;
    Ok(out)
}

/// What identifies a person in free text: e-mail addresses, phone numbers and full names
/// (`strong`, looked for everywhere), and single first or last names (`weak`, looked for
/// only in records linked to the person).
#[derive(Debug, Default)]
pub(crate) struct Needles {
    pub strong: Vec<String>,
    pub weak: Vec<String>,
    /// The normalised e-mail addresses.
    pub emails: Vec<String>,
    /// The phone numbers (E.164).
    pub phones: Vec<String>,
}

/// Reads the person's names, addresses and numbers from all their records.
pub(crate) async fn needles(tx: &mut Tx, ids: &[Uuid]) -> Result<Needles> {
    let org = tx.org();
    type ContactRow = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let contacts: Vec<ContactRow> = sqlx::query_as(
        "select first_name, last_name, email, email_norm, phone, linkedin_url from contacts \
         where org_id = $1 and id = any($2)",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let emails: Vec<(String, String)> = sqlx::query_as(
        "select email, email_norm from contact_emails where org_id = $1 and contact_id = any($2)",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let phones: Vec<(String, String)> = sqlx::query_as(
        "select coalesce(number_e164, number_raw), number_raw from contact_phones \
         where org_id = $1 and contact_id = any($2)",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let mut n = Needles::default();
    let name = |n: &mut Needles, s: &str, strong: bool| {
        let s = s.trim();
        if s.chars().count() < 2 {
            return;
        }
        let list = if strong { &mut n.strong } else { &mut n.weak };
        for v in [s.to_string(), s.to_lowercase(), s.to_uppercase()] {
            if !list.contains(&v) {
                list.push(v);
            }
        }
    };
    for (first, last, email, email_norm, phone, linkedin) in &contacts {
        let (first, last) = (first.trim(), last.trim());
        match (first.is_empty(), last.is_empty()) {
            (false, false) => {
                name(&mut n, &format!("{first} {last}"), true);
                name(&mut n, &format!("{last}, {first}"), true);
                name(&mut n, first, false);
                name(&mut n, last, false);
            }
            (true, false) if last.chars().count() >= 4 => name(&mut n, last, true),
            (false, true) if first.chars().count() >= 4 => name(&mut n, first, true),
            (true, false) => name(&mut n, last, false),
            (false, true) => name(&mut n, first, false),
            (true, true) => {}
        }
        n.strong.extend(email.iter().cloned());
        n.emails.extend(email_norm.iter().cloned());
        n.phones.extend(phone.iter().cloned());
        n.strong.extend(linkedin.iter().cloned());
    }
    for (email, norm) in emails {
        n.strong.push(email);
        n.emails.push(norm);
    }
    for (e164, raw) in phones {
        n.strong.push(raw);
        n.phones.push(e164);
    }
    n.emails.sort();
    n.emails.dedup();
    n.phones.sort();
    n.phones.dedup();
    n.strong.extend(n.emails.iter().cloned());
    n.strong.extend(n.phones.iter().cloned());
    n.strong.sort();
    n.strong.dedup();
    n.weak.retain(|w| !n.strong.contains(w));
    Ok(n)
}
