//! The [`Crm`] handle: a pool of connections working as the application role, plus the
//! migrations.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

/// Connection options (re-exported so front-ends need no sqlx dependency).
pub use sqlx::postgres::PgConnectOptions;
use sqlx::postgres::PgPoolOptions;
use sqlx::{ConnectOptions as _, Connection as _, Executor as _, PgConnection, PgPool};

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::ids::{OrgId, UserId};
use crate::local::{ClusterSettings, LocalCluster};
use crate::replica::{ReplicaState, WarningSink};
use crate::tenancy::Scope;

/// The migrations in `migrations/`, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Migrations whose file landed in two forms, as (version, SHA-384 of the other form): a
/// database migrated while that form was on main holds its checksum, which the migrator
/// would reject as an edited migration. Both forms leave the same schema once the later
/// migrations have run (`20261204015000` redefines `crm_fold` in PL/pgSQL, `20261205030000`
/// holds the second dictionary look), so the recorded checksum is brought to the present
/// file's. Any other difference is still refused.
const EARLIER_FORMS: &[(i64, &str)] = &[
    (
        20261204010000,
        "4b48d55d41d143993c7e20d0ae0b0bc3035783116ce133e02058f9de588a061f9fe1ad7a7e2cb4942b0691b56f266446",
    ),
    (
        20261204020000,
        "cde6f7f3e404676181405daf406ae3b3f8fd87c2ddf5da1e4896ba6b7c7ea262671bd51be07c9f74a9dc8d779899fabd",
    ),
];

