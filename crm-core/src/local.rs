//! The embedded default: a local PostgreSQL cluster that crm-core creates, starts and stops
//! itself from the server binaries on the machine.
//!
//! The cluster lives in `<home>/pgdata`, listens only on a Unix socket inside that
//! directory (no TCP port) and trusts local connections, which is safe because only the
//! directory's owner can reach the socket. PostgreSQL refuses to run as root: when this
//! process is root, the server runs as an unprivileged system user (`postgres`, or a
//! `crm-postgres` user created for the purpose) that owns the data directory.
//!
//! Starting is guarded by an exclusive lock on `<home>/cluster.lock`, so two processes
//! starting at once neither corrupt nor double-start the cluster.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sqlx::postgres::PgConnectOptions;

use crate::error::{Error, Result};

pub mod tune;

pub use tune::Tuning;

/// The superuser created by `initdb` in a local cluster.
pub const SUPERUSER: &str = "crm";
/// The database the CRM uses inside a local cluster.
pub const DATABASE: &str = "crm";

/// Tuning of a local cluster, written into its `postgresql.conf` when it is created.
#[derive(Debug, Clone)]
pub struct ClusterSettings {
    /// The memory settings (`shared_buffers`, `work_mem`, ...).
    pub memory: Tuning,
    /// Trade durability for speed (fsync off): only for throwaway test clusters.
    pub throwaway: bool,
}

impl Default for ClusterSettings {
    /// Memory sized for this machine ([`Tuning::for_this_machine`]), durable.
    fn default() -> Self {
        Self {
            memory: Tuning::for_this_machine(),
            throwaway: false,
        }
    }
}

/// What `status` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterState {
    /// No cluster has been created in this home yet.
    Missing,
    /// Created, not running.
    Stopped,
    /// Created and accepting connections.
    Running,
}

/// A system user the server runs as when this process is root.
#[derive(Debug, Clone)]
struct SystemUser {
    name: String,
    uid: u32,
    gid: u32,
}

/// A local PostgreSQL cluster in a data directory.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    home: PathBuf,
    bindir: PathBuf,
    run_as: Option<SystemUser>,
    settings: ClusterSettings,
}

