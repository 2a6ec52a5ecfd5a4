//! The connection to Redis shared by the cache and the change notices. Redis is an
//! accelerator, never a source of truth: every call waits at most
//! [`RedisSettings::op_timeout`], a failure opens a breaker so that requests stop waiting
//! on a Redis that is down or frozen, one probe a second finds out when it is back, and
//! each outage is logged once when it starts and once when it ends.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Client, RedisResult};

/// Which Redis, and how long it is waited for: the `[redis]` section of the settings.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisSettings {
    /// `redis://HOST:PORT` or `rediss://…`; none (or empty): the cache and the change
    /// notices stay in process.
    pub url: Option<String>,
    /// The longest a request waits on Redis before answering from the database.
    #[serde(with = "ottstats_domain::units::duration")]
    pub op_timeout: Duration,
    /// How long the breaker stays open after a failure before one call probes Redis again.
    #[serde(with = "ottstats_domain::units::duration")]
    pub probe_every: Duration,
    /// How long a new `rediss://` connection may take, its handshake included.
    #[serde(with = "ottstats_domain::units::duration")]
    pub tls_connect_timeout: Duration,
    /// How long start-up waits for Redis to answer before warning that it cannot.
    #[serde(with = "ottstats_domain::units::duration")]
    pub start_check: Duration,
    /// How often the change-notice subscription is probed: a frozen Redis or a half-open
    /// connection sends nothing, so silence alone says nothing.
    #[serde(with = "ottstats_domain::units::duration")]
    pub notices_probe_every: Duration,
    /// Wait between attempts to (re)subscribe to change notices while Redis is away.
    #[serde(with = "ottstats_domain::units::duration")]
    pub resubscribe_every: Duration,
}

impl Default for RedisSettings {
    fn default() -> Self {
        RedisSettings {
            url: None,
            op_timeout: Duration::from_millis(200),
            probe_every: Duration::from_secs(1),
            tls_connect_timeout: Duration::from_secs(2),
            start_check: Duration::from_secs(2),
            notices_probe_every: Duration::from_secs(10),
            resubscribe_every: Duration::from_secs(1),
        }
    }
}

impl RedisSettings {
    /// The URL to connect to: `None` when unset or blank.
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref().filter(|u| !u.trim().is_empty())
    }
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisSettings")
            .field("url", &self.url.as_deref().map(redacted))
            .field("op_timeout", &self.op_timeout)
            .field("probe_every", &self.probe_every)
            .field("tls_connect_timeout", &self.tls_connect_timeout)
            .field("start_check", &self.start_check)
            .field("notices_probe_every", &self.notices_probe_every)
            .field("resubscribe_every", &self.resubscribe_every)
            .finish()
    }
}

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
    op_timeout: Duration,
    probe_every: Duration,
    /// For the change notices' subscription: how often it is probed, and how soon it is
    /// made again.
    pub(crate) notices_probe_every: Duration,
    pub(crate) resubscribe_every: Duration,
}

#[derive(Default)]
struct Health {
    /// Since when Redis has been failing; `None` while it answers.
    down_since: Option<Instant>,
    /// While down: no call before this instant, so that only one probe a second waits.
    next_probe: Option<Instant>,
}

impl RedisLink {
    /// A link to the Redis at `url`, waited for as [`RedisSettings::default`] says.
    /// Nothing is connected yet, so a server starts even while Redis is down; the first
    /// calls connect.
    pub fn open(url: &str) -> Result<RedisLink, RedisUrlError> {
        RedisLink::with_settings(url, &RedisSettings::default())
    }

    /// [`RedisLink::open`] with the timeouts of `settings` (its `url` is not read).
    pub fn with_settings(url: &str, settings: &RedisSettings) -> Result<RedisLink, RedisUrlError> {
        let client = Client::open(url).map_err(RedisUrlError)?;
        // A TLS handshake (`rediss://`) takes two more round trips than TCP alone; a
        // managed Redis in another zone would never finish one in a call's 200 ms.
        let tls = matches!(client.get_connection_info().addr(), redis::ConnectionAddr::TcpTls { .. });
        let connect_within = if tls { settings.tls_connect_timeout } else { settings.op_timeout };
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_within))
            .set_response_timeout(Some(settings.op_timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(settings.probe_every);
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(RedisUrlError)?;
        let inner = Inner {
            client,
            manager,
            health: Mutex::new(Health::default()),
            op_timeout: settings.op_timeout,
            probe_every: settings.probe_every,
            notices_probe_every: settings.notices_probe_every,
            resubscribe_every: settings.resubscribe_every,
        };
        Ok(RedisLink { inner: Arc::new(inner) })
    }

    /// The longest one call waits (see [`RedisSettings::op_timeout`]).
    pub fn op_timeout(&self) -> Duration {
        self.inner.op_timeout
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

    /// How often the change notices' subscription is probed, and how soon it is made
    /// again after it failed.
    pub(crate) fn notice_timings(&self) -> (Duration, Duration) {
        (self.inner.notices_probe_every, self.inner.resubscribe_every)
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
        let timeout = self.inner.op_timeout;
        match tokio::time::timeout(timeout, op).await {
            Ok(Ok(value)) => {
                self.succeeded();
                Some(value)
            }
            Ok(Err(e)) => {
                self.failed(&e);
                None
            }
            Err(_) => {
                self.failed(&format_args!("no answer within {} ms", timeout.as_millis()));
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
                health.next_probe = Some(Instant::now() + self.inner.probe_every);
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
        health.next_probe = Some(Instant::now() + self.inner.probe_every);
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
