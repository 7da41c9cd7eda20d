//! Writing one batch: companies, staging, matching existing contacts, inserting new ones.

use std::collections::{HashMap, HashSet};

use serde_json::json;
use uuid::Uuid;

use super::Columns;
use super::batch::{Batch, CompanyRow, STAGE_COPY, STAGE_DDL};
use super::update::update_existing;
use crate::dedupe::Kind;
use crate::error::Result;
use crate::ids::ImportRunId;
use crate::import::{ImportOptions, OnDuplicate, RowChange};
use crate::search::words;
use crate::tenancy::{Scope, Tx};

/// What a batch did, merged into the summary by the reading loop.
#[derive(Default)]
pub(super) struct Outcome {
    pub(super) created: u64,
    pub(super) updated: u64,
    pub(super) skipped: u64,
    pub(super) companies_created: u64,
    pub(super) rejects: Vec<(u64, &'static str, &'static str)>,
    pub(super) changes: Vec<RowChange>,
    pub(super) lines: Vec<(u64, csv::ByteRecord)>,
    /// New contacts that look like existing ones: (line, message).
    pub(super) likely_duplicates: Vec<(u64, String)>,
}

/// What every batch shares (read-only).
pub(super) struct Shared<'a> {
    pub(super) scope: &'a Scope,
    pub(super) opts: &'a ImportOptions,
    pub(super) cols: &'a Columns,
    pub(super) run: ImportRunId,
    pub(super) actor: crate::ids::UserId,
    /// Whether the organization had live contacts as the run began.
    pub(super) had_contacts: bool,
}

/// Writes one batch: its companies, then (in one transaction, rolled back in a dry run) its
/// rows staged, matched with the existing contacts, and inserted or updated.
pub(super) async fn flush(sh: &Shared<'_>, batch_no: u64, batch: Batch) -> Result<Outcome> {
    let mut out = Outcome::default();
    let run = sh.run;
    let actor = sh.actor;
    // Companies first, in a short transaction of their own that serialises concurrent
    // batches (two batches naming the same new company create it once). A dry run keeps
    // them in the batch's transaction, which is rolled back.
    let mut mapping: (Vec<String>, Vec<Uuid>) = (Vec::new(), Vec::new());
    if !batch.companies.is_empty() && !sh.opts.dry_run {
        let mut ctx_tx = sh.scope.begin().await?;
        let (m, created) = company_step(&mut ctx_tx, run, &batch.companies).await?;
        ctx_tx.commit().await?;
        mapping = m;
        out.companies_created = created;
    }
    // New tags likewise: a tag inserted by a batch still open makes every other batch that
    // names it wait for that batch's commit (the unique index on the name), which made the
    // first two batches of an import run one after the other.
    if !batch.tags.is_empty() && !sh.opts.dry_run {
        let mut tag_tx = sh.scope.begin().await?;
        insert_tags(&mut tag_tx, &batch.tags).await?;
        tag_tx.commit().await?;
    }
    let mut tx = sh.scope.begin().await?;
    if !batch.companies.is_empty() && sh.opts.dry_run {
        let (m, created) = company_step(&mut tx, run, &batch.companies).await?;
        mapping = m;
        out.companies_created = created;
    }
    stage(&mut tx, &batch, &mapping).await?;
    match_existing(&mut tx, batch.has_external).await?;
    let existing = apply_duplicates(sh, &mut tx, &mut out).await?;
    if sh.opts.dry_run {
        insert_tags(&mut tx, &batch.tags).await?;
    }
    let created = insert_new(&mut tx, run, actor).await?;
    if batch.has_extras {
        let update = sh.opts.on_duplicate == OnDuplicate::Update;
        crate::import::extras::apply(&mut tx, update, run, actor).await?;
    }
    // New contacts without a company: the one company whose domain their e-mail has.
    crate::import::links::contacts_by_domain(&mut tx).await?;
    out.likely_duplicates = if sh.had_contacts {
        crate::dedupe::import_warnings(&mut tx, run.uuid()).await?
    } else {
        Vec::new()
    };
    let new_rows = batch.rows as u64 - existing;
    out.created += created as u64;
    // Rows a concurrent writer created in the meantime were not inserted: skipped.
    out.skipped += new_rows.saturating_sub(created as u64);
    let companies_created = out.companies_created;
    finish_batch(sh, tx, batch_no, &batch, created, companies_created).await?;
    out.lines = batch.lines;
    Ok(out)
}

