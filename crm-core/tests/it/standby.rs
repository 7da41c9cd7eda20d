//! A real streaming replica (issue 20): a hot standby of the test cluster made with
//! `pg_basebackup -R` and started with `pg_ctl`. Exports, reports and search read from it,
//! writes go to the primary, a scope reads its own writes, and a standby that is down or
//! lags beyond the bound leaves the reads to the primary with a warning, never an error.
//!
//! The primary is a small throwaway cluster of this module's own (a base backup of the
//! shared test cluster would copy every other test's database), and the tests take turns:
//! pausing replay on the one standby would disturb the others.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crm_core::local::{ClusterSettings, DATABASE, LocalCluster, Tuning};
use crm_core::store::contact::{self, NewContact};
use crm_core::{Crm, NewOrganization, OrgId, Scope, UserId};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, PgConnection};
use tokio::sync::OnceCell;

/// A standby of the test cluster, stopped and removed when the test process exits.
struct Standby {
    dir: PathBuf,
    port: u16,
    user: String,
    run_as: Option<(u32, u32)>,
    bindir: PathBuf,
}

static SHARED: OnceCell<Standby> = OnceCell::const_new();
static PRIMARY: OnceCell<String> = OnceCell::const_new();
static TURNS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The URL of this module's primary: a small throwaway cluster, migrated (once per
/// process; removed when the process exits).
async fn primary() -> &'static str {
    PRIMARY
        .get_or_init(|| async {
            let home = std::env::temp_dir().join(format!("crm-primary-{}", std::process::id()));
            let settings = ClusterSettings {
                memory: Tuning::small(),
                throwaway: true,
            };
            let cluster = LocalCluster::new(&home, settings.clone()).unwrap();
            let c = cluster.clone();
            tokio::task::spawn_blocking(move || {
                c.ensure_started().unwrap();
                c.remove_when_process_exits(std::process::id()).unwrap();
            })
            .await
            .unwrap();
            let crm = Crm::open_local_with(&home, settings).await.unwrap();
            crm.close().await;
            cluster.url()
        })
        .await
}

/// A handle on the primary (one per test: pools belong to the test's runtime).
async fn connect() -> Crm {
    Crm::connect(primary().await).await.unwrap()
}

/// A new organization with its owner.
async fn org(crm: &Crm, name: &str) -> (OrgId, UserId) {
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let slug = format!("standby-{n}");
    let created = crm
        .create_organization(NewOrganization {
            name: name.into(),
            slug: Some(slug.clone()),
            owner_email: format!("owner@{slug}.test"),
            owner_first_name: "Olga".into(),
            owner_last_name: "Owner".into(),
            owner_password_hash: None,
        })
        .await
        .unwrap();
    (created.organization.id, created.owner_id)
}

