//! Erasure (GDPR Art. 17): removes a person's personal data everywhere, in the caller's
//! transaction, and leaves a receipt without personal data.
//!
//! What happens to each kind of data:
//!
//! | data | erasure |
//! |---|---|
//! | contact records (the person's, records merged into it or it into, records the operator names) | deleted, with their e-mail addresses, phone numbers, tag links, owners, consents and search columns |
//! | activities linked only to the person | deleted |
//! | activities also linked to a company or deal | contact link removed; the person's names, addresses and numbers in subject and body replaced by `[erased]` |
//! | deals with the person | contact link removed (value, currency, stage stay for accounting); the person's names etc. in the title, lost-reason text and custom fields replaced |
//! | records linked through their deals and companies (activities, the company's deals, the company's name and custom fields, its relationship notes, events of those records) | the person's full name, addresses and numbers replaced by `[erased]` (single names stay: someone else may share them) |
//! | companies holding the person's e-mail address or phone number | that address or number removed (the company stays) |
//! | import run file names | the person's full name, addresses and numbers replaced |
//! | audit entries about the person's records, about their deleted activities, or whose payload mentions their e-mail, phone or full name (single names: only in entries of their deals and activities) | payload redacted (digest and hashes stay, so `crm audit verify` passes), by `crm_gdpr_redact_person`, which accepts only needles derived from the person's records |
//! | events about the person's records and deleted activities | purged |
//! | Lexware link | removed; cached vouchers of that Lexware contact keep number, date and amount, their raw payload is cleared |
//!
//! Names, addresses and numbers are matched in every spelling the search would match
//! (`crm_gdpr_spelling_pattern`: case, German spellings and transliterations, accents,
//! separators; phone numbers with or without country code or national prefix and with any
//! separators), the same patterns for the texts and the audit payloads.
//!
//! The receipt holds counts, the actor, the time and an HMAC-SHA256 of every erased e-mail
//! address under a per-organization secret ([`was_erased`] checks a later address against
//! it); the erasure's own audit entry holds the receipt id and the counts.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{Needles, Person, find_person, isolated, needles};
use crate::auth::Permission;
use crate::dedupe::Kind;
use crate::domain::Email;
use crate::error::{Error, Result};
use crate::ids::{ContactId, UserId};
use crate::search::words::{self, Held};
use crate::tenancy::Tx;

/// What an erasure removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ErasureCounts {
    /// Contact records deleted (the person's and their duplicates).
    pub contacts: i64,
    /// Distinct e-mail addresses removed.
    pub emails: i64,
    /// Distinct phone numbers removed.
    pub phones: i64,
    /// Activities deleted (those linked to nothing else).
    pub activities: i64,
    /// Activities kept for their company or deal, unlinked from the person and scrubbed.
    pub activities_detached: i64,
    /// Consent records deleted.
    pub consents: i64,
    /// Deals unlinked from the person (they keep their value).
    pub deals_detached: i64,
    /// Audit entries whose payload was redacted.
    pub audit_redacted: i64,
    /// Outbox events purged.
    pub events_purged: i64,
    /// Lexware links removed.
    pub lexware_links: i64,
    /// Cached Lexware vouchers whose raw payload was cleared.
    pub vouchers_redacted: i64,
    /// Other records whose text named the person (their full name, an address or a number
    /// in any spelling) and was scrubbed: records linked through their deals or company,
    /// companies holding their addresses, events, import run file names.
    pub records_scrubbed: i64,
}

/// Proof of an erasure, without personal data; of a dry run, what the erasure would do
/// (then without `receipt_id` and `erased_at`: nothing was erased, no receipt exists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureReceipt {
    /// The receipt's id (`None` in a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_id: Option<Uuid>,
    /// When the erasure was committed (the transaction's time; `None` in a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<DateTime<Utc>>,
    /// Who erased.
    pub actor_id: Option<UserId>,
    /// The id the person's main contact record had.
    pub subject_id: ContactId,
    /// The contact records erased (in a dry run: that would be erased), the main one
    /// first. Empty on receipts read back with [`receipts`].
    pub contact_ids: Vec<ContactId>,
    /// What was removed.
    pub counts: ErasureCounts,
    /// HMAC-SHA256 (hex) of every erased e-mail address, normalised, under the
    /// organization's erasure key (a dry run shows the same hashes the erasure records).
    pub email_hashes: Vec<String>,
    /// Whether this was a dry run (nothing changed, nothing stored).
    pub dry_run: bool,
    /// Soft-deleted records of others that share one of the person's e-mail addresses
    /// (a shared mailbox): not erased; name them with [`erase_including`] if they are the
    /// same person.
    pub candidates: Vec<ContactId>,
    /// What the erasure could not do itself (no personal data).
    pub notes: Vec<String>,
}

