//! Activities: notes, calls, e-mails, meetings, tasks and follow-ups in the timeline of a
//! contact, company and/or deal (at least one), optionally due at a time and assigned to a
//! user, done once completed.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::{Postgres, QueryBuilder};

use crate::auth::Permission;
use crate::domain::{ActivityType, InvalidValue};
use crate::error::{Error, FieldErrors, Result};
use crate::ids::{ActivityId, CompanyId, ContactId, DealId, UserId};
use crate::store::{Page, PageRequest, changed_fields, diff, double_option, pages};
use crate::tenancy::Tx;

/// The columns of an [`Activity`] with the names of the records it points at; append a
/// `where`.
macro_rules! activity_select {
    () => {
        "select a.id, a.kind, a.subject, a.body, a.due_at, a.done_at, \
                coalesce(a.done_at is null and a.due_at < now(), false) as overdue, \
                a.assignee_id, nullif(btrim(concat_ws(' ', u.first_name, u.last_name)), '') \
                    as assignee, \
                a.contact_id, \
                coalesce(nullif(btrim(concat_ws(' ', c.first_name, c.last_name)), ''), c.email) \
                    as contact, \
                a.company_id, co.name as company, a.deal_id, d.title as deal, \
                a.version, a.created_at, a.updated_at, a.deleted_at \
         from activities a \
         left join users u on u.org_id = a.org_id and u.id = a.assignee_id \
         left join contacts c on c.org_id = a.org_id and c.id = a.contact_id \
         left join companies co on co.org_id = a.org_id and co.id = a.company_id \
         left join deals d on d.org_id = a.org_id and d.id = a.deal_id "
    };
}

/// An activity kind as stored (text), decoded into [`ActivityType`].
#[derive(sqlx::Type)]
#[sqlx(transparent)]
struct KindText(String);

impl TryFrom<KindText> for ActivityType {
    type Error = InvalidValue;
    fn try_from(k: KindText) -> Result<Self, InvalidValue> {
        k.0.parse()
    }
}

