//! A single connection for health probes, opened when first needed and again after it
//! breaks, with short timeouts: a stopped database is known within half a second.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ottstats_domain::RepoError;
use ottstats_domain::repository::HealthCheck;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use tokio::sync::Mutex;

use crate::error::db_err;

pub struct Prober {
    url: Arc<str>,
    db: Mutex<Option<DatabaseConnection>>,
    /// How long connecting may take (`database.probe_connect_timeout`).
    timeout: Duration,
}

impl Prober {
    pub fn new(url: Arc<str>, timeout: Duration) -> Prober {
        Prober { url, db: Mutex::new(None), timeout }
    }

    async fn run(&self, statement: &str) -> Result<(), RepoError> {
        let mut db = self.db.lock().await;
        if db.is_none() {
            let mut opts = ConnectOptions::new(self.url.to_string());
            opts.max_connections(1)
                .min_connections(0)
                .connect_timeout(self.timeout)
                .acquire_timeout(self.timeout)
                .sqlx_logging(false);
            *db = Some(Database::connect(opts).await.map_err(db_err)?);
        }
        let Some(conn) = db.as_ref() else { return Err(RepoError::Unavailable("no probe connection".into())) };
        let outcome = conn.execute_unprepared(statement).await.map(|_| ()).map_err(db_err);
        if outcome.is_err() {
            // Opened afresh next time: a broken connection tells nothing more.
            *db = None;
        }
        outcome
    }
}

#[async_trait]
impl HealthCheck for Prober {
    async fn ping(&self) -> Result<(), RepoError> {
        self.run("SELECT 1").await
    }

    async fn probe_write(&self) -> Result<(), RepoError> {
        self.run("UPDATE installation SET token = token WHERE id = 1").await
    }
}
