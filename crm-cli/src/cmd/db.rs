//! `crm db`: migrations and the local cluster.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Subcommand;
use crm_core::LocalCluster;
use crm_core::backup::{self, Target};
use crm_core::gdpr::reapply::SavedErasures;
use crm_core::local::{ClusterSettings, ClusterState, Tuning};
use serde::Serialize;

use crate::cli::Format;
use crate::ctx::Ctx;
use crate::exit;
use crate::output::{self, Row};

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply pending migrations.
    Migrate,
    /// Show where the database is, which migrations are applied, the connection pool, and
    /// the read replica (--replica-url) with its lag.
    Status,
    /// Create (if needed) and start the local cluster.
    Start,
    /// Stop the local cluster.
    Stop,
    /// Print the local cluster's connection URL (for psql).
    Url,
    /// Size the memory settings (shared_buffers, effective_cache_size, work_mem,
    /// maintenance_work_mem) for this machine: applied to the local cluster (restarting it
    /// when shared_buffers changes); for a --database-url server only printed as advice.
    Tune {
        /// Show the current and proposed settings; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write a backup of the whole database (every organization) with pg_dump (custom
    /// format), of the local cluster or of the --database-url server.
    Backup {
        /// The backup file [default: crm-backup-YYYYMMDD-HHMMSS.dump in the current
        /// directory].
        #[arg(long, short = 'o', value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Create a least-privileged login role for programs that embed the CRM (and for
    /// `crm --database-url`): it can only switch to the application role `crm_app`, holds
    /// nothing itself, and cannot migrate, create or list organizations. The password is
    /// read from the first line of stdin (at least 12 characters). Connect with
    /// `postgresql://NAME:PASSWORD@HOST/DB`; see README "Security model".
    CreateAppLogin {
        /// The role's name (lower-case letters, digits, '_').
        #[arg(long)]
        name: String,
    },
    /// Replace the whole database with a backup (pg_restore --clean, in one transaction:
    /// on failure nothing changes). Everything written since the backup is lost, except
    /// erasures: their receipts are saved first (next to the backup as FILE.erasures.json;
    /// when that fails, nothing is restored) and re-applied after the restore (after `crm
    /// db migrate` with `crm gdpr reapply-erasures --from` when the backup is older than
    /// this version). Asks for confirmation on a terminal; scripts pass --yes.
    Restore {
        /// The backup file written by `crm db backup`.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

#[derive(Serialize)]
struct MigrationRow {
    version: i64,
    description: String,
    applied_at: Option<String>,
}

impl Row for MigrationRow {
    fn headers() -> Vec<&'static str> {
        vec!["version", "description", "applied_at"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.version.to_string(),
            self.description.clone(),
            output::opt(&self.applied_at),
        ]
    }
}

/// Runs one `crm db` subcommand.
pub async fn run(cmd: DbCommand, ctx: &Ctx) -> Result<u8> {
    let uses_url = ctx
        .global
        .database_url
        .as_deref()
        .is_some_and(|u| !u.is_empty());
    match cmd {
        DbCommand::Migrate => migrate(ctx).await,
        DbCommand::CreateAppLogin { name } => create_app_login(name, ctx).await,
        DbCommand::Status => status(uses_url, ctx).await,
        DbCommand::Tune { dry_run } => tune(ctx, uses_url, dry_run).await,
        DbCommand::Start | DbCommand::Stop | DbCommand::Url if uses_url => Err(exit::usage(
            "start, stop and url manage the local cluster; unset --database-url / DATABASE_URL",
        )),
        DbCommand::Start => start(ctx).await,
        DbCommand::Stop => stop(ctx).await,
        DbCommand::Backup { out } => backup_to(out, ctx).await,
        DbCommand::Restore { file, yes } => restore(file, yes, uses_url, ctx).await,
        DbCommand::Url => url(ctx).await,
    }
}

/// The database to administer: --database-url as given (it may need migrating), else the
/// local cluster.
async fn direct_crm(ctx: &Ctx) -> Result<crm_core::Crm> {
    match ctx.global.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => Ok(crm_core::Crm::connect(url).await?),
        None => ctx.crm().await,
    }
}

/// `db migrate`: applies pending migrations.
async fn migrate(ctx: &Ctx) -> Result<u8> {
    let crm = direct_crm(ctx).await?;
    crm.migrate().await?;
    let n = crm.migration_status().await?.len();
    ctx.note(format!("database is up to date ({n} migrations applied)"));
    Ok(exit::OK)
}

/// `db create-app-login`: a login role that may only act as `crm_app`, password on stdin.
async fn create_app_login(name: String, ctx: &Ctx) -> Result<u8> {
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .map_err(|e| exit::coded(exit::ERROR, format!("cannot read stdin: {e}")))?;
    let password = password.trim_end_matches(['\r', '\n']);
    let crm = direct_crm(ctx).await?;
    crm.create_app_login(&name, password).await?;
    ctx.note(format!(
        "created the login role '{name}': it may only act as crm_app"
    ));
    Ok(exit::OK)
}

/// `db status`: the migrations, the pool and the replica.
async fn status(uses_url: bool, ctx: &Ctx) -> Result<u8> {
    let crm = match ctx.global.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => ctx.with_replica(crm_core::Crm::connect(url).await?).await,
        None => ctx.crm().await?,
    };
    let topology = crm.topology().await?;
    let rows: Vec<MigrationRow> = crm
        .migration_status()
        .await?
        .into_iter()
        .map(|m| MigrationRow {
            version: m.version,
            description: m.description,
            applied_at: m.applied_at.map(|t| t.to_rfc3339()),
        })
        .collect();
    if !uses_url {
        ctx.note(format!(
            "local cluster: {}",
            LocalCluster::default_home().display()
        ));
    }
    let pending = rows.iter().filter(|r| r.applied_at.is_none()).count();
    match ctx.format() {
        Format::Json => output::json(&serde_json::json!({
            "database": if uses_url { "url" } else { "local" },
            "pending": pending,
            "migrations": rows,
            "pool": topology.pool,
            "replica": topology.replica,
        }))?,
        f => {
            output::list(f, &rows)?;
            for line in topology_lines(&topology) {
                ctx.note(line);
            }
        }
    }
    Ok(exit::OK)
}