/// Records the present checksum for migrations applied in a form of [`EARLIER_FORMS`].
async fn accept_earlier_forms(conn: &mut PgConnection) -> Result<()> {
    let exists: bool =
        sqlx::query_scalar("select to_regclass('public._sqlx_migrations') is not null")
            .fetch_one(&mut *conn)
            .await?;
    if !exists {
        return Ok(());
    }
    for (version, earlier) in EARLIER_FORMS {
        let Some(present) = MIGRATOR.iter().find(|m| m.version == *version) else {
            continue;
        };
        sqlx::query(
            "update _sqlx_migrations set checksum = $3 \
             where version = $1 and checksum = decode($2, 'hex')",
        )
        .bind(version)
        .bind(earlier)
        .bind(present.checksum.as_ref())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// How far a read replica may lag by default before reads go to the primary.
pub const DEFAULT_MAX_LAG: Duration = Duration::from_secs(30);

/// The role all CRM work runs as: it owns no table and cannot bypass row-level security.
pub const APP_ROLE: &str = "crm_app";

/// A cheap-to-clone handle to the CRM's database.
///
/// Every connection of the pool switches to the [`APP_ROLE`] when it is opened, so the
/// tenant policies apply even when the configured user is a superuser (as in the local
/// cluster). Work happens in a [`Scope`] that names the organization and the actor.
#[derive(Clone, Debug)]
pub struct Crm {
    pool: PgPool,
    options: PgConnectOptions,
    /// A pool on a read replica for read-only work, when one is configured.
    read_pool: Option<PgPool>,
    /// Whether the primary's URL goes through a transaction-mode pooler (PgBouncer):
    /// no statement cache, no session state.
    pooled: bool,
    /// A direct (session) connection's options, for what a transaction pooler cannot keep:
    /// LISTEN and session-level advisory locks.
    session: Option<PgConnectOptions>,
    /// Read routing, read-your-writes and warnings, shared by this handle's clones.
    replica: Arc<ReplicaState>,
    /// How far the replica may lag before reads go to the primary.
    max_lag: Duration,
}

impl Crm {
    /// Connects to the server at `url` (a `postgres://` URL) without migrating.
    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            Error::Unavailable(format!(
                "the database URL is not valid: {}",
                redact_url_error(&e)
            ))
        })?;
        Self::connect_with(options).await
    }

    /// Connects with explicit options without migrating. Fails early when the server
    /// cannot be reached; pooled connections are opened on demand.
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self> {
        let options = options.disable_statement_logging();
        // Reachability check as the configured user (the app role may not exist before the
        // first migration).
        PgConnection::connect_with(&options)
            .await
            .map_err(|e| unavailable(&e))?
            .close()
            .await
            .ok();
        let pool = app_pool(&options, true);
        Ok(Self {
            pool,
            options,
            read_pool: None,
            pooled: false,
            session: None,
            replica: Arc::default(),
            max_lag: DEFAULT_MAX_LAG,
        })
    }

    /// Connects through a transaction-mode pooler such as PgBouncer at `url`, where each
    /// transaction may run on another server connection. Nothing the library relies on may
    /// outlive a transaction there, so this handle
    ///
    /// - keeps no prepared statements between transactions (no statement cache; the pooler
    ///   must clear server connections after each transaction: PgBouncer's
    ///   `server_reset_query = DISCARD ALL` with `server_reset_query_always = 1`, or
    ///   PgBouncer 1.21+ with `max_prepared_statements`),
    /// - does not switch roles per connection (a session-level `SET ROLE` would stay on
    ///   whichever server ran it): the URL's user must itself be held by row-level security,
    ///   so a superuser or `BYPASSRLS` user is refused ([`Error::Unavailable`]); connect as
    ///   [`APP_ROLE`] (`alter role crm_app login password '...'`),
    /// - listens for events and takes the Lexware sync's lock only on the direct connection
    ///   named by [`Crm::with_session_url`]; without one, event streams poll.
    ///
    /// The tenant is set per transaction (`set local`), so it never reaches the next client
    /// of a server connection. Migrations, backups and `crm db` administration need the
    /// schema owner on a direct connection.
    pub async fn connect_pooled(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            Error::Unavailable(format!(
                "the database URL is not valid: {}",
                redact_url_error(&e)
            ))
        })?;
        Self::connect_pooled_with(options).await
    }

    /// [`Crm::connect_pooled`] with explicit options.
    pub async fn connect_pooled_with(options: PgConnectOptions) -> Result<Self> {
        let options = options
            .disable_statement_logging()
            .statement_cache_capacity(0);
        let mut conn = PgConnection::connect_with(&options)
            .await
            .map_err(|e| unavailable(&e))?;
        let privileged: Option<bool> = sqlx::raw_sql(
            "select rolsuper or rolbypassrls from pg_roles where rolname = current_user",
        )
        .fetch_optional(&mut conn)
        .await?
        .map(|row| sqlx::Row::get(&row, 0));
        conn.close().await.ok();
        if privileged != Some(false) {
            return Err(Error::Unavailable(format!(
                "through a transaction pooler the library cannot switch roles per connection, \
                 and the configured user bypasses row-level security; connect as '{APP_ROLE}' \
                 (or another login role without BYPASSRLS that is a member of it)"
            )));
        }
        let pool = app_pool(&options, false);
        Ok(Self {
            pool,
            options,
            read_pool: None,
            pooled: true,
            session: None,
            replica: Arc::default(),
            max_lag: DEFAULT_MAX_LAG,
        })
    }

    /// This handle with a direct (session-mode) connection at `url` for what a transaction
    /// pooler cannot keep: LISTEN for event streams and the Lexware sync's advisory lock.
    /// Needed only with [`Crm::connect_pooled`]; any user may be named (neither reads a
    /// table).
    pub fn with_session_url(self, url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| {
                Error::Unavailable(format!(
                    "the session URL is not valid: {}",
                    redact_url_error(&e)
                ))
            })?
            .disable_statement_logging();
        Ok(Self {
            session: Some(options),
            ..self
        })
    }

    /// This handle with reads leaving the replica for the primary when it lags more than
    /// `max_lag` ([`DEFAULT_MAX_LAG`] unless set).
    pub fn with_replica_max_lag(self, max_lag: Duration) -> Self {
        Self { max_lag, ..self }
    }

    /// Sends the library's warnings (a read served by the primary in the replica's place)
    /// to `sink`, for every clone of this handle. Front-ends print them on stderr.
    pub fn on_warning(&self, sink: WarningSink) {
        self.replica.set_sink(sink);
    }

    /// Whether a read replica is configured.
    pub fn has_read_replica(&self) -> bool {
        self.read_pool.is_some()
    }

    pub(crate) fn replica_state(&self) -> &ReplicaState {
        &self.replica
    }

    pub(crate) fn replica_pool(&self) -> Option<&PgPool> {
        self.read_pool.as_ref()
    }

    pub(crate) fn replica_max_lag(&self) -> Duration {
        self.max_lag
    }

    /// Whether this handle works through a transaction pooler ([`Crm::connect_pooled`]).
    pub fn is_pooled(&self) -> bool {
        self.pooled
    }

    /// Options of a connection that keeps session state (LISTEN, advisory locks): the
    /// session URL when one is set, else the primary's unless it is pooled.
    pub(crate) fn session_options(&self) -> Option<PgConnectOptions> {
        match (&self.session, self.pooled) {
            (Some(o), _) => Some(o.clone()),
            (None, false) => Some(self.options.clone()),
            (None, true) => None,
        }
    }

    /// This handle with a second pool on a read replica at `url` (a `postgres://` URL),
    /// which [`Scope::begin_read`] uses for read-only transactions: exports, reports and
    /// search, which can then leave the primary to the writes. Writes always go to the
    /// primary. A read goes to the primary instead, with a warning ([`Crm::on_warning`]),
    /// when the replica is down, lags more than [`Crm::with_replica_max_lag`], or has not
    /// yet replayed a write this handle committed (read-your-writes): see
    /// [`crate::replica`]. Fails early when the replica cannot be reached now.
    pub async fn with_read_replica(self, url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| {
                Error::Unavailable(format!(
                    "the read replica URL is not valid: {}",
                    redact_url_error(&e)
                ))
            })?
            .disable_statement_logging();
        PgConnection::connect_with(&options)
            .await
            .map_err(|e| unavailable(&e))?
            .close()
            .await
            .ok();
        let options = if self.pooled {
            options.statement_cache_capacity(0)
        } else {
            options
        };
        Ok(Self {
            read_pool: Some(app_pool(&options, !self.pooled)),
            ..self
        })
    }

    /// The pool for read-only work: the read replica's when one is configured
    /// ([`Crm::with_read_replica`]), else the primary's. Public only with the `testing`
    /// feature: embedders work through scopes.
    #[cfg(feature = "testing")]
    pub fn read_pool(&self) -> &PgPool {
        self.read_pool.as_ref().unwrap_or(&self.pool)
    }

    /// Opens the local cluster in `home` (creating and starting it if needed), connects to
    /// its CRM database and applies pending migrations.
    pub async fn open_local(home: &Path) -> Result<Self> {
        Self::open_local_with(home, ClusterSettings::default()).await
    }

    /// [`Crm::open_local`] with explicit cluster settings.
    pub async fn open_local_with(home: &Path, settings: ClusterSettings) -> Result<Self> {
        let cluster = LocalCluster::new(home, settings)?;
        let c = cluster.clone();
        tokio::task::spawn_blocking(move || c.ensure_started())
            .await
            .map_err(|e| Error::Unavailable(format!("starting the local cluster failed: {e}")))??;
        ensure_database(cluster.connect_options("postgres"), crate::local::DATABASE).await?;
        let crm = Self::connect_with(cluster.connect_options(crate::local::DATABASE)).await?;
        crm.migrate().await?;
        Ok(crm)
    }

    /// Applies pending migrations. They run as the configured (owner) user, not as the
    /// application role; concurrent callers are serialised by an advisory lock. A
    /// migration applied in an earlier landed form of its file ([`EARLIER_FORMS`]) is
    /// taken as applied in the present one.
    pub async fn migrate(&self) -> Result<()> {
        let mut conn = self.owner_connection().await?;
        accept_earlier_forms(&mut conn).await?;
        MIGRATOR
            .run(&mut conn)
            .await
            .map_err(|e| Error::Database(format!("migration failed: {e}")))?;
        conn.close().await.ok();
        Ok(())
    }

    /// Lists the migrations and whether each is applied.
    pub async fn migration_status(&self) -> Result<Vec<MigrationStatus>> {
        let mut conn = self.owner_connection().await?;
        let table_exists: bool =
            sqlx::query_scalar("select to_regclass('public._sqlx_migrations') is not null")
                .fetch_one(&mut conn)
                .await?;
        let applied: Vec<(i64, chrono::DateTime<chrono::Utc>)> = if table_exists {
            sqlx::query_as("select version, installed_on from _sqlx_migrations where success")
                .fetch_all(&mut conn)
                .await?
        } else {
            Vec::new()
        };
        Ok(MIGRATOR
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| MigrationStatus {
                version: m.version,
                description: m.description.to_string(),
                applied_at: applied
                    .iter()
                    .find(|(v, _)| *v == m.version)
                    .map(|(_, t)| *t),
            })
            .collect())
    }

    /// A scope that works in organization `org` as user `actor`.
    pub fn scope(&self, org: OrgId, actor: UserId) -> Scope {
        Scope::new(self.clone(), org, actor)
    }

    /// The pool (connections already switched to the application role). Public only with
    /// the `testing` feature: embedders work through scopes.
    #[cfg(feature = "testing")]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The pool (see the `testing` twin).
    #[cfg(not(feature = "testing"))]
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// A connection as the configured user, not switched to the application role: for
    /// migrations and administration.
    pub(crate) async fn owner_connection(&self) -> Result<PgConnection> {
        PgConnection::connect_with(&self.options)
            .await
            .map_err(|e| unavailable(&e))
    }

    /// A pool of one connection as the configured user, not switched to the application
    /// role: for housekeeping in [`crate::tenancy::Tx::system`] transactions.
    pub(crate) async fn owner_pool(&self) -> Result<PgPool> {
        PgPoolOptions::new()
            .max_connections(1)
            .connect_with(self.options.clone())
            .await
            .map_err(|e| unavailable(&e))
    }

    /// Creates a least-privileged login role `name` with `password` for embedding
    /// programs (and `crm --database-url`): it may only switch to [`APP_ROLE`] (which the
    /// pool does on every connection), holds no privilege of its own (NOINHERIT: after a
    /// `RESET ROLE` it reads nothing), is no superuser, cannot bypass row-level security,
    /// create roles or databases. A handle connected as this role never holds more than
    /// the application role. Run on the owner's connection; the role must not exist yet
    /// ([`Error::Conflict`]). The name is 1-63 lower-case letters, digits or `_`, starting
    /// with a letter; the password at least 12 characters.
    pub async fn create_app_login(&self, name: &str, password: &str) -> Result<()> {
        let mut errors = crate::error::FieldErrors::new();
        let valid_name = name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name {
            errors.add(
                "name",
                "must be 1-63 lower-case letters, digits or '_', starting with a letter",
            );
        }
        if password.chars().count() < 12 {
            errors.add("password", "must be at least 12 characters");
        }
        errors.into_result()?;
        let mut conn = self.owner_connection().await?;
        let exists: bool =
            sqlx::query_scalar("select exists(select 1 from pg_roles where rolname = $1)")
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
        if exists {
            return Err(Error::Conflict(format!(
                "a role named '{name}' exists already"
            )));
        }
        // The statement is quoted by the server (format %I / %L): no value is spliced here.
        let create: String = sqlx::query_scalar(
            "select format('create role %I login noinherit nosuperuser nocreatedb nocreaterole \
                            nobypassrls noreplication password %L', $1::text, $2::text)",
        )
        .bind(name)
        .bind(password)
        .fetch_one(&mut conn)
        .await?;
        let grant: String =
            sqlx::query_scalar("select format('grant %I to %I', $1::text, $2::text)")
                .bind(APP_ROLE)
                .bind(name)
                .fetch_one(&mut conn)
                .await?;
        let mut tx = sqlx::Connection::begin(&mut conn).await?;
        tx.execute(sqlx::AssertSqlSafe(create)).await?;
        tx.execute(sqlx::AssertSqlSafe(grant)).await?;
        tx.commit().await?;
        conn.close().await.ok();
        Ok(())
    }

    /// Closes the pools.
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(read) = &self.read_pool {
            read.close().await;
        }
    }
}

