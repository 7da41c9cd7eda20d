//! Test support (feature `testing`): a throwaway PostgreSQL cluster per test process, started
//! from the machine's server binaries, and a fresh migrated database per test, cloned from a
//! template so it is fast.
//!
//! If `CRM_TEST_DATABASE_URL` is set, that server is used instead of a throwaway cluster
//! (its user must be allowed to create databases and roles).

use std::str::FromStr as _;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection as _, Executor as _, PgConnection};

use crate::db::{Crm, MIGRATOR};
use crate::local::{ClusterSettings, LocalCluster};
use crate::org::NewOrganization;
use crate::{OrgId, UserId};

struct Server {
    admin: PgConnectOptions,
    template: String,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
static NEXT: AtomicU32 = AtomicU32::new(0);

fn server() -> &'static Server {
    let server = SERVER.get_or_init(|| {
        // Started on a thread of its own: callers may be inside an async runtime.
        std::thread::spawn(start_server)
            .join()
            .unwrap_or_else(|_| Err("setup panicked".into()))
    });
    match server {
        Ok(s) => s,
        Err(e) => panic!("test database server unavailable: {e}"),
    }
}

fn start_server() -> Result<Server, String> {
    let pid = std::process::id();
    let admin = match std::env::var("CRM_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            PgConnectOptions::from_str(&url).map_err(|e| e.to_string())?
        }
        _ => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let home = std::env::temp_dir().join(format!("crm-test-{pid}-{nanos}"));
            let settings = ClusterSettings {
                memory: crate::local::Tuning::small(),
                throwaway: true,
            };
            let cluster = LocalCluster::new(&home, settings).map_err(|e| e.to_string())?;
            cluster.ensure_started().map_err(|e| e.to_string())?;
            cluster
                .remove_when_process_exits(pid)
                .map_err(|e| e.to_string())?;
            cluster.connect_options("postgres")
        }
    };
    let template = format!("crm_tpl_{pid}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .map_err(|e| e.to_string())?;
        conn.execute(sqlx::AssertSqlSafe(format!(
            "drop database if exists {template}"
        )))
        .await
        .map_err(|e| e.to_string())?;
        conn.execute(sqlx::AssertSqlSafe(format!("create database {template}")))
            .await
            .map_err(|e| e.to_string())?;
        conn.close().await.ok();
        let mut tpl = PgConnection::connect_with(&admin.clone().database(&template))
            .await
            .map_err(|e| e.to_string())?;
        MIGRATOR
            .run(&mut tpl)
            .await
            .map_err(|e| format!("migrating the template: {e}"))?;
        tpl.close().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(())
    })?;
    Ok(Server { admin, template })
}

/// A fresh, migrated database of its own for one test.
#[derive(Debug)]
pub struct TestDb {
    /// A handle on it.
    pub crm: Crm,
    /// The database's name.
    pub name: String,
    options: PgConnectOptions,
}

impl TestDb {
    /// Creates the database (cloned from the migrated template) and connects to it.
    pub async fn new() -> TestDb {
        let server = server();
        let name = format!(
            "crm_t_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut conn = PgConnection::connect_with(&server.admin)
            .await
            .expect("connect to the test server");
        let sql = format!("create database {name} template {}", server.template);
        let mut tries = 0;
        loop {
            match conn.execute(sqlx::AssertSqlSafe(sql.clone())).await {
                Ok(_) => break,
                // The template is briefly in use by a concurrent clone: retry.
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(50 + 20 * tries)).await;
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        conn.close().await.ok();
        let options = server.admin.clone().database(&name);
        let crm = Crm::connect_with(options.clone())
            .await
            .expect("connect to the test database");
        TestDb { crm, name, options }
    }

    /// A libpq-style URL of this database, for processes under test (`crm --database-url`).
    pub fn url(&self) -> String {
        let o = &self.options;
        let user = o.get_username();
        match o.get_socket() {
            Some(dir) => format!(
                "postgresql:///{}?host={}&user={user}",
                self.name,
                dir.display()
            ),
            None => format!(
                "postgresql://{user}@{}:{}/{}",
                o.get_host(),
                o.get_port(),
                self.name
            ),
        }
    }

    /// A connection as the owner (superuser in the throwaway cluster): bypasses row-level
    /// security, for tests that tamper with data or inspect the catalog.
    pub async fn owner(&self) -> PgConnection {
        PgConnection::connect_with(&self.options)
            .await
            .expect("owner connection")
    }

    /// Creates an organization named `name` with an owner `owner@<slug>.test`, returning
    /// its id and the owner's id.
    pub async fn org(&self, name: &str) -> (OrgId, UserId) {
        let slug = crate::org::slugify(name);
        let created = self
            .crm
            .create_organization(NewOrganization {
                name: name.into(),
                slug: Some(slug.clone()),
                owner_email: format!("owner@{slug}.test"),
                owner_first_name: "Olga".into(),
                owner_last_name: "Owner".into(),
                owner_password_hash: None,
            })
            .await
            .expect("create organization");
        (created.organization.id, created.owner_id)
    }
}
