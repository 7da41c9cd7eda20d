//! What a contact row carries beyond the columns of the staging table's fast path: its
//! postal addresses, further e-mails and phones, a note, an owner named in the file and the
//! id it had in the system it comes from. Staged as one JSON value per row (absent when the
//! row has none of them, so plain files pay nothing) and applied with set-based SQL after
//! the batch's contacts are written.

use serde::Serialize;
use uuid::Uuid;

use crate::error::Result;
use crate::ids::{ImportRunId, UserId};
use crate::tenancy::Tx;

/// A further e-mail of a contact.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ExtraEmail {
    pub id: Uuid,
    pub email: String,
    pub norm: String,
    /// `work`, `personal` or `other`.
    pub kind: &'static str,
}

/// A further phone of a contact.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ExtraPhone {
    pub id: Uuid,
    /// `None` for a number that could not be placed in a country (kept as written).
    pub e164: Option<String>,
    pub raw: String,
    /// `office`, `mobile`, `fax` or `other`.
    pub kind: &'static str,
}

/// The extras of one row.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Extra {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_street: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_postal_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub home_country: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<ExtraEmail>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<ExtraPhone>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note_subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_external_system: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_external_id: Option<String>,
}

impl Extra {
    /// Adds a note (several note columns are joined by a blank line).
    pub fn add_note(&mut self, text: &str) {
        match &mut self.note {
            Some(n) => {
                n.push_str("\n\n");
                n.push_str(text);
            }
            None => {
                self.note = Some(text.to_string());
                self.note_id = Some(Uuid::now_v7());
            }
        }
        let first = self
            .note
            .as_deref()
            .and_then(|n| n.lines().map(str::trim).find(|l| !l.is_empty()))
            .unwrap_or("Note");
        let mut subject: String = first.chars().take(100).collect();
        if first.chars().count() > 100 {
            subject.push('…');
        }
        self.note_subject = Some(subject);
    }

    /// The JSON staged for the row, `None` when there is nothing.
    pub fn to_json(&self) -> Option<String> {
        let empty = self.street.is_none()
            && self.postal_code.is_none()
            && self.country.is_none()
            && self.home_street.is_none()
            && self.home_postal_code.is_none()
            && self.home_city.is_none()
            && self.home_country.is_none()
            && self.emails.is_empty()
            && self.phones.is_empty()
            && self.note.is_none()
            && self.owner.is_none()
            && self.external_id.is_none()
            && self.company_external_id.is_none();
        if empty {
            None
        } else {
            serde_json::to_string(self).ok()
        }
    }
}

