//! The connection to Redis shared by the cache and the change notices. Redis is an
//! accelerator, never a source of truth: every call waits at most [`OP_TIMEOUT`], a
//! failure opens a breaker so that requests stop waiting on a Redis that is down or
//! frozen, one probe a second finds out when it is back, and each outage is logged once
//! when it starts and once when it ends.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Client, RedisResult};

/// The longest a request waits on Redis before answering from the database.
pub const OP_TIMEOUT: Duration = Duration::from_millis(200);
/// How long the breaker stays open after a failure before one call probes Redis again.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// How long a new `rediss://` connection may take, its handshake included.
pub const TLS_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A Redis URL that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid Redis URL: {0}")]
pub struct RedisUrlError(#[source] redis::RedisError);

/// A shared, self-healing connection to one Redis.
#[derive(Clone)]
pub struct RedisLink {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    manager: ConnectionManager,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    /// Since when Redis has been failing; `None` while it answers.
    down_since: Option<Instant>,
    /// While down: no call before this instant, so that only one probe a second waits.
    next_probe: Option<Instant>,
}

impl RedisLink {
    /// A link to the Redis at `url`. Nothing is connected yet, so a server starts even
    /// while Redis is down; the first calls connect.
    pub fn open(url: &str) -> Result<RedisLink, RedisUrlError> {
        let client = Client::open(url).map_err(RedisUrlError)?;
        // A TLS handshake (`rediss://`) takes two more round trips than TCP alone; a
        // managed Redis in another zone would never finish one in a call's 200 ms.
        let tls = matches!(client.get_connection_info().addr(), redis::ConnectionAddr::TcpTls { .. });
        let connect_within = if tls { TLS_CONNECT_TIMEOUT } else { OP_TIMEOUT };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_within))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(PROBE_EVERY);
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(RedisUrlError)?;
        Ok(RedisLink { inner: Arc::new(Inner { client, manager, health: Mutex::new(Health::default()) }) })
    }

    /// Connects and sends a PING on a connection of its own, waiting at most `wait`:
    /// what start-up asks, to say at once (and why) when Redis cannot be reached. The
    /// breaker is left alone: requests find out for themselves.
    pub async fn reach(&self, wait: Duration) -> Result<(), String> {
        let client = self.inner.client.clone();
        let attempt = async move {
            let mut conn = client.get_multiplexed_async_connection().await?;
            redis::cmd("PING").query_async::<String>(&mut conn).await
        };
        match tokio::time::timeout(wait, attempt).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} ms", wait.as_millis())),
        }
    }

    /// The client, for connections of their own (pub/sub).
    pub(crate) fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Whether the last call succeeded.
    pub fn is_up(&self) -> bool {
        self.health().down_since.is_none()
    }

    /// Whether Redis answers a PING in time.
    pub async fn ping(&self) -> bool {
        let mut conn = self.inner.manager.clone();
        self.call(async move { redis::cmd("PING").query_async::<String>(&mut conn).await }).await.is_some()
    }

    /// The value at `key`; `None` when absent or when Redis cannot answer in time.
    pub async fn get(&self, key: &str) -> Option<Vec<u8>> {
        let mut conn = self.inner.manager.clone();
        self.call(async move { conn.get::<_, Option<Vec<u8>>>(key).await }).await.flatten()
    }

    /// Stores `value` at `key` for `ttl`; a failure only means the next reader misses.
    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let mut conn = self.inner.manager.clone();
        let seconds = ttl.as_secs().max(1);
        self.call(async move { conn.set_ex::<_, _, ()>(key, value, seconds).await }).await;
    }

    /// Removes `key`; a failure only means the value stays until it expires or is
    /// overwritten.
    pub async fn del(&self, key: &str) {
        let mut conn = self.inner.manager.clone();
        self.call(async move { conn.del::<_, ()>(key).await }).await;
    }

    /// Publishes `payload` on `channel`; `false` when Redis did not take it.
    pub async fn publish(&self, channel: &str, payload: &[u8]) -> bool {
        let mut conn = self.inner.manager.clone();
        self.call(async move { conn.publish::<_, _, i64>(channel, payload).await }).await.is_some()
    }

    /// Runs a Lua script (atomically, in Redis); `None` when Redis cannot answer in time.
    pub async fn run_script(&self, script: &redis::Script, keys: &[&str], args: &[i64]) -> Option<Vec<i64>> {
        let mut conn = self.inner.manager.clone();
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(*key);
        }
        for arg in args {
            invocation.arg(*arg);
        }
        self.call(async move { invocation.invoke_async::<Vec<i64>>(&mut conn).await }).await
    }

    /// Runs one call under the timeout and the breaker.
    async fn call<T>(&self, op: impl Future<Output = RedisResult<T>>) -> Option<T> {
        if !self.may_call() {
            return None;
        }
        match tokio::time::timeout(OP_TIMEOUT, op).await {
            Ok(Ok(value)) => {
                self.succeeded();
                Some(value)
            }
            Ok(Err(e)) => {
                self.failed(&e);
                None
            }
            Err(_) => {
                self.failed(&format_args!("no answer within {} ms", OP_TIMEOUT.as_millis()));
                None
            }
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        crate::sync::lock(&self.inner.health)
    }

    fn may_call(&self) -> bool {
        let mut health = self.health();
        match health.next_probe {
            None => true,
            Some(at) if Instant::now() >= at => {
                health.next_probe = Some(Instant::now() + PROBE_EVERY);
                true
            }
            Some(_) => false,
        }
    }

    fn failed(&self, reason: &dyn std::fmt::Display) {
        let mut health = self.health();
        if health.down_since.is_none() {
            tracing::warn!(%reason, "Redis is unavailable: answering from the database until it returns");
            health.down_since = Some(Instant::now());
        }
        health.next_probe = Some(Instant::now() + PROBE_EVERY);
    }

    fn succeeded(&self) {
        let mut health = self.health();
        if let Some(since) = health.down_since.take() {
            tracing::info!(outage_ms = since.elapsed().as_millis() as u64, "Redis is available again: caching resumes");
        }
        health.next_probe = None;
    }
}

/// A Redis URL as it may be logged: the password (and user) replaced by `***`.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLink").field("up", &self.is_up()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redacted("rediss://default:s3cret@cache.example.com:6380/0"),
            "rediss://***@cache.example.com:6380/0"
        );
        assert_eq!(redacted("redis://:p@ss@127.0.0.1:6379"), "redis://***@127.0.0.1:6379");
        assert_eq!(redacted("redis://127.0.0.1:6379/#x@y"), "redis://127.0.0.1:6379/#x@y");
        assert_eq!(redacted("not a url"), "not a url");
    }

    #[tokio::test]
    async fn tls_urls_are_accepted() {
        for url in
            ["rediss://127.0.0.1:6390", "rediss://user:pw@cache.example.com:6380/2", "rediss://localhost:1/#insecure"]
        {
            assert!(RedisLink::open(url).is_ok(), "{url}");
        }
        assert!(RedisLink::open("http://127.0.0.1:6379").is_err());
    }

    /// Nothing listens on port 1: the start-up check says so quickly, and why.
    #[tokio::test]
    async fn an_unreachable_redis_is_reported_with_its_reason() {
        let Ok(link) = RedisLink::open("rediss://127.0.0.1:1") else { panic!("the URL is valid") };
        let started = Instant::now();
        let reason = link.reach(Duration::from_secs(2)).await.err().unwrap_or_default();
        assert!(!reason.is_empty() && started.elapsed() < Duration::from_secs(3), "{reason}");
        assert!(link.is_up(), "the start-up check leaves the breaker alone");
    }
}
