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

/// Connections of the pool on PostgreSQL, and on SQLite (one writer at a time anyway).
pub const POSTGRES_POOL: u32 = 16;
pub const SQLITE_POOL: u32 = 4;
/// How long a query waits for a pooled connection before `UNAVAILABLE`.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many statistics queries may run at once: the rest of the pool stays free for
/// writes, version reads and key look-ups, so a crowd of uncached dashboards queues for
/// a turn instead of timing out on the pool.
pub fn sql_render_slots(backend: Backend) -> usize {
    match backend {
        Backend::Postgres => (POSTGRES_POOL / 2) as usize,
        Backend::Sqlite => (SQLITE_POOL / 2) as usize,
    }
}

/// Opens a pool on `url` (`sqlite://…` or `postgres://…`).
pub async fn connect(url: &str) -> Result<DatabaseConnection, RepoError> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.connect_timeout(Duration::from_secs(5)).acquire_timeout(ACQUIRE_TIMEOUT).sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // WAL lets readers run beside the one writer; a few connections are enough.
        opts.max_connections(SQLITE_POOL).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    } else {
        // Statements are prepared once per connection; a generic plan made while a
        // tenant's table was small (a sequential scan) would stay after it grew. Plans
        // are cheap next to the queries, so each execution is planned for its values.
        opts.max_connections(POSTGRES_POOL)
            .min_connections(1)
            .map_sqlx_postgres_opts(|o| o.options([("plan_cache_mode", "force_custom_plan")]));
    }
    Database::connect(opts).await.map_err(db_err)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), RepoError> {
    Migrator::up(db, None).await.map_err(db_err)
}
