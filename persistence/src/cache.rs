//! A cache in front of the statistics reads: in process (moka, bounded by memory), and in
//! Redis when one is configured so that every process shares what one computed. Every
//! answer is keyed by the data version of its scope, read from the database on each
//! request: a write bumps the version in its own transaction, so a cached answer is never
//! served after the data it was computed from changed (whatever Redis saw or missed), and
//! answers of other scopes stay warm.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use moka::future::Cache;
use ottstats_domain::RepoError;
use ottstats_domain::activity_repository::{ActivityRepository, EventQuery, LoginQuery, RecordOutcome};
use ottstats_domain::country::Country;
use ottstats_domain::gender::GenderCounts;
use ottstats_domain::geography::{GeoCount, GeoLevel};
use ottstats_domain::granularity::Bucket;
use ottstats_domain::page::{Page, PageRequest};
use ottstats_domain::period::Period;
use ottstats_domain::playback::activity::SessionInPeriod;
use ottstats_domain::playback::bandwidth::BandwidthStats;
use ottstats_domain::playback::{Content, Login, PlayerEvent};
use ottstats_domain::registration_filter::RegistrationFilter;
use ottstats_domain::repository::RegistrationStatsRepository;
use ottstats_domain::tenant::TenantId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::cache_counters::{CacheCounters, Panel};
use crate::redis_link::RedisLink;
use crate::sealed::{self, Sealer};
use crate::store::Store;
use crate::versions;

/// How long Redis keeps an answer. Answers of old versions are never read again, so this
/// only bounds how long they take up room.
const REDIS_TTL: Duration = Duration::from_secs(3600);
/// Redis keys carry the release and the frame (see `sealed`), so that processes of
/// different releases sharing one Redis never read each other's encodings.
const REDIS_PREFIX: &str = concat!("ottstats:", env!("CARGO_PKG_VERSION"), ":sealed:panel:");

/// What the cache holds: the store's answers, shared.
#[derive(Clone, Serialize, Deserialize)]
enum Entry {
    Genders(GenderCounts),
    Buckets(Arc<Vec<GenderCounts>>),
    Ages(Arc<Vec<(Option<u8>, u64)>>),
    Places(Arc<Vec<GeoCount>>),
    Sessions(Arc<Vec<SessionInPeriod>>),
    Bandwidth(Arc<Vec<BandwidthStats>>),
}

impl Entry {
    /// Roughly the bytes an entry holds, so the cache is bounded by memory.
    fn weight(&self) -> u32 {
        let n = match self {
            Entry::Genders(_) => 32,
            Entry::Buckets(v) => v.len() * 32,
            Entry::Ages(v) => v.len() * 16,
            Entry::Places(v) => v.len() * 96,
            Entry::Sessions(v) => v.len() * 256,
            Entry::Bandwidth(v) => v.len() * 32,
        };
        u32::try_from(n + 64).unwrap_or(u32::MAX)
    }
}

/// A store answer the cache can hold: how it goes in and comes back out of an [`Entry`].
trait Cacheable: Sized {
    fn into_entry(self) -> Entry;
    fn from_entry(entry: Entry) -> Option<Self>;
}

impl Cacheable for GenderCounts {
    fn into_entry(self) -> Entry {
        Entry::Genders(self)
    }

    fn from_entry(entry: Entry) -> Option<Self> {
        match entry {
            Entry::Genders(v) => Some(v),
            _ => None,
        }
    }
}

/// List answers are shared in the cache and copied out on a hit.
macro_rules! cacheable_list {
    ($item:ty, $variant:ident) => {
        impl Cacheable for Vec<$item> {
            fn into_entry(self) -> Entry {
                Entry::$variant(Arc::new(self))
            }

            fn from_entry(entry: Entry) -> Option<Self> {
                match entry {
                    Entry::$variant(v) => Some(v.as_ref().clone()),
                    _ => None,
                }
            }
        }
    };
}