/// `db start`: starts (and creates) the local cluster.
async fn start(ctx: &Ctx) -> Result<u8> {
    ctx.crm().await?;
    ctx.note(format!(
        "local cluster running in {}",
        LocalCluster::default_home().display()
    ));
    Ok(exit::OK)
}

/// `db stop`: stops the local cluster.
async fn stop(ctx: &Ctx) -> Result<u8> {
    let cluster = LocalCluster::new(LocalCluster::default_home(), ClusterSettings::default())?;
    let was_running = tokio::task::spawn_blocking(move || cluster.stop()).await??;
    ctx.note(if was_running {
        "local cluster stopped"
    } else {
        "local cluster was not running"
    });
    Ok(exit::OK)
}

/// `db backup`: the whole database to a file.
async fn backup_to(out: Option<PathBuf>, ctx: &Ctx) -> Result<u8> {
    let target = target(ctx).await?;
    let out = out.unwrap_or_else(|| backup::default_file_name(chrono::Utc::now()).into());
    let info = backup::backup(&target, &out).await?;
    ctx.note(format!(
        "backup written to {} ({} bytes, {:.1} s)",
        info.file.display(),
        info.bytes,
        info.seconds
    ));
    if ctx.format() == Format::Json {
        output::json(&info)?;
    }
    Ok(exit::OK)
}

