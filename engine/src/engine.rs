//! The engine: every tenant's index in one process, under one memory budget.
//!
//! A request reads the tenant's registrations version (the same shared read the caches
//! use), brings the tenant's index up to at least that version from the change records,
//! and answers from it. A tenant without a warm index is loaded in the background while
//! its requests go to the fallback (the SQL path), so no answer ever comes from an index
//! older than the version read for it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};

use ottstats_domain::RepoError;
use ottstats_domain::registration_log::{ChangesSince, RegistrationLog};
use ottstats_domain::repository::RegistrationStatsRepository;
use ottstats_domain::tenant::TenantId;

use crate::index::{IndexBuilder, RegistrationIndex};

/// How the engine behaves: the `[index]` section of the settings (see the README's
/// settings table).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// What all indexes together may hold, in bytes; 0 turns the engine off.
    #[serde(rename = "memory", with = "ottstats_domain::units::bytes")]
    pub memory_budget: usize,
    /// Change records a catch-up reads at most; further behind, the tenant reloads.
    pub catch_up_limit: usize,
    /// Rows above which a panel is computed on a blocking thread, so that no runtime
    /// worker is held for long.
    pub blocking_rows: usize,
    /// Change records above which a catch-up runs on a blocking thread.
    pub blocking_changes: usize,
    /// Wait before retrying a load that failed (doubled on each failure, up to 5 min).
    #[serde(with = "ottstats_domain::units::duration")]
    pub retry_after: Duration,
    /// How often every loaded index is brought up to date without a change notice (the
    /// background refresher's sweep, which catches what a lost notice missed).
    #[serde(with = "ottstats_domain::units::duration")]
    pub refresh_every: Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            memory_budget: 1 << 30,
            catch_up_limit: 50_000,
            blocking_rows: 200_000,
            blocking_changes: 1_000,
            retry_after: Duration::from_secs(5),
            refresh_every: Duration::from_secs(10),
        }
    }
}

/// Counters since start, for `/metrics`.
#[derive(Debug, Default)]
pub struct EngineCounters {
    pub loads: AtomicU64,
    pub load_failures: AtomicU64,
    pub evictions: AtomicU64,
    pub catch_ups: AtomicU64,
    /// Questions (a request's panels together) answered from an index, and by the fallback.
    pub index_answers: AtomicU64,
    pub fallback_answers: AtomicU64,
}

/// The engine's state at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngineStatus {
    pub enabled: bool,
    pub tenants: usize,
    pub loading: usize,
    pub bytes: usize,
    pub rows: usize,
    pub budget: usize,
}

/// One tenant's index and what the engine knows of it.
pub(crate) struct Loaded {
    /// The latest version, published whole: readers take the `Arc` and let go of the
    /// lock at once, so a catch-up never waits for a panel and a question's panels all
    /// read one version.
    current: RwLock<Arc<RegistrationIndex>>,
    /// One catch-up at a time per tenant; others wait, then find it done.
    catch_up: tokio::sync::Mutex<()>,
    /// Mirrors `index.version()` without taking the lock.
    version: AtomicI64,
    bytes: AtomicUsize,
    rows: AtomicUsize,
    /// Milliseconds since the engine started, for least-recently-used eviction.
    last_used: AtomicU64,
}

impl Loaded {
    fn new(index: RegistrationIndex, now: u64) -> Loaded {
        Loaded {
            version: AtomicI64::new(index.version()),
            bytes: AtomicUsize::new(index.bytes()),
            rows: AtomicUsize::new(index.len()),
            current: RwLock::new(Arc::new(index)),
            catch_up: tokio::sync::Mutex::new(()),
            last_used: AtomicU64::new(now),
        }
    }