/// An activity as read, with the names of the records it is linked to.
#[derive(Clone, Serialize, sqlx::FromRow)]
pub struct Activity {
    /// Its id.
    pub id: ActivityId,
    /// Note, call, e-mail, meeting, task or follow-up.
    #[sqlx(try_from = "KindText")]
    pub kind: ActivityType,
    /// One line saying what it is about.
    pub subject: String,
    /// Longer text.
    pub body: Option<String>,
    /// When it is due.
    pub due_at: Option<DateTime<Utc>>,
    /// When it was completed (`None` while open).
    pub done_at: Option<DateTime<Utc>>,
    /// Open and due in the past (when read).
    pub overdue: bool,
    /// Who should do it.
    pub assignee_id: Option<UserId>,
    /// The assignee's name.
    pub assignee: Option<String>,
    /// The linked contact.
    pub contact_id: Option<ContactId>,
    /// The contact's display name.
    pub contact: Option<String>,
    /// The linked company.
    pub company_id: Option<CompanyId>,
    /// The company's name.
    pub company: Option<String>,
    /// The linked deal.
    pub deal_id: Option<DealId>,
    /// The deal's title.
    pub deal: Option<String>,
    /// Version for optimistic locking.
    pub version: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was soft-deleted.
    pub deleted_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for Activity {
    /// Leaves out texts and names (they may hold personal data).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Activity")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("due_at", &self.due_at)
            .field("done_at", &self.done_at)
            .field("assignee_id", &self.assignee_id)
            .field("contact_id", &self.contact_id)
            .field("company_id", &self.company_id)
            .field("deal_id", &self.deal_id)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A new activity. It must be linked to a contact, a company or a deal (or several).
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewActivity {
    /// The kind (note when absent).
    #[serde(default, alias = "type")]
    pub kind: ActivityType,
    /// What it is about (1 to 500 characters).
    #[serde(default)]
    pub subject: String,
    /// Longer text.
    #[serde(default)]
    pub body: Option<String>,
    /// When it is due (RFC 3339).
    #[serde(default)]
    pub due_at: Option<DateTime<Utc>>,
    /// Who should do it.
    #[serde(default)]
    pub assignee_id: Option<UserId>,
    /// The contact.
    #[serde(default)]
    pub contact_id: Option<ContactId>,
    /// The company.
    #[serde(default)]
    pub company_id: Option<CompanyId>,
    /// The deal.
    #[serde(default)]
    pub deal_id: Option<DealId>,
}

impl fmt::Debug for NewActivity {
    /// Leaves out the subject and body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewActivity")
            .field("kind", &self.kind)
            .field("due_at", &self.due_at)
            .field("assignee_id", &self.assignee_id)
            .field("contact_id", &self.contact_id)
            .field("company_id", &self.company_id)
            .field("deal_id", &self.deal_id)
            .finish_non_exhaustive()
    }
}

/// Changes to an activity read at `version`; `None` leaves a field as it is, and for
/// nullable fields `Some(None)` clears it. At least one link must remain.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityPatch {
    /// The version the activity was read at.
    pub version: i32,
    /// New kind.
    #[serde(default, alias = "type")]
    pub kind: Option<ActivityType>,
    /// New subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// New body, or `Some(None)` to clear it.
    #[serde(default, deserialize_with = "double_option")]
    pub body: Option<Option<String>>,
    /// New due time, or `Some(None)` to clear it.
    #[serde(default, deserialize_with = "double_option")]
    pub due_at: Option<Option<DateTime<Utc>>>,
    /// New assignee, or `Some(None)` to unassign.
    #[serde(default, deserialize_with = "double_option")]
    pub assignee_id: Option<Option<UserId>>,
    /// New contact, or `Some(None)` to unlink.
    #[serde(default, deserialize_with = "double_option")]
    pub contact_id: Option<Option<ContactId>>,
    /// New company, or `Some(None)` to unlink.
    #[serde(default, deserialize_with = "double_option")]
    pub company_id: Option<Option<CompanyId>>,
    /// New deal, or `Some(None)` to unlink.
    #[serde(default, deserialize_with = "double_option")]
    pub deal_id: Option<Option<DealId>>,
}

impl fmt::Debug for ActivityPatch {
    /// Leaves out the subject and body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActivityPatch")
            .field("version", &self.version)
            .field("kind", &self.kind)
            .field("due_at", &self.due_at)
            .field("assignee_id", &self.assignee_id)
            .field("contact_id", &self.contact_id)
            .field("company_id", &self.company_id)
            .field("deal_id", &self.deal_id)
            .finish_non_exhaustive()
    }
}

/// Open or done, for [`ActivityFilter::state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityState {
    /// Not completed.
    Open,
    /// Completed.
    Done,
}

/// Which activities [`list`] returns; every set field narrows the list.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActivityFilter {
    /// Linked to this contact.
    pub contact_id: Option<ContactId>,
    /// Linked to this company.
    pub company_id: Option<CompanyId>,
    /// Linked to this deal.
    pub deal_id: Option<DealId>,
    /// Assigned to this user.
    pub assignee_id: Option<UserId>,
    /// Of this kind.
    pub kind: Option<ActivityType>,
    /// Open or done.
    pub state: Option<ActivityState>,
    /// Due before this time.
    pub due_before: Option<DateTime<Utc>>,
    /// Due at or after this time.
    pub due_after: Option<DateTime<Utc>>,
    /// Only open activities due in the past.
    pub overdue: bool,
    /// Soft-deleted activities too.
    pub include_deleted: bool,
}

/// The message when an activity has no link.
const NEEDS_LINK: &str = "link it to a contact, company or deal";

/// The validated text fields of an activity.
fn check_texts(
    errors: &mut FieldErrors,
    subject: &str,
    body: Option<&str>,
) -> (Option<String>, Option<String>) {
    let subject = subject.trim();
    let subject = if subject.is_empty() {
        errors.add("subject", "must not be empty");
        None
    } else if subject.chars().count() > 500 {
        errors.add("subject", "must be at most 500 characters");
        None
    } else if let Err(e) = crate::domain::text::check_single_line(subject) {
        errors.add("subject", e.message().to_string());
        None
    } else {
        Some(subject.to_string())
    };
    let body = body.map(str::trim).filter(|b| !b.is_empty());
    if body.is_some_and(|b| b.chars().count() > 100_000) {
        errors.add("body", "must be at most 100000 characters");
    }
    (subject, body.map(str::to_string))
}

