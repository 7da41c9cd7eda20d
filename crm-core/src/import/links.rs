//! Contacts and companies that arrive in separate files find each other: a contact is linked
//! to its company by the company's name (when the contact is imported: see
//! `contacts::company_step`), by the id the company had in the source system, or by the
//! domain of the contact's e-mail address when exactly one company has that domain. A
//! company import links the contacts imported before it; a contact import links to the
//! companies imported before it.

use uuid::Uuid;

use crate::error::Result;
use crate::ids::ImportRunId;
use crate::tenancy::Tx;

/// Mail domains shared by many unrelated people: never a company's domain for linking.
pub(crate) const SHARED_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.de",
    "hotmail.com",
    "hotmail.de",
    "outlook.com",
    "outlook.de",
    "live.com",
    "live.de",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "aol.de",
    "gmx.de",
    "gmx.net",
    "gmx.at",
    "gmx.ch",
    "web.de",
    "t-online.de",
    "freenet.de",
    "arcor.de",
    "posteo.de",
    "mailbox.org",
    "protonmail.com",
    "proton.me",
    "bluewin.ch",
    "yandex.com",
];

/// Links the new contacts of the staged batch that have no company to the one live company
/// whose domain their e-mail address has (none when several companies share it, or when it
/// is a shared mail domain such as gmail.com).
///
/// The links are read first and written by primary key. One `UPDATE ... FROM` joining the
/// stage, the companies and the contacts left the join order to row estimates that can be
/// far off in the middle of an import (statistics taken while a batch's companies or
/// contacts were still missing): a plan scanning the companies once per staged row made a
/// 50,000-row batch of a 1M benchmark import run for minutes. Each step here has one cheap
/// plan whatever the estimates: the batch's distinct domains each looked up in the domain
/// index, the contacts found by their ids.
pub(crate) async fn contacts_by_domain(tx: &mut Tx) -> Result<u64> {
    let org = tx.org();
    let shared: Vec<String> = SHARED_MAIL_DOMAINS.iter().map(|d| d.to_string()).collect();
    let links: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "with d as materialized ( \
            select distinct split_part(email_norm, '@', 2) as dom from import_stage \
            where existing_id is null and company_id is null and email_norm is not null), \
         one as materialized ( \
            select d.dom, co.ids[1] as id from d cross join lateral ( \
                select array_agg(co.id) as ids from companies co \
                where co.org_id = $1 and co.deleted_at is null and co.domain = d.dom) co \
            where cardinality(co.ids) = 1 and not (d.dom = any($2))) \
         select s.id, one.id from import_stage s \
         join one on one.dom = split_part(s.email_norm, '@', 2) \
         cross join lateral (select c.company_id from contacts c \
                             where c.org_id = $1 and c.id = s.id offset 0) c \
         where s.existing_id is null and s.company_id is null and s.email_norm is not null \
           and c.company_id is null",
    )
    .bind(org)
    .bind(&shared)
    .fetch_all(tx.conn())
    .await?;
    if links.is_empty() {
        return Ok(0);
    }
    // The contacts were inserted by this transaction: no other writer sees them yet.
    let (ids, companies): (Vec<Uuid>, Vec<Uuid>) = links.into_iter().unzip();
    let done = sqlx::query(
        "update contacts c set company_id = u.company_id \
         from unnest($2::uuid[], $3::uuid[]) as u(id, company_id) \
         where c.org_id = $1 and c.id = u.id",
    )
    .bind(org)
    .bind(&ids)
    .bind(&companies)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

/// Links the live contacts imported before to the `companies` just imported: those that
/// carry a company's source id (unless they are already with another company that has a
/// source id of its own), and those without a company whose e-mail domain is the domain of
/// exactly one company. Returns how many contacts were linked; writes one audit entry.
pub(crate) async fn contacts_to_companies(
    tx: &mut Tx,
    run: ImportRunId,
    companies: &[Uuid],
) -> Result<u64> {
    if companies.is_empty() {
        return Ok(0);
    }
    let org = tx.org();
    let by_id = sqlx::query(
        "update contacts c set company_id = co.id, import_run_id = $3 \
         from companies co \
         where co.org_id = $1 and co.id = any($2) and co.external_id is not null \
           and c.org_id = $1 and c.deleted_at is null \
           and c.company_external_system = co.external_system \
           and c.company_external_id = co.external_id \
           and c.company_id is distinct from co.id \
           and (c.company_id is null or not exists (select 1 from companies p \
                where p.org_id = $1 and p.id = c.company_id and p.external_id is not null))",
    )
    .bind(org)
    .bind(companies)
    .bind(run)
    .execute(tx.conn())
    .await?
    .rows_affected();
    let shared: Vec<String> = SHARED_MAIL_DOMAINS.iter().map(|d| d.to_string()).collect();
    let by_domain = sqlx::query(
        "update contacts c set company_id = co.id, import_run_id = $3 \
         from companies co \
         where co.org_id = $1 and co.id = any($2) and co.domain is not null \
           and not (co.domain = any($4)) \
           and c.org_id = $1 and c.deleted_at is null and c.company_id is null \
           and c.email_norm is not null and split_part(c.email_norm, '@', 2) = co.domain \
           and not exists (select 1 from companies o where o.org_id = $1 and o.deleted_at is null \
                           and o.domain = co.domain and o.id <> co.id)",
    )
    .bind(org)
    .bind(companies)
    .bind(run)
    .bind(&shared)
    .execute(tx.conn())
    .await?
    .rows_affected();
    let linked = by_id + by_domain;
    if linked > 0 {
        let payload = serde_json::json!({
            "run_id": run,
            "contacts_linked": linked,
            "by_source_id": by_id,
            "by_domain": by_domain,
        });
        tx.record(
            "import",
            Some(run.uuid()),
            "link_contacts",
            &payload,
            None,
            &payload,
        )
        .await?;
    }
    Ok(linked)
}