    pub(crate) fn snapshot(&self) -> Arc<RegistrationIndex> {
        // Only a pointer lives under the lock: it is always whole.
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Swaps the new version in, then says so: whoever reads the new `version` finds
    /// the new index published.
    fn publish(&self, index: RegistrationIndex) {
        let (version, bytes, rows) = (index.version(), index.bytes(), index.len());
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(index);
        self.bytes.store(bytes, Ordering::Relaxed);
        self.rows.store(rows, Ordering::Relaxed);
        self.version.store(version, Ordering::Release);
    }
}

enum Slot {
    Loading,
    Ready(Arc<Loaded>),
    /// Not loaded again before the instant: too large for the budget, or a failed load.
    Resting(Instant),
}

pub(crate) struct Inner {
    log: Arc<dyn RegistrationLog>,
    pub(crate) fallback: Arc<dyn RegistrationStatsRepository>,
    pub(crate) settings: EngineSettings,
    slots: Mutex<HashMap<TenantId, Slot>>,
    pub(crate) counters: EngineCounters,
    started: Instant,
    /// Turns for loads (one at a time).
    loads: tokio::sync::Semaphore,
    /// True until the start-up preload has seen every tenant.
    preloading: std::sync::atomic::AtomicBool,
}

/// Every tenant's registrations index; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

/// An engine that does not keep it alive (for background tasks).
#[derive(Clone)]
pub struct WeakEngine(std::sync::Weak<Inner>);

impl WeakEngine {
    pub fn upgrade(&self) -> Option<Engine> {
        self.0.upgrade().map(|inner| Engine { inner })
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("status", &self.status()).finish()
    }
}

impl Engine {
    /// An engine reading `log`, answering through `fallback` while an index loads.
    pub fn new(
        log: Arc<dyn RegistrationLog>,
        fallback: Arc<dyn RegistrationStatsRepository>,
        settings: EngineSettings,
    ) -> Engine {
        let inner = Inner {
            log,
            fallback,
            settings,
            slots: Mutex::default(),
            counters: EngineCounters::default(),
            started: Instant::now(),
            loads: tokio::sync::Semaphore::new(1),
            preloading: std::sync::atomic::AtomicBool::new(false),
        };
        Engine { inner: Arc::new(inner) }
    }

    pub fn downgrade(&self) -> WeakEngine {
        WeakEngine(Arc::downgrade(&self.inner))
    }

    /// Loads every tenant's index, one after the other (at start, so that the first
    /// dashboards are fast); tenants that do not fit the budget are left to SQL.
    pub async fn preload(&self) {
        if !self.enabled() {
            return;
        }
        self.inner.preloading.store(true, Ordering::Relaxed);
        match self.inner.log.tenant_ids().await {
            Ok(tenants) => {
                let tasks: Vec<_> = tenants.into_iter().filter_map(|t| self.load(t)).collect();
                for task in tasks {
                    let _ = task.await;
                }
            }
            Err(e) => tracing::warn!(error = %e, "registrations index: cannot list tenants to preload"),
        }
        self.inner.preloading.store(false, Ordering::Relaxed);
    }

    pub fn enabled(&self) -> bool {
        self.inner.settings.memory_budget > 0
    }

    /// What the engine was made with.
    pub fn settings(&self) -> &EngineSettings {
        &self.inner.settings
    }

    pub fn counters(&self) -> &EngineCounters {
        &self.inner.counters
    }

    pub fn status(&self) -> EngineStatus {
        let slots = self.slots();
        let mut s = EngineStatus {
            enabled: self.enabled(),
            budget: self.inner.settings.memory_budget,
            ..EngineStatus::default()
        };
        for slot in slots.values() {
            match slot {
                Slot::Loading => s.loading += 1,
                Slot::Ready(l) => {
                    s.tenants += 1;
                    s.bytes += l.bytes.load(Ordering::Relaxed);
                    s.rows += l.rows.load(Ordering::Relaxed);
                }
                Slot::Resting(_) => {}
            }
        }
        if self.inner.preloading.load(Ordering::Relaxed) {
            s.loading = s.loading.max(1);
        }
        s
    }

