//! The life of an import run: one import per organization at a time, and no run left
//! `running` when its import stops.
//!
//! An import holds, for its whole duration, a transaction-level advisory lock of its
//! organization in a transaction of its own (which writes nothing). Two imports into one
//! organization therefore run one after the other — the second starts when the first has
//! finished and sees everything it wrote — so concurrent imports neither deadlock on each
//! other's rows nor create the same person twice, whatever the order of their rows (rows
//! without an e-mail address have no unique index to guard them). The batches of one
//! import still run two at a time.
//!
//! Whoever holds the lock knows that every other run of the organization still marked
//! `running` belongs to an import whose process ended (the lock goes with its session): it
//! is marked failed with that reason. An import that stops with an error marks its own run
//! failed with the reason; `crm import` marks it failed on Ctrl-C.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::ids::ImportRunId;
use crate::tenancy::{Scope, Tx};

/// The reason recorded for a run whose process ended without finishing it.
const ENDED: &str = "interrupted: the importing process ended before the import finished; \
                     run the same import again to resume (rows already imported are skipped)";

/// A started import: holds the organization's import lock until [`RunGuard::release`].
pub(crate) struct RunGuard {
    holder: Tx,
    run: ImportRunId,
    recorded: bool,
}

/// What the run row records.
pub(crate) struct NewRun<'a> {
    pub kind: &'static str,
    pub file_name: Option<&'a str>,
    pub actor: crate::ids::UserId,
    pub options: Value,
}

/// Waits for the organization's import lock, marks runs of ended imports failed and, unless
/// `new` is `None` (a dry run), records the new run.
pub(crate) async fn start(
    scope: &Scope,
    run: ImportRunId,
    new: Option<NewRun<'_>>,
) -> Result<RunGuard> {
    let mut holder = scope.begin().await?;
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('crm.import:' || $1::text, 0))")
        .bind(holder.org())
        .execute(holder.conn())
        .await?;
    scope
        .run(async |tx| {
            sqlx::query(
                "update import_runs set status = 'failed', error = $2, finished_at = now() \
                 where org_id = $1 and status = 'running'",
            )
            .bind(tx.org())
            .bind(ENDED)
            .execute(tx.conn())
            .await?;
            if let Some(new) = &new {
                sqlx::query(
                    "insert into import_runs (org_id, id, kind, file_name, actor_id, options) \
                     values ($1, $2, $3, $4, $5, $6)",
                )
                .bind(tx.org())
                .bind(run)
                .bind(new.kind)
                .bind(new.file_name)
                .bind(new.actor)
                .bind(&new.options)
                .execute(tx.conn())
                .await?;
            }
            Ok(())
        })
        .await?;
    Ok(RunGuard {
        holder,
        run,
        recorded: new.is_some(),
    })
}

impl RunGuard {
    /// Marks the run failed with the reason `e` (when it was recorded) and releases the
    /// lock. The error is returned for the caller to pass on.
    pub(crate) async fn fail(self, scope: &Scope, e: Error) -> Error {
        if self.recorded {
            // Best effort: the import's own error is what the caller reports.
            let _ = mark_failed(scope, self.run, &reason(&e)).await;
        }
        let _ = self.holder.rollback().await;
        e
    }

    /// Releases the lock (the run's row was finished by the caller).
    pub(crate) async fn release(self) -> Result<()> {
        self.holder.rollback().await
    }
}

/// The reason recorded for a run that stopped with `e` (error texts hold no row data).
fn reason(e: &Error) -> String {
    let text = format!(
        "stopped: {e}; run the same import again to resume (rows already imported are skipped)"
    );
    text.chars().take(1000).collect()
}

/// Marks a run that is still `running` failed with `reason` (e.g. `crm import` after
/// Ctrl-C). Does nothing for a run that finished or failed already, or does not exist.
pub async fn mark_failed(scope: &Scope, run: ImportRunId, reason: &str) -> Result<()> {
    scope
        .run(async |tx| {
            // A batch of the stopped import may still hold the run's row: wait a little,
            // never forever (a later import marks the run then).
            sqlx::query("set local lock_timeout = '3s'")
                .execute(tx.conn())
                .await?;
            sqlx::query(
                "update import_runs set status = 'failed', error = $3, finished_at = now() \
                 where org_id = $1 and id = $2 and status = 'running'",
            )
            .bind(tx.org())
            .bind(run)
            .bind(reason)
            .execute(tx.conn())
            .await?;
            Ok(())
        })
        .await
}

/// Refreshes the planner statistics of the columns an import looks staged rows up by
/// (`crm_analyze_import_lookups`), after the first batch of an organization's first import:
/// until autovacuum gets to the growing tables, lookups are planned as if they were empty.
pub(crate) async fn analyze_lookups(scope: &Scope) -> Result<()> {
    refresh_statistics(scope, "select crm_analyze_import_lookups()").await
}

/// Runs one of the statistics functions (they check the actor's role themselves) in a
/// transaction of its own.
async fn refresh_statistics(scope: &Scope, call: &'static str) -> Result<()> {
    scope
        .run(async |tx| {
            sqlx::query(call).execute(tx.conn()).await?;
            Ok(())
        })
        .await
}

/// Imports that wrote at least this many records end by settling the search indexes.
const SETTLE_AFTER: u64 = 10_000;

/// Ends an import that wrote (not a dry run) of [`SETTLE_AFTER`] records or more with
/// `crm_analyze_after_import`: the GIN indexes' pending entries merged (15,000 company rows
/// left pending cost every search 7 ms at a million contacts) and fresh planner statistics,
/// so searches right after a large import use the indexes.
pub(crate) async fn settle_after_large_import(
    scope: &Scope,
    dry_run: bool,
    written: u64,
) -> Result<()> {
    if dry_run || written < SETTLE_AFTER {
        return Ok(());
    }
    refresh_statistics(scope, "select crm_analyze_after_import()").await
}
