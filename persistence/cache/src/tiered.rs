//! The one cache: in process (moka, bounded by weight), then Redis when one is
//! configured, so that every process shares what one computed. Entries in Redis are
//! sealed (see [`crate::sealed`]) and only an entry that passed its check gets into the
//! process tier. Concurrent misses of one key wait for a single load (a cold dashboard
//! opened by many clients, or every dashboard when a write lands) instead of all loading.
//!
//! Keys are [`CacheKey`]s: digests of typed parts, never of `Debug` output. What a key
//! depends on (the data versions of its scopes) is the caller's part of the key, so an
//! entry is never served once its data moved on, and never needs deleting.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use moka::future::Cache;
use ottstats_domain::tenant::TenantId;
use tokio::sync::watch;

use crate::key::CacheKey;
use crate::redis_link::RedisLink;
use crate::sealed::{self, Sealer};
use crate::sync::lock;

/// What a tiered cache can hold: how much room a value takes in process, and how it
/// travels to and from Redis.
pub trait Cached: Clone + Send + Sync + 'static {
    /// Roughly the bytes the value holds in process.
    fn weight(&self) -> u32;
    fn encode(&self) -> Option<Bytes>;
    /// `None` for bytes that do not decode: only a bug can cause it, and the recomputed
    /// value overwrites them.
    fn decode(bytes: Bytes) -> Option<Self>;
}

/// Rendered bytes travel as they are.
impl Cached for Bytes {
    fn weight(&self) -> u32 {
        u32::try_from(self.len() + 64).unwrap_or(u32::MAX)
    }

    fn encode(&self) -> Option<Bytes> {
        Some(self.clone())
    }

    fn decode(bytes: Bytes) -> Option<Self> {
        Some(bytes)
    }
}

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Held already: in process, in Redis, or loaded by a concurrent caller.
    Cache,
    /// Loaded by this caller.
    Loaded,
}

/// One namespace of cached values of one type.
pub struct TieredCache<V: Cached> {
    local: Cache<CacheKey, V>,
    shared: Option<Shared>,
    /// The Redis key of an entry is `prefix` and the key's digest.
    prefix: &'static str,
    /// Loads under way, by key: later callers wait for their outcome.
    loading: Arc<Mutex<HashMap<CacheKey, Outcome<V>>>>,
    /// Entries read from Redis that failed their check: dropped and loaded again.
    rejected: Arc<AtomicU64>,
}

impl<V: Cached> Clone for TieredCache<V> {
    fn clone(&self) -> Self {
        TieredCache {
            local: self.local.clone(),
            shared: self.shared.clone(),
            prefix: self.prefix,
            loading: self.loading.clone(),
            rejected: self.rejected.clone(),
        }
    }
}

/// The Redis tier.
#[derive(Clone)]
struct Shared {
    redis: RedisLink,
    sealer: Sealer,
    /// How long Redis keeps an entry. Entries of old versions are never read again, so
    /// this only bounds how long they take up room.
    ttl: Duration,
}

/// The outcome of a load others wait for: `Some(value)` once stored, `None` when the
/// load produced nothing to share (an error) or was abandoned.
type Outcome<V> = watch::Receiver<Option<Option<V>>>;

/// The duty to load one value; waiters are released when it is fulfilled or dropped.
pub struct Turn<V: Cached> {
    cache: TieredCache<V>,
    tenant: TenantId,
    key: CacheKey,
    done: watch::Sender<Option<Option<V>>>,
}

impl<V: Cached> Turn<V> {
    /// Stores `value` (in process, and in Redis without holding up the caller) and hands
    /// it to the waiters.
    pub async fn fulfil(self: Box<Self>, value: V) {
        self.cache.insert(self.tenant, self.key.clone(), value.clone()).await;
        // Stored first, so that no caller arriving now loads it again.
        self.done.send_replace(Some(Some(value)));
    }
}

impl<V: Cached> Drop for Turn<V> {
    fn drop(&mut self) {
        lock(&self.cache.loading).remove(&self.key);
        if self.done.borrow().is_none() {
            self.done.send_replace(Some(None));
        }
    }
}

/// What [`TieredCache::claim`] found.
pub enum Claim<V: Cached> {
    /// The value, held already or loaded meanwhile by another caller.
    Found(V),
    /// This caller loads the value, and hands it over with [`Turn::fulfil`].
    Load(Box<Turn<V>>),
    /// Another caller's load failed or was abandoned: load without sharing.
    Alone,
}

impl<V: Cached> TieredCache<V> {
    /// At most about `max_bytes` in process; shared through `redis` when given, its
    /// entries sealed with `secret` and kept for `ttl`.
    pub fn new(prefix: &'static str, max_bytes: u64, redis: Option<(RedisLink, &[u8], Duration)>) -> TieredCache<V> {
        let local = Cache::builder().weigher(|_k: &CacheKey, v: &V| v.weight()).max_capacity(max_bytes).build();
        let shared =
            redis.map(|(redis, secret, ttl)| Shared { redis: redis.clone(), sealer: Sealer::new(secret), ttl });
        TieredCache { local, shared, prefix, loading: Arc::default(), rejected: Arc::default() }
    }

    /// The same cache, counting the entries it rejects in `counter` too.
    pub fn counting_rejections(mut self, counter: Arc<AtomicU64>) -> TieredCache<V> {
        self.rejected = counter;
        self
    }