/// The notes of a receipt: the Lexware Office records are not ours to delete.
fn notes_for(counts: &ErasureCounts) -> Vec<String> {
    if counts.lexware_links > 0 || counts.vouchers_redacted > 0 {
        vec![
            "The person's contact and accounting vouchers in Lexware Office were not deleted: \
             they are kept there under bookkeeping retention duties and are not ours to delete. \
             The CRM's link was removed and its cached voucher payloads cleared; erase or \
             anonymise the Lexware contact there when its retention period ends."
                .to_string(),
        ]
    } else {
        Vec::new()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Erases the person named by `reference` (contact id, its digits, or any of their e-mail
/// addresses) with all their records, in the caller's transaction; see the module
/// documentation for what happens to what. Requires [`Permission::Erase`].
///
/// With `dry_run`, everything is done and rolled back to a savepoint: the counts and hashes
/// are exact, the receipt has no id and no time, and nothing changes (except that the
/// organization's erasure key is made if it had none, so the hashes shown are the ones an
/// erasure records). On any error, nothing of the erasure remains in the transaction.
/// Unknown reference: [`Error::NotFound`].
pub async fn erase(tx: &mut Tx, reference: &str, dry_run: bool) -> Result<ErasureReceipt> {
    erase_including(tx, reference, &[], dry_run).await
}

/// [`erase`] of the person named by `reference` together with the contact records
/// `include` (and their merges): what the operator names explicitly, such as a
/// [`ErasureReceipt::candidates`] record of an earlier dry run. A record that does not
/// exist is a validation error on the field `include`.
pub async fn erase_including(
    tx: &mut Tx,
    reference: &str,
    include: &[ContactId],
    dry_run: bool,
) -> Result<ErasureReceipt> {
    tx.require(Permission::Erase)?;
    let include: Vec<Uuid> = include.iter().map(|c| c.uuid()).collect();
    // The organization's erasure key, made outside the savepoint: a dry run must not make
    // (and roll back) a key of its own, or its hashes would differ from the erasure's.
    sqlx::query("select crm_gdpr_email_hashes('{}'::text[])")
        .execute(tx.conn())
        .await?;
    isolated(tx, !dry_run, async |tx| {
        let person = find_person(tx, reference, &include).await?;
        let mut receipt = erase_person(tx, &person).await?;
        receipt.dry_run = dry_run;
        receipt.candidates = person.candidates.clone();
        if dry_run {
            receipt.receipt_id = None;
            receipt.erased_at = None;
        }
        Ok(receipt)
    })
    .await
}

/// Erases the person's records and what mentions them, and writes the receipt.
async fn erase_person(tx: &mut Tx, person: &Person) -> Result<ErasureReceipt> {
    let org = tx.org();
    let ids = &person.ids;
    lock_records(tx, ids).await?;
    let n = needles(tx, ids).await?;
    // Every spelling the search would match: the patterns the audit redaction uses too.
    let strong = spelling_patterns(tx, &n.strong).await?;
    let all = [strong.clone(), spelling_patterns(tx, &n.weak).await?].concat();
    // The records linked to the person through their company (read before anything changes).
    let companies: Vec<Uuid> = sqlx::query_scalar(
        "select distinct company_id from contacts \
         where org_id = $1 and id = any($2) and company_id is not null",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let mut counts = ErasureCounts {
        contacts: ids.len() as i64,
        emails: n.emails.len() as i64,
        phones: n.phones.len() as i64,
        audit_redacted: redact_audit(tx, ids, &n).await?,
        ..ErasureCounts::default()
    };
    let (deleted_activities, detached_activities) = scrub_activities(tx, ids, &all).await?;
    counts.activities = deleted_activities.len() as i64;
    counts.activities_detached = detached_activities.len() as i64;

    let deals = detach_deals(tx, ids, &all).await?;
    counts.deals_detached = deals.len() as i64;
    counts.records_scrubbed = scrub_elsewhere(tx, &strong, &n, &deals, &companies).await?;

    counts.consents = sqlx::query("delete from consents where org_id = $1 and contact_id = any($2)")
        .bind(org)
        .bind(ids)
        .execute(tx.conn())
        .await?
        .rows_affected() as i64;

    drop_lexware_links(tx, ids, &mut counts).await?;

    let mut entities: Vec<Uuid> = ids.clone();
    entities.extend(&deleted_activities);
    counts.events_purged =
        sqlx::query("delete from events where org_id = $1 and entity_id = any($2)")
            .bind(org)
            .bind(&entities)
            .execute(tx.conn())
            .await?
            .rows_affected() as i64;

    delete_records(tx, ids).await?;

    // The receipt: counts and keyed hashes only.
    let receipt_id = Uuid::now_v7();
    let counts_json = serde_json::to_value(counts)
        .map_err(|e| Error::Database(format!("encoding the counts failed: {e}")))?;
    let (erased_at, hashes): (DateTime<Utc>, Vec<Vec<u8>>) = sqlx::query_as(
        "insert into erasure_receipts (org_id, id, actor_id, subject_id, email_hashes, counts) \
         values ($1, $2, $3, $4, crm_gdpr_email_hashes($5), $6) \
         returning erased_at, email_hashes",
    )
    .bind(org)
    .bind(receipt_id)
    .bind(tx.actor_id())
    .bind(person.main)
    .bind(&n.emails)
    .bind(&counts_json)
    .fetch_one(tx.conn())
    .await?;
    tx.record(
        "contact",
        Some(person.main.uuid()),
        "erase",
        &json!({
            "receipt_id": receipt_id,
            "counts": counts_json,
            "deals_detached": deals,
            "activities_detached": detached_activities,
        }),
        Some("contact.erased"),
        &json!({ "id": person.main, "contact_ids": ids, "receipt_id": receipt_id }),
    )
    .await?;
    Ok(ErasureReceipt {
        receipt_id: Some(receipt_id),
        erased_at: Some(erased_at),
        actor_id: tx.actor_id(),
        subject_id: person.main,
        contact_ids: ids.iter().copied().map(ContactId).collect(),
        notes: notes_for(&counts),
        counts,
        email_hashes: hashes.iter().map(|h| hex(h)).collect(),
        dry_run: false,
        candidates: Vec::new(),
    })
}

/// Locks the records first: a concurrent change to them waits for this transaction.
async fn lock_records(tx: &mut Tx, ids: &[Uuid]) -> Result<()> {
    let org = tx.org();
    let locked: Vec<Uuid> = sqlx::query_scalar(
        "select id from contacts where org_id = $1 and id = any($2) order by id for update",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    if locked.len() != ids.len() {
        return Err(Error::Conflict(
            "the person's records changed while erasing; retry".into(),
        ));
    }
    Ok(())
}

/// Redacts the audit payloads, first (the function finds the person's activities and deals
/// through their links): everything about the person's records and the activities about
/// them alone; entries mentioning them anywhere; single names only in entries of their
/// deals and other activities. The function accepts only needles derived from these
/// records. Housekeeping run by no user (re-application after a restore) calls the
/// owner's variant, which names the organization itself. Returns the entries redacted.
async fn redact_audit(tx: &mut Tx, ids: &[Uuid], n: &Needles) -> Result<i64> {
    let org = tx.org();
    let redact = if tx.is_system() {
        sqlx::query_scalar::<_, i64>("select crm_gdpr_redact_person_in($4, $1, $2, $3)")
    } else {
        sqlx::query_scalar::<_, i64>(
            "select crm_gdpr_redact_person($1, $2, $3) where $4::uuid is not null",
        )
    };
    Ok(redact
        .bind(ids)
        .bind(&n.strong)
        .bind(&n.weak)
        .bind(org)
        .fetch_one(tx.conn())
        .await?)
}

/// Deletes the activities about the person alone, unlinks and scrubs the others; returns
/// the ids deleted and the ids unlinked.
async fn scrub_activities(
    tx: &mut Tx,
    ids: &[Uuid],
    all: &[String],
) -> Result<(Vec<Uuid>, Vec<Uuid>)> {
    let org = tx.org();
    let deleted_activities: Vec<Uuid> = sqlx::query_scalar(
        "delete from activities where org_id = $1 and contact_id = any($2) \
           and company_id is null and deal_id is null \
         returning id",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    let detached_activities: Vec<Uuid> = sqlx::query_scalar(
        "update activities set contact_id = null, \
                subject = left(crm_gdpr_scrub(subject, $3), 500), \
                body = crm_gdpr_scrub(body, $3) \
         where org_id = $1 and contact_id = any($2) \
         returning id",
    )
    .bind(org)
    .bind(ids)
    .bind(all)
    .fetch_all(tx.conn())
    .await?;
    Ok((deleted_activities, detached_activities))
}

/// Deals keep their value; the link to the person and their name in texts go. Returns the
/// deals changed.
async fn detach_deals(tx: &mut Tx, ids: &[Uuid], all: &[String]) -> Result<Vec<Uuid>> {
    let org = tx.org();
    let deals: Vec<Uuid> = sqlx::query_scalar(
        "update deals set contact_id = null, \
                title = left(crm_gdpr_scrub(title, $3), 300), \
                lost_reason_text = crm_gdpr_scrub(lost_reason_text, $3), \
                custom = crm_gdpr_scrub(custom::text, $3)::jsonb \
         where org_id = $1 and contact_id = any($2) \
         returning id",
    )
    .bind(org)
    .bind(ids)
    .bind(all)
    .fetch_all(tx.conn())
    .await?;
    Ok(deals)
}

/// Deletes the person's Lexware links and empties the payloads of their vouchers.
async fn drop_lexware_links(tx: &mut Tx, ids: &[Uuid], counts: &mut ErasureCounts) -> Result<()> {
    let org = tx.org();
    let lexware: Vec<Uuid> = sqlx::query_scalar(
        "delete from lexware_contact_links where org_id = $1 and contact_id = any($2) \
         returning lexware_id",
    )
    .bind(org)
    .bind(ids)
    .fetch_all(tx.conn())
    .await?;
    counts.lexware_links = lexware.len() as i64;
    if !lexware.is_empty() {
        counts.vouchers_redacted = sqlx::query(
            "update lexware_vouchers set payload = '{}' \
             where org_id = $1 and lexware_contact_id = any($2) and payload <> '{}'",
        )
        .bind(org)
        .bind(&lexware)
        .execute(tx.conn())
        .await?
        .rows_affected() as i64;
    }
    Ok(())
}

/// Deletes the records themselves (e-mails, phones, tags, owners and search columns go
/// with them).
async fn delete_records(tx: &mut Tx, ids: &[Uuid]) -> Result<()> {
    let org = tx.org();
    tx.detach("contacts", ids).await?;
    let held = words::held(tx, Kind::Contact, ids).await?;
    let deleted = sqlx::query("delete from contacts where org_id = $1 and id = any($2)")
        .bind(org)
        .bind(ids)
        .execute(tx.conn())
        .await?
        .rows_affected();
    words::removed(tx, held).await?;
    if deleted != ids.len() as u64 {
        return Err(Error::Conflict(
            "the person's records changed while erasing; retry".into(),
        ));
    }
    Ok(())
}

/// The regular expressions (ARE, used case-insensitively) matching each of `needles` in
/// every spelling the search would match (`crm_gdpr_spelling_pattern`, the same the audit
/// redaction uses), longest needle first: an address is replaced whole before the name
/// inside it.
async fn spelling_patterns(tx: &mut Tx, needles: &[String]) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "select array(select p from unnest($1::text[]) x, crm_gdpr_spelling_pattern(x) p \
                      where p is not null group by p \
                      order by max(char_length(x)) desc, p)",
    )
    .bind(needles)
    .fetch_one(tx.conn())
    .await?)
}

/// Scrubs the person's full name, addresses and numbers (`strong`: their spelling patterns)
/// from the records linked to them through their deals and their companies, removes their
/// addresses and numbers from every company that holds them, and scrubs the events of the
/// linked records and import run file names that mention them. Returns the number of
/// records changed.
async fn scrub_elsewhere(
    tx: &mut Tx,
    strong: &[String],
    n: &Needles,
    deals: &[Uuid],
    companies: &[Uuid],
) -> Result<i64> {
    if strong.is_empty() {
        return Ok(0);
    }
    let org = tx.org();
    let mut changed: u64 = 0;
    changed += scrub_linked_texts(tx, strong, deals, companies).await?;
    changed += remove_from_holders(tx, strong, n).await?;
    // Events about the records linked to them (their deals and companies, and the
    // activities and deals of those).
    let mut linked: Vec<Uuid> = deals.to_vec();
    linked.extend(companies);
    changed += sqlx::query(
        "update events set payload = crm_gdpr_scrub(payload::text, $3)::jsonb \
         where org_id = $1 \
           and entity_id in (select unnest($2::uuid[]) \
                             union select id from activities \
                             where org_id = $1 and (deal_id = any($2) or company_id = any($2)) \
                             union select id from deals where org_id = $1 and company_id = any($2)) \
           and payload::text ~* any($3)",
    )
    .bind(org)
    .bind(&linked)
    .bind(strong)
    .execute(tx.conn())
    .await?
    .rows_affected();
    // Import run file names anywhere in the organization.
    changed += sqlx::query(
        "update import_runs set file_name = crm_gdpr_scrub(file_name, $2) \
         where org_id = $1 and file_name ~* any($2)",
    )
    .bind(org)
    .bind(strong)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(changed as i64)
}

/// Scrubs the activities of the person's deals and companies, their companies' deals,
/// their companies' own texts and the notes of their relationships; returns the rows
/// changed.
async fn scrub_linked_texts(
    tx: &mut Tx,
    strong: &[String],
    deals: &[Uuid],
    companies: &[Uuid],
) -> Result<u64> {
    let org = tx.org();
    let mut changed: u64 = 0;
    // Activities of their deals and their companies.
    changed += sqlx::query(
        "update activities set subject = left(crm_gdpr_scrub(subject, $4), 500), \
                               body = crm_gdpr_scrub(body, $4) \
         where org_id = $1 and (deal_id = any($2) or company_id = any($3)) \
           and (subject ~* any($4) or body ~* any($4))",
    )
    .bind(org)
    .bind(deals)
    .bind(companies)
    .bind(strong)
    .execute(tx.conn())
    .await?
    .rows_affected();
    // Deals of their companies.
    changed += sqlx::query(
        "update deals set title = left(crm_gdpr_scrub(title, $3), 300), \
                          lost_reason_text = crm_gdpr_scrub(lost_reason_text, $3), \
                          custom = crm_gdpr_scrub(custom::text, $3)::jsonb \
         where org_id = $1 and company_id = any($2) \
           and (title ~* any($3) or lost_reason_text ~* any($3) or custom::text ~* any($3))",
    )
    .bind(org)
    .bind(companies)
    .bind(strong)
    .execute(tx.conn())
    .await?
    .rows_affected();
    // Their companies' own texts, and the notes of their relationships.
    let held = words::held(tx, Kind::Company, companies).await?;
    changed += sqlx::query(
        "update companies set name = left(crm_gdpr_scrub(name, $3), 300), \
                              custom = crm_gdpr_scrub(custom::text, $3)::jsonb \
         where org_id = $1 and id = any($2) and (name ~* any($3) or custom::text ~* any($3))",
    )
    .bind(org)
    .bind(companies)
    .bind(strong)
    .execute(tx.conn())
    .await?
    .rows_affected();
    words::changed(tx, Kind::Company, companies, held).await?;
    changed += sqlx::query(
        "update company_relationships set note = crm_gdpr_scrub(note, $3) \
         where org_id = $1 and (from_company_id = any($2) or to_company_id = any($2)) \
           and note ~* any($3)",
    )
    .bind(org)
    .bind(companies)
    .bind(strong)
    .execute(tx.conn())
    .await?
    .rows_affected();
    Ok(changed)
}

/// Removes the person's addresses and numbers from any company holding them; returns the
/// companies changed.
async fn remove_from_holders(tx: &mut Tx, strong: &[String], n: &Needles) -> Result<u64> {
    let org = tx.org();
    // Any company holding their addresses or numbers: the addresses and numbers go. The
    // candidates are found cheaply first (the address, the last six digits of a number),
    // then confirmed by the spelling patterns.
    let suffixes: Vec<String> = n
        .phones
        .iter()
        .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|d| d.len() >= 6)
        .map(|d| d[d.len() - 6..].to_string())
        .collect();
    // Each company changed, with its search text as it was when its own columns changed.
    let holders: Vec<(Uuid, Option<String>)> = sqlx::query_as(
        "with e as (delete from company_emails \
                    where org_id = $1 and email_norm = any($2) \
                    returning company_id), \
              p as (delete from company_phones \
                    where org_id = $1 \
                      and (number_e164 = any($3) \
                           or (right(regexp_replace(number_raw, '[^0-9]', '', 'g'), 6) = any($5) \
                               and number_raw ~* any($4))) \
                    returning company_id), \
              c as (update companies t \
                    set email = case when lower(btrim(t.email)) = any($2) then null else t.email end, \
                        phone = case when right(regexp_replace(t.phone, '[^0-9]', '', 'g'), 6) = any($5) \
                                      and t.phone ~* any($4) then null else t.phone end \
                    from companies o \
                    where t.org_id = $1 and o.org_id = $1 and o.id = t.id \
                      and (lower(btrim(t.email)) = any($2) \
                           or (right(regexp_replace(t.phone, '[^0-9]', '', 'g'), 6) = any($5) \
                               and t.phone ~* any($4))) \
                    returning t.id, o.search_text) \
         select company_id, null::text from e union select company_id, null from p \
         union select id, search_text from c",
    )
    .bind(org)
    .bind(&n.emails)
    .bind(&n.phones)
    .bind(strong)
    .bind(&suffixes)
    .fetch_all(tx.conn())
    .await?;
    let (ids, texts): (Vec<Uuid>, Vec<String>) = holders
        .iter()
        .filter_map(|(id, text)| Some((*id, text.clone()?)))
        .unzip();
    words::changed(tx, Kind::Company, &ids, Held::from_texts(texts)).await?;
    Ok(holders.iter().map(|h| h.0).collect::<HashSet<Uuid>>().len() as u64)
}

/// Whether `email` belonged to a person erased in this organization (its keyed hash is on
/// a receipt): for flagging a later import or entry of the same address.
pub async fn was_erased(tx: &mut Tx, email: &str) -> Result<bool> {
    tx.require(Permission::Read)?;
    let norm = Email::parse(email)
        .map_err(|e| Error::invalid("email", e.message()))?
        .normalized();
    let hash: Vec<Vec<u8>> = sqlx::query_scalar("select crm_gdpr_email_hashes(array[$1])")
        .bind(&norm)
        .fetch_one(tx.conn())
        .await?;
    Ok(sqlx::query_scalar(
        "select exists (select 1 from erasure_receipts where org_id = $1 and $2 = any(email_hashes))",
    )
    .bind(tx.org())
    .bind(hash.first())
    .fetch_one(tx.conn())
    .await?)
}

/// The organization's erasure receipts, newest first (at most `limit`, 1 to 10,000).
pub async fn receipts(tx: &mut Tx, limit: u32) -> Result<Vec<ErasureReceipt>> {
    tx.require(Permission::ReadAudit)?;
    type Row = (
        Uuid,
        DateTime<Utc>,
        Option<UserId>,
        ContactId,
        Vec<Vec<u8>>,
        serde_json::Value,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "select id, erased_at, actor_id, subject_id, email_hashes, counts from erasure_receipts \
         where org_id = $1 order by erased_at desc, id desc limit $2",
    )
    .bind(tx.org())
    .bind(i64::from(limit.clamp(1, 10_000)))
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(receipt_id, erased_at, actor_id, subject_id, hashes, counts)| {
                let counts: ErasureCounts = serde_json::from_value(counts).unwrap_or_default();
                ErasureReceipt {
                    receipt_id: Some(receipt_id),
                    erased_at: Some(erased_at),
                    actor_id,
                    subject_id,
                    contact_ids: Vec::new(),
                    notes: notes_for(&counts),
                    counts,
                    email_hashes: hashes.iter().map(|h| hex(h)).collect(),
                    dry_run: false,
                    candidates: Vec::new(),
                }
            },
        )
        .collect())
}
