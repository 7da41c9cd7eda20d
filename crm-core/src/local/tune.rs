//! Memory settings sized for the machine: what a local cluster is created with, what
//! `crm db tune` re-applies to it, and the advice it prints for any other server.
//!
//! The rules follow the usual guidance for a server that shares the machine with its
//! clients: a quarter of the memory as `shared_buffers` (so a tenant of a million contacts,
//! about 2 GB with its indexes, stays in memory on a 24 GB machine), three quarters as the
//! planner's `effective_cache_size`, and `work_mem` / `maintenance_work_mem` large enough
//! for the sorts, hashes and index builds of a bulk import but bounded so a hundred
//! connections cannot exhaust the machine.

use serde::Serialize;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, PgConnection};

use crate::error::{Error, Result};

/// The memory settings of a server, in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tuning {
    /// `shared_buffers`.
    pub shared_buffers_mb: u64,
    /// `effective_cache_size` (a planner estimate; allocates nothing).
    pub effective_cache_size_mb: u64,
    /// `work_mem`: per sort or hash of a statement.
    pub work_mem_mb: u64,
    /// `maintenance_work_mem`: index builds, vacuum.
    pub maintenance_work_mem_mb: u64,
}

/// One setting as the server has it and as [`Tuning`] proposes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingChange {
    /// The parameter's name.
    pub name: String,
    /// Its current value, as `SHOW` prints it.
    pub current: String,
    /// The proposed value.
    pub proposed: String,
    /// Whether the value differs.
    pub changes: bool,
    /// Whether a change takes effect only after a restart of the server.
    pub needs_restart: bool,
}

impl Tuning {
    /// The settings for a machine with `total_mb` MiB of memory.
    pub fn for_memory(total_mb: u64) -> Self {
        let shared = (total_mb / 4).clamp(128, 8 * 1024);
        Self {
            shared_buffers_mb: shared,
            effective_cache_size_mb: (total_mb * 3 / 4).max(shared),
            work_mem_mb: (total_mb / 512).clamp(4, 64),
            maintenance_work_mem_mb: (total_mb / 16).clamp(64, 1024),
        }
    }

    /// The settings for this machine (its `MemTotal`, or the memory limit of the cgroup it
    /// runs in when that is lower); 2 GiB when neither can be read.
    pub fn for_this_machine() -> Self {
        Self::for_memory(machine_memory_mb().unwrap_or(2048))
    }

    /// Small fixed settings for throwaway test clusters, many of which run at once.
    pub fn small() -> Self {
        Self {
            shared_buffers_mb: 128,
            effective_cache_size_mb: 512,
            work_mem_mb: 4,
            maintenance_work_mem_mb: 64,
        }
    }

    /// `(parameter, value)` pairs as `postgresql.conf` and `ALTER SYSTEM` take them.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("shared_buffers", format!("{}MB", self.shared_buffers_mb)),
            (
                "effective_cache_size",
                format!("{}MB", self.effective_cache_size_mb),
            ),
            ("work_mem", format!("{}MB", self.work_mem_mb)),
            (
                "maintenance_work_mem",
                format!("{}MB", self.maintenance_work_mem_mb),
            ),
        ]
    }

    /// Compares the current settings of the server at `server` with these.
    pub async fn compare(&self, server: &PgConnectOptions) -> Result<Vec<SettingChange>> {
        let mut conn = PgConnection::connect_with(server).await?;
        let out = self.compare_on(&mut conn).await;
        conn.close().await.ok();
        out
    }

    async fn compare_on(&self, conn: &mut PgConnection) -> Result<Vec<SettingChange>> {
        let mut out = Vec::new();
        for (name, proposed) in self.settings() {
            // Both sides in bytes, so `6GB` and `6144MB` compare equal.
            let (current, same, restart): (String, bool, bool) = sqlx::query_as(
                "select current_setting($1), \
                        pg_size_bytes(current_setting($1)) = pg_size_bytes($2), \
                        context = 'postmaster' \
                 from pg_settings where name = $1",
            )
            .bind(name)
            .bind(&proposed)
            .fetch_one(&mut *conn)
            .await?;
            out.push(SettingChange {
                name: name.to_string(),
                current,
                changes: !same,
                proposed,
                needs_restart: restart && !same,
            });
        }
        Ok(out)
    }

    /// Writes these settings with `ALTER SYSTEM` on the server at `server` (as a
    /// superuser) and reloads its configuration. Returns whether a changed setting waits
    /// for a restart.
    pub async fn apply(&self, server: &PgConnectOptions) -> Result<bool> {
        let mut conn = PgConnection::connect_with(server).await?;
        let out = self.apply_on(&mut conn).await;
        conn.close().await.ok();
        out
    }

    async fn apply_on(&self, conn: &mut PgConnection) -> Result<bool> {
        let changes = self.compare_on(conn).await?;
        for c in changes.iter().filter(|c| c.changes) {
            // Names come from `settings`, values are numbers with a unit: nothing to quote.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "alter system set {} = '{}'",
                c.name, c.proposed
            )))
            .execute(&mut *conn)
            .await
            .map_err(|e| Error::Database(format!("could not change {}: {e}", c.name)))?;
        }
        sqlx::query("select pg_reload_conf()")
            .execute(&mut *conn)
            .await?;
        Ok(changes.iter().any(|c| c.needs_restart))
    }
}

/// The memory this process may use, in MiB: `MemTotal`, lowered to a cgroup limit.
fn machine_memory_mb() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let total_kb: u64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    let mut mb = total_kb / 1024;
    for limit in [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ] {
        if let Some(bytes) = std::fs::read_to_string(limit)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
        {
            mb = mb.min(bytes / 1_048_576);
        }
    }
    (mb > 0).then_some(mb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_24_gb_machine_keeps_a_million_contacts_in_memory() {
        let t = Tuning::for_memory(24 * 1024);
        assert_eq!(t.shared_buffers_mb, 6 * 1024);
        assert_eq!(t.effective_cache_size_mb, 18 * 1024);
        assert_eq!(t.work_mem_mb, 48);
        assert_eq!(t.maintenance_work_mem_mb, 1024);
    }

    #[test]
    fn small_and_large_machines_stay_within_bounds() {
        let small = Tuning::for_memory(512);
        assert_eq!(small.shared_buffers_mb, 128);
        assert_eq!(small.work_mem_mb, 4);
        assert_eq!(small.maintenance_work_mem_mb, 64);
        assert!(small.effective_cache_size_mb >= small.shared_buffers_mb);
        let big = Tuning::for_memory(512 * 1024);
        assert_eq!(big.shared_buffers_mb, 8 * 1024);
        assert_eq!(big.work_mem_mb, 64);
        assert_eq!(big.maintenance_work_mem_mb, 1024);
    }

    #[test]
    fn settings_are_written_with_units() {
        let s = Tuning::for_memory(8 * 1024).settings();
        assert_eq!(s[0], ("shared_buffers", "2048MB".to_string()));
        assert_eq!(s[2], ("work_mem", "16MB".to_string()));
    }
}