/// One migration and when it was applied.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationStatus {
    /// The migration's version (timestamp prefix of its file).
    pub version: i64,
    /// Its description (the file name's rest).
    pub description: String,
    /// When it was applied, if it was.
    pub applied_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// Creates `name` on the server if it does not exist (connecting with `admin`).
pub async fn ensure_database(admin: PgConnectOptions, name: &str) -> Result<()> {
    let mut conn = PgConnection::connect_with(&admin)
        .await
        .map_err(|e| unavailable(&e))?;
    let exists: bool =
        sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let sql = format!("create database \"{}\"", name.replace('"', "\"\""));
        match conn.execute(sqlx::AssertSqlSafe(sql)).await {
            Ok(_) => {}
            // Another process created it at the same moment.
            Err(sqlx::Error::Database(e))
                if matches!(e.code().as_deref(), Some("42P04") | Some("23505")) => {}
            Err(e) => return Err(e.into()),
        }
    }
    conn.close().await.ok();
    Ok(())
}

/// A lazily connecting pool whose connections switch to the application role (unless
/// `switch_role` is false: behind a transaction pooler, where the user is unprivileged).
fn app_pool(options: &PgConnectOptions, switch_role: bool) -> PgPool {
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(30));
    let pool = if switch_role {
        pool.after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute("set role crm_app").await?;
                Ok(())
            })
        })
    } else {
        pool
    };
    pool.connect_lazy_with(options.clone())
}

fn unavailable(e: &sqlx::Error) -> Error {
    Error::Unavailable(format!(
        "cannot reach the database ({e}); check --database-url / DATABASE_URL, or leave it unset \
         to use the local cluster"
    ))
}

fn redact_url_error(e: &sqlx::Error) -> String {
    // The parser's message may echo the URL, which may contain a password.
    let s = e.to_string();
    if s.contains('@') {
        "malformed URL".to_string()
    } else {
        s
    }
}