impl Standby {
    /// Makes and starts a standby of the server at `url` in a folder of its own.
    fn start(url: &str, name: &str) -> Standby {
        let server = PgConnectOptions::from_str(url).unwrap();
        let data = server
            .get_socket()
            .expect("the throwaway cluster listens on a socket in its data folder")
            .to_path_buf();
        let version = std::fs::read_to_string(data.join("PG_VERSION")).unwrap();
        let bindir = PathBuf::from(format!("/usr/lib/postgresql/{}/bin", version.trim()));
        let bindir = if bindir.join("pg_basebackup").exists() {
            bindir
        } else {
            PathBuf::from("/usr/bin")
        };
        let meta = std::fs::metadata(&data).unwrap();
        let is_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
        let run_as = is_root.then(|| (meta.uid(), meta.gid()));
        let dir = std::env::temp_dir().join(format!("crm-standby-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
        }
        let standby = Standby {
            dir,
            port: server.get_port(),
            user: server.get_username().to_string(),
            run_as,
            bindir,
        };
        let out = standby.run(
            "pg_basebackup",
            &[
                "-D",
                &standby.data(),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "-h",
                &data.display().to_string(),
                "-p",
                &standby.port.to_string(),
                "-U",
                &standby.user,
            ],
        );
        assert!(
            out.status.success(),
            "pg_basebackup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Its own socket folder; replay feedback so long reads are not cancelled.
        let conf = format!(
            "\nunix_socket_directories = '{}'\nhot_standby = on\nhot_standby_feedback = on\n",
            standby.dir.display()
        );
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(standby.dir.join("data/postgresql.conf"))
            .unwrap();
        std::io::Write::write_all(&mut f, conf.as_bytes()).unwrap();
        let log = standby.dir.join("standby.log").display().to_string();
        let out = standby.run(
            "pg_ctl",
            &["-D", &standby.data(), "-l", &log, "-w", "start"],
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        // Stopped and removed when this test process exits.
        let mut watcher = Command::new("sh");
        watcher
            .arg("-c")
            .arg(format!(
                "while [ -d /proc/{me} ]; do sleep 1; done; \
                 '{pg_ctl}' -D '{data}' -m immediate stop; rm -rf '{dir}'",
                me = std::process::id(),
                pg_ctl = standby.bindir.join("pg_ctl").display(),
                data = standby.data(),
                dir = standby.dir.display(),
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((uid, gid)) = standby.run_as {
            watcher.uid(uid).gid(gid);
        }
        // It outlives this process by design: nobody waits for it.
        #[allow(clippy::zombie_processes)]
        watcher.spawn().expect("start the standby watcher");
        standby
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(self.bindir.join(program));
        cmd.args(args).stdin(Stdio::null()).current_dir("/");
        if let Some((uid, gid)) = self.run_as {
            cmd.uid(uid).gid(gid).env("HOME", "/");
        }
        cmd.output().unwrap()
    }

    fn stop(&self) {
        let out = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.dir)
            .port(self.port)
            .username(&self.user)
            .database(database)
    }

    fn url(&self, database: &str) -> String {
        format!(
            "postgresql:///{database}?host={}&port={}&user={}",
            self.dir.display(),
            self.port,
            self.user
        )
    }

    /// A superuser connection to `database` on the standby, once it has replayed the
    /// database's creation.
    async fn owner(&self, database: &str) -> PgConnection {
        let mut last = None;
        for _ in 0..200 {
            match PgConnection::connect_with(&self.options(database)).await {
                Ok(conn) => return conn,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the standby never showed database {database}: {last:?}\n{}",
            std::fs::read_to_string(self.dir.join("standby.log")).unwrap_or_default()
                + &format!(
                    "{:?}",
                    std::fs::read_dir(&self.dir)
                        .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
                )
                + &std::fs::read_to_string(self.dir.join("data/postgresql.auto.conf"))
                    .unwrap_or_default()
                + &String::from_utf8_lossy(
                    &self.run("pg_ctl", &["-D", &self.data(), "status"]).stdout
                )
        );
    }
}

fn available() -> bool {
    let found = Path::new("/usr/bin/pg_basebackup").exists()
        || std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| {
                d.flatten()
                    .any(|e| e.path().join("bin/pg_basebackup").exists())
            })
            .unwrap_or(false);
    if !found {
        eprintln!("\n!!! pg_basebackup is not installed: the standby tests are SKIPPED !!!\n");
    }
    found
}

async fn shared() -> &'static Standby {
    SHARED
        .get_or_init(|| async {
            let url = primary().await.to_string();
            tokio::task::spawn_blocking(move || Standby::start(&url, "shared"))
                .await
                .unwrap()
        })
        .await
}

/// A handle on the primary that reads from `standby`, collecting its warnings.
async fn with_standby(standby: &Standby) -> (Crm, Arc<Mutex<Vec<String>>>) {
    standby.owner(DATABASE).await.close().await.ok();
    let crm = connect()
        .await
        .with_read_replica(&standby.url(DATABASE))
        .await
        .unwrap();
    let warnings = Arc::new(Mutex::new(Vec::new()));
    let sink = warnings.clone();
    crm.on_warning(Arc::new(move |w: &str| {
        sink.lock().unwrap().push(w.to_string())
    }));
    (crm, warnings)
}

async fn add_contact(scope: &Scope, last: &str) {
    scope
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    first_name: "Anna".into(),
                    last_name: last.into(),
                    ..NewContact::default()
                },
            )
            .await
        })
        .await
        .unwrap();
}

/// Whether a read transaction of `scope` ran on a standby, and the contacts it saw.
async fn read(scope: &Scope) -> (bool, Vec<String>) {
    let mut tx = scope.begin_read().await.unwrap();
    let on_standby: bool = sqlx::query_scalar("select pg_is_in_recovery()")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    let names = sqlx::query_scalar("select last_name from contacts order by 1")
        .fetch_all(tx.conn())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    (on_standby, names)
}