impl LocalCluster {
    /// The default home: `$CRM_HOME`, else `$XDG_DATA_HOME/crm` or `~/.local/share/crm`;
    /// for root (whose home the server's unprivileged user cannot enter), `/var/lib/crm`.
    pub fn default_home() -> PathBuf {
        if let Some(h) = std::env::var_os("CRM_HOME").filter(|h| !h.is_empty()) {
            return PathBuf::from(h);
        }
        if is_root() {
            return PathBuf::from("/var/lib/crm");
        }
        if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|h| !h.is_empty()) {
            return PathBuf::from(x).join("crm");
        }
        match std::env::var_os("HOME") {
            Some(h) => PathBuf::from(h).join(".local/share/crm"),
            None => PathBuf::from(".crm"),
        }
    }

    /// A cluster handle for `home`, with the server binaries found on the machine. Nothing
    /// is created or started yet.
    pub fn new(home: impl Into<PathBuf>, settings: ClusterSettings) -> Result<Self> {
        let home = home.into();
        let home = if home.is_absolute() {
            home
        } else {
            std::env::current_dir()?.join(home)
        };
        let bindir = find_bindir()?;
        let run_as = if is_root() {
            Some(system_user()?)
        } else {
            None
        };
        let socket = home.join("pgdata").join(".s.PGSQL.5432");
        if socket.as_os_str().len() > 100 {
            return Err(Error::Unavailable(format!(
                "the data directory path {} is too long for a Unix socket; set CRM_HOME to a shorter path",
                home.display()
            )));
        }
        Ok(Self {
            home,
            bindir,
            run_as,
            settings,
        })
    }

    /// The cluster's home directory.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The directory of the PostgreSQL binaries this cluster runs (`initdb`, `pg_ctl`, and
    /// usually `pg_dump` and `pg_restore` of the same version).
    pub fn bindir(&self) -> &Path {
        &self.bindir
    }

    /// The data directory (also the directory of the server's socket).
    pub fn data_dir(&self) -> PathBuf {
        self.home.join("pgdata")
    }

    /// Connection options for the CRM database over the cluster's socket.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(self.data_dir())
            .username(SUPERUSER)
            .database(database)
            .application_name("crm")
    }

    /// A libpq URL for the CRM database (usable with `psql`).
    pub fn url(&self) -> String {
        format!(
            "postgresql:///{DATABASE}?host={}&user={SUPERUSER}",
            self.data_dir().display()
        )
    }

    /// Whether the cluster exists and runs.
    pub fn state(&self) -> Result<ClusterState> {
        if !self.data_dir().join("PG_VERSION").exists() {
            return Ok(ClusterState::Missing);
        }
        let out = self.pg_ctl(&["status", "-D", &self.data_dir_str()])?;
        Ok(if out.status.success() {
            ClusterState::Running
        } else {
            ClusterState::Stopped
        })
    }

    /// Creates the cluster if it is missing and starts it if it is not running. Safe to call
    /// from several processes at once. Returns whether this call started the server.
    pub fn ensure_started(&self) -> Result<bool> {
        self.prepare_home()?;
        let _lock = self.lock()?;
        if self.state()? == ClusterState::Missing {
            self.init()?;
        }
        if self.state()? == ClusterState::Running {
            return Ok(false);
        }
        let log = self.data_dir().join("server.log");
        let out = self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "120",
            "-D",
            &self.data_dir_str(),
            "-l",
            &log.display().to_string(),
        ])?;
        if !out.status.success() {
            let tail = fs::read_to_string(&log)
                .map(|s| s.lines().rev().take(5).collect::<Vec<_>>().join(" / "))
                .unwrap_or_default();
            return Err(Error::Unavailable(format!(
                "the local PostgreSQL cluster in {} did not start: {} {tail}",
                self.data_dir().display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(true)
    }

    /// Stops the server (fast shutdown). Returns whether it was running.
    pub fn stop(&self) -> Result<bool> {
        if !self.home.exists() || self.state()? != ClusterState::Running {
            return Ok(false);
        }
        let _lock = self.lock()?;
        let out = self.pg_ctl(&["stop", "-w", "-m", "fast", "-D", &self.data_dir_str()])?;
        if !out.status.success() {
            return Err(Error::Unavailable(format!(
                "could not stop the local cluster: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(true)
    }

    /// Starts a detached watchdog that stops the cluster and removes its data directory
    /// once process `pid` has exited. Used by test harnesses, which have no teardown hook.
    pub fn remove_when_process_exits(&self, pid: u32) -> Result<()> {
        // Runs as this process's user: a fast shutdown by signal (root may signal the
        // server's user; pg_ctl would refuse to run as root), then the whole home goes.
        let script = format!(
            "while [ -d /proc/{pid} ]; do sleep 1; done; \
             if [ -f \"$0/postmaster.pid\" ]; then p=$(head -n 1 \"$0/postmaster.pid\"); \
             kill -QUIT \"$p\" 2>/dev/null; n=0; \
             while [ -d /proc/$p ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done; fi; \
             rm -rf \"$1\""
        );
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c")
            .arg(script)
            .arg(self.data_dir())
            .arg(&self.home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .current_dir("/")
            .process_group(0);
        cmd.spawn()
            .map_err(|e| Error::Io(format!("could not start the cleanup watchdog: {e}")))?;
        Ok(())
    }

    fn data_dir_str(&self) -> String {
        self.data_dir().display().to_string()
    }

    fn lock(&self) -> Result<File> {
        let path = self.home.join("cluster.lock");
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        f.lock()
            .map_err(|e| Error::Io(format!("could not lock {}: {e}", path.display())))?;
        Ok(f)
    }

    fn prepare_home(&self) -> Result<()> {
        let mode = if self.run_as.is_some() { 0o755 } else { 0o700 };
        if !self.home.exists() {
            fs::create_dir_all(&self.home)
                .map_err(|e| Error::Io(format!("could not create {}: {e}", self.home.display())))?;
            fs::set_permissions(&self.home, fs::Permissions::from_mode(mode))?;
        }
        if let Some(u) = &self.run_as {
            // The server's user must be able to reach the home directory.
            let ok = Command::new("/bin/sh")
                .arg("-c")
                .arg("cd \"$0\"")
                .arg(&self.home)
                .uid(u.uid)
                .gid(u.gid)
                .current_dir("/")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if !ok {
                return Err(Error::Unavailable(format!(
                    "the PostgreSQL server runs as the system user '{}', which cannot enter {}; \
                     set CRM_HOME to a directory it can reach (for example /var/lib/crm)",
                    u.name,
                    self.home.display()
                )));
            }
        }
        Ok(())
    }

    fn init(&self) -> Result<()> {
        let data = self.data_dir();
        if data.exists() {
            // A half-created directory from an interrupted init: start over.
            fs::remove_dir_all(&data)?;
        }
        fs::create_dir(&data)?;
        fs::set_permissions(&data, fs::Permissions::from_mode(0o700))?;
        if let Some(u) = &self.run_as {
            std::os::unix::fs::chown(&data, Some(u.uid), Some(u.gid))?;
        }
        let locale = if has_c_utf8() {
            "C.UTF-8"
        } else {
            "en_US.UTF-8"
        };
        let out = self.run(
            "initdb",
            &[
                "-D",
                &self.data_dir_str(),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                &format!("--locale={locale}"),
                "--no-instructions",
            ],
        )?;
        if !out.status.success() {
            return Err(Error::Unavailable(format!(
                "initdb failed in {}: {}",
                data.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let mut conf = format!(
            "\n# Written by crm: a private cluster reachable only through the socket below.\n\
             listen_addresses = ''\n\
             unix_socket_directories = '{}'\n\
             unix_socket_permissions = 0700\n\
             max_connections = 100\n\
             max_wal_size = 4GB\n\
             checkpoint_timeout = 15min\n\
             logging_collector = off\n\
             log_min_messages = warning\n",
            data.display(),
        );
        // Sized for the machine; `crm db tune` re-applies them (ALTER SYSTEM) later.
        for (name, value) in self.settings.memory.settings() {
            conf.push_str(&format!("{name} = {value}\n"));
        }
        if self.settings.throwaway {
            conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
        }
        // The config file belongs to the server's user; append as that user would.
        let mut f = OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))?;
        f.write_all(conf.as_bytes())?;
        Ok(())
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<Output> {
        self.run("pg_ctl", args)
    }

    fn run(&self, program: &str, args: &[&str]) -> Result<Output> {
        let mut cmd = Command::new(self.bindir.join(program));
        cmd.args(args)
            .stdin(Stdio::null())
            .current_dir("/")
            .env("LC_MESSAGES", "C");
        if let Some(u) = &self.run_as {
            cmd.uid(u.uid)
                .gid(u.gid)
                .env("HOME", "/")
                .env("USER", &u.name);
        }
        cmd.output()
            .map_err(|e| Error::Unavailable(format!("could not run {program}: {e}")))
    }
}

fn is_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn has_c_utf8() -> bool {
    Command::new("locale")
        .arg("-a")
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.eq_ignore_ascii_case("C.UTF-8") || l.eq_ignore_ascii_case("C.utf8"))
        })
        .unwrap_or(true)
}

/// Finds the directory holding `initdb` and `pg_ctl`: `$CRM_PG_BINDIR`, then the newest
/// `/usr/lib/postgresql/*/bin`, then `pg_config --bindir`, then PATH.
pub(crate) fn find_bindir() -> Result<PathBuf> {
    let has_tools = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Some(d) = std::env::var_os("CRM_PG_BINDIR").map(PathBuf::from)
        && has_tools(&d)
    {
        return Ok(d);
    }
    // Debian's /usr/lib/postgresql/N/bin first: wrappers on PATH may not pass options on.
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, d)| has_tools(d))
        .collect();
    versions.sort();
    if let Some((_, d)) = versions.pop() {
        return Ok(d);
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_tools(&d) {
            return Ok(d);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            if has_tools(&d) {
                return Ok(d);
            }
        }
    }
    Err(Error::Unavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) found on this machine; install them \
         (Debian/Ubuntu: apt-get install postgresql) or point crm at a server with \
         --database-url / DATABASE_URL"
            .into(),
    ))
}

/// The unprivileged user a root process runs the server as: `postgres` if it exists,
/// otherwise a `crm-postgres` system user, created now.
fn system_user() -> Result<SystemUser> {
    for name in ["postgres", "crm-postgres"] {
        if let Some(u) = lookup_user(name)? {
            return Ok(u);
        }
    }
    let status = Command::new("useradd")
        .args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "crm-postgres",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    match (status, lookup_user("crm-postgres")?) {
        (_, Some(u)) => Ok(u),
        _ => Err(Error::Unavailable(
            "PostgreSQL will not run as root and no 'postgres' system user exists; create one \
             (useradd --system postgres) or run crm as an ordinary user"
                .into(),
        )),
    }
}

fn lookup_user(name: &str) -> Result<Option<SystemUser>> {
    let passwd = fs::read_to_string("/etc/passwd")?;
    Ok(passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let n = f.next()?;
        if n != name {
            return None;
        }
        let _pw = f.next()?;
        let uid = f.next()?.parse().ok()?;
        let gid = f.next()?.parse().ok()?;
        Some(SystemUser {
            name: n.to_string(),
            uid,
            gid,
        })
    }))
}
