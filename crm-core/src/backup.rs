//! Backups of the CRM database with PostgreSQL's own tools: `pg_dump` in its custom format
//! (compressed, restorable table by table) and `pg_restore`.
//!
//! A backup holds the whole database: every organization, the audit chains, the event
//! outbox and the migration history. Restoring replaces the database's contents with the
//! backup's in one transaction: if anything fails, nothing changes.
//!
//! **Erasures after the backup.** A person erased (GDPR Art. 17) after the backup was taken
//! is back once that backup is restored: the erasures newer than the backup must be applied
//! again after every restore of an older backup (`crm gdpr reapply-erasures`, see
//! [`REAPPLY_NOTE`]).
//!
//! The tools run as the configured user, which must be allowed to read every row (the
//! schema owner: a superuser or a role with `BYPASSRLS`, as for migrations); the local
//! cluster's user is a superuser.
//!
//! ```no_run
//! # async fn demo() -> crm_core::Result<()> {
//! use crm_core::backup::{self, Target};
//!
//! let target = Target::url("postgresql://crm@db.internal/crm")?;
//! let info = backup::backup(&target, "crm.dump".as_ref()).await?;
//! println!("{} bytes", info.bytes);
//! backup::restore(&target, &info.file).await?;
//! eprintln!("{}", backup::REAPPLY_NOTE);
//! # Ok(()) }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::io::AsyncReadExt as _;
use tokio::process::Command;

use crate::error::{Error, Result};
use crate::local::{LocalCluster, find_bindir};

/// What to tell the operator after a restore.
pub const REAPPLY_NOTE: &str = "erasure receipts newer than the backup must be re-applied: run \
                                `crm gdpr reapply-erasures`";

/// The first bytes of a `pg_dump` custom-format archive.
const MAGIC: &[u8] = b"PGDMP";

/// A database to back up or restore into: a libpq connection URL, with the password (if
/// any) kept apart so that it never appears on a command line. `Debug` shows neither.
#[derive(Clone)]
pub struct Target {
    /// The URL without its password.
    conninfo: String,
    password: Option<String>,
    /// Where to look for the tools first (the local cluster's binaries).
    bindir: Option<PathBuf>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("conninfo", &"<redacted>")
            .field("bindir", &self.bindir)
            .finish()
    }
}

impl Target {
    /// A server at a `postgres://` or `postgresql://` URL (as given to `--database-url`).
    pub fn url(url: &str) -> Result<Self> {
        let url = url.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::invalid(
                "database_url",
                "must be a postgres:// or postgresql:// URL",
            ));
        }
        let (conninfo, password) = split_password(url);
        Ok(Self {
            conninfo,
            password,
            bindir: None,
        })
    }

    /// The CRM database of a local cluster (which must be running).
    pub fn local(cluster: &LocalCluster) -> Self {
        Self {
            conninfo: cluster.url(),
            password: None,
            bindir: Some(cluster.bindir().to_path_buf()),
        }
    }

    /// Finds `tool` (`pg_dump`, `pg_restore`): next to the local cluster's binaries, then
    /// under the newest installed PostgreSQL, then on `PATH`.
    fn tool(&self, tool: &str) -> Result<PathBuf> {
        let candidates = self.bindir.iter().cloned().chain(find_bindir().ok()).chain(
            std::env::var_os("PATH")
                .into_iter()
                .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>()),
        );
        for dir in candidates {
            let path = dir.join(tool);
            if path.is_file() {
                return Ok(path);
            }
        }
        Err(Error::Unavailable(format!(
            "{tool} was not found; install the PostgreSQL client tools (Debian/Ubuntu: \
             apt-get install postgresql-client) in the server's version or newer"
        )))
    }

    fn command(&self, tool: &str) -> Result<Command> {
        let mut cmd = Command::new(self.tool(tool)?);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .env("LC_MESSAGES", "C")
            .env_remove("PGPASSWORD")
            .env_remove("PGSERVICE");
        if let Some(p) = &self.password {
            cmd.env("PGPASSWORD", p);
        }
        Ok(cmd)
    }
}

