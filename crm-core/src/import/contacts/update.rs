//! Updating the contacts a batch matched (`--on-duplicate update`).

use uuid::Uuid;

use super::Field;
use super::flush::{Outcome, Shared};
use crate::dedupe::Kind;
use crate::error::Result;
use crate::ids::ImportRunId;
use crate::import::RowChange;
use crate::search::words::{self, Held};
use crate::tenancy::Tx;

/// Columns of `contacts` that an update may overwrite, with the staging expression for each
/// and the file field that makes them present.
pub(super) const UPDATABLE: &[(&str, &str, Field)] = &[
    ("first_name", "s.first_name", Field::FirstName),
    ("last_name", "s.last_name", Field::LastName),
    ("salutation", "s.salutation", Field::Salutation),
    ("title", "s.title", Field::Title),
    ("job_title", "s.job_title", Field::JobTitle),
    ("department", "s.department", Field::Department),
    (
        "phone",
        "(case when s.phone_raw is not null then coalesce(s.phone, s.phone_raw) \
          else coalesce(s.mobile, s.mobile_raw) end)",
        Field::Phone,
    ),
    ("city", "s.city", Field::City),
    ("street", "s.street", Field::Street),
    ("postal_code", "s.postal_code", Field::PostalCode),
    ("country", "s.country", Field::Country),
    ("linkedin_url", "s.linkedin", Field::LinkedIn),
    ("birthday", "s.birthday", Field::Birthday),
    ("status", "s.status", Field::Status),
    ("company_id", "s.company_id", Field::Company),
];

/// Updates the matched contacts with the columns present in the file (fill and overwrite,
/// never blank), only where a value differs, checked against the version read.
pub(super) async fn update_existing(sh: &Shared<'_>, tx: &mut Tx, out: &mut Outcome) -> Result<()> {
    let org = tx.org();
    let present: Vec<&(&str, &str, Field)> = UPDATABLE
        .iter()
        .filter(|(_, _, f)| sh.cols.has(*f) || (*f == Field::Phone && sh.cols.has(Field::Mobile)))
        .collect();
    if present.is_empty() {
        let n: i64 =
            sqlx::query_scalar("select count(*) from import_stage where existing_id is not null")
                .fetch_one(tx.conn())
                .await?;
        out.skipped += n as u64;
        return Ok(());
    }
    record_changes(tx, &present, out).await?;
    let updated = update_changed(tx, &present, sh.run).await?;
    // Keep the primary phone row in step with contacts.phone.
    if present.iter().any(|(c, _, _)| *c == "phone") {
        sync_primary_phones(tx, &updated).await?;
    }
    // Rows whose record changed since it was read: conflicts, not overwritten.
    let conflicts: Vec<i64> = sqlx::query_scalar(
        "select s.line from import_stage s join contacts c on c.org_id = $1 and c.id = s.existing_id \
         where c.version <> s.existing_version and not (c.id = any($2)) order by s.line",
    )
    .bind(org)
    .bind(&updated)
    .fetch_all(tx.conn())
    .await?;
    let total: i64 =
        sqlx::query_scalar("select count(*) from import_stage where existing_id is not null")
            .fetch_one(tx.conn())
            .await?;
    for line in &conflicts {
        let line = *line as u64;
        out.rejects.push((
            line,
            "version",
            "the contact was changed by someone else during the import; import the row again",
        ));
    }
    out.updated += updated.len() as u64;
    out.skipped += (total as u64).saturating_sub(updated.len() as u64 + conflicts.len() as u64);
    Ok(())
}

/// Field-level changes of the first few matched rows, for the summary (and the dry run).
async fn record_changes(
    tx: &mut Tx,
    present: &[&(&str, &str, Field)],
    out: &mut Outcome,
) -> Result<()> {
    let org = tx.org();
    let diff_exprs: Vec<String> = present
        .iter()
        .map(|(col, expr, _)| {
            format!(
                "case when {expr} is not null and {expr} is distinct from c.{col} \
                 then jsonb_build_object('{col}', jsonb_build_object('before', c.{col}, 'after', {expr})) \
                 else '{{}}'::jsonb end"
            )
        })
        .collect();
    let changes_sql = format!(
        "select s.line, c.id, {} as changes from import_stage s \
         join contacts c on c.org_id = $1 and c.id = s.existing_id order by s.line limit 50",
        diff_exprs.join(" || ")
    );
    let rows: Vec<(i64, Uuid, serde_json::Value)> =
        sqlx::query_as(sqlx::AssertSqlSafe(changes_sql))
            .bind(org)
            .fetch_all(tx.conn())
            .await?;
    for (line, id, changes) in rows {
        if out.changes.len() >= 10 {
            break;
        }
        if changes.as_object().is_some_and(|m| !m.is_empty()) {
            out.changes.push(RowChange {
                line: line as u64,
                id,
                changes,
            });
        }
    }
    Ok(())
}