/// Creates the staging table, copies the batch into it and links the rows to their companies:
/// the rows carry the id each company would get if the batch created it; where the company
/// step found it existing (or could not create it), the rows are corrected here.
async fn stage(tx: &mut Tx, batch: &Batch, mapping: &(Vec<String>, Vec<Uuid>)) -> Result<()> {
    sqlx::query(STAGE_DDL).execute(tx.conn()).await?;
    let mut copy = tx.conn().copy_in_raw(STAGE_COPY).await?;
    for part in batch.copy_stream() {
        copy.send(part).await?;
    }
    copy.finish().await?;
    // Statistics for the joins below (a temporary table has none until analysed): only of
    // the columns the batch's statements join or filter on (all 41 columns took 0.4 s of a
    // 50,000-row batch), and from a sample of 3,000 rows, not 30,000 (statistics target 10,
    // for this transaction: 100 ms → 12 ms for 40,000 rows). The statements are planned on
    // row counts, null fractions and which columns are unique; those need no larger sample.
    sqlx::query("select set_config('default_statistics_target', '10', true)")
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "analyze import_stage (id, email_norm, last_name, name_norm, company_norm, company_id, \
         existing_id, extras, tags)",
    )
    .execute(tx.conn())
    .await?;

    let found: HashMap<&str, Uuid> = mapping
        .0
        .iter()
        .map(String::as_str)
        .zip(mapping.1.iter().copied())
        .collect();
    let (mut norms, mut ids): (Vec<&str>, Vec<Option<Uuid>>) = (Vec::new(), Vec::new());
    for (norm, company) in &batch.companies {
        let id = found.get(norm.as_str()).copied();
        if id != Some(company.id) {
            norms.push(norm);
            ids.push(id);
        }
    }
    if !norms.is_empty() {
        sqlx::query(
            "update import_stage s set company_id = m.id \
             from unnest($1::text[], $2::uuid[]) as m(norm, id) where s.company_norm = m.norm",
        )
        .bind(&norms)
        .bind(&ids)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Marks the staged rows that name a live contact: by any e-mail, else by name and company,
/// and by the id of their source record.
async fn match_existing(tx: &mut Tx, has_external: bool) -> Result<()> {
    let org = tx.org();
    // Existing contacts: by any e-mail, else by name and company. Each staged address is
    // looked up in the address indexes, one lookup per row (the lateral `limit`): a join the
    // planner was free to choose hashed the organization's every address per batch while the
    // tables grew under the import (0.2 s for the first batch of a million, 2.5 s for the
    // last; 18 s of the run).
    //
    // First the contacts' primary (mirrored) addresses: at most one live contact holds an
    // address as its primary (the unique index). Then, for the rows still without a match,
    // the address rows: an address another contact holds besides its primary, the smallest
    // id when several do. One lookup with the two unioned, sorted and limited per row took
    // three times as long (40,000 addresses against a tenant of a million: 0.45 s, now
    // 0.08 + 0.06 s), and when an address was both one contact's primary and another's
    // second it chose the smaller id, not the contact whose address it is.
    sqlx::query(
        "update import_stage s set existing_id = m.id, existing_version = m.version \
         from import_stage k cross join lateral ( \
            select c.id, c.version from contacts c \
            where c.org_id = $1 and c.email_norm = k.email_norm and c.deleted_at is null \
            limit 1) m \
         where k.email_norm is not null and s.line = k.line",
    )
    .bind(org)
    .execute(tx.conn())
    .await?;
    // An organization without address rows (a first import of one address per contact)
    // is not asked a million times (1.4 s of a million-row import).
    sqlx::query(
        "update import_stage s set existing_id = m.id, existing_version = m.version \
         from import_stage k cross join lateral ( \
            select c.id, c.version from contact_emails e \
            join contacts c on c.org_id = e.org_id and c.id = e.contact_id \
            where e.org_id = $1 and e.email_norm = k.email_norm and c.deleted_at is null \
            order by c.id limit 1) m \
         where k.email_norm is not null and k.existing_id is null and s.line = k.line \
           and exists (select 1 from contact_emails where org_id = $1)",
    )
    .bind(org)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "update import_stage s set existing_id = c.id, existing_version = c.version \
         from contacts c \
         where s.email_norm is null and s.existing_id is null and c.org_id = $1 \
           and c.deleted_at is null and c.last_name = coalesce(s.last_name, '') \
           and crm_fold(btrim(c.first_name || ' ' || c.last_name)) = s.name_norm \
           and c.company_id is not distinct from s.company_id",
    )
    .bind(org)
    .execute(tx.conn())
    .await?;

    if has_external {
        crate::import::extras::match_external(tx).await?;
    }
    Ok(())
}

