//! The statistics reads with the cache in front: registration panels (the SQL path,
//! which the registrations index falls back to) and a user's sessions and bandwidth.
//! Every answer is keyed by the data version of its scope, read from the database on each
//! request: a write bumps the version in its own transaction, so a cached answer is never
//! served after the data it was computed from changed (whatever Redis saw or missed), and
//! answers of other scopes stay warm.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use ottstats_domain::RepoError;
use ottstats_domain::activity_repository::ActivityStats;
use ottstats_domain::country::Country;
use ottstats_domain::gender::GenderCounts;
use ottstats_domain::geography::{GeoCount, GeoLevel};
use ottstats_domain::granularity::Bucket;
use ottstats_domain::period::Period;
use ottstats_domain::playback::activity::SessionInPeriod;
use ottstats_domain::playback::bandwidth::BandwidthStats;
use ottstats_domain::playback::quality::Quality;
use ottstats_domain::registration_filter::RegistrationFilter;
use ottstats_domain::repository::RegistrationStatsRepository;
use ottstats_domain::scope::{DataVersions, Scope};
use ottstats_domain::tenant::TenantId;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::key::CacheKey;
use crate::reads_counters::{CacheCounters, Panel};
use crate::redis_link::RedisLink;
use crate::tiered::{Cached, Source, TieredCache};

/// How long Redis keeps an answer unless the settings say otherwise (`cache.statistics_ttl`).
pub const DEFAULT_REDIS_TTL: Duration = Duration::from_secs(3600);
/// Redis keys carry the release and the frame (see `sealed`), so that processes of
/// different releases sharing one Redis never read each other's encodings.
const REDIS_PREFIX: &str = concat!("ottstats:", env!("CARGO_PKG_VERSION"), ":sealed:panel:");

/// What the store behind the cache answers.
pub trait StatsSource: RegistrationStatsRepository + ActivityStats + DataVersions {}

impl<T: RegistrationStatsRepository + ActivityStats + DataVersions> StatsSource for T {}

/// A store answer as the cache holds it: shared in process, JSON in Redis.
struct Answer<T>(Arc<T>);

impl<T> Clone for Answer<T> {
    fn clone(&self) -> Self {
        Answer(self.0.clone())
    }
}

/// Roughly the bytes an answer holds, so the cache is bounded by memory.
trait Weighed: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    fn bytes(&self) -> usize;
}

impl Weighed for GenderCounts {
    fn bytes(&self) -> usize {
        32
    }
}

macro_rules! weighed_list {
    ($item:ty, $each:expr) => {
        impl Weighed for Vec<$item> {
            fn bytes(&self) -> usize {
                self.len() * $each
            }
        }
    };
}

weighed_list!(GenderCounts, 32);
weighed_list!((Option<u8>, u64), 16);

/// Counts per age at registration (`None`: unknown).
type AgeCounts = Vec<(Option<u8>, u64)>;
weighed_list!(GeoCount, 96);
weighed_list!(SessionInPeriod, 256);
weighed_list!(BandwidthStats, 32);

impl Weighed for Quality {
    fn bytes(&self) -> usize {
        (self.devices.len() + 3) * 128
    }
}

impl<T: Weighed> Cached for Answer<T> {
    fn weight(&self) -> u32 {
        u32::try_from(self.0.bytes() + 64).unwrap_or(u32::MAX)
    }

    fn encode(&self) -> Option<Bytes> {
        serde_json::to_vec(self.0.as_ref()).map(Bytes::from).ok()
    }

    fn decode(bytes: Bytes) -> Option<Self> {
        serde_json::from_slice(&bytes).ok().map(|v| Answer(Arc::new(v)))
    }
}

/// The question of each panel, as its key holds it.
#[derive(Serialize)]
struct InPeriod<'a> {
    period: &'a Period,
    filter: &'a RegistrationFilter,
}

#[derive(Serialize)]
struct InBuckets<'a> {
    buckets: &'a [Bucket],
    filter: &'a RegistrationFilter,
}

#[derive(Serialize)]
struct ByPlace<'a> {
    period: &'a Period,
    filter: &'a RegistrationFilter,
    level: GeoLevel,
    home: Country,
}

#[derive(Serialize)]
struct OfUser<'a, T: Serialize + ?Sized> {
    user: &'a str,
    over: &'a T,
}

/// One tiered cache per kind of answer, each with an even share of the memory.
#[derive(Clone)]
struct Tiers {
    genders: TieredCache<Answer<GenderCounts>>,
    timeline: TieredCache<Answer<Vec<GenderCounts>>>,
    ages: TieredCache<Answer<AgeCounts>>,
    geography: TieredCache<Answer<Vec<GeoCount>>>,
    sessions: TieredCache<Answer<Vec<SessionInPeriod>>>,
    bandwidth: TieredCache<Answer<Vec<BandwidthStats>>>,
    quality: TieredCache<Answer<Quality>>,
}

/// The store's statistics reads with the cache in front.
#[derive(Clone)]
pub struct CachedReads {
    source: Arc<dyn StatsSource>,
    /// Names the database in every key: installations sharing one Redis never meet.
    installation: Arc<str>,
    tiers: Tiers,
    counters: Arc<CacheCounters>,
}

impl CachedReads {
    /// A cache of at most about `max_bytes` in front of `source` (of the installation
    /// named `installation`), shared through `redis` when given, its entries sealed with
    /// the installation's `secret`.
    pub fn new(
        source: Arc<dyn StatsSource>,
        installation: &str,
        secret: &[u8],
        max_bytes: u64,
        redis: Option<RedisLink>,
    ) -> CachedReads {
        CachedReads::with_redis_ttl(source, installation, secret, max_bytes, redis, DEFAULT_REDIS_TTL)
    }