/// Recognises rows by the id they had in their source system: such a row is the contact
/// imported from that record before, whatever its e-mail says now.
pub(crate) async fn match_external(tx: &mut Tx) -> Result<()> {
    let org = tx.org();
    // A lookup per staged row in the source-id index (see the e-mail match).
    sqlx::query(
        "update import_stage s set existing_id = m.id, existing_version = m.version \
         from import_stage k cross join lateral ( \
            select c.id, c.version from contacts c \
            where c.org_id = $1 and c.deleted_at is null \
              and c.external_system = k.extras->>'external_system' \
              and c.external_id = k.extras->>'external_id' \
            limit 1) m \
         where k.extras ? 'external_id' and s.line = k.line",
    )
    .bind(org)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The contact a staged row writes to: the one it created, or with `--on-duplicate update`
/// the existing one it matched (unless someone else changed it meanwhile).
const TARGET: &str = "c.org_id = $1 and s.extras is not null and c.id = case \
    when s.existing_id is null then s.id \
    when $2 and (c.version = s.existing_version or c.import_run_id = $3) then s.existing_id end";

/// Writes the batch's extras: addresses and source ids onto the contacts, further e-mails
/// and phones (never twice), the note as a note activity, the owner named in the file.
pub(crate) async fn apply(
    tx: &mut Tx,
    update: bool,
    run: ImportRunId,
    actor: UserId,
) -> Result<()> {
    let org = tx.org();
    let q = |sql: String| sqlx::AssertSqlSafe(sql);
    sqlx::query(q(format!(
        "update contacts c set \
            street = coalesce(s.extras->>'street', c.street), \
            postal_code = coalesce(s.extras->>'postal_code', c.postal_code), \
            country = coalesce(s.extras->>'country', c.country), \
            home_street = coalesce(s.extras->>'home_street', c.home_street), \
            home_postal_code = coalesce(s.extras->>'home_postal_code', c.home_postal_code), \
            home_city = coalesce(s.extras->>'home_city', c.home_city), \
            home_country = coalesce(s.extras->>'home_country', c.home_country), \
            external_system = coalesce(c.external_system, s.extras->>'external_system'), \
            external_id = coalesce(c.external_id, s.extras->>'external_id'), \
            company_external_system = coalesce(s.extras->>'company_external_system', c.company_external_system), \
            company_external_id = coalesce(s.extras->>'company_external_id', c.company_external_id) \
         from import_stage s where {TARGET}"
    )))
    .bind(org)
    .bind(update)
    .bind(run)
    .execute(tx.conn())
    .await?;
    sqlx::query(q(format!(
        "insert into contact_emails (org_id, id, contact_id, email, email_norm, kind, is_primary) \
         select $1, (e->>'id')::uuid, c.id, e->>'email', e->>'norm', e->>'kind', false \
         from import_stage s join contacts c on {TARGET} \
         cross join lateral jsonb_array_elements(s.extras->'emails') e \
         where s.extras ? 'emails' \
         on conflict do nothing"
    )))
    .bind(org)
    .bind(update)
    .bind(run)
    .execute(tx.conn())
    .await?;
    sqlx::query(q(format!(
        "insert into contact_phones (org_id, id, contact_id, number_e164, number_raw, kind, is_primary) \
         select $1, (p->>'id')::uuid, c.id, p->>'e164', p->>'raw', p->>'kind', false \
         from import_stage s join contacts c on {TARGET} \
         cross join lateral jsonb_array_elements(s.extras->'phones') p \
         where s.extras ? 'phones' and not exists (select 1 from contact_phones x \
             where x.org_id = $1 and x.contact_id = c.id \
               and coalesce(x.number_e164, x.number_raw) = coalesce(p->>'e164', p->>'raw'))"
    )))
    .bind(org)
    .bind(update)
    .bind(run)
    .execute(tx.conn())
    .await?;
    sqlx::query(q(format!(
        "insert into activities (org_id, id, kind, subject, body, contact_id, import_run_id) \
         select $1, (s.extras->>'note_id')::uuid, 'note', s.extras->>'note_subject', \
                s.extras->>'note', c.id, $3 \
         from import_stage s join contacts c on {TARGET} \
         where s.extras ? 'note' and not exists (select 1 from activities a \
             where a.org_id = $1 and a.contact_id = c.id and a.kind = 'note' \
               and a.deleted_at is null and a.body = s.extras->>'note')"
    )))
    .bind(org)
    .bind(update)
    .bind(run)
    .execute(tx.conn())
    .await?;
    // The company named by its source id wins over one found by name: it is the record
    // the source system linked.
    sqlx::query(q(format!(
        "update contacts c set company_id = co.id \
         from import_stage s join companies co on co.org_id = $1 and co.deleted_at is null \
              and co.external_system = s.extras->>'company_external_system' \
              and co.external_id = s.extras->>'company_external_id' \
         where {TARGET} and s.extras ? 'company_external_id' \
           and c.company_id is distinct from co.id"
    )))
    .bind(org)
    .bind(update)
    .bind(run)
    .execute(tx.conn())
    .await?;
    // The owner named in the file takes the importing user's place on new contacts.
    sqlx::query(
        "update contact_owners o set user_id = (s.extras->>'owner')::uuid \
         from import_stage s \
         where o.org_id = $1 and s.existing_id is null and s.extras ? 'owner' \
           and o.contact_id = s.id and o.user_id = $2 and (s.extras->>'owner')::uuid <> $2",
    )
    .bind(org)
    .bind(actor)
    .execute(tx.conn())
    .await?;
    Ok(())
}
