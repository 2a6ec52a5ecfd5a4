//! The test Redis seen from outside ottstats, to play whoever else can write to it (another
//! installation, a tenant's stolen credentials, a bad disk): find the entries a test
//! wrote, read them, and overwrite them.

use std::time::{Duration, Instant};

use ottstats_cache::RedisLink;
use ottstats_graphql::Services;
use ottstats_server::AppState;
use ottstats_store::Store;
use ottstats_store::testing::redis_url;
use redis::aio::MultiplexedConnection;

use crate::{StatsPath, TestServer};

/// A plain connection to the test Redis.
pub struct RawRedis {
    conn: MultiplexedConnection,
}

impl RawRedis {
    /// `None` when no test Redis is configured (panics when one is required but unset).
    pub async fn connect() -> Option<RawRedis> {
        let url = redis_url()?;
        let client = redis::Client::open(url.as_str()).unwrap_or_else(|e| panic!("{url}: {e}"));
        let conn = client.get_multiplexed_async_connection().await.unwrap_or_else(|e| panic!("{url}: {e}"));
        Some(RawRedis { conn })
    }

    /// The keys matching `pattern` whose value contains `marker`, once there are `n` of
    /// them (caches write to Redis in the background); panics after 10 s.
    pub async fn keys_holding(&mut self, pattern: &str, marker: &str, n: usize) -> Vec<(String, Vec<u8>)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.scan_holding(pattern, marker.as_bytes()).await;
            if found.len() >= n {
                return found;
            }
            assert!(Instant::now() < deadline, "{} of {n} entries holding {marker} under {pattern}", found.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn scan_holding(&mut self, pattern: &str, marker: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut found = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut self.conn)
                .await
                .unwrap_or_else(|e| panic!("SCAN: {e}"));
            if !keys.is_empty() {
                let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
                    .arg(&keys)
                    .query_async(&mut self.conn)
                    .await
                    .unwrap_or_else(|e| panic!("MGET: {e}"));
                for (key, value) in keys.into_iter().zip(values) {
                    if let Some(value) = value.filter(|v| v.windows(marker.len()).any(|w| w == marker)) {
                        found.push((key, value));
                    }
                }
            }
            if next == 0 {
                return found;
            }
            cursor = next;
        }
    }

    /// Waits until the value at `key` is no longer `old`: the cache that refused it wrote
    /// its own (in the background), so that the test's next write is not overwritten.
    pub async fn rewritten(&mut self, key: &str, old: &[u8]) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now: Option<Vec<u8>> = redis::cmd("GET")
                .arg(key)
                .query_async(&mut self.conn)
                .await
                .unwrap_or_else(|e| panic!("GET {key}: {e}"));
            if now.is_some_and(|v| v != old) {
                return;
            }
            assert!(Instant::now() < deadline, "{key} was not written again");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Overwrites `key` with `value` (for a minute: long enough for any test).
    pub async fn set(&mut self, key: &str, value: &[u8]) {
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("EX")
            .arg(60)
            .query_async::<()>(&mut self.conn)
            .await
            .unwrap_or_else(|e| panic!("SET {key}: {e}"));
    }
}

/// One more ottstats process over `store` and `redis`: its own caches (nothing in process
/// yet), serving the real router.
pub async fn process(store: &Store, redis: &RedisLink, path: StatsPath) -> (Services, TestServer) {
    let services = Services::new(store.clone(), Some(redis.clone()), path.settings());
    let server = TestServer::start(AppState::new(services.clone(), None)).await;
    (services, server)
}

/// A random name for what one test writes, so that it finds its own entries among those
/// of every other test sharing the Redis. Starts with a letter: it is also a GraphQL alias.
pub fn marker() -> String {
    format!("m{:016x}", rand::random::<u64>())
}