#[tokio::test]
async fn exports_reports_and_search_read_from_the_standby_and_writes_go_to_the_primary() {
    if !available() {
        return;
    }
    let _turn = TURNS.lock().await;
    let standby = shared().await;
    let (crm, warnings) = with_standby(standby).await;
    let (org, owner) = org(&crm, "Lesen GmbH").await;
    let scope = crm.scope(org, owner);
    add_contact(&scope, "Müller").await;
    // The write ran on the primary.
    let mut tx = scope.begin().await.unwrap();
    let primary: bool = sqlx::query_scalar("select pg_is_in_recovery()")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert!(!primary);
    tx.rollback().await.unwrap();
    // The read runs on the standby and sees the write (read-your-writes: it waits for
    // nothing here, the standby has replayed it or the read would have gone elsewhere).
    let mut seen = (false, Vec::new());
    for _ in 0..100 {
        seen = read(&scope).await;
        if seen.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(seen, (true, vec!["Müller".to_string()]));
    // An export, a report and a search, each in a read transaction on the standby.
    let mut tx = scope.begin_read().await.unwrap();
    let on_standby: bool = sqlx::query_scalar("select pg_is_in_recovery()")
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert!(on_standby, "{:?}", warnings.lock().unwrap());
    let mut csv = Vec::new();
    let n = crm_core::export::export(
        &mut tx,
        crm_core::export::ExportKind::Contacts,
        crm_core::export::ExportFormat::Csv,
        &Default::default(),
        &mut csv,
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    assert!(String::from_utf8(csv).unwrap().contains("Müller"));
    crm_core::report::pipeline_summary(&mut tx, None)
        .await
        .unwrap();
    let hits = crm_core::search::search(&mut tx, "Mueller", 10)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    tx.commit().await.unwrap();
    assert!(crm.read_routing().on_replica >= 2);
}

#[tokio::test]
async fn a_scope_reads_its_own_write_while_the_standby_has_not_replayed_it() {
    if !available() {
        return;
    }
    let _turn = TURNS.lock().await;
    let standby = shared().await;
    let (crm, warnings) = with_standby(standby).await;
    let (org, owner) = org(&crm, "Eigen GmbH").await;
    let scope = crm.scope(org, owner);
    let mut control = standby.owner(DATABASE).await;
    sqlx::query("select pg_wal_replay_pause()")
        .execute(&mut control)
        .await
        .unwrap();
    add_contact(&scope, "Frisch").await;
    let (on_standby, names) = read(&scope).await;
    sqlx::query("select pg_wal_replay_resume()")
        .execute(&mut control)
        .await
        .unwrap();
    assert_eq!((on_standby, names), (false, vec!["Frisch".to_string()]));
    let w = warnings.lock().unwrap().clone();
    assert!(w.iter().any(|w| w.contains("not yet replayed")), "{w:?}");
    // Once replayed, reads go back to the standby.
    let mut back = false;
    for _ in 0..100 {
        if read(&scope).await.0 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(back, "reads never returned to the standby");
}

#[tokio::test]
async fn a_lagging_standby_leaves_the_reads_to_the_primary_with_a_warning() {
    if !available() {
        return;
    }
    let _turn = TURNS.lock().await;
    let standby = shared().await;
    let (crm, warnings) = with_standby(standby).await;
    let crm = crm.with_replica_max_lag(Duration::ZERO);
    let (org, owner) = org(&crm, "Spaet GmbH").await;
    let mut control = standby.owner(DATABASE).await;
    sqlx::query("select pg_wal_replay_pause()")
        .execute(&mut control)
        .await
        .unwrap();
    // Written by another handle: only the lag, not read-your-writes, can send the read
    // elsewhere. Wait until the standby has received more than it replayed.
    add_contact(&connect().await.scope(org, owner), "Anderswo").await;
    let mut behind = false;
    for _ in 0..200 {
        behind = sqlx::query_scalar("select pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()")
            .fetch_one(&mut control)
            .await
            .unwrap();
        if behind {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let result = read(&crm.scope(org, owner)).await;
    sqlx::query("select pg_wal_replay_resume()")
        .execute(&mut control)
        .await
        .unwrap();
    assert!(behind, "the standby never received the write");
    assert_eq!(result, (false, vec!["Anderswo".to_string()]));
    let w = warnings.lock().unwrap().clone();
    assert!(w.iter().any(|w| w.contains("lags")), "{w:?}");
    assert_eq!(crm.read_routing().on_primary, 1);
}

#[tokio::test]
async fn a_standby_that_goes_down_leaves_the_reads_to_the_primary_with_a_warning() {
    if !available() {
        return;
    }
    let _turn = TURNS.lock().await;
    let url = primary().await.to_string();
    let own = tokio::task::spawn_blocking(move || Standby::start(&url, "down"))
        .await
        .unwrap();
    let (crm, warnings) = with_standby(&own).await;
    let (org, owner) = org(&crm, "Ausfall GmbH").await;
    let scope = crm.scope(org, owner);
    add_contact(&scope, "Bleibt").await;
    tokio::task::spawn_blocking(move || own.stop())
        .await
        .unwrap();
    // No error for the user: the read goes to the primary, twice (the second skips the
    // standby without waiting again).
    for _ in 0..2 {
        assert_eq!(read(&scope).await, (false, vec!["Bleibt".to_string()]));
    }
    let w = warnings.lock().unwrap().clone();
    assert!(w.iter().any(|w| w.contains("unreachable")), "{w:?}");
}

/// Replica lag while a large contact import runs on the primary, and the standby catching
/// up afterwards. Ignored by default (it is slow); run with
/// `CRM_LAG_ROWS=100000 cargo test -p crm-core --test it -- --ignored standby::replica_lag`
/// to print the figures (the issue asks for them at 1M rows).
#[tokio::test]
#[ignore]
async fn replica_lag_during_a_large_import() {
    if !available() {
        return;
    }
    let _turn = TURNS.lock().await;
    let standby = shared().await;
    let (crm, _) = with_standby(standby).await;
    let rows: usize = std::env::var("CRM_LAG_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let (org, owner) = org(&crm, "Gross GmbH").await;
    let mut csv = String::from("first_name,last_name,email,city\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "Vorname{i},Nachname{i},person{i}@gross.example,Stadt{}\n",
            i % 100
        ));
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        let mut primary =
            PgConnection::connect_with(&PgConnectOptions::from_str(primary().await).unwrap())
                .await
                .unwrap();
        let mut replica = standby.owner(DATABASE).await;
        tokio::spawn(async move {
            let (mut max_bytes, mut max_secs, mut samples) = (0i64, 0f64, 0u32);
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let p: i64 = sqlx::query_scalar(
                    "select (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint",
                )
                .fetch_one(&mut primary)
                .await
                .unwrap();
                let (r, secs): (i64, f64) = sqlx::query_as(
                    "select (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, \
                            coalesce(case when pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() \
                                          then 0 else extract(epoch from now() \
                                               - pg_last_xact_replay_timestamp()) end, 0)::float8",
                )
                .fetch_one(&mut replica)
                .await
                .unwrap();
                max_bytes = max_bytes.max(p - r);
                max_secs = max_secs.max(secs);
                samples += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (max_bytes, max_secs, samples)
        })
    };
    let started = std::time::Instant::now();
    let summary = crm_core::import::contacts::import_contacts(
        &crm.scope(org, owner),
        csv.as_bytes(),
        &crm_core::import::ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    let took = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let (max_bytes, max_secs, samples) = sampler.await.unwrap();
    assert_eq!(summary.created as usize, rows);
    // The standby catches up: a read of the importing scope returns to it and sees all.
    let caught_up = std::time::Instant::now();
    let mut seen = (false, 0i64);
    for _ in 0..600 {
        let mut tx = crm.scope(org, owner).begin_read().await.unwrap();
        seen = sqlx::query_as("select pg_is_in_recovery(), count(*) from contacts")
            .fetch_one(tx.conn())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        if seen.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, (true, rows as i64));
    eprintln!(
        "replica lag during a {rows}-row import ({:.1} s): max {:.1} MB behind, max {:.2} s \
         replay lag, {samples} samples; caught up {:.2} s after the import",
        took.as_secs_f64(),
        max_bytes as f64 / 1e6,
        max_secs,
        caught_up.elapsed().as_secs_f64()
    );
}
