//! What the schema runs on: the store, the caches in front of it, the registrations
//! index and change notices, put together once per process.

use std::sync::Arc;
use std::time::Duration;

use ottstats_cache::{CachedReads, ChangeFeed, RedisLink};
use ottstats_domain::activity_repository::ActivityWrites;
use ottstats_domain::repository::{HealthCheck, KeyRepository, TenantRepository, UserRepository};
use ottstats_domain::tenant::TenantId;
use ottstats_engine::{Engine, EngineSettings};
use ottstats_store::Store;

use crate::limits::Limits;
use crate::live::LiveSettings;
use crate::reader::{ReadSet, ReadSources, Reader};
use crate::response_cache::ResponseCache;

/// What the caches may hold, and for how long Redis keeps it: the `[cache]` section of
/// the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheSettings {
    /// Statistics in process (registration panels on the SQL path, sessions, bandwidth),
    /// split evenly between the seven kinds.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub statistics_bytes: u64,
    /// Whole rendered answers in process.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub answer_bytes: u64,
    /// The manifests (the scopes each request reads), roughly, in process.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub manifest_bytes: u64,
    /// How long Redis keeps a statistics entry.
    #[serde(with = "ottstats_domain::units::duration")]
    pub statistics_redis_ttl: Duration,
    /// How long Redis keeps an answer: answers of old versions are never read again, so
    /// this only bounds how long they take up room.
    #[serde(with = "ottstats_domain::units::duration")]
    pub answer_redis_ttl: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            statistics_bytes: 64 * 1024 * 1024,
            answer_bytes: 64 * 1024 * 1024,
            manifest_bytes: 16 * 1024 * 1024,
            statistics_redis_ttl: ottstats_cache::reads::DEFAULT_REDIS_TTL,
            answer_redis_ttl: Duration::from_secs(3600),
        }
    }
}

/// Everything the services are tuned by: sections of the server's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceSettings {
    /// The registrations index.
    pub index: EngineSettings,
    pub cache: CacheSettings,
    /// What one request may ask (also what `limits { … }` answers).
    pub limits: Limits,
    /// Subscriptions.
    pub live: LiveSettings,
}

/// The repositories the schema and the server use. Resolvers read only through a
/// [`Reader`] ([`Services::reader`]), which records what they read.
#[derive(Clone)]
pub struct Services {
    pub tenants: Arc<dyn TenantRepository>,
    pub keys: Arc<dyn KeyRepository>,
    /// Writes of users (reads go through readers).
    pub users: Arc<dyn UserRepository>,
    pub activity: Arc<dyn ActivityWrites>,
    pub health: Arc<dyn HealthCheck>,
    /// Announces committed writes to live subscriptions.
    pub changes: ChangeFeed,
    /// Current data versions, keys, documents: the store itself.
    pub store: Store,
    /// Rendered answers by request and data versions.
    pub responses: ResponseCache,
    /// The statistics cache, for its counters.
    pub cache: CachedReads,
    /// The shared cache and change fan-out, when configured.
    pub redis: Option<RedisLink>,
    /// The registrations index, which answers `registrations` (SQL while it loads).
    pub engine: Engine,
    /// What every request is held to.
    pub limits: Limits,
    /// How subscriptions push.
    pub live: LiveSettings,
    sources: ReadSources,
}

impl Services {
    /// All repositories backed by one store, statistics through an in-process cache.
    pub fn from_store(store: Store) -> Services {
        Services::new(store, None, EngineSettings::default())
    }

    /// All repositories backed by one store; caches and change notices shared through
    /// `redis` when given, in process otherwise. Must run inside a Tokio runtime.
    pub fn new(store: Store, redis: Option<RedisLink>, index: EngineSettings) -> Services {
        Services::with_settings(store, redis, ServiceSettings { index, ..ServiceSettings::default() })
    }

    /// [`Services::new`] with every setting given.
    pub fn with_settings(store: Store, redis: Option<RedisLink>, settings: ServiceSettings) -> Services {
        let ServiceSettings { index, cache: sizes, limits, live } = settings;
        let changes = match &redis {
            Some(link) => ChangeFeed::over_redis(link.clone(), store.installation()),
            None => ChangeFeed::local(),
        };
        let store = store.with_change_sink(Arc::new(changes.clone()));
        let shared = Arc::new(store.clone());
        let secret = store.secret().bytes();
        let cache = CachedReads::with_redis_ttl(
            shared.clone(),
            store.installation(),
            secret,
            sizes.statistics_bytes,
            redis.clone(),
            sizes.statistics_redis_ttl,
        );
        let schema = crate::sdl();
        let responses =
            ResponseCache::new(shared.clone(), &sizes, redis.clone(), secret, store.installation(), &schema);
        let engine = Engine::new(shared.clone(), Arc::new(cache.clone()), index);
        crate::index_refresh::spawn(&engine, &changes);
        let sources = ReadSources {
            users: shared.clone(),
            search: shared.clone(),
            registrations: Arc::new(engine.clone()),
            stats: Arc::new(cache.clone()),
            activity: shared.clone(),
        };
        Services {
            tenants: shared.clone(),
            keys: shared.clone(),
            users: shared.clone(),
            activity: shared.clone(),
            health: shared,
            changes,
            store,
            responses,
            cache,
            redis,
            engine,
            limits,
            live,
            sources,
        }
    }

    /// A reader of `tenant`'s data that records into `reads`.
    pub fn reader(&self, tenant: TenantId, reads: Arc<ReadSet>) -> Reader {
        Reader::new(tenant, reads, &self.sources)
    }
}