cacheable_list!(GenderCounts, Buckets);
cacheable_list!((Option<u8>, u64), Ages);
cacheable_list!(GeoCount, Places);
cacheable_list!(SessionInPeriod, Sessions);
cacheable_list!(BandwidthStats, Bandwidth);

/// The store with a cache in front of its statistics reads.
#[derive(Clone)]
pub struct CachedStore {
    store: Store,
    entries: Cache<String, Entry>,
    redis: Option<RedisLink>,
    counters: Arc<CacheCounters>,
}

impl CachedStore {
    /// A cache of at most `max_bytes` (approximately) in front of `store`, shared through
    /// `redis` when given.
    pub fn new(store: Store, max_bytes: u64, redis: Option<RedisLink>) -> CachedStore {
        let entries = Cache::builder().weigher(|_k: &String, v: &Entry| v.weight()).max_capacity(max_bytes).build();
        CachedStore { store, entries, redis, counters: Arc::default() }
    }

    pub fn counters(&self) -> &CacheCounters {
        &self.counters
    }

    /// The answer of `load` for this version of `scope`, from the cache when it has it.
    async fn cached<T: Cacheable, F>(
        &self,
        panel: Panel,
        tenant: TenantId,
        scope: &str,
        question: String,
        load: F,
    ) -> Result<T, RepoError>
    where
        F: Future<Output = Result<T, RepoError>>,
    {
        // Through the shared reader: the panels of one dashboard read one version together.
        let version = self.store.versions(tenant, &[scope.to_owned()]).await?.into_iter().next().unwrap_or(0);
        let installation = self.store.installation();
        let digest = Sha256::digest(format!("{installation}|{}|{scope}|{version}|{question}", tenant.0).as_bytes());
        let key: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let loaded = AtomicBool::new(false);
        // Concurrent misses of one key wait for a single load instead of all querying the
        // database at once (a cold dashboard opened by many clients).
        let entry = self
            .entries
            .try_get_with_by_ref(&key, async {
                let shared_key = format!("{REDIS_PREFIX}{key}");
                let rejected = &self.counters.rejected[panel.index()];
                // Only an entry that passed its check gets into the process tier.
                if let Some(redis) = &self.redis
                    && let Some(bytes) = sealed::fetch(redis, self.store.sealer(), tenant, &shared_key, rejected).await
                {
                    if let Some(entry) = decode(&bytes) {
                        return Ok(entry);
                    }
                    rejected.fetch_add(1, Ordering::Relaxed);
                }
                loaded.store(true, Ordering::Relaxed);
                let entry = load.await.map(T::into_entry)?;
                if let Some(redis) = self.redis.clone() {
                    share(redis, self.store.sealer(), tenant, shared_key, &entry);
                }
                Ok(entry)
            })
            .await
            .map_err(|e: Arc<RepoError>| e.as_ref().clone())?;
        let counter = if loaded.load(Ordering::Relaxed) { &self.counters.misses } else { &self.counters.hits };
        counter[panel.index()].fetch_add(1, Ordering::Relaxed);
        T::from_entry(entry).ok_or_else(|| RepoError::Internal("cache entry of the wrong kind".into()))
    }
}

/// An entry read back from Redis (its check passed); `None` (a miss) when it cannot be
/// decoded, which only a bug can cause: the recomputed entry overwrites it.
fn decode(bytes: &[u8]) -> Option<Entry> {
    serde_json::from_slice(bytes).map_err(|e| tracing::warn!(error = %e, "undecodable cache entry in Redis")).ok()
}

/// Writes an entry to Redis, sealed, without holding up the answer.
fn share(redis: RedisLink, sealer: &Sealer, tenant: TenantId, key: String, entry: &Entry) {
    match serde_json::to_vec(entry) {
        Ok(bytes) => sealed::share(redis, sealer, tenant, key, &bytes, REDIS_TTL),
        Err(e) => tracing::error!(error = %e, "cannot encode a cache entry"),
    }
}

