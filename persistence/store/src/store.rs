use std::sync::Arc;

use async_trait::async_trait;
use ottstats_domain::RepoError;
use ottstats_domain::repository::HealthCheck;
use ottstats_domain::scope::{ChangeSink, DataVersions, NoNotices, Scope};
use ottstats_domain::tenant::TenantId;
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, QueryResult, TransactionTrait};
use tokio::sync::{Mutex, MutexGuard};

use crate::connect::{Backend, DatabaseSettings, connect_with, migrate};
use crate::error::db_err;
use crate::secret::InstallationSecret;
use crate::sql::Sql;
use crate::version_reads::VersionReads;

/// What a PostgreSQL write transaction runs first. The pool plans every execution for
/// its values (`plan_cache_mode = force_custom_plan`, for the statistics queries), and
/// that includes the foreign-key checks PostgreSQL runs for each inserted row: planned
/// again for every row, they doubled the time of a bulk insert. A write's own statements
/// have no plans worth redoing, so its transaction goes back to the default.
pub(crate) const WRITE_PLANS: &str = "SET LOCAL plan_cache_mode = auto";

/// The repositories over one database pool (SQLite or PostgreSQL).
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    pub(crate) backend: Backend,
    /// SQLite allows one writer: a transaction that reads and then writes fails with
    /// "database is locked" when another does the same, so this process takes turns.
    write_turn: Arc<Mutex<()>>,
    /// Where committed writes are announced.
    changes: Arc<dyn ChangeSink>,
    installation: Arc<str>,
    /// Its Debug shows nothing of the secret.
    secret: Arc<InstallationSecret>,
    version_reads: VersionReads,
    /// Turns for statistics queries, fair between tenants (see [`crate::sql_turns`]).
    pub(crate) sql_turns: Arc<crate::sql_turns::SqlTurns>,
    /// Where the database is, for the health prober's connection of its own.
    url: Arc<str>,
    /// How long registration change records are kept.
    pub(crate) change_retention: std::time::Duration,
    /// How long the health prober's connection may take to open.
    probe_connect_timeout: std::time::Duration,
    /// Batches this large or larger take the bulk path on PostgreSQL.
    bulk_from: usize,
}

