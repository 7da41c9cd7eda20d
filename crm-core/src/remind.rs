//! Reminders of due activities: an `activity.due_soon` event once per activity when its
//! due time comes within a window, and an `activity.overdue` event once when it passes.
//!
//! Each reminder is claimed in the database (table `activity_reminders`, keyed by activity
//! and kind, holding the due time it fired for) by the same statement that writes its
//! event, so it fires exactly once: two runs at once serialise on the claim, a run that
//! crashes leaves neither claim nor event behind, and an activity whose due time changes
//! is armed again. Completed and deleted activities never fire.

use std::time::Duration;

use serde::Serialize;

use crate::auth::Permission;
use crate::error::{Error, Result};
use crate::tenancy::Tx;

/// The default window of `due_soon` reminders: one hour.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);

/// What one run fired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Reminded {
    /// `activity.due_soon` events written.
    pub due_soon: u64,
    /// `activity.overdue` events written.
    pub overdue: u64,
}

/// Fires the reminders that are due now: `activity.due_soon` for open activities due within
/// `window` from now, `activity.overdue` for open activities whose due time has passed, each
/// at most once per activity and due time. The window is at most 366 days.
///
/// The events carry the activity's id, kind, due time, assignee and linked records (ids,
/// never its subject). Commit the transaction to publish them.
pub async fn run(tx: &mut Tx, window: Duration) -> Result<Reminded> {
    tx.require(Permission::Write)?;
    if window > Duration::from_secs(366 * 86_400) {
        return Err(Error::invalid("window", "must be at most 366 days"));
    }
    let seconds = window.as_secs_f64();
    // Runs of one organization take turns (the lock its events take anyway): a second run
    // then starts from the first one's claims instead of waiting on them row by row while
    // holding the lock the first needs for its events.
    sqlx::query("insert into audit_heads (org_id) values ($1) on conflict (org_id) do nothing")
        .bind(tx.org())
        .execute(tx.conn())
        .await?;
    sqlx::query("select 1 from audit_heads where org_id = $1 for update")
        .bind(tx.org())
        .execute(tx.conn())
        .await?;
    let fired: Vec<(String, i64)> = sqlx::query_as(
        "with due as ( \
             select a.id, a.due_at, \
                    case when a.due_at <= now() then 'overdue' else 'due_soon' end as kind \
             from activities a \
             where a.org_id = $1 and a.done_at is null and a.deleted_at is null \
               and a.due_at <= now() + make_interval(secs => $2) \
         ), \
         claimed as ( \
             insert into activity_reminders (org_id, activity_id, kind, due_at) \
             select $1, d.id, d.kind, d.due_at from due d \
             where not exists (select 1 from activity_reminders r \
                               where r.org_id = $1 and r.activity_id = d.id \
                                 and r.kind = d.kind and r.due_at = d.due_at) \
             order by d.due_at, d.id \
             on conflict (org_id, activity_id, kind) do update \
                 set due_at = excluded.due_at, fired_at = now() \
                 where activity_reminders.due_at is distinct from excluded.due_at \
             returning activity_id, kind, due_at \
         ), \
         emitted as ( \
             select c.kind, crm_emit('activity.' || c.kind, 'activity', c.activity_id, \
                        jsonb_build_object('id', a.id, 'kind', a.kind, 'due_at', c.due_at, \
                            'assignee_id', a.assignee_id, 'contact_id', a.contact_id, \
                            'company_id', a.company_id, 'deal_id', a.deal_id)) as seq \
             from claimed c \
             join activities a on a.org_id = $1 and a.id = c.activity_id \
             order by c.due_at, c.activity_id \
         ) \
         select kind, count(seq) from emitted group by kind",
    )
    .bind(tx.org())
    .bind(seconds)
    .fetch_all(tx.conn())
    .await?;
    let mut out = Reminded::default();
    for (kind, n) in fired {
        let n = u64::try_from(n).unwrap_or(0);
        match kind.as_str() {
            "overdue" => out.overdue += n,
            _ => out.due_soon += n,
        }
    }
    Ok(out)
}