    /// The version the tenant's index holds, when it is loaded.
    pub fn loaded_version(&self, tenant: TenantId) -> Option<i64> {
        match self.slots().get(&tenant) {
            Some(Slot::Ready(l)) => Some(l.version.load(Ordering::Acquire)),
            _ => None,
        }
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<TenantId, Slot>> {
        // A map of handles stays whole even if a holder panicked.
        self.inner.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.inner.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Loads the tenant's index unless it is loaded, loading or resting. Returns the
    /// load's task when one was started.
    pub fn load(&self, tenant: TenantId) -> Option<tokio::task::JoinHandle<()>> {
        if !self.enabled() {
            return None;
        }
        {
            let mut slots = self.slots();
            match slots.get(&tenant) {
                Some(Slot::Loading | Slot::Ready(_)) => return None,
                Some(Slot::Resting(until)) if *until > Instant::now() => return None,
                _ => {}
            }
            slots.insert(tenant, Slot::Loading);
        }
        let engine = self.clone();
        Some(tokio::spawn(async move { engine.run_load(tenant).await }))
    }

    async fn run_load(&self, tenant: TenantId) {
        // One load at a time: each holds a pooled connection for its whole read and a
        // builder in memory, and the pool must stay free for requests.
        let _turn = self.inner.loads.acquire().await;
        let began = Instant::now();
        let mut builder = IndexBuilder::default();
        // A tenant too large for the budget stops growing the builder at once (the
        // rows still stream past, but memory stays bounded).
        let budget = self.inner.settings.memory_budget;
        let mut too_large = false;
        let read = self
            .inner
            .log
            .load_registrations(tenant, &mut |r| {
                if too_large {
                    return;
                }
                builder.push(r);
                too_large = builder.len() % 65_536 == 0 && builder.bytes_estimate() > budget;
            })
            .await;
        let built = match read {
            Ok(_) if too_large => None,
            Ok(snapshot) => tokio::task::spawn_blocking(move || builder.finish(snapshot.version)).await.ok(),
            Err(e) => {
                tracing::warn!(tenant = tenant.0, error = %e, "registrations index: load failed; answering from SQL");
                None
            }
        };
        let Some(index) = built.filter(|i| i.bytes() <= budget) else {
            self.inner.counters.load_failures.fetch_add(1, Ordering::Relaxed);
            let failures = self.inner.counters.load_failures.load(Ordering::Relaxed).min(6) as u32;
            // Too large rests ten minutes; a failed read backs off 5 s, 10 s, … up to 5 min.
            let rest = if too_large {
                tracing::warn!(
                    tenant = tenant.0,
                    budget,
                    "registrations index: the tenant alone exceeds OTTSTATS_INDEX_MEMORY; answering from SQL"
                );
                Duration::from_secs(600)
            } else {
                (self.inner.settings.retry_after * 2u32.pow(failures.saturating_sub(1))).min(Duration::from_secs(300))
            };
            self.slots().insert(tenant, Slot::Resting(Instant::now() + rest));
            return;
        };
        let (rows, bytes, version) = (index.len(), index.bytes(), index.version());
        if bytes > budget {
            tracing::warn!(
                tenant = tenant.0,
                bytes,
                budget = self.inner.settings.memory_budget,
                "registrations index: the tenant alone exceeds OTTSTATS_INDEX_MEMORY; answering from SQL"
            );
            self.inner.counters.load_failures.fetch_add(1, Ordering::Relaxed);
            self.slots().insert(tenant, Slot::Resting(Instant::now() + Duration::from_secs(600)));
            return;
        }
        self.slots().insert(tenant, Slot::Ready(Arc::new(Loaded::new(index, self.now()))));
        self.inner.counters.loads.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            tenant = tenant.0,
            rows,
            bytes,
            version,
            millis = began.elapsed().as_millis() as u64,
            "registrations index loaded"
        );
        self.evict_over_budget(tenant);
    }

    /// Drops the least recently used indexes, never `keep`, until all fit the budget.
    fn evict_over_budget(&self, keep: TenantId) {
        let mut slots = self.slots();
        loop {
            let ready = slots.iter().filter_map(|(t, s)| match s {
                Slot::Ready(l) => Some((*t, l)),
                _ => None,
            });
            let total: usize = ready.clone().map(|(_, l)| l.bytes.load(Ordering::Relaxed)).sum();
            if total <= self.inner.settings.memory_budget {
                return;
            }
            let victim = ready
                .filter(|(t, _)| *t != keep)
                .min_by_key(|(_, l)| l.last_used.load(Ordering::Relaxed))
                .map(|(t, _)| t);
            let Some(victim) = victim else { return };
            slots.remove(&victim);
            self.inner.counters.evictions.fetch_add(1, Ordering::Relaxed);
            tracing::info!(tenant = victim.0, "registrations index evicted (least recently used)");
        }
    }

    /// Drops `loaded` (unless a newer load replaced it) and loads the tenant again.
    fn reload(&self, tenant: TenantId, loaded: &Arc<Loaded>) {
        self.forget(tenant, loaded);
        self.load(tenant);
    }

    fn forget(&self, tenant: TenantId, loaded: &Arc<Loaded>) {
        let mut slots = self.slots();
        if matches!(slots.get(&tenant), Some(Slot::Ready(l)) if Arc::ptr_eq(l, loaded)) {
            slots.remove(&tenant);
        }
    }

    /// The tenant's index brought up to at least the version current now, or `None`
    /// when it is not loaded (a load is started) or had to be dropped.
    pub(crate) async fn current(&self, tenant: TenantId) -> Result<Option<Arc<RegistrationIndex>>, RepoError> {
        if !self.enabled() {
            return Ok(None);
        }
        let ready = match self.slots().get(&tenant) {
            Some(Slot::Ready(l)) => Some(l.clone()),
            _ => None,
        };
        let Some(loaded) = ready else {
            // Answered by the fallback while the index loads.
            self.load(tenant);
            return Ok(None);
        };
        loaded.last_used.store(self.now(), Ordering::Relaxed);
        let target = self.inner.log.registrations_version(tenant).await?;
        for _ in 0..2 {
            if !self.catch_up(tenant, &loaded, target).await? {
                return Ok(None);
            }
            // Checked on the very version handed out: whatever another catch-up published
            // meanwhile, no answer comes from an index older than `target`.
            let snapshot = loaded.snapshot();
            if snapshot.version() >= target {
                return Ok(Some(snapshot));
            }
        }
        tracing::error!(tenant = tenant.0, target, "registrations index: behind after catching up; answering from SQL");
        Ok(None)
    }

    /// Brings `loaded` to `target` or beyond; false when it had to be dropped (a reload
    /// is started).
    async fn catch_up(&self, tenant: TenantId, loaded: &Arc<Loaded>, target: i64) -> Result<bool, RepoError> {
        if loaded.version.load(Ordering::Acquire) >= target {
            return Ok(true);
        }
        let _turn = loaded.catch_up.lock().await;
        let since = loaded.version.load(Ordering::Acquire);
        if since >= target {
            return Ok(true);
        }
        self.inner.counters.catch_ups.fetch_add(1, Ordering::Relaxed);
        let read = self.inner.log.registration_changes(tenant, since, self.inner.settings.catch_up_limit).await;
        let changes = match read {
            // The read began after `target` was read, so every version up to it has its
            // records there; records that stop short of it were pruned, or a writer bumped
            // the version without leaving records: reload rather than guess.
            Ok(ChangesSince::Changes(c)) if c.last().is_some_and(|last| last.version >= target) => c,
            Ok(_) => {
                tracing::info!(tenant = tenant.0, since, target, "registrations index: too far behind; reloading");
                self.reload(tenant, loaded);
                return Ok(false);
            }
            Err(RepoError::Unavailable(e)) => return Err(RepoError::Unavailable(e)),
            // A record that does not read back: answer from SQL and load afresh.
            Err(e) => {
                tracing::error!(tenant = tenant.0, error = %e, "registrations index: unreadable change records; reloading");
                self.reload(tenant, loaded);
                return Ok(false);
            }
        };
        // A copy shares every block; applying duplicates only the blocks it touches, and
        // readers of the previous version keep theirs. Many records are applied off the
        // runtime's workers.
        let current = loaded.snapshot();
        let many = changes.len() > self.inner.settings.blocking_changes;
        let apply = move || {
            let mut next = RegistrationIndex::clone(&current);
            next.apply(&changes).map(|()| next)
        };
        let applied = if many {
            tokio::task::spawn_blocking(apply)
                .await
                .map_err(|e| RepoError::Internal(format!("registrations index: a catch-up failed: {e}")))?
        } else {
            apply()
        };
        match applied {
            Ok(next) => loaded.publish(next),
            Err(e) => {
                tracing::error!(tenant = tenant.0, error = %e, "registrations index: inconsistent; reloading");
                self.reload(tenant, loaded);
                return Ok(false);
            }
        }
        self.evict_over_budget(tenant);
        Ok(true)
    }

    /// Brings every loaded index up to date (after a change notice, or now and then), so
    /// that requests rarely wait for a catch-up and no index falls behind the records kept.
    pub async fn refresh(&self, tenant: Option<TenantId>) {
        let loaded: Vec<(TenantId, Arc<Loaded>)> = self
            .slots()
            .iter()
            .filter(|(t, _)| tenant.is_none_or(|only| only == **t))
            .filter_map(|(t, s)| match s {
                Slot::Ready(l) => Some((*t, l.clone())),
                _ => None,
            })
            .collect();
        for (t, l) in loaded {
            let caught_up = async {
                let target = self.inner.log.registrations_version(t).await?;
                self.catch_up(t, &l, target).await
            };
            if let Err(e) = caught_up.await {
                tracing::debug!(tenant = t.0, error = %e, "registrations index: refresh failed");
            }
        }
    }

    /// The tenant's index at (at least) the version current when this call began, or
    /// `None` while it loads.
    pub(crate) async fn snapshot(&self, tenant: TenantId) -> Result<Option<Arc<RegistrationIndex>>, RepoError> {
        let loaded = self.current(tenant).await?;
        let counter =
            if loaded.is_some() { &self.inner.counters.index_answers } else { &self.inner.counters.fallback_answers };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(loaded)
    }
}