/// Overwrites the present columns of the matched contacts whose version is the one read
/// and whose values differ; returns the ids updated.
async fn update_changed(
    tx: &mut Tx,
    present: &[&(&str, &str, Field)],
    run: ImportRunId,
) -> Result<Vec<Uuid>> {
    let org = tx.org();
    let sets: Vec<String> = present
        .iter()
        .map(|(col, expr, _)| format!("{col} = coalesce({expr}, c.{col})"))
        .collect();
    let differs: Vec<String> = present
        .iter()
        .map(|(col, expr, _)| format!("({expr} is not null and {expr} is distinct from c.{col})"))
        .collect();
    // `o` is the row as it was (the statement's snapshot): its search text, for the
    // dictionary of search words.
    let update_sql = format!(
        "update contacts c set {}, import_run_id = $2 \
         from import_stage s join contacts o on o.org_id = $1 and o.id = s.existing_id \
         where c.org_id = $1 and c.id = s.existing_id and c.version = s.existing_version \
           and ({}) returning c.id, o.search_text",
        sets.join(", "),
        differs.join(" or ")
    );
    // Row locks in one order (by id), so that the two batches in flight never wait for each
    // other crosswise (two keys of a file, say a source id and an e-mail, can name one
    // contact).
    sqlx::query(
        "select c.id from contacts c join import_stage s on c.id = s.existing_id \
         where c.org_id = $1 order by c.id for update of c",
    )
    .bind(org)
    .execute(tx.conn())
    .await?;
    let (updated, before): (Vec<Uuid>, Vec<String>) =
        sqlx::query_as::<_, (Uuid, String)>(sqlx::AssertSqlSafe(update_sql))
            .bind(org)
            .bind(run)
            .fetch_all(tx.conn())
            .await?
            .into_iter()
            .unzip();
    words::changed(tx, Kind::Contact, &updated, Held::from_texts(before)).await?;
    Ok(updated)
}

/// Keeps the primary phone row of the updated contacts in step with `contacts.phone`.
async fn sync_primary_phones(tx: &mut Tx, updated: &[Uuid]) -> Result<()> {
    let org = tx.org();
    sqlx::query(
        "update contact_phones p \
         set number_e164 = case when s.phone_raw is not null then s.phone else s.mobile end, \
             number_raw = coalesce(s.phone_raw, s.mobile_raw) \
         from contacts c join import_stage s on s.existing_id = c.id \
         where p.org_id = $1 and c.org_id = $1 and p.contact_id = c.id and p.is_primary \
           and c.id = any($2) and coalesce(p.number_e164, p.number_raw) is distinct from c.phone \
           and c.phone is not null and coalesce(s.phone_raw, s.mobile_raw) is not null",
    )
    .bind(org)
    .bind(updated)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "insert into contact_phones (org_id, id, contact_id, number_e164, number_raw, kind, is_primary) \
         select $1, coalesce(s.phone_id, s.mobile_id), c.id, \
                case when s.phone_raw is not null then s.phone else s.mobile end, \
                coalesce(s.phone_raw, s.mobile_raw), \
                case when s.phone_raw is null then 'mobile' else 'office' end, true \
         from contacts c join import_stage s on s.existing_id = c.id \
         where c.org_id = $1 and c.id = any($2) and c.phone is not null \
           and coalesce(s.phone_raw, s.mobile_raw) is not null \
           and not exists (select 1 from contact_phones p where p.org_id = $1 and p.contact_id = c.id and p.is_primary)",
    )
    .bind(org)
    .bind(updated)
    .execute(tx.conn())
    .await?;
    Ok(())
}