impl Store {
    /// Connects to `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, RepoError> {
        Store::open_with(&DatabaseSettings::at(url)).await
    }

    /// Connects to `settings.url` with its pool and timeouts, and applies pending migrations.
    pub async fn open_with(settings: &DatabaseSettings) -> Result<Store, RepoError> {
        let db = connect_with(settings).await?;
        migrate(&db).await?;
        let (installation, secret) = installation(&db).await?;
        let backend = Backend::of(&db);
        let version_reads = VersionReads::new(db.clone());
        let write_turn = Arc::new(Mutex::new(()));
        let slots = settings.sql_render_slots(backend);
        let sql_turns = Arc::new(crate::sql_turns::SqlTurns::with_queue(slots, settings.sql_queue_per_tenant));
        // Nobody listens until the server attaches its change feed.
        let changes = Arc::new(NoNotices);
        let url = settings.url.as_str().into();
        let (change_retention, probe_connect_timeout) = (settings.change_retention, settings.probe_connect_timeout);
        let bulk_from = settings.bulk_from;
        Ok(Store {
            db,
            backend,
            write_turn,
            changes,
            installation,
            secret,
            version_reads,
            sql_turns,
            url,
            change_retention,
            probe_connect_timeout,
            bulk_from,
        })
    }

    /// What health probes ask: on PostgreSQL a connection of its own, so that a busy pool
    /// never makes the database look away and a stopped one is noticed in half a second;
    /// on SQLite (a local file that does not go away) the pool itself.
    pub fn prober(&self) -> Arc<dyn HealthCheck> {
        match self.backend {
            Backend::Postgres => Arc::new(crate::prober::Prober::new(self.url.clone(), self.probe_connect_timeout)),
            Backend::Sqlite => Arc::new(self.clone()),
        }
    }

    /// The random token naming this database (see the `installation` migration).
    pub fn installation(&self) -> &str {
        &self.installation
    }

    /// The installation's secret: derived keys are made of it, cache entries sealed with it.
    pub fn secret(&self) -> &InstallationSecret {
        &self.secret
    }

    /// The same store, announcing the scopes its writes bump to `changes`.
    pub fn with_change_sink(mut self, changes: Arc<dyn ChangeSink>) -> Store {
        self.changes = changes;
        self
    }

    /// A transaction that writes. On SQLite it takes the write lock at once (waiting up to
    /// the busy timeout for another process's writer), rather than upgrading a read to a
    /// write later, which fails at once with "database is locked" when another process
    /// wrote meanwhile.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction, RepoError> {
        let txn = self.db.begin().await.map_err(db_err)?;
        match self.backend {
            Backend::Sqlite => {
                txn.execute_unprepared("UPDATE installation SET token = token WHERE id = 0").await.map_err(db_err)?;
            }
            Backend::Postgres => {
                txn.execute_unprepared(WRITE_PLANS).await.map_err(db_err)?;
            }
        }
        Ok(txn)
    }

    /// The rows of a statistics query of `tenant`'s, run in one of its turns (see
    /// [`crate::sql_turns`]): queued for a turn rather than for a pooled connection,
    /// which would time out.
    pub(crate) async fn statistics_rows(&self, tenant: TenantId, sql: Sql) -> Result<Vec<QueryResult>, RepoError> {
        let _turn = self.sql_turns.take(tenant).await?;
        self.db.query_all_raw(sql.statement(self.db.get_database_backend())).await.map_err(db_err)
    }

    /// Bumps the versions of `scopes` inside `txn`, commits, then announces the change.
    /// The bump commits with the data, so no reader can see new data under an old version.
    pub(crate) async fn commit_changes(
        &self,
        txn: DatabaseTransaction,
        tenant: TenantId,
        scopes: Vec<Scope>,
    ) -> Result<(), RepoError> {
        if !scopes.is_empty() {
            crate::versions::bump(&txn, tenant, &scopes).await?;
        }
        txn.commit().await.map_err(db_err)?;
        self.announce(tenant, &scopes);
        Ok(())
    }

    /// Whether a write batch of `items` takes the bulk path (PostgreSQL only).
    pub(crate) fn bulk(&self, items: usize) -> bool {
        self.backend == Backend::Postgres && items >= self.bulk_from
    }

    /// Tells the change sink that `scopes` of `tenant` moved (after their commit).
    pub(crate) fn announce(&self, tenant: TenantId, scopes: &[Scope]) {
        self.changes.announce(tenant, scopes);
    }

    /// Held for the length of a write transaction on SQLite; nothing on PostgreSQL, where
    /// writers of the same rows take row or advisory locks instead.
    pub(crate) async fn write_turn(&self) -> Option<MutexGuard<'_, ()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_turn.lock().await),
            Backend::Postgres => None,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Refreshes the planner's statistics. A bulk import calls it early: a table that
    /// grew from nothing before autovacuum analysed it gets plans made for an empty
    /// table (an index scan of the whole tenant instead of primary-key look-ups).
    pub async fn refresh_statistics(&self) -> Result<(), RepoError> {
        self.db.execute_unprepared("ANALYZE").await.map(|_| ()).map_err(db_err)
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(self) -> Result<(), RepoError> {
        self.db.close().await.map_err(db_err)
    }
}

/// The installation's token and its secret (see the `installation` migrations).
async fn installation(db: &DatabaseConnection) -> Result<(Arc<str>, Arc<InstallationSecret>), RepoError> {
    let statement = sea_orm::Statement::from_string(
        db.get_database_backend(),
        "SELECT token, secret FROM installation WHERE id = 1",
    );
    let Some(row) = db.query_one_raw(statement).await.map_err(db_err)? else {
        return Err(RepoError::Internal("the installation table is empty".into()));
    };
    let token: String = row.try_get("", "token").map_err(|e| crate::error::corrupt("installation token", e))?;
    // The error of a bad secret names the column, never its value.
    let secret: Option<String> =
        row.try_get("", "secret").map_err(|_| crate::error::corrupt("installation secret", "unreadable"))?;
    let secret = secret.ok_or_else(|| crate::error::corrupt("installation secret", "missing"))?;
    Ok((token.into(), Arc::new(InstallationSecret::from_hex(&secret)?)))
}

/// Current versions, read after the call began; concurrent callers share reads (see
/// `version_reads`).
#[async_trait]
impl DataVersions for Store {
    async fn versions(&self, tenant: TenantId, scopes: &[Scope]) -> Result<Vec<i64>, RepoError> {
        self.version_reads.read(tenant, scopes).await
    }
}

#[async_trait]
impl HealthCheck for Store {
    async fn ping(&self) -> Result<(), RepoError> {
        self.db.execute_unprepared("SELECT 1").await.map(|_| ()).map_err(db_err)
    }

    async fn probe_write(&self) -> Result<(), RepoError> {
        // Rewrites a row in place: it needs a writable file and room for the journal.
        self.db
            .execute_unprepared("UPDATE installation SET token = token WHERE id = 1")
            .await
            .map(|_| ())
            .map_err(db_err)
    }
}