    /// [`CachedReads::new`] whose entries Redis keeps for `redis_ttl`.
    pub fn with_redis_ttl(
        source: Arc<dyn StatsSource>,
        installation: &str,
        secret: &[u8],
        max_bytes: u64,
        redis: Option<RedisLink>,
        redis_ttl: Duration,
    ) -> CachedReads {
        let share = max_bytes / Panel::ALL.len() as u64;
        let counters = Arc::new(CacheCounters::default());
        fn tier<V: Cached>(
            share: u64,
            redis: Option<(RedisLink, &[u8], Duration)>,
            rejected: &Arc<AtomicU64>,
        ) -> TieredCache<V> {
            TieredCache::new(REDIS_PREFIX, share, redis).counting_rejections(rejected.clone())
        }
        let redis = redis.map(|r| (r, secret, redis_ttl));
        let rejected = |panel: Panel| &counters.rejected[panel.index()];
        let tiers = Tiers {
            genders: tier(share, redis.clone(), rejected(Panel::Genders)),
            timeline: tier(share, redis.clone(), rejected(Panel::Timeline)),
            ages: tier(share, redis.clone(), rejected(Panel::Ages)),
            geography: tier(share, redis.clone(), rejected(Panel::Geography)),
            sessions: tier(share, redis.clone(), rejected(Panel::Sessions)),
            bandwidth: tier(share, redis.clone(), rejected(Panel::Bandwidth)),
            quality: tier(share, redis, rejected(Panel::Quality)),
        };
        CachedReads { source, installation: installation.into(), tiers, counters }
    }

    pub fn counters(&self) -> &CacheCounters {
        &self.counters
    }

    /// The answer of `load` for the current version of `scope`, from the cache when it
    /// holds it.
    async fn cached<T, Q, F>(
        &self,
        tier: &TieredCache<Answer<T>>,
        panel: Panel,
        tenant: TenantId,
        scope: Scope,
        question: &Q,
        load: F,
    ) -> Result<T, RepoError>
    where
        T: Weighed,
        Q: Serialize,
        F: Future<Output = Result<T, RepoError>>,
    {
        // Through the shared reader: the panels of one dashboard read one version together.
        let version = self.source.versions(tenant, std::slice::from_ref(&scope)).await?.first().copied().unwrap_or(0);
        let key = CacheKey::builder(panel.name())
            .text(&self.installation)
            .number(tenant.0)
            .text(&scope.key())
            .number(version)
            .part(question)
            .finish();
        let (answer, source) =
            tier.get_or_load(tenant, &key, async { load.await.map(|v| Answer(Arc::new(v))) }).await?;
        let counter = match source {
            Source::Cache => &self.counters.hits,
            Source::Loaded => &self.counters.misses,
        };
        counter[panel.index()].fetch_add(1, Ordering::Relaxed);
        Ok(answer.0.as_ref().clone())
    }
}

#[async_trait]
impl RegistrationStatsRepository for CachedReads {
    async fn count_by_gender(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<GenderCounts, RepoError> {
        let question = InPeriod { period, filter };
        let load = self.source.count_by_gender(tenant, period, filter);
        self.cached(&self.tiers.genders, Panel::Genders, tenant, Scope::Registrations, &question, load).await
    }

    async fn count_by_bucket(
        &self,
        tenant: TenantId,
        buckets: &[Bucket],
        filter: &RegistrationFilter,
    ) -> Result<Vec<GenderCounts>, RepoError> {
        let question = InBuckets { buckets, filter };
        let load = self.source.count_by_bucket(tenant, buckets, filter);
        self.cached(&self.tiers.timeline, Panel::Timeline, tenant, Scope::Registrations, &question, load).await
    }

    async fn count_by_age(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<Vec<(Option<u8>, u64)>, RepoError> {
        let question = InPeriod { period, filter };
        let load = self.source.count_by_age(tenant, period, filter);
        self.cached(&self.tiers.ages, Panel::Ages, tenant, Scope::Registrations, &question, load).await
    }

    async fn count_by_place(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
        level: GeoLevel,
        home: Country,
    ) -> Result<Vec<GeoCount>, RepoError> {
        let question = ByPlace { period, filter, level, home };
        let load = self.source.count_by_place(tenant, period, filter, level, home);
        self.cached(&self.tiers.geography, Panel::Geography, tenant, Scope::Registrations, &question, load).await
    }
}

#[async_trait]
impl ActivityStats for CachedReads {
    async fn sessions_in_period(
        &self,
        tenant: TenantId,
        user_id: &str,
        period: &Period,
    ) -> Result<Vec<SessionInPeriod>, RepoError> {
        let question = OfUser { user: user_id, over: period };
        let load = self.source.sessions_in_period(tenant, user_id, period);
        let scope = Scope::Activity(user_id.to_owned());
        self.cached(&self.tiers.sessions, Panel::Sessions, tenant, scope, &question, load).await
    }

    async fn quality(&self, tenant: TenantId, user_id: &str, period: &Period) -> Result<Quality, RepoError> {
        let question = OfUser { user: user_id, over: period };
        let load = self.source.quality(tenant, user_id, period);
        let scope = Scope::Activity(user_id.to_owned());
        self.cached(&self.tiers.quality, Panel::Quality, tenant, scope, &question, load).await
    }

    async fn bandwidth(
        &self,
        tenant: TenantId,
        user_id: &str,
        buckets: &[Bucket],
    ) -> Result<Vec<BandwidthStats>, RepoError> {
        let question = OfUser { user: user_id, over: buckets };
        let load = self.source.bandwidth(tenant, user_id, buckets);
        let scope = Scope::Activity(user_id.to_owned());
        self.cached(&self.tiers.bandwidth, Panel::Bandwidth, tenant, scope, &question, load).await
    }
}