/// A backup that was written.
#[derive(Debug, Clone, Serialize)]
pub struct BackupInfo {
    /// The file.
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// When the dump began: its snapshot is of this moment.
    pub taken_at: DateTime<Utc>,
    /// How long it took.
    pub seconds: f64,
}

/// A restore that completed.
#[derive(Debug, Clone, Serialize)]
pub struct RestoreInfo {
    /// The file restored.
    pub file: PathBuf,
    /// How long it took.
    pub seconds: f64,
}

/// A file name for a backup taken at `at`: `crm-backup-20261122-140501.dump`.
pub fn default_file_name(at: DateTime<Utc>) -> String {
    format!("crm-backup-{}.dump", at.format("%Y%m%d-%H%M%S"))
}

/// Writes a backup of the whole database to `out` (`pg_dump --format=custom`): a consistent
/// snapshot, taken without blocking other work. The file appears only once the dump is
/// complete (it is written next to it first); an existing file is replaced.
pub async fn backup(target: &Target, out: &Path) -> Result<BackupInfo> {
    if out.is_dir() {
        return Err(Error::invalid("out", "is a directory; name a file"));
    }
    if std::fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::Io(format!(
            "refusing to write {}: it is a symbolic link",
            out.display()
        )));
    }
    let partial = partial_path(out);
    let taken_at = Utc::now();
    let started = Instant::now();
    // The archive holds every person's data: the file is ours (0600, no symbolic link
    // followed), and pg_dump only writes into it through its standard output.
    let file = crate::private_file::create(&partial)
        .map_err(|e| Error::Io(format!("could not write {}: {e}", partial.display())))?;
    let mut cmd = target.command("pg_dump")?;
    cmd.arg("--format=custom")
        .arg("--no-password")
        .arg("--dbname")
        .arg(&target.conninfo)
        .stdout(Stdio::from(file));
    let result = run(cmd, "pg_dump").await;
    if let Err(e) = result {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, out).map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        Error::Io(format!("could not write {}: {e}", out.display()))
    })?;
    let bytes = std::fs::metadata(out)?.len();
    Ok(BackupInfo {
        file: out.to_path_buf(),
        bytes,
        taken_at,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Restores the backup `file` into the target database (`pg_restore --clean --if-exists
/// --single-transaction --no-owner`): the objects of the backup are dropped and recreated
/// with the backup's rows, all in one transaction, so a failure changes nothing. Whatever
/// was written after the backup is gone afterwards, including erasures: re-apply them
/// ([`REAPPLY_NOTE`]).
///
/// Restore a backup made by the same version of the CRM (the same migrations); run `crm db
/// migrate` afterwards when it is older.
pub async fn restore(target: &Target, file: &Path) -> Result<RestoreInfo> {
    check_archive(file).await?;
    let started = Instant::now();
    let mut cmd = target.command("pg_restore")?;
    cmd.arg("--clean")
        .arg("--if-exists")
        .arg("--single-transaction")
        .arg("--no-owner")
        .arg("--no-password")
        .arg("--dbname")
        .arg(&target.conninfo)
        .arg(file);
    run(cmd, "pg_restore").await?;
    Ok(RestoreInfo {
        file: file.to_path_buf(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Fails unless `file` is a readable custom-format archive.
async fn check_archive(file: &Path) -> Result<()> {
    let mut f = tokio::fs::File::open(file)
        .await
        .map_err(|e| Error::Io(format!("cannot read {}: {e}", file.display())))?;
    let mut head = [0u8; 5];
    let n = f.read(&mut head).await?;
    if n < MAGIC.len() || head != MAGIC {
        return Err(Error::invalid(
            "file",
            "is not a backup made by `crm db backup` (pg_dump custom format)",
        ));
    }
    Ok(())
}

/// Runs a tool to its end; a failure becomes an error naming its first problem.
async fn run(mut cmd: Command, tool: &str) -> Result<()> {
    let child = cmd
        .spawn()
        .map_err(|e| Error::Unavailable(format!("could not run {tool}: {e}")))?;
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| Error::Io(format!("{tool} failed: {e}")))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let problem = first_error(&stderr, tool);
    if problem.contains("connection to server") || problem.contains("could not connect") {
        return Err(Error::Unavailable(format!(
            "{tool} cannot reach the database: {problem}"
        )));
    }
    if problem.contains("version mismatch") {
        return Err(Error::Unavailable(format!(
            "{tool} is older than the server ({problem}); install the client tools of the \
             server's version"
        )));
    }
    Err(Error::Database(format!(
        "{tool} failed{}: {problem}",
        if tool == "pg_restore" {
            " and nothing was changed"
        } else {
            ""
        }
    )))
}

/// The first error line of a tool's output, without the `DETAIL`, `Command was` and
/// context lines that follow (which may quote row data or SQL).
fn first_error(stderr: &str, tool: &str) -> String {
    let prefix = format!("{tool}: error:");
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&prefix))
        .or_else(|| stderr.lines().find(|l| !l.trim().is_empty()))
        .unwrap_or("no message");
    let line = line.strip_prefix(&prefix).unwrap_or(line).trim();
    let line = line.split("DETAIL:").next().unwrap_or(line).trim();
    let mut s: String = line.chars().take(300).collect();
    if s.is_empty() {
        s = "no message".into();
    }
    s
}

/// `<out>.partial` next to `out`.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

/// Splits the password out of a URL's user info: `postgres://u:p%40ss@h/db` →
/// (`postgres://u@h/db`, `p@ss`).
fn split_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return (url.to_string(), None);
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return (url.to_string(), None);
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return (url.to_string(), None);
    };
    let password = percent_decode(&userinfo[colon + 1..]);
    let stripped = format!(
        "{}{}{}",
        &url[..scheme_end],
        &userinfo[..colon],
        &rest[at..]
    );
    (stripped, Some(password))
}

/// Decodes `%XX` escapes (invalid ones are kept as they are).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_stays_in_the_url() {
        assert_eq!(
            split_password("postgres://crm:s%40cret:x@db.internal:5433/crm?sslmode=require"),
            (
                "postgres://crm@db.internal:5433/crm?sslmode=require".to_string(),
                Some("s@cret:x".to_string())
            )
        );
        assert_eq!(
            split_password("postgresql:///crm?host=/var/lib/crm/pgdata&user=crm"),
            (
                "postgresql:///crm?host=/var/lib/crm/pgdata&user=crm".to_string(),
                None
            )
        );
        assert_eq!(
            split_password("postgres://crm@h/db"),
            ("postgres://crm@h/db".to_string(), None)
        );
        let t = Target::url("postgres://u:secret@h/db").unwrap();
        assert!(!format!("{t:?}").contains("secret"));
        assert!(Target::url("mysql://h/db").is_err());
    }

    #[test]
    fn tool_errors_keep_only_the_first_line_without_row_data() {
        let stderr = "pg_restore: error: COPY failed for table \"contacts\": ERROR:  duplicate key value violates unique constraint \"contacts_email_unique\"\nDETAIL:  Key (org_id, email_norm)=(1, anna@example.de) already exists.\npg_restore: error: could not execute query\nCommand was: COPY public.contacts";
        let e = first_error(stderr, "pg_restore");
        assert!(e.starts_with("COPY failed for table"), "{e}");
        assert!(!e.contains("anna"), "{e}");
    }

    #[test]
    fn a_backup_file_is_named_by_its_time() {
        let at = DateTime::parse_from_rfc3339("2026-11-22T14:05:01Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(default_file_name(at), "crm-backup-20261122-140501.dump");
        assert_eq!(
            partial_path(Path::new("/tmp/x.dump")),
            Path::new("/tmp/x.dump.partial")
        );
    }
}
