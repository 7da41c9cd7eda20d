//! What every scenario uses: fresh databases, timing, peak memory and the result shape.

use std::time::Duration;

use crm_core::Scope;
use crm_core::db::Crm;
use crm_core::error::Result;
use crm_core::org::NewOrganization;
use serde_json::{Map, Value};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, Executor as _, PgConnection};

use super::ScenarioResult;

/// Peak resident memory since the last reset, in MiB (Linux; 0 elsewhere).
pub(super) fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the peak-memory counter (Linux `clear_refs` 5).
pub(super) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A fresh, migrated database on the server of `admin`, dropped by [`Fresh::drop_db`].
pub(super) struct Fresh {
    admin: PgConnectOptions,
    name: String,
    pub(super) crm: Crm,
}

impl Fresh {
    pub(super) async fn new(admin: &PgConnectOptions, tag: &str) -> Result<Self> {
        let name = format!("crm_bench_{}_{tag}", std::process::id());
        let mut conn = PgConnection::connect_with(admin).await?;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "drop database if exists {name}"
        )))
        .await?;
        conn.execute(sqlx::AssertSqlSafe(format!("create database {name}")))
            .await?;
        conn.close().await.ok();
        let crm = Crm::connect_with(admin.clone().database(&name)).await?;
        crm.migrate().await?;
        Ok(Self {
            admin: admin.clone(),
            name,
            crm,
        })
    }

    pub(super) async fn org(&self) -> Result<Scope> {
        let created = self
            .crm
            .create_organization(NewOrganization {
                name: "Bench GmbH".into(),
                slug: Some("bench".into()),
                owner_email: "bench@bench.test".into(),
                owner_first_name: "Bea".into(),
                owner_last_name: "Bench".into(),
                owner_password_hash: None,
            })
            .await?;
        Ok(self.crm.scope(created.organization.id, created.owner_id))
    }

    /// A connection to this database as the admin user (not switched to the application
    /// role): for baselines that bypass the library.
    pub(super) async fn admin_connection(&self) -> Result<PgConnection> {
        Ok(PgConnection::connect_with(&self.admin.clone().database(&self.name)).await?)
    }

    pub(super) async fn drop_db(self) -> Result<()> {
        self.crm.close().await;
        let mut conn = PgConnection::connect_with(&self.admin).await?;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "drop database if exists {} with (force)",
            self.name
        )))
        .await?;
        conn.close().await.ok();
        Ok(())
    }
}

pub(super) fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

pub(super) fn result(
    name: &str,
    ours: f64,
    baseline: &str,
    base: f64,
    rss: f64,
    extra: Map<String, Value>,
) -> ScenarioResult {
    ScenarioResult {
        name: name.into(),
        seconds: ours,
        baseline: baseline.into(),
        baseline_seconds: base,
        ratio: if base > 0.0 {
            (ours / base * 100.0).round() / 100.0
        } else {
            0.0
        },
        peak_rss_mb: (rss * 10.0).round() / 10.0,
        extra,
    }
}

pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Rounds to two decimals, as the JSON shows milliseconds and rates.
pub(super) fn ms(v: f64) -> Value {
    serde_json::json!((v * 100.0).round() / 100.0)
}

/// Sorts `samples` (milliseconds) and adds their `{prefix}p50_ms`, `{prefix}p95_ms` and
/// `{prefix}p99_ms` to `extra`; returns (p50, p95, p99).
pub(super) fn latencies(
    extra: &mut Map<String, Value>,
    prefix: &str,
    samples: &mut [f64],
) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let p = (
        percentile(samples, 0.5),
        percentile(samples, 0.95),
        percentile(samples, 0.99),
    );
    extra.insert(format!("{prefix}p50_ms"), ms(p.0));
    extra.insert(format!("{prefix}p95_ms"), ms(p.1));
    extra.insert(format!("{prefix}p99_ms"), ms(p.2));
    p
}
