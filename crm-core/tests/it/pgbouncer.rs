//! The library through a real PgBouncer in transaction mode (issue 20): every transaction may
//! land on another server connection, and a server connection serves many clients in turn.
//!
//! One `pgbouncer` per test process, on a private Unix socket in front of the test cluster,
//! with two server connections per database (so clients share them). CI installs the
//! Debian package; where the binary is missing locally the tests say so loudly and pass.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr as _;
use std::sync::OnceLock;
use std::time::Duration;

use crm_core::events::EventStream;
use crm_core::store::contact::{self, NewContact};
use crm_core::testing::TestDb;
use crm_core::{Crm, Error, gdpr};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, Executor as _};

struct Bouncer {
    dir: PathBuf,
    port: u16,
    _child: Child,
}

static BOUNCER: OnceLock<Option<Bouncer>> = OnceLock::new();

fn binary() -> Option<PathBuf> {
    [
        "/usr/sbin/pgbouncer",
        "/usr/bin/pgbouncer",
        "/usr/local/bin/pgbouncer",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Starts PgBouncer in front of the server of `db` (once per process).
fn bouncer(db: &TestDb) -> Option<&'static Bouncer> {
    BOUNCER
        .get_or_init(|| {
            let Some(bin) = binary() else {
                eprintln!(
                    "\n!!! pgbouncer is not installed: the PgBouncer tests are SKIPPED \
                     (apt-get install pgbouncer; CI installs it) !!!\n"
                );
                return None;
            };
            let server = PgConnectOptions::from_str(&db.url()).unwrap();
            let (host, server_port) = match server.get_socket() {
                Some(dir) => (dir.display().to_string(), server.get_port()),
                None => (server.get_host().to_string(), server.get_port()),
            };
            let dir = std::env::temp_dir().join(format!("crm-pgbouncer-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let port = 20000 + (std::process::id() % 20000) as u16;
            std::fs::write(dir.join("users.txt"), "\"crm_app\" \"\"\n").unwrap();
            std::fs::write(
                dir.join("pgbouncer.ini"),
                format!(
                    "[databases]\n* = host={host} port={server_port}\n\n[pgbouncer]\n\
                     listen_addr =\nlisten_port = {port}\nunix_socket_dir = {dir}\n\
                     auth_type = trust\nauth_file = {dir}/users.txt\n\
                     pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 200\n\
                     server_reset_query = DISCARD ALL\nserver_reset_query_always = 1\n\
                     ignore_startup_parameters = extra_float_digits,options\n\
                     logfile = {dir}/pgbouncer.log\npidfile = {dir}/pgbouncer.pid\n",
                    port = port,
                    dir = dir.display(),
                ),
            )
            .unwrap();
            let mut cmd = Command::new(bin);
            cmd.arg(dir.join("pgbouncer.ini"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // PgBouncer will not run as root: run it as the server's own system user.
            if let Some(sock) = server.get_socket() {
                let owner = std::fs::metadata(sock).unwrap();
                if std::fs::metadata("/proc/self").unwrap().uid() == 0 {
                    std::os::unix::fs::chown(&dir, Some(owner.uid()), Some(owner.gid())).unwrap();
                    for f in ["users.txt", "pgbouncer.ini"] {
                        std::os::unix::fs::chown(dir.join(f), Some(owner.uid()), Some(owner.gid()))
                            .unwrap();
                    }
                    std::os::unix::process::CommandExt::uid(&mut cmd, owner.uid());
                    std::os::unix::process::CommandExt::gid(&mut cmd, owner.gid());
                }
            }
            let child = cmd.spawn().expect("start pgbouncer");
            // Stopped (and its folder removed) when this test process exits: the watcher
            // outlives this process by design, nobody waits for it.
            #[allow(clippy::zombie_processes)]
            Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "while [ -d /proc/{me} ]; do sleep 1; done; kill {child}; sleep 1; \
                     rm -rf '{dir}'",
                    me = std::process::id(),
                    child = child.id(),
                    dir = dir.display()
                ))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start the pgbouncer watcher");
            let socket = dir.join(format!(".s.PGSQL.{port}"));
            for _ in 0..100 {
                if socket.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            assert!(socket.exists(), "pgbouncer did not start: {}", log(&dir));
            Some(Bouncer {
                dir,
                port,
                _child: child,
            })
        })
        .as_ref()
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("pgbouncer.log")).unwrap_or_default()
}

/// `db` through PgBouncer as the application role (made a login role for it).
async fn pooled(db: &TestDb) -> Option<Crm> {
    let b = bouncer(db)?;
    let mut owner = db.owner().await;
    // The role belongs to the cluster, not to the test's database: altered once per test
    // process. Two tests altering it at once failed with "tuple concurrently updated".
    static APP_ROLE_LOGIN: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    APP_ROLE_LOGIN
        .get_or_init(|| async {
            owner.execute("alter role crm_app login").await.unwrap();
        })
        .await;
    owner
        .execute(sqlx::AssertSqlSafe(format!(
            "grant connect on database {} to crm_app",
            db.name
        )))
        .await
        .unwrap();
    let options = PgConnectOptions::new()
        .socket(&b.dir)
        .port(b.port)
        .username("crm_app")
        .database(&db.name);
    Some(
        Crm::connect_pooled_with(options)
            .await
            .unwrap_or_else(|e| panic!("connect through pgbouncer: {e}\n{}", log(&b.dir))),
    )
}

async fn add_contact(scope: &crm_core::Scope, first: &str, last: &str, email: Option<&str>) {
    scope
        .run(async |tx| {
            contact::create(
                tx,
                NewContact {
                    first_name: first.into(),
                    last_name: last.into(),
                    email: email.map(Into::into),
                    ..NewContact::default()
                },
            )
            .await
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn a_transactions_tenant_never_reaches_the_next_client_of_a_server_connection() {
    let db = TestDb::new().await;
    let Some(crm) = pooled(&db).await else { return };
    let (a, a_owner) = db.org("Erste GmbH").await;
    add_contact(&db.crm.scope(a, a_owner), "Anna", "Ahrens", None).await;
    // Client 1 works in organization A, client 2 (another handle: another client
    // connection) opens a transaction that names no tenant. With two server connections,
    // client 2 must land on the one client 1 used in some round: it then sees nothing.
    let other = pooled(&db).await.unwrap();
    let mut shared = false;
    for _ in 0..10 {
        let mut tx = crm.scope(a, a_owner).begin().await.unwrap();
        let (pid, seen): (i32, i64) =
            sqlx::query_as("select pg_backend_pid(), (select count(*) from contacts)")
                .fetch_one(tx.conn())
                .await
                .unwrap();
        assert_eq!(seen, 1);
        tx.commit().await.unwrap();
        let mut conn = other.pool().acquire().await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        let (next_pid, org, n): (i32, Option<String>, i64) = sqlx::query_as(
            "select pg_backend_pid(), current_setting('crm.org_id', true), \
                    (select count(*) from contacts)",
        )
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!((org.unwrap_or_default(), n), (String::new(), 0));
        shared |= next_pid == pid;
    }
    assert!(shared, "the two clients never shared a server connection");
}

#[tokio::test]
async fn tenancy_holds_through_the_pooler() {
    let db = TestDb::new().await;
    let Some(crm) = pooled(&db).await else { return };
    let (a, a_owner) = db.org("Alpha GmbH").await;
    let (b, b_owner) = db.org("Beta AG").await;
    // Writes and reads through PgBouncer, many transactions interleaved on two servers.
    for i in 0..5 {
        add_contact(&crm.scope(a, a_owner), "Anna", &format!("Alpha{i}"), None).await;
        add_contact(&crm.scope(b, b_owner), "Bert", &format!("Beta{i}"), None).await;
    }
    for (org, owner, prefix) in [(a, a_owner, "Alpha"), (b, b_owner, "Beta")] {
        let mut tx = crm.scope(org, owner).begin_read().await.unwrap();
        // No org filter: row-level security confines it to the transaction's tenant.
        let names: Vec<String> = sqlx::query_scalar("select last_name from contacts")
            .fetch_all(tx.conn())
            .await
            .unwrap();
        assert_eq!(names.len(), 5);
        assert!(names.iter().all(|n| n.starts_with(prefix)), "{names:?}");
    }
    // A user of organization B cannot act in A.
    let err = crm.scope(a, b_owner).begin().await.unwrap_err();
    assert!(matches!(err, Error::Tenancy(_)), "{err:?}");
}

#[tokio::test]
async fn a_privileged_user_is_refused_behind_the_pooler() {
    let db = TestDb::new().await;
    let Some(b) = bouncer(&db) else { return };
    // The pooler's users file names crm_app only; a superuser URL straight to the server
    // stands for a privileged user through a pooler: the role switch could not be kept.
    let _ = b;
    let err = Crm::connect_pooled(&db.url()).await.unwrap_err();
    assert!(
        matches!(&err, Error::Unavailable(m) if m.contains("crm_app")),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_contact_import_runs_through_the_pooler() {
    let db = TestDb::new().await;
    let Some(crm) = pooled(&db).await else { return };
    let (org, owner) = db.org("Import GmbH").await;
    let mut csv = String::from("first_name,last_name,email\n");
    for i in 0..300 {
        csv.push_str(&format!(
            "Vorname{i},Nachname{i},person{i}@import.example\n"
        ));
    }
    let summary = crm_core::import::contacts::import_contacts(
        &crm.scope(org, owner),
        csv.as_bytes(),
        &crm_core::import::ImportOptions::default(),
        None,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(summary.created, 300, "{summary:?}");
    let mut tx = crm.scope(org, owner).begin_read().await.unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from contact_email_list where org_id = $1")
        .bind(org)
        .fetch_one(tx.conn())
        .await
        .unwrap();
    assert_eq!(n, 300);
}

#[tokio::test]
async fn an_erasure_runs_through_the_pooler() {
    let db = TestDb::new().await;
    let Some(crm) = pooled(&db).await else { return };
    let (org, owner) = db.org("Loesch GmbH").await;
    let scope = crm.scope(org, owner);
    add_contact(&scope, "Erika", "Gelöscht", Some("erika@loesch.example")).await;
    add_contact(&scope, "Bleibt", "Da", Some("bleibt@loesch.example")).await;
    let receipt = scope
        .run(async |tx| gdpr::erase(tx, "erika@loesch.example", false).await)
        .await
        .unwrap();
    assert_eq!(receipt.counts.contacts, 1);
    let mut tx = scope.begin_read().await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("select last_name from contacts where org_id = $1")
        .bind(org)
        .fetch_all(tx.conn())
        .await
        .unwrap();
    assert_eq!(names, ["Da"]);
}

#[tokio::test]
async fn the_event_stream_works_through_the_pooler_by_polling_or_a_session_url() {
    let db = TestDb::new().await;
    let Some(crm) = pooled(&db).await else { return };
    let (org, owner) = db.org("Strom GmbH").await;
    // Without a session URL: no LISTEN (PgBouncer would drop it), the stream polls.
    let mut polled = EventStream::open(crm.scope(org, owner), 0).await.unwrap();
    let first = polled.next_batch(Duration::from_secs(1)).await.unwrap();
    assert!(first.iter().any(|e| e.topic == "organization.created"));
    // With one: LISTEN on the direct connection, reads through the pooler.
    let with_session = crm.clone().with_session_url(&db.url()).unwrap();
    let mut listening = EventStream::open(with_session.scope(org, owner), polled.position())
        .await
        .unwrap();
    add_contact(&crm.scope(org, owner), "Neu", "Kontakt", None).await;
    for stream in [&mut polled, &mut listening] {
        let mut got = Vec::new();
        for _ in 0..20 {
            got = stream.next_batch(Duration::from_secs(5)).await.unwrap();
            if !got.is_empty() {
                break;
            }
        }
        assert!(got.iter().any(|e| e.topic == "contact.created"), "{got:?}");
    }
}