/// Skips, rejects or updates the staged rows that matched a contact (`--on-duplicate`);
/// returns how many matched.
async fn apply_duplicates(sh: &Shared<'_>, tx: &mut Tx, out: &mut Outcome) -> Result<u64> {
    let existing: Vec<(i64, Uuid)> = sqlx::query_as(
        "select line, existing_id from import_stage where existing_id is not null order by line",
    )
    .fetch_all(tx.conn())
    .await?;
    match sh.opts.on_duplicate {
        OnDuplicate::Skip => out.skipped += existing.len() as u64,
        OnDuplicate::Error => {
            for (line, _) in &existing {
                out.rejects.push((
                    *line as u64,
                    "email",
                    "a contact with this e-mail (or name and company) already exists",
                ));
            }
        }
        OnDuplicate::Update => update_existing(sh, tx, out).await?,
    }
    Ok(existing.len() as u64)
}

/// Creates the tags the batch uses that do not exist yet.
async fn insert_tags(tx: &mut Tx, tags: &HashSet<String>) -> Result<()> {
    let org = tx.org();
    if !tags.is_empty() {
        let names: Vec<String> = tags.iter().cloned().collect();
        let ids: Vec<Uuid> = names.iter().map(|_| Uuid::now_v7()).collect();
        sqlx::query(
            "insert into tags (org_id, id, name, name_norm) \
             select distinct on (crm_fold(btrim(u.name))) $1, u.id, btrim(u.name), crm_fold(btrim(u.name)) \
             from unnest($2::uuid[], $3::text[]) as u(id, name) \
             order by crm_fold(btrim(u.name)) \
             on conflict (org_id, name_norm) do nothing",
        )
        .bind(org)
        .bind(&ids)
        .bind(&names)
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// Inserts the new contacts with their e-mails, phones, owner and tags, in one statement,
/// and adds their words to the search dictionary; returns how many were inserted.
///
/// A contact's one e-mail address (kind `work`) and one phone number (kind `office`, written
/// in its E.164 form) stay on the contact row alone: its mirror columns hold them exactly,
/// and every reader shows the mirror of a contact without rows of that kind (migration
/// `20261210010000`). Rows are written where the mirror cannot hold everything: a second
/// address or number, another kind, a number written otherwise. Each row not written saves
/// a foreign-key check that locks the contact just inserted (a million generated contacts,
/// back to back on one machine: 74.0 s with the rows, 64.7 s without).
///
/// Rows go in in id order (UUIDv7, made in file order), the child rows in their contact's:
/// the primary keys and every index led by the contact's id grow at their right end, and
/// the foreign-key checks find the contact just inserted. One import runs per organization
/// at a time and its batches hold disjoint rows, so the order is not what keeps two writers
/// from waiting on each other. A tag name is folded once per batch, not once per contact.
async fn insert_new(tx: &mut Tx, run: ImportRunId, actor: crate::ids::UserId) -> Result<i64> {
    // A plain insert: `on conflict do nothing` makes every row a speculative insertion (each
    // unique index probed first, a token lock taken and released, a confirmation written:
    // 0.2 s of 1.9 s for 50,000 contacts). Only a contact another session created since the
    // batch was matched can conflict; then the batch's insert is undone to the savepoint and
    // made again skipping such rows.
    sqlx::query("savepoint import_insert")
        .execute(tx.conn())
        .await?;
    let created = match insert_statement(tx, run, actor, false).await {
        Ok(created) => created,
        Err(e) if is_unique_violation(&e) => {
            sqlx::query("rollback to savepoint import_insert")
                .execute(tx.conn())
                .await?;
            insert_statement(tx, run, actor, true).await?
        }
        Err(e) => return Err(e.into()),
    };
    sqlx::query("release savepoint import_insert")
        .execute(tx.conn())
        .await?;
    words::added(tx, Kind::Contact, &created).await?;
    Ok(created.len() as i64)
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("23505"))
}

/// The insert of [`insert_new`], skipping rows that conflict with an existing contact when
/// `skip_conflicts`.
async fn insert_statement(
    tx: &mut Tx,
    run: ImportRunId,
    actor: crate::ids::UserId,
    skip_conflicts: bool,
) -> sqlx::Result<Vec<Uuid>> {
    let org = tx.org();
    // The rows inserted: without `on conflict`, every staged row without a match (or the
    // statement fails), read from the staging table by each child insert; with it, those
    // the insert returned (materialised once: 0.1 s of a 50,000-row batch).
    let (on_conflict, new) = if skip_conflicts {
        (
            "on conflict do nothing",
            "new as (select s.* from import_stage s join ins on ins.id = s.id)",
        )
    } else {
        (
            "",
            "new as not materialized (select * from import_stage where existing_id is null)",
        )
    };
    let sql = format!(
        "with ins as ( \
            insert into contacts (org_id, id, company_id, salutation, title, first_name, last_name, \
                job_title, department, linkedin_url, birthday, source, status, email, email_norm, \
                phone, city, custom, import_run_id) \
            select $1, s.id, s.company_id, s.salutation, s.title, coalesce(s.first_name, ''), \
                coalesce(s.last_name, ''), s.job_title, s.department, s.linkedin, s.birthday, \
                coalesce(s.source, 'import'), coalesce(s.status, 'active'), s.email, s.email_norm, \
                case when s.phone_raw is not null then coalesce(s.phone, s.phone_raw) \
                     else coalesce(s.mobile, s.mobile_raw) end, \
                s.city, coalesce(s.custom, '{{}}'), $2 \
            from import_stage s where s.existing_id is null \
            order by s.id \
            {on_conflict} returning id), \
         {new}, \
         em as ( \
            insert into contact_emails (org_id, id, contact_id, email, email_norm, kind, is_primary) \
            select $1, email_id, id, email, email_norm, 'work', true from new \
            where email is not null and (email2 is not null and email2_norm is distinct from email_norm \
                                         or coalesce(extras ? 'emails', false)) \
            union all \
            select $1, email2_id, id, email2, email2_norm, 'other', email is null from new \
            where email2 is not null and email2_norm is distinct from email_norm \
            order by 3, 2), \
         ph as ( \
            insert into contact_phones (org_id, id, contact_id, number_e164, number_raw, kind, is_primary) \
            select $1, phone_id, id, phone, phone_raw, 'office', true from new \
            where phone_raw is not null and (phone is distinct from phone_raw \
                or mobile_raw is not null or coalesce(extras ? 'phones', false)) \
            union all \
            select $1, mobile_id, id, mobile, mobile_raw, 'mobile', phone_raw is null from new \
            where mobile_raw is not null \
            order by 3, 2), \
         ow as ( \
            insert into contact_owners (org_id, contact_id, user_id, role) \
            select $1, id, $3, 'owner' from ins order by 2), \
         named as ( \
            select u.name, t.id from ( \
                select distinct unnest(string_to_array(tags, E'\\x1f')) as name \
                from import_stage where tags is not null) u \
            join tags t on t.org_id = $1 and t.name_norm = crm_fold(btrim(u.name))), \
         tg as ( \
            insert into contact_tags (org_id, contact_id, tag_id) \
            select distinct $1, n.id, named.id from new n \
            cross join lateral unnest(string_to_array(n.tags, E'\\x1f')) as tn(name) \
            join named on named.name = tn.name \
            where n.tags is not null \
            order by 2, 3) \
         select coalesce(array_agg(id), '{{}}') from ins"
    );
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(org)
        .bind(run)
        .bind(actor)
        .fetch_one(tx.conn())
        .await
}

/// Records the batch (progress and audit entry) and commits, or rolls back a dry run.
async fn finish_batch(
    sh: &Shared<'_>,
    mut tx: Tx,
    batch_no: u64,
    batch: &Batch,
    created: i64,
    companies_created: u64,
) -> Result<()> {
    let run = sh.run;
    let org = tx.org();
    let payload = json!({
        "run_id": run,
        "batch": batch_no,
        "first_line": batch.first_line,
        "last_line": batch.last_line,
        "created": created,
        "companies_created": companies_created,
    });
    if sh.opts.dry_run {
        tx.rollback().await?;
    } else {
        sqlx::query(
            "update import_runs set rows_done = greatest(rows_done, $3) where org_id = $1 and id = $2",
        )
        .bind(org)
        .bind(run)
        .bind(batch.rows_read as i64)
            .execute(tx.conn())
            .await?;
        tx.record(
            "import",
            Some(run.uuid()),
            "import_batch",
            &payload,
            Some("import.batch"),
            &payload,
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Links the batch's companies by normalised name and creates the missing ones, under a
/// transaction-level advisory lock of the organization so concurrent batches never create
/// the same company twice. Returns (normalised names, ids) and how many were created.
///
/// The names are matched as one `= any(...)`: at worst (no statistics yet) a scan of the
/// organization's companies once per batch. A lateral lookup per name was planned on an
/// index of the organization alone while `companies` had no statistics, and read them all
/// per name (24.5 s for one batch's 6,250 names).
async fn company_step(
    tx: &mut Tx,
    run: ImportRunId,
    companies: &HashMap<String, CompanyRow>,
) -> Result<((Vec<String>, Vec<Uuid>), u64)> {
    let org = tx.org();
    sqlx::query(
        "select pg_advisory_xact_lock(hashtextextended('crm.import.companies:' || $1::text, 0))",
    )
    .bind(org)
    .execute(tx.conn())
    .await?;
    let norms: Vec<String> = companies.keys().cloned().collect();
    let col = |f: &dyn Fn(&CompanyRow) -> Option<String>| -> Vec<Option<String>> {
        norms.iter().map(|n| companies.get(n).and_then(f)).collect()
    };
    let ids: Vec<Uuid> = norms
        .iter()
        .map(|n| companies.get(n).map_or_else(Uuid::now_v7, |c| c.id))
        .collect();
    let names = col(&|c| Some(c.name.clone()));
    let vats = col(&|c| c.vat_id.clone());
    let websites = col(&|c| c.website.clone());
    let domains = col(&|c| c.domain.clone());
    let streets = col(&|c| c.street.clone());
    let postals = col(&|c| c.postal_code.clone());
    let cities = col(&|c| c.city.clone());
    let countries = col(&|c| c.country.clone());
    let rows: Vec<(String, Option<Uuid>, bool)> = sqlx::query_as(
        "with wanted as ( \
            select * from unnest($2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], \
                                 $8::text[], $9::text[], $10::text[], $11::text[]) \
              as w(norm, id, name, vat_id, website, domain, street, postal_code, city, country)), \
         existing as ( \
            select distinct on (name_norm) name_norm, id from companies \
            where org_id = $1 and deleted_at is null and name_norm = any($2) order by name_norm, id), \
         ins as ( \
            insert into companies (org_id, id, name, vat_id, website, domain, billing_street, \
                                   billing_postal_code, billing_city, billing_country, import_run_id) \
            select $1, w.id, w.name, w.vat_id, w.website, w.domain, w.street, w.postal_code, w.city, \
                   w.country, $12 \
            from wanted w where not exists (select 1 from existing e where e.name_norm = w.norm) \
            on conflict do nothing returning id, name_norm) \
         select w.norm, coalesce(e.id, i.id), i.id is not null \
         from wanted w left join existing e on e.name_norm = w.norm left join ins i on i.name_norm = w.norm",
    )
    .bind(org)
    .bind(&norms)
    .bind(&ids)
    .bind(&names)
    .bind(&vats)
    .bind(&websites)
    .bind(&domains)
    .bind(&streets)
    .bind(&postals)
    .bind(&cities)
    .bind(&countries)
    .bind(run)
    .fetch_all(tx.conn())
    .await?;
    let new_ids: Vec<Uuid> = rows.iter().filter(|r| r.2).filter_map(|r| r.1).collect();
    words::added(tx, Kind::Company, &new_ids).await?;
    let created = new_ids.len() as u64;
    let (mut n, mut i) = (Vec::new(), Vec::new());
    for (norm, id, _) in rows {
        if let Some(id) = id {
            n.push(norm);
            i.push(id);
        }
    }
    Ok(((n, i), created))
}