/// `db restore`: replaces the whole database with a backup, carrying the erasures made since across.
async fn restore(file: PathBuf, yes: bool, uses_url: bool, ctx: &Ctx) -> Result<u8> {
    if !file.is_file() {
        return Err(exit::coded(
            exit::NOT_FOUND,
            format!("no backup file at {}", file.display()),
        ));
    }
    let prompt = format!(
        "Replace the whole {} database (every organization) with the backup {}? \
         Everything written since the backup is lost.",
        if uses_url { "--database-url" } else { "local" },
        file.display()
    );
    if !crate::confirm::confirm(yes, prompt)? {
        ctx.note("nothing restored");
        return Ok(exit::OK);
    }
    let target = target(ctx).await?;
    let (saved, saved_file) = keep_erasures(ctx, &file).await?;
    let info = backup::restore(&target, &file).await?;
    ctx.note(format!(
        "restored {} ({:.1} s)",
        file.display(),
        info.seconds
    ));
    reapply_erasures(ctx, &saved, &saved_file).await?;
    if ctx.format() == Format::Json {
        output::json(&info)?;
    }
    Ok(exit::OK)
}

/// Keeps the erasure receipts and keys of the database a restore replaces, next to the
/// backup (`FILE.erasures.json`) when there are any: a backup from before an erasure would
/// bring the person back. When they cannot be kept (read, or saved), nothing is replaced.
async fn keep_erasures(ctx: &Ctx, file: &Path) -> Result<(SavedErasures, PathBuf)> {
    let refuse = |what: String| {
        exit::coded(
            exit::ERROR,
            format!(
                "{what}; nothing was restored (the erasures made since the backup \
                 could not be carried across)"
            ),
        )
    };
    let saved = {
        let crm = direct_crm(ctx).await?;
        crm.save_erasures()
            .await
            .map_err(|e| refuse(format!("cannot read the erasure receipts and keys: {e}")))?
    };
    let saved_file = file.with_extension("erasures.json");
    let receipts: usize = saved.organizations.iter().map(|o| o.receipts.len()).sum();
    if receipts > 0 {
        crm_core::private_file::write(&saved_file, &serde_json::to_vec_pretty(&saved)?).map_err(
            |e| {
                refuse(format!(
                    "cannot save the erasure receipts to {}: {e}",
                    saved_file.display()
                ))
            },
        )?;
    }
    Ok((saved, saved_file))
}

/// After a restore: re-applies the kept erasures, unless the backup predates migrations
/// (then says how to, after `crm db migrate`).
async fn reapply_erasures(ctx: &Ctx, saved: &SavedErasures, saved_file: &Path) -> Result<()> {
    // An older backup may predate migrations of this version.
    let crm = direct_crm(ctx).await?;
    let pending = crm
        .migration_status()
        .await?
        .iter()
        .filter(|m| m.applied_at.is_none())
        .count();
    if pending > 0 {
        ctx.note(format!(
            "the backup predates {pending} migration(s) of this version: run `crm db migrate`"
        ));
    }
    if pending > 0 {
        ctx.note(format!(
            "{} then `crm gdpr reapply-erasures --from {}`",
            backup::REAPPLY_NOTE,
            saved_file.display()
        ));
    } else {
        let done = crm.reapply_erasures(saved).await?;
        let erased: u64 = done.iter().map(|(_, s)| s.contacts_erased).sum();
        let checked: u64 = done.iter().map(|(_, s)| s.receipts_checked).sum();
        ctx.note(format!(
            "erasures re-applied: {checked} receipt(s) checked, {erased} contact(s) erased again"
        ));
    }
    Ok(())
}

/// `db url`: the local cluster's connection URL.
async fn url(ctx: &Ctx) -> Result<u8> {
    let cluster = LocalCluster::new(LocalCluster::default_home(), ClusterSettings::default())?;
    if cluster.state()? == ClusterState::Missing {
        ctx.note("the local cluster does not exist yet; it is created by the first command that needs it");
    }
    output::text(&cluster.url())?;
    Ok(exit::OK)
}

#[derive(Serialize)]
struct SettingRow(crm_core::local::tune::SettingChange);

impl Row for SettingRow {
    fn headers() -> Vec<&'static str> {
        vec!["setting", "current", "proposed", "change"]
    }
    fn cells(&self) -> Vec<String> {
        let c = &self.0;
        vec![
            c.name.clone(),
            c.current.clone(),
            c.proposed.clone(),
            match (c.changes, c.needs_restart) {
                (false, _) => "-".into(),
                (true, false) => "yes".into(),
                (true, true) => "yes (restart)".into(),
            },
        ]
    }
}

