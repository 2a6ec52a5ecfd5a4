use std::sync::Arc;

use async_trait::async_trait;
use ottstats_domain::RepoError;
use ottstats_domain::repository::HealthCheck;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::{Mutex, MutexGuard};

use crate::connect::{Backend, connect, migrate};
use crate::error::db_err;

/// The repositories over one database pool (SQLite or PostgreSQL).
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: DatabaseConnection,
    pub(crate) backend: Backend,
    /// SQLite allows one writer: a transaction that reads and then writes fails with
    /// "database is locked" when another does the same, so this process takes turns.
    write_turn: Arc<Mutex<()>>,
}

impl Store {
    /// Connects to `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store, RepoError> {
        let db = connect(url).await?;
        migrate(&db).await?;
        Ok(Store::from_connection(db))
    }

    pub fn from_connection(db: DatabaseConnection) -> Store {
        let backend = Backend::of(&db);
        Store { db, backend, write_turn: Arc::new(Mutex::new(())) }
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

#[async_trait]
impl HealthCheck for Store {
    async fn ping(&self) -> Result<(), RepoError> {
        self.db.execute_unprepared("SELECT 1").await.map(|_| ()).map_err(db_err)
    }
}