/// Checks that the given links and assignee exist (and are not deleted).
async fn check_refs(
    tx: &mut Tx,
    errors: &mut FieldErrors,
    contact: Option<ContactId>,
    company: Option<CompanyId>,
    deal: Option<DealId>,
    assignee: Option<UserId>,
) -> Result<()> {
    if contact.is_none() && company.is_none() && deal.is_none() && assignee.is_none() {
        return Ok(());
    }
    let (contact_ok, company_ok, deal_ok, assignee_ok): (bool, bool, bool, bool) = sqlx::query_as(
        "select ($2::uuid is null or exists(select 1 from contacts where org_id = $1 \
                      and id = $2 and deleted_at is null)), \
                    ($3::uuid is null or exists(select 1 from companies where org_id = $1 \
                      and id = $3 and deleted_at is null)), \
                    ($4::uuid is null or exists(select 1 from deals where org_id = $1 \
                      and id = $4 and deleted_at is null)), \
                    ($5::uuid is null or exists(select 1 from users where org_id = $1 \
                      and id = $5 and deleted_at is null))",
    )
    .bind(tx.org())
    .bind(contact)
    .bind(company)
    .bind(deal)
    .bind(assignee)
    .fetch_one(tx.conn())
    .await?;
    for (ok, field, message) in [
        (contact_ok, "contact_id", "no such contact"),
        (company_ok, "company_id", "no such company"),
        (deal_ok, "deal_id", "no such deal"),
        (
            assignee_ok,
            "assignee_id",
            "no such user in this organization",
        ),
    ] {
        if !ok {
            errors.add(field, message);
        }
    }
    Ok(())
}

fn audit_diff(before: Option<&Activity>, after: Option<&Activity>) -> Value {
    let mut d = diff(before, after);
    if let Some(m) = d.as_object_mut() {
        // Names of other records (derived; a person's name is personal data) and the
        // read-time `overdue` flag.
        for k in ["assignee", "contact", "company", "deal", "overdue"] {
            m.remove(k);
        }
    }
    d
}

/// The live activity `id`, optionally locked for update.
async fn fetch(tx: &mut Tx, id: ActivityId, lock: bool) -> Result<Activity> {
    let sql = if lock {
        concat!(
            activity_select!(),
            "where a.org_id = $1 and a.id = $2 and a.deleted_at is null for update of a"
        )
    } else {
        concat!(
            activity_select!(),
            "where a.org_id = $1 and a.id = $2 and a.deleted_at is null"
        )
    };
    sqlx::query_as(sql)
        .bind(tx.org())
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound { entity: "activity" })
}

fn event(a: &Activity) -> Value {
    json!({
        "id": a.id,
        "kind": a.kind,
        "due_at": a.due_at,
        "assignee_id": a.assignee_id,
        "contact_id": a.contact_id,
        "company_id": a.company_id,
        "deal_id": a.deal_id,
    })
}