/// `crm db tune`: the local cluster is re-tuned (unless --dry-run); any other server only
/// gets advice.
async fn tune(ctx: &Ctx, uses_url: bool, dry_run: bool) -> Result<u8> {
    let tuning = Tuning::for_this_machine();
    let cluster = if uses_url {
        None
    } else {
        ctx.crm().await?;
        Some(LocalCluster::new(
            LocalCluster::default_home(),
            ClusterSettings::default(),
        )?)
    };
    let options = match (&cluster, ctx.global.database_url.as_deref()) {
        (Some(c), _) => c.connect_options("postgres"),
        (None, Some(url)) => url
            .parse()
            .map_err(|_| exit::usage("the database URL is not valid"))?,
        (None, None) => return Err(exit::usage("no database to tune")),
    };
    let changes = tuning.compare(&options).await?;
    let pending = changes.iter().filter(|c| c.changes).count();
    let mut applied = false;
    let mut restarted = false;
    match &cluster {
        Some(c) if !dry_run && pending > 0 => {
            let restart = tuning.apply(&options).await?;
            applied = true;
            if restart {
                let c = c.clone();
                tokio::task::spawn_blocking(move || {
                    c.stop()?;
                    c.ensure_started()
                })
                .await??;
                restarted = true;
            }
            ctx.note(format!(
                "local cluster: {pending} setting(s) changed{}",
                if restarted { ", server restarted" } else { "" }
            ));
        }
        Some(_) if pending == 0 => ctx.note("local cluster: the settings already fit this machine"),
        Some(_) => ctx.note(format!(
            "dry run: {pending} setting(s) would change; run `crm db tune` to apply"
        )),
        None => ctx.note(
            "this server is not managed by crm: nothing changed. The proposed values assume it \
             has this machine's memory; set them in its postgresql.conf (or ALTER SYSTEM) and \
             restart it",
        ),
    }
    match ctx.format() {
        Format::Json => output::json(&serde_json::json!({
            "database": if uses_url { "url" } else { "local" },
            "dry_run": dry_run,
            "applied": applied,
            "restarted": restarted,
            "settings": changes,
        }))?,
        f => output::list(f, &changes.into_iter().map(SettingRow).collect::<Vec<_>>())?,
    }
    Ok(exit::OK)
}

/// The database to back up or restore: --database-url, else the local cluster (started if
/// needed).
async fn target(ctx: &Ctx) -> Result<Target> {
    match ctx.global.database_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => Ok(Target::url(url)?),
        None => {
            ctx.crm().await?;
            let cluster =
                LocalCluster::new(LocalCluster::default_home(), ClusterSettings::default())?;
            Ok(Target::local(&cluster))
        }
    }
}

/// `crm db status` in words: the pool, and the replica with its lag.
fn topology_lines(t: &crm_core::replica::Topology) -> Vec<String> {
    let p = &t.pool;
    let mut lines = vec![format!(
        "pool: {} of at most {} connections open ({} idle){}",
        p.open,
        p.max_connections,
        p.idle,
        if p.transaction_pooler {
            ", through a transaction pooler"
        } else {
            ""
        }
    )];
    lines.push(match &t.replica {
        None => "replica: none (--replica-url / CRM_REPLICA_URL)".into(),
        Some(r) if !r.reachable => "replica: unreachable; reads go to the primary".into(),
        Some(r) => format!(
            "replica: {}, lag {} bytes, {} (bound {} s)",
            if r.in_recovery == Some(true) {
                "standby"
            } else {
                "not in recovery (a primary?)"
            },
            r.lag_bytes.unwrap_or(0),
            r.lag_seconds
                .map_or("replayed nothing since it started".into(), |s| format!(
                    "{s:.1} s"
                )),
            r.max_lag_seconds
        ),
    });
    lines
}
