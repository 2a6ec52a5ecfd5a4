//! What the schema runs on: the store, the caches in front of it, the registrations
//! index and change notices, put together once per process.

use std::sync::Arc;

use ottstats_cache::{CachedReads, ChangeFeed, RedisLink};
use ottstats_domain::activity_repository::ActivityWrites;
use ottstats_domain::repository::{HealthCheck, KeyRepository, TenantRepository, UserRepository};
use ottstats_domain::tenant::TenantId;
use ottstats_engine::{Engine, EngineSettings};
use ottstats_store::Store;

use crate::reader::{ReadSet, ReadSources, Reader};
use crate::response_cache::ResponseCache;

/// What the in-process caches may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheSizes {
    /// Statistics (registration panels on the SQL path, sessions, bandwidth), split evenly
    /// between the six kinds.
    pub statistics_bytes: u64,
    /// Whole rendered answers.
    pub answer_bytes: u64,
}

impl Default for CacheSizes {
    fn default() -> Self {
        CacheSizes { statistics_bytes: 64 * 1024 * 1024, answer_bytes: 64 * 1024 * 1024 }
    }
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
        Services::with_cache_sizes(store, redis, index, CacheSizes::default())
    }

    /// [`Services::new`] with caches of other sizes.
    pub fn with_cache_sizes(
        store: Store,
        redis: Option<RedisLink>,
        index: EngineSettings,
        sizes: CacheSizes,
    ) -> Services {
        let changes = match &redis {
            Some(link) => ChangeFeed::over_redis(link.clone(), store.installation()),
            None => ChangeFeed::local(),
        };
        let store = store.with_change_sink(Arc::new(changes.clone()));
        let shared = Arc::new(store.clone());
        let secret = store.secret().bytes();
        let cache = CachedReads::new(shared.clone(), store.installation(), secret, sizes.statistics_bytes, redis.clone());
        let schema = crate::sdl();
        let responses =
            ResponseCache::new(shared.clone(), sizes.answer_bytes, redis.clone(), secret, store.installation(), &schema);
        let engine = Engine::new(shared.clone(), Arc::new(cache.clone()), index);
        crate::index_refresh::spawn(&engine, &changes);
        let sources = ReadSources {
            users: shared.clone(),
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
            sources,
        }
    }

    /// A reader of `tenant`'s data that records into `reads`.
    pub fn reader(&self, tenant: TenantId, reads: Arc<ReadSet>) -> Reader {
        Reader::new(tenant, reads, &self.sources)
    }
}
