//! What the process knows of its database, kept current by a background probe, so that
//! while the database is away requests fail at once with `UNAVAILABLE` (HTTP 503)
//! instead of each waiting out the pool's acquire timeout, and `/readyz` tells a load
//! balancer without a request having to fail first. Requests in flight when it goes
//! away are answered `UNAVAILABLE` at that moment too (their writes, unacknowledged,
//! roll back), instead of waiting for a connection that will not come.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ottstats_domain::repository::HealthCheck;
use tokio::sync::watch;

/// How the database is probed: the `[health]` section of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthSettings {
    /// How often reads are probed.
    #[serde(with = "ottstats_domain::units::duration")]
    pub read_probe_every: Duration,
    /// How often a write is probed (a no-op update: it takes SQLite's write lock briefly).
    #[serde(with = "ottstats_domain::units::duration")]
    pub write_probe_every: Duration,
    /// How long one probe may take before the database counts as away.
    #[serde(with = "ottstats_domain::units::duration")]
    pub probe_timeout: Duration,
}

impl Default for HealthSettings {
    fn default() -> Self {
        HealthSettings {
            read_probe_every: Duration::from_millis(250),
            write_probe_every: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(1),
        }
    }
}

/// The database's state as last probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbState {
    Up,
    /// Reads fail: the database is away.
    Down,
    /// Reads work, writes fail (a read-only or full disk, a standby).
    ReadOnly,
}

#[derive(Clone)]
pub struct DbHealth(Arc<watch::Sender<DbState>>);

impl DbHealth {
    /// Starts probing `db`; must be called inside a Tokio runtime. Probing ends when the
    /// last clone is dropped.
    pub fn watch(db: Arc<dyn HealthCheck>) -> DbHealth {
        DbHealth::watch_with(db, HealthSettings::default())
    }

    /// [`DbHealth::watch`], probing as `settings` say.
    pub fn watch_with(db: Arc<dyn HealthCheck>, settings: HealthSettings) -> DbHealth {
        let health = DbHealth(Arc::new(watch::channel(DbState::Up).0));
        tokio::spawn(probe(Arc::downgrade(&health.0), db, settings));
        health
    }

    pub fn state(&self) -> DbState {
        self.0.borrow().clone()
    }

    /// Completes when the database is found away.
    pub async fn went_down(&self) {
        let mut states = self.0.subscribe();
        // The sender lives as long as `self`: `wait_for` ends only by finding `Down`.
        let _ = states.wait_for(|s| *s == DbState::Down).await;
    }
}

async fn probe(state: std::sync::Weak<watch::Sender<DbState>>, db: Arc<dyn HealthCheck>, settings: HealthSettings) {
    let HealthSettings { read_probe_every, write_probe_every, probe_timeout } = settings;
    let mut last_write_probe: Option<Instant> = None;
    let mut writes_fail = false;
    loop {
        let Some(shared) = state.upgrade() else { return };
        let reads = matches!(tokio::time::timeout(probe_timeout, db.ping()).await, Ok(Ok(())));
        if reads && last_write_probe.is_none_or(|at| at.elapsed() >= write_probe_every || writes_fail) {
            last_write_probe = Some(Instant::now());
            writes_fail = !matches!(tokio::time::timeout(probe_timeout, db.probe_write()).await, Ok(Ok(())));
        }
        let now = match (reads, writes_fail) {
            (false, _) => DbState::Down,
            (true, true) => DbState::ReadOnly,
            (true, false) => DbState::Up,
        };
        let was = shared.send_replace(now.clone());
        if was != now {
            match now {
                DbState::Up => tracing::info!("the database is back"),
                DbState::Down => tracing::warn!("the database does not answer: refusing requests until it does"),
                DbState::ReadOnly => tracing::warn!("the database refuses writes (read-only or full disk)"),
            }
        }
        drop(shared);
        tokio::time::sleep(read_probe_every).await;
    }
}
