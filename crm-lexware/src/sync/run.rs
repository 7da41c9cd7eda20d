//! `crm lexware sync`: the automatic push of changed `ERP`-tagged records (driven by the
//! event outbox with a named consumer cursor, so nothing is missed while the job is down),
//! the round-robin pull of linked contacts, and the voucher refresh of the pulled links.
//! One sync per organization at a time (advisory lock).

use std::collections::HashSet;
use std::time::Instant;

use crm_core::events;
use crm_core::lexware::{LinkTarget, SyncLock, links, settings};
use crm_core::store::{company, contact};
use crm_core::{CompanyId, ContactId};
use serde::Serialize;
use uuid::Uuid;

use super::{ERP_TAG, Lexware, LinkReport};
use crate::client::StatsSnapshot;
use crate::error::{LexwareError, Result};
use crate::mapping::{Conflict, Prefer};

/// The outbox consumer name of the automatic push.
pub const PUSH_CONSUMER: &str = "lexware-push";

/// What a sync run does.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Linked records pulled per run (round robin; at 1.5 requests per second a pull costs
    /// one request, two when something is pushed).
    pub pull_limit: u32,
    /// Refresh the vouchers of the pulled links.
    pub vouchers: bool,
    /// Outbox events handled per run at most.
    pub max_events: u32,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            pull_limit: 100,
            vouchers: true,
            max_events: 10_000,
        }
    }
}

/// A conflict of one record, for the summary.
#[derive(Debug, Clone, Serialize)]
pub struct RecordConflict {
    /// The CRM record.
    pub target: LinkTarget,
    /// The Lexware contact.
    pub lexware_id: Uuid,
    /// The fields with both values.
    pub fields: Vec<Conflict>,
}

/// A failure of one record, for the summary.
#[derive(Debug, Clone, Serialize)]
pub struct RecordFailure {
    /// The CRM record, when known.
    pub target: Option<LinkTarget>,
    /// What went wrong (no personal data).
    pub error: String,
}

/// The truthful summary of a sync run: every count is of records.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Records written to Lexware (created or updated).
    pub pushed: u64,
    /// Records updated in the CRM from Lexware.
    pub pulled: u64,
    /// Records with fields changed on both sides (nothing decided).
    pub conflicts: u64,
    /// Records with changes that could not be written (Lexware contact not updatable).
    pub skipped: u64,
    /// Records that failed.
    pub failed: u64,
    /// Records looked at and found in agreement.
    pub unchanged: u64,
    /// Vouchers stored.
    pub vouchers: u64,
    /// Outbox events handled; the consumer cursor stands at `cursor`.
    pub events: u64,
    /// The consumer cursor after the run.
    pub cursor: i64,
    /// Requests sent, 429s received, retries.
    pub http: Option<StatsSnapshot>,
    /// How long the run took, in milliseconds.
    pub duration_ms: u64,
    /// The conflicts.
    pub conflict_details: Vec<RecordConflict>,
    /// The failures.
    pub failures: Vec<RecordFailure>,
}

impl Summary {
    fn count(&mut self, r: &LinkReport) {
        if !r.pushed.is_empty() || r.created_in_lexware {
            self.pushed += 1;
        }
        if !r.pulled.is_empty() || r.created_in_crm {
            self.pulled += 1;
        }
        if r.not_updatable.is_some() {
            self.skipped += 1;
        }
        if !r.conflicts.is_empty() {
            self.conflicts += 1;
            if let (Some(target), Some(lexware_id)) = (r.target, r.lexware_id) {
                self.conflict_details.push(RecordConflict {
                    target,
                    lexware_id,
                    fields: r.conflicts.clone(),
                });
            }
        }
        if r.pushed.is_empty()
            && r.pulled.is_empty()
            && r.conflicts.is_empty()
            && r.not_updatable.is_none()
            && !r.created_in_crm
            && !r.created_in_lexware
        {
            self.unchanged += 1;
        }
    }

    fn fail(&mut self, target: Option<LinkTarget>, e: &LexwareError) {
        self.failed += 1;
        self.failures.push(RecordFailure {
            target,
            error: e.to_string(),
        });
    }
}

impl Lexware {
    /// One sync run. [`crm_core::Error::Conflict`] when another sync of the organization
    /// is running. A transient failure (rate limit, outage) ends the run early with what
    /// was done so far; the outbox cursor stays before the first unhandled event.
    pub async fn sync(&self, opts: &SyncOptions) -> Result<Summary> {
        let started = Instant::now();
        let Some(lock) = SyncLock::try_acquire(self.scope.crm(), self.scope.org()).await? else {
            return Err(crm_core::Error::Conflict(
                "another `crm lexware sync` of this organization is running".into(),
            )
            .into());
        };
        let before = self.client.stats();
        let mut summary = Summary::default();
        let mut done: HashSet<Uuid> = HashSet::new();
        let outcome = async {
            self.push_changed(opts, &mut summary, &mut done).await?;
            self.pull(opts, &mut summary, &done).await
        }
        .await;
        lock.release().await?;
        if let Err(e) = outcome {
            if !e.is_transient() {
                return Err(e);
            }
            summary.fail(None, &e);
        }
        let after = self.client.stats();
        summary.http = Some(StatsSnapshot {
            requests: after.requests - before.requests,
            rate_limited: after.rate_limited - before.rate_limited,
            retried: after.retried - before.retried,
            waited_ms: after.waited_ms - before.waited_ms,
        });
        summary.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(summary)
    }