#[async_trait]
impl RegistrationStatsRepository for CachedStore {
    async fn count_by_gender(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<GenderCounts, RepoError> {
        let q = format!("genders|{period:?}|{filter:?}");
        self.cached(
            Panel::Genders,
            tenant,
            versions::REGISTRATIONS,
            q,
            self.store.count_by_gender(tenant, period, filter),
        )
        .await
    }

    async fn count_by_bucket(
        &self,
        tenant: TenantId,
        buckets: &[Bucket],
        filter: &RegistrationFilter,
    ) -> Result<Vec<GenderCounts>, RepoError> {
        let q = format!("buckets|{buckets:?}|{filter:?}");
        self.cached(
            Panel::Timeline,
            tenant,
            versions::REGISTRATIONS,
            q,
            self.store.count_by_bucket(tenant, buckets, filter),
        )
        .await
    }

    async fn count_by_age(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<Vec<(Option<u8>, u64)>, RepoError> {
        let q = format!("ages|{period:?}|{filter:?}");
        self.cached(Panel::Ages, tenant, versions::REGISTRATIONS, q, self.store.count_by_age(tenant, period, filter))
            .await
    }

    async fn count_by_place(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
        level: GeoLevel,
        home: Country,
    ) -> Result<Vec<GeoCount>, RepoError> {
        let q = format!("places|{period:?}|{filter:?}|{level:?}|{home}");
        self.cached(
            Panel::Geography,
            tenant,
            versions::REGISTRATIONS,
            q,
            self.store.count_by_place(tenant, period, filter, level, home),
        )
        .await
    }
}

#[async_trait]
impl ActivityRepository for CachedStore {
    async fn record_events(&self, tenant: TenantId, events: &[PlayerEvent]) -> Result<RecordOutcome, RepoError> {
        self.store.record_events(tenant, events).await
    }

    async fn record_logins(&self, tenant: TenantId, logins: &[Login]) -> Result<RecordOutcome, RepoError> {
        self.store.record_logins(tenant, logins).await
    }

    async fn upsert_contents(&self, tenant: TenantId, contents: &[Content]) -> Result<RecordOutcome, RepoError> {
        self.store.upsert_contents(tenant, contents).await
    }

    async fn find_contents(&self, tenant: TenantId, ids: &[String]) -> Result<Vec<Content>, RepoError> {
        self.store.find_contents(tenant, ids).await
    }

    async fn sessions_in_period(
        &self,
        tenant: TenantId,
        user_id: &str,
        period: &Period,
    ) -> Result<Vec<SessionInPeriod>, RepoError> {
        let q = format!("sessions|{user_id:?}|{period:?}");
        self.cached(
            Panel::Sessions,
            tenant,
            &versions::activity(user_id),
            q,
            self.store.sessions_in_period(tenant, user_id, period),
        )
        .await
    }

    async fn events_page(&self, q: &EventQuery<'_>, request: &PageRequest) -> Result<Page<PlayerEvent>, RepoError> {
        self.store.events_page(q, request).await
    }

    async fn count_events(&self, q: &EventQuery<'_>) -> Result<u64, RepoError> {
        self.store.count_events(q).await
    }

    async fn bandwidth(
        &self,
        tenant: TenantId,
        user_id: &str,
        buckets: &[Bucket],
    ) -> Result<Vec<BandwidthStats>, RepoError> {
        let q = format!("bandwidth|{user_id:?}|{buckets:?}");
        self.cached(
            Panel::Bandwidth,
            tenant,
            &versions::activity(user_id),
            q,
            self.store.bandwidth(tenant, user_id, buckets),
        )
        .await
    }

    async fn logins_page(&self, q: &LoginQuery<'_>, request: &PageRequest) -> Result<Page<Login>, RepoError> {
        self.store.logins_page(q, request).await
    }

    async fn count_logins(&self, q: &LoginQuery<'_>) -> Result<u64, RepoError> {
        self.store.count_logins(q).await
    }
}