    /// Entries found in Redis that failed their check or did not decode: dropped, never
    /// served.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The value at `key`, from the process tier or Redis.
    pub async fn get(&self, tenant: TenantId, key: &CacheKey) -> Option<V> {
        if let Some(value) = self.local.get(key).await {
            return Some(value);
        }
        let shared = self.shared.as_ref()?;
        let redis_key = self.redis_key(key);
        let bytes = sealed::fetch(&shared.redis, &shared.sealer, tenant, &redis_key, &self.rejected).await?;
        match V::decode(bytes) {
            Some(value) => {
                self.local.insert(key.clone(), value.clone()).await;
                Some(value)
            }
            None => {
                tracing::warn!(key = redis_key, "undecodable cache entry in Redis");
                self.rejected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                None
            }
        }
    }

    /// Stores `value` at `key`: in process at once, in Redis without waiting.
    pub async fn insert(&self, tenant: TenantId, key: CacheKey, value: V) {
        if let Some(shared) = &self.shared {
            match value.encode() {
                Some(bytes) => sealed::share(
                    shared.redis.clone(),
                    &shared.sealer,
                    tenant,
                    self.redis_key(&key),
                    &bytes,
                    shared.ttl,
                ),
                None => tracing::error!("cannot encode a cache entry"),
            }
        }
        self.local.insert(key, value).await;
    }

    /// The value at `key` if held, else the duty to load it, or another caller's load
    /// waited for.
    pub async fn claim(&self, tenant: TenantId, key: &CacheKey) -> Claim<V> {
        if let Some(value) = self.get(tenant, key).await {
            return Claim::Found(value);
        }
        let theirs = {
            let mut loading = lock(&self.loading);
            match loading.get(key) {
                Some(theirs) => Err(theirs.clone()),
                None => {
                    let (done, waiters) = watch::channel(None);
                    loading.insert(key.clone(), waiters);
                    Ok(Box::new(Turn { cache: self.clone(), tenant, key: key.clone(), done }))
                }
            }
        };
        match theirs {
            Ok(turn) => match self.local.get(key).await {
                // Stored while this caller looked in Redis: the load is done.
                Some(value) => {
                    turn.done.send_replace(Some(Some(value.clone())));
                    Claim::Found(value)
                }
                None => Claim::Load(turn),
            },
            Err(mut theirs) => {
                let outcome = theirs.wait_for(Option::is_some).await.ok().and_then(|o| o.clone()).flatten();
                outcome.map_or(Claim::Alone, Claim::Found)
            }
        }
    }

    /// The value at `key`, loaded by `load` when nobody holds it (once for concurrent
    /// callers). An error is the caller's own: waiters then load for themselves.
    pub async fn get_or_load<E, F>(&self, tenant: TenantId, key: &CacheKey, load: F) -> Result<(V, Source), E>
    where
        F: Future<Output = Result<V, E>>,
    {
        match self.claim(tenant, key).await {
            Claim::Found(value) => Ok((value, Source::Cache)),
            Claim::Load(turn) => {
                let value = load.await?;
                turn.fulfil(value.clone()).await;
                Ok((value, Source::Loaded))
            }
            Claim::Alone => load.await.map(|v| (v, Source::Loaded)),
        }
    }

    fn redis_key(&self, key: &CacheKey) -> String {
        format!("{}{}", self.prefix, key.hex())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    const T: TenantId = TenantId(1);

    fn key(n: i64) -> CacheKey {
        CacheKey::builder("test").number(n).finish()
    }

    fn cache() -> TieredCache<Bytes> {
        TieredCache::new("test:", 1 << 20, None)
    }

    #[tokio::test]
    async fn a_value_is_loaded_once_then_served() {
        let cache = cache();
        let load = || async { Ok::<_, ()>(Bytes::from_static(b"v")) };
        assert_eq!(cache.get_or_load(T, &key(1), load()).await, Ok((Bytes::from_static(b"v"), Source::Loaded)));
        assert_eq!(cache.get_or_load(T, &key(1), load()).await, Ok((Bytes::from_static(b"v"), Source::Cache)));
        assert_eq!(cache.get(T, &key(2)).await, None);
    }

    #[tokio::test]
    async fn concurrent_misses_wait_for_one_load() {
        let cache = cache();
        let loads = AtomicUsize::new(0);
        let load = || async {
            loads.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, ()>(Bytes::from_static(b"v"))
        };
        let one = key(1);
        let all = futures_util::future::join_all((0..20).map(|_| cache.get_or_load(T, &one, load()))).await;
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert_eq!(all.iter().filter(|r| matches!(r, Ok((_, Source::Loaded)))).count(), 1);
        assert!(all.iter().all(|r| r.as_ref().is_ok_and(|(v, _)| v == "v")));
    }

    #[tokio::test]
    async fn after_a_failed_load_the_waiters_load_for_themselves() {
        let cache = cache();
        let loads = AtomicUsize::new(0);
        let load = |fail: bool| {
            let loads = &loads;
            async move {
                loads.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                if fail { Err("down") } else { Ok(Bytes::from_static(b"v")) }
            }
        };
        let one = key(1);
        let (first, second) = tokio::join!(cache.get_or_load(T, &one, load(true)), async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            cache.get_or_load(T, &one, load(false)).await
        });
        assert_eq!(first, Err("down"));
        assert_eq!(second, Ok((Bytes::from_static(b"v"), Source::Loaded)));
        assert_eq!(loads.load(Ordering::SeqCst), 2);
        // An abandoned turn releases its waiters too.
        let Claim::Load(turn) = cache.claim(T, &key(3)).await else { panic!("nobody held key 3") };
        let waiter = tokio::spawn({
            let cache = cache.clone();
            async move { matches!(cache.claim(T, &key(3)).await, Claim::Alone) }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(turn);
        assert!(waiter.await.unwrap_or(false));
    }
}