/// Creates an activity. Every invalid field is reported at once; an activity without a
/// link fails on the field `activity`.
pub async fn create(tx: &mut Tx, new: NewActivity) -> Result<Activity> {
    tx.require(Permission::Write)?;
    let mut errors = FieldErrors::new();
    let (subject, body) = check_texts(&mut errors, &new.subject, new.body.as_deref());
    if new.contact_id.is_none() && new.company_id.is_none() && new.deal_id.is_none() {
        errors.add("activity", NEEDS_LINK);
    }
    check_refs(
        tx,
        &mut errors,
        new.contact_id,
        new.company_id,
        new.deal_id,
        new.assignee_id,
    )
    .await?;
    errors.into_result()?;
    let Some(subject) = subject else {
        return Err(Error::invalid("subject", "must not be empty"));
    };
    let id = ActivityId::new();
    sqlx::query(
        "insert into activities (org_id, id, kind, subject, body, due_at, assignee_id, \
                                 contact_id, company_id, deal_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tx.org())
    .bind(id)
    .bind(new.kind)
    .bind(&subject)
    .bind(&body)
    .bind(new.due_at)
    .bind(new.assignee_id)
    .bind(new.contact_id)
    .bind(new.company_id)
    .bind(new.deal_id)
    .execute(tx.conn())
    .await?;
    let activity = fetch(tx, id, false).await?;
    tx.record(
        "activity",
        Some(id.uuid()),
        "create",
        &audit_diff(None, Some(&activity)),
        Some("activity.created"),
        &event(&activity),
    )
    .await?;
    Ok(activity)
}

/// The live activity `id`.
pub async fn get(tx: &mut Tx, id: ActivityId) -> Result<Activity> {
    tx.require(Permission::Read)?;
    fetch(tx, id, false).await
}

/// Changes an activity read at `patch.version` (a stale version is [`Error::Conflict`]).
/// A patch that changes nothing writes nothing.
pub async fn update(tx: &mut Tx, id: ActivityId, patch: ActivityPatch) -> Result<Activity> {
    tx.require(Permission::Write)?;
    let before = fetch(tx, id, true).await?;
    if before.version != patch.version {
        return Err(Error::stale("activity"));
    }
    let mut errors = FieldErrors::new();
    let subject = patch.subject.as_deref().unwrap_or(&before.subject);
    let body = match &patch.body {
        Some(b) => b.as_deref(),
        None => before.body.as_deref(),
    };
    let (subject, body) = check_texts(&mut errors, subject, body);
    let kind = patch.kind.unwrap_or(before.kind);
    let due_at = patch.due_at.unwrap_or(before.due_at);
    let assignee_id = patch.assignee_id.unwrap_or(before.assignee_id);
    let contact_id = patch.contact_id.unwrap_or(before.contact_id);
    let company_id = patch.company_id.unwrap_or(before.company_id);
    let deal_id = patch.deal_id.unwrap_or(before.deal_id);
    if contact_id.is_none() && company_id.is_none() && deal_id.is_none() {
        errors.add("activity", NEEDS_LINK);
    }
    check_refs(
        tx,
        &mut errors,
        contact_id.filter(|v| Some(*v) != before.contact_id),
        company_id.filter(|v| Some(*v) != before.company_id),
        deal_id.filter(|v| Some(*v) != before.deal_id),
        assignee_id.filter(|v| Some(*v) != before.assignee_id),
    )
    .await?;
    errors.into_result()?;
    let Some(subject) = subject else {
        return Err(Error::invalid("subject", "must not be empty"));
    };
    let unchanged = kind == before.kind
        && subject == before.subject
        && body == before.body
        && due_at == before.due_at
        && assignee_id == before.assignee_id
        && contact_id == before.contact_id
        && company_id == before.company_id
        && deal_id == before.deal_id;
    if unchanged {
        return Ok(before);
    }
    sqlx::query(
        "update activities set kind = $3, subject = $4, body = $5, due_at = $6, \
                assignee_id = $7, contact_id = $8, company_id = $9, deal_id = $10 \
         where org_id = $1 and id = $2 and version = $11 and deleted_at is null",
    )
    .bind(tx.org())
    .bind(id)
    .bind(kind)
    .bind(&subject)
    .bind(&body)
    .bind(due_at)
    .bind(assignee_id)
    .bind(contact_id)
    .bind(company_id)
    .bind(deal_id)
    .bind(patch.version)
    .execute(tx.conn())
    .await?;
    let after = fetch(tx, id, false).await?;
    let d = audit_diff(Some(&before), Some(&after));
    let mut payload = event(&after);
    payload["fields"] = json!(changed_fields(&d));
    tx.record(
        "activity",
        Some(id.uuid()),
        "update",
        &d,
        Some("activity.updated"),
        &payload,
    )
    .await?;
    Ok(after)
}

async fn set_done(tx: &mut Tx, id: ActivityId, done: bool) -> Result<Activity> {
    tx.require(Permission::Write)?;
    let before = fetch(tx, id, true).await?;
    if before.done_at.is_some() == done {
        return Err(Error::Conflict(
            if done {
                "the activity is already completed"
            } else {
                "the activity is not completed"
            }
            .into(),
        ));
    }
    sqlx::query(
        "update activities set done_at = case when $3 then now() else null end \
         where org_id = $1 and id = $2",
    )
    .bind(tx.org())
    .bind(id)
    .bind(done)
    .execute(tx.conn())
    .await?;
    let after = fetch(tx, id, false).await?;
    let (action, topic) = if done {
        ("complete", "activity.completed")
    } else {
        ("reopen", "activity.reopened")
    };
    tx.record(
        "activity",
        Some(id.uuid()),
        action,
        &audit_diff(Some(&before), Some(&after)),
        Some(topic),
        &event(&after),
    )
    .await?;
    Ok(after)
}

/// Completes an open activity (sets `done_at`); completing a done one is
/// [`Error::Conflict`].
pub async fn complete(tx: &mut Tx, id: ActivityId) -> Result<Activity> {
    set_done(tx, id, true).await
}

/// Reopens a completed activity (clears `done_at`); reopening an open one is
/// [`Error::Conflict`].
pub async fn reopen(tx: &mut Tx, id: ActivityId) -> Result<Activity> {
    set_done(tx, id, false).await
}

/// The activity named by `reference`: its full id, or at least 4 hex digits of it (a prefix,
/// or the last digits as lists print them), like contacts and deals. Live activities win over
/// deleted ones (so `restore` finds a deleted one by the same digits). Several matches, or a
/// malformed reference, are [`Error::Validation`]; none is [`Error::NotFound`].
pub async fn resolve(tx: &mut Tx, reference: &str) -> Result<ActivityId> {
    tx.require(Permission::Read)?;
    let reference = reference.trim();
    let org = tx.org();
    if let Ok(id) = uuid::Uuid::parse_str(reference) {
        return if super::id_exists(tx.conn(), "activities", org, id).await? {
            Ok(ActivityId(id))
        } else {
            Err(Error::NotFound { entity: "activity" })
        };
    }
    let Some(digits) = super::id_digits(reference) else {
        return Err(Error::invalid(
            "id",
            "must be an activity id or at least 4 of its hex digits",
        ));
    };
    let matches = super::match_id_digits(tx.conn(), "activities", org, &digits, 4).await?;
    match super::live_first(&matches).as_slice() {
        [] => Err(Error::NotFound { entity: "activity" }),
        [one] => Ok(ActivityId(*one)),
        _ => Err(Error::invalid(
            "id",
            "is ambiguous: it matches several activities; give more digits or the full id",
        )),
    }
}

/// Soft-deletes an activity.
pub async fn delete(tx: &mut Tx, id: ActivityId) -> Result<()> {
    tx.require(Permission::Delete)?;
    let done = sqlx::query(
        "update activities set deleted_at = now() where org_id = $1 and id = $2 \
         and deleted_at is null",
    )
    .bind(tx.org())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound { entity: "activity" });
    }
    tx.record(
        "activity",
        Some(id.uuid()),
        "delete",
        &json!({ "deleted_at": { "before": null, "after": "now" } }),
        Some("activity.deleted"),
        &json!({ "id": id }),
    )
    .await
}

