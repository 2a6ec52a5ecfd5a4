//! Opening the database named by a URL, and migrating it.

use std::time::Duration;

use ottstats_domain::RepoError;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

use crate::error::db_err;
use crate::migration::Migrator;

/// Which engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(db: &DatabaseConnection) -> Backend {
        match db.get_database_backend() {
            DbBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }
}

/// The embedded database used when no URL is configured: `ottstats.db` in the working
/// directory, created when missing.
pub fn default_database_url() -> &'static str {
    "sqlite://ottstats.db?mode=rwc"
}

/// The database and its pool: the `[database]` section of the settings.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://FILE?mode=rwc` or `postgres://…` ([`default_database_url`] when unset).
    pub url: String,
    /// Connections of the pool on PostgreSQL.
    pub postgres_pool: u32,
    /// Connections of the pool on SQLite (one writer at a time anyway).
    pub sqlite_pool: u32,
    /// How long a query waits for a pooled connection before `UNAVAILABLE`.
    #[serde(with = "ottstats_domain::units::duration")]
    pub acquire_timeout: Duration,
    /// How long opening a connection may take.
    #[serde(with = "ottstats_domain::units::duration")]
    pub connect_timeout: Duration,
    /// How long an SQLite statement waits for another process's write lock.
    #[serde(with = "ottstats_domain::units::duration")]
    pub sqlite_busy_timeout: Duration,
    /// Statistics queries one tenant may have waiting for a turn (see [`crate::sql_turns`]);
    /// past that its next one is refused at once with `RATE_LIMITED`.
    pub sql_queue_per_tenant: usize,
    /// How long registration change records are kept: an index further behind reloads.
    #[serde(with = "ottstats_domain::units::duration")]
    pub change_retention: Duration,
    /// How long the health probe's own connection (PostgreSQL) may take to open.
    #[serde(with = "ottstats_domain::units::duration")]
    pub probe_connect_timeout: Duration,
    /// Write batches of at least this many items take PostgreSQL's bulk path (`COPY` into
    /// staging, then set-based statements); smaller ones, one multi-row statement a table.
    pub bulk_from: usize,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: default_database_url().to_owned(),
            postgres_pool: 16,
            sqlite_pool: 4,
            acquire_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            sqlite_busy_timeout: Duration::from_secs(10),
            sql_queue_per_tenant: 64,
            change_retention: Duration::from_secs(3600),
            probe_connect_timeout: Duration::from_millis(500),
            bulk_from: 64,
        }
    }
}

impl DatabaseSettings {
    /// The defaults, on the database at `url`.
    pub fn at(url: &str) -> DatabaseSettings {
        DatabaseSettings { url: url.to_owned(), ..DatabaseSettings::default() }
    }

    /// The pool's size on `backend`.
    pub fn pool(&self, backend: Backend) -> u32 {
        match backend {
            Backend::Postgres => self.postgres_pool,
            Backend::Sqlite => self.sqlite_pool,
        }
    }

    /// How many statistics queries may run at once: half the pool (at least one), so that
    /// the rest stays free for writes, version reads and key look-ups, and a crowd of
    /// uncached dashboards queues for a turn instead of timing out on the pool.
    pub fn sql_render_slots(&self, backend: Backend) -> usize {
        (self.pool(backend) / 2).max(1) as usize
    }
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password.
        let url = match self.url.split_once("://") {
            Some((scheme, rest)) => match rest.split('/').next().and_then(|a| a.rfind('@')) {
                Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
                None => self.url.clone(),
            },
            None => self.url.clone(),
        };
        f.debug_struct("DatabaseSettings")
            .field("url", &url)
            .field("postgres_pool", &self.postgres_pool)
            .field("sqlite_pool", &self.sqlite_pool)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("sqlite_busy_timeout", &self.sqlite_busy_timeout)
            .field("sql_queue_per_tenant", &self.sql_queue_per_tenant)
            .field("change_retention", &self.change_retention)
            .field("probe_connect_timeout", &self.probe_connect_timeout)
            .finish()
    }
}

/// Opens a pool on `url` (`sqlite://…` or `postgres://…`) with the default settings.
pub async fn connect(url: &str) -> Result<DatabaseConnection, RepoError> {
    connect_with(&DatabaseSettings::at(url)).await
}

/// Opens a pool on `settings.url`, of the size and with the timeouts `settings` say.
pub async fn connect_with(settings: &DatabaseSettings) -> Result<DatabaseConnection, RepoError> {
    let url = settings.url.as_str();
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.connect_timeout(settings.connect_timeout).acquire_timeout(settings.acquire_timeout).sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // WAL lets readers run beside the one writer; a few connections are enough.
        let busy_timeout = settings.sqlite_busy_timeout;
        opts.max_connections(settings.sqlite_pool).map_sqlx_sqlite_opts(move |o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(busy_timeout)
                .foreign_keys(true)
        });
    } else {
        // Statements are prepared once per connection; a generic plan made while a
        // tenant's table was small (a sequential scan) would stay after it grew. Plans
        // are cheap next to the queries, so each execution is planned for its values.
        opts.max_connections(settings.postgres_pool)
            .min_connections(1)
            .map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_custom_plan")]));
    }
    Database::connect(opts).await.map_err(db_err)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), RepoError> {
    Migrator::up(db, None).await.map_err(db_err)
}