    /// Pushes the records changed since the consumer's cursor that carry the `ERP` tag.
    async fn push_changed(
        &self,
        opts: &SyncOptions,
        summary: &mut Summary,
        done: &mut HashSet<Uuid>,
    ) -> Result<()> {
        let mut cursor = self
            .scope
            .run(async |tx| events::cursor(tx, PUSH_CONSUMER).await)
            .await?;
        let mut handled = 0u32;
        while handled < opts.max_events {
            let after = cursor;
            let batch = self
                .scope
                .run(async |tx| events::since(tx, after, 200).await)
                .await?;
            if batch.is_empty() {
                break;
            }
            for ev in batch {
                handled += 1;
                if let Some(target) = self.push_target(&ev, done).await? {
                    done.insert(target.uuid());
                    match self.push_one(target).await {
                        Ok(Some(r)) => summary.count(&r),
                        Ok(None) => {}
                        // An outage: stop here, the cursor stays before this event.
                        Err(e) if e.is_transient() => {
                            self.save_cursor(cursor, summary).await?;
                            return Err(e);
                        }
                        Err(e) => summary.fail(Some(target), &e),
                    }
                }
                cursor = ev.seq;
                summary.events += 1;
            }
            self.save_cursor(cursor, summary).await?;
        }
        Ok(())
    }

    async fn save_cursor(&self, seq: i64, summary: &mut Summary) -> Result<()> {
        self.scope
            .run(async |tx| events::save_cursor(tx, PUSH_CONSUMER, seq).await)
            .await?;
        summary.cursor = seq;
        Ok(())
    }

    /// The record an event asks to push: a company or contact change not made by the
    /// sync itself, not handled yet in this run.
    async fn push_target(
        &self,
        ev: &events::Event,
        done: &HashSet<Uuid>,
    ) -> Result<Option<LinkTarget>> {
        let Some(id) = ev.entity_id else {
            return Ok(None);
        };
        let relevant = [".created", ".updated", ".restored", ".merged"]
            .iter()
            .any(|s| ev.topic.ends_with(s));
        if !relevant || done.contains(&id) {
            return Ok(None);
        }
        let target = match ev.entity_type.as_str() {
            "company" => LinkTarget::Company(CompanyId(id)),
            "contact" => LinkTarget::Contact(ContactId(id)),
            _ => return Ok(None),
        };
        let actor = ev.actor_id.map(|a| a.uuid());
        let own = match actor {
            Some(a) => {
                self.scope
                    .run(async |tx| settings::is_integration_actor(tx, a).await)
                    .await?
            }
            None => false,
        };
        Ok((!own).then_some(target))
    }

    /// Pushes one record if it (still) carries the `ERP` tag.
    async fn push_one(&self, target: LinkTarget) -> Result<Option<LinkReport>> {
        let tagged = self
            .scope
            .run(async |tx| {
                let tags = match target {
                    LinkTarget::Company(id) => company::get(tx, id).await.map(|c| c.tags),
                    LinkTarget::Contact(id) => contact::get(tx, id).await.map(|c| c.tags),
                };
                match tags {
                    Ok(tags) => Ok(tags.iter().any(|t| t.eq_ignore_ascii_case(ERP_TAG))),
                    // Deleted since: nothing to push.
                    Err(crm_core::Error::NotFound { .. }) => Ok(false),
                    Err(e) => Err(e),
                }
            })
            .await?;
        if !tagged {
            return Ok(None);
        }
        let link = self
            .scope
            .run(async |tx| links::find_by_target(tx, target).await)
            .await?;
        Ok(Some(match link {
            Some(link) => self.reconcile(&link, Prefer::Neither).await?,
            None => self.create_remote(target).await?,
        }))
    }

    /// The round-robin pull: the links synced longest ago, each reconciled both ways.
    async fn pull(
        &self,
        opts: &SyncOptions,
        summary: &mut Summary,
        done: &HashSet<Uuid>,
    ) -> Result<()> {
        let limit = opts.pull_limit;
        let batch = self
            .scope
            .run(async |tx| links::next_for_pull(tx, limit).await)
            .await?;
        for link in batch {
            if !done.contains(&link.target.uuid()) {
                match self.reconcile(&link, Prefer::Neither).await {
                    Ok(r) => summary.count(&r),
                    Err(e) if e.is_transient() => return Err(e),
                    Err(e) => {
                        let msg = e.to_string();
                        let id = link.id;
                        self.scope
                            .run(async |tx| links::save_error(tx, id, &msg).await)
                            .await?;
                        summary.fail(Some(link.target), &e);
                    }
                }
            }
            if opts.vouchers {
                match self.refresh_vouchers(&link, false).await {
                    Ok(n) => summary.vouchers += n,
                    Err(e) if e.is_transient() => return Err(e),
                    Err(e) => summary.fail(Some(link.target), &e),
                }
            }
        }
        Ok(())
    }
}