/// Restores a soft-deleted activity.
pub async fn restore(tx: &mut Tx, id: ActivityId) -> Result<Activity> {
    tx.require(Permission::Delete)?;
    let done = sqlx::query(
        "update activities set deleted_at = null where org_id = $1 and id = $2 \
         and deleted_at is not null",
    )
    .bind(tx.org())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound {
            entity: "deleted activity",
        });
    }
    let activity = fetch(tx, id, false).await?;
    tx.record(
        "activity",
        Some(id.uuid()),
        "restore",
        &json!({ "deleted_at": { "before": "set", "after": null } }),
        Some("activity.restored"),
        &json!({ "id": id }),
    )
    .await?;
    Ok(activity)
}

/// One page of activities matching `filter`, by id (creation order), with the names of
/// the linked records.
pub async fn list(
    tx: &mut Tx,
    filter: &ActivityFilter,
    page: PageRequest,
) -> Result<Page<Activity>> {
    tx.require(Permission::Read)?;
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new(concat!(activity_select!(), "where a.org_id = "));
    q.push_bind(tx.org());
    if !filter.include_deleted {
        q.push(" and a.deleted_at is null");
    }
    if let Some(v) = filter.contact_id {
        q.push(" and a.contact_id = ").push_bind(v);
    }
    if let Some(v) = filter.company_id {
        q.push(" and a.company_id = ").push_bind(v);
    }
    if let Some(v) = filter.deal_id {
        q.push(" and a.deal_id = ").push_bind(v);
    }
    if let Some(v) = filter.assignee_id {
        q.push(" and a.assignee_id = ").push_bind(v);
    }
    if let Some(v) = filter.kind {
        q.push(" and a.kind = ").push_bind(v);
    }
    match filter.state {
        Some(ActivityState::Open) => {
            q.push(" and a.done_at is null");
        }
        Some(ActivityState::Done) => {
            q.push(" and a.done_at is not null");
        }
        None => {}
    }
    if let Some(v) = filter.due_before {
        q.push(" and a.due_at < ").push_bind(v);
    }
    if let Some(v) = filter.due_after {
        q.push(" and a.due_at >= ").push_bind(v);
    }
    if filter.overdue {
        q.push(" and a.done_at is null and a.due_at < now()");
    }
    if let Some(after) = page.after {
        q.push(" and a.id > ").push_bind(after.0);
    }
    q.push(" order by a.id limit ").push_bind(page.sql_limit());
    let rows: Vec<Activity> = q.build_query_as().fetch_all(tx.conn()).await?;
    Ok(page.finish(rows, |a| a.id.uuid()))
}

/// Open activities due up to `until` (inclusive), oldest due first (so overdue ones lead),
/// optionally only those assigned to `assignee`, with the names of the linked records.
pub async fn due(
    tx: &mut Tx,
    until: DateTime<Utc>,
    assignee: Option<UserId>,
) -> Result<Vec<Activity>> {
    tx.require(Permission::Read)?;
    Ok(sqlx::query_as(concat!(
        activity_select!(),
        "where a.org_id = $1 and a.deleted_at is null and a.done_at is null \
           and a.due_at <= $2 and ($3::uuid is null or a.assignee_id = $3) \
         order by a.due_at, a.id"
    ))
    .bind(tx.org())
    .bind(until)
    .bind(assignee)
    .fetch_all(tx.conn())
    .await?)
}

/// Streams every activity matching `filter` to `f` in batches of `batch` (1 to 10,000),
/// in list order, holding one batch in memory at a time. Returns how many were passed on.
pub async fn for_each_batch<F>(
    tx: &mut Tx,
    filter: &ActivityFilter,
    batch: u32,
    f: F,
) -> Result<u64>
where
    F: AsyncFnMut(Vec<Activity>) -> Result<()>,
{
    pages::walk(batch, async |r| list(tx, filter, r).await, f).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_checked_together() {
        let mut e = FieldErrors::new();
        let (s, b) = check_texts(&mut e, "  Call back ", Some("  "));
        assert_eq!(s.as_deref(), Some("Call back"));
        assert_eq!(b, None);
        assert!(e.is_empty());
        let (s, _) = check_texts(&mut e, " ", Some(&"x".repeat(100_001)));
        assert!(s.is_none());
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["subject", "body"]);
    }

    #[test]
    fn new_activity_reads_rfc3339_and_type_alias() {
        let a: NewActivity = serde_json::from_str(
            r#"{"type":"call","subject":"x","due_at":"2026-03-01T09:30:00+01:00"}"#,
        )
        .unwrap();
        assert_eq!(a.kind, ActivityType::Call);
        assert_eq!(a.due_at.unwrap().to_rfc3339(), "2026-03-01T08:30:00+00:00");
    }
}
