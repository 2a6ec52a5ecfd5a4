//! Change notices: after a write commits, the scopes it bumped are announced to the live
//! subscriptions of this process and, through Redis pub/sub, of every other process.
//!
//! A notice is a hint, never the truth: a subscriber re-reads the data version before it
//! pushes anything, and also re-reads it now and then, so a notice lost while Redis was
//! away delays an update a little but never makes one wrong.

use std::sync::Arc;

use futures_util::StreamExt;
use ottstats_domain::scope::{ChangeSink, Scope};
use ottstats_domain::tenant::TenantId;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

use crate::redis_link::RedisLink;

/// The pub/sub channel every process listens on.
pub const CHANNEL: &str = "ottstats:changes";
/// Notices a slow subscriber may fall behind by before it is told it lagged (and then
/// re-reads its version).
const BACKLOG: usize = 1024;

/// Something that may have changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// One scope of one tenant was bumped.
    Scope { tenant: TenantId, scope: Scope },
    /// Notices may have been missed (the link to the other processes was down): every
    /// subscriber should re-read its version.
    Resync,
}

impl Change {
    /// Whether a subscriber to `scope` of `tenant` should look again.
    pub fn concerns(&self, tenant: TenantId, scope: &Scope) -> bool {
        match self {
            Change::Scope { tenant: t, scope: s } => *t == tenant && s == scope,
            Change::Resync => true,
        }
    }
}

/// What travels over Redis.
#[derive(Serialize, Deserialize)]
struct Notice {
    /// The publishing process, which has already told its own subscribers.
    origin: u64,
    /// The database written (its installation token): processes over other databases
    /// sharing the Redis ignore the notice.
    installation: String,
    tenant: i64,
    /// Their [`Scope::key`]s.
    scopes: Vec<String>,
}

/// Announces changes within this process, and across processes when Redis is set.
#[derive(Clone)]
pub struct ChangeFeed {
    inner: Arc<FeedInner>,
}

struct FeedInner {
    local: broadcast::Sender<Change>,
    redis: Option<RedisLink>,
    origin: u64,
    installation: String,
    listener: Option<AbortHandle>,
}

impl Drop for FeedInner {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
    }
}

impl ChangeFeed {
    /// Notices within this process only.
    pub fn local() -> ChangeFeed {
        let (local, _) = broadcast::channel(BACKLOG);
        let inner =
            FeedInner { local, redis: None, origin: rand::random(), installation: String::new(), listener: None };
        ChangeFeed { inner: Arc::new(inner) }
    }

    /// Notices shared with every process over the same database (named by its
    /// `installation` token) and Redis. Must be called inside a Tokio runtime: it starts
    /// the task that listens to the other processes.
    pub fn over_redis(link: RedisLink, installation: &str) -> ChangeFeed {
        let (local, _) = broadcast::channel(BACKLOG);
        let origin = rand::random();
        let installation = installation.to_owned();
        let listener = tokio::spawn(listen(link.clone(), local.clone(), origin, installation.clone())).abort_handle();
        let inner = FeedInner { local, redis: Some(link), origin, installation, listener: Some(listener) };
        ChangeFeed { inner: Arc::new(inner) }
    }

    /// A receiver of every notice from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.local.subscribe()
    }
}

impl ChangeSink for ChangeFeed {
    /// Announces that `scopes` of `tenant` changed. Never waits on Redis.
    fn announce(&self, tenant: TenantId, scopes: &[Scope]) {
        if scopes.is_empty() {
            return;
        }
        for scope in scopes {
            // An error only means nobody in this process is subscribed.
            let _ = self.inner.local.send(Change::Scope { tenant, scope: scope.clone() });
        }
        if let Some(link) = self.inner.redis.clone() {
            let notice = Notice {
                origin: self.inner.origin,
                installation: self.inner.installation.clone(),
                tenant: tenant.0,
                scopes: scopes.iter().map(Scope::key).collect(),
            };
            match serde_json::to_vec(&notice) {
                Ok(payload) => {
                    tokio::spawn(async move {
                        // A lost notice is made up for by the subscribers' own re-reads.
                        link.publish(CHANNEL, &payload).await;
                    });
                }
                Err(e) => tracing::error!(error = %e, "cannot encode a change notice"),
            }
        }
    }
}

impl std::fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed").field("redis", &self.inner.redis.is_some()).finish()
    }
}

/// Relays other processes' notices to this one's subscribers, resubscribing after every
/// disconnection, and asking for a resync after each since notices may have been missed.
async fn listen(link: RedisLink, local: broadcast::Sender<Change>, origin: u64, installation: String) {
    let mut connected_before = false;
    // How often the subscription is probed (`redis.notices_probe_every`), and the wait
    // between attempts to (re)subscribe while Redis is away (`redis.resubscribe_every`).
    let (probe_every, resubscribe_every) = link.notice_timings();
    loop {
        match subscribe(&link).await {
            Ok(pubsub) => {
                if connected_before {
                    let _ = local.send(Change::Resync);
                }
                connected_before = true;
                let (mut sink, mut messages) = pubsub.split();
                let mut probe = tokio::time::interval(probe_every);
                probe.tick().await;
                loop {
                    let message = tokio::select! {
                        message = messages.next() => match message {
                            Some(m) => m,
                            None => break,
                        },
                        _ = probe.tick() => {
                            let ping = tokio::time::timeout(link.op_timeout() * 5, sink.ping::<redis::Value>());
                            if !matches!(ping.await, Ok(Ok(_))) {
                                break;
                            }
                            continue;
                        }
                    };
                    let notice: Notice = match serde_json::from_slice(message.get_payload_bytes()) {
                        Ok(n) => n,
                        Err(e) => {
                            tracing::warn!(error = %e, "ignoring a change notice that is not ours");
                            continue;
                        }
                    };
                    if notice.origin == origin || notice.installation != installation {
                        continue;
                    }
                    for scope in notice.scopes.iter().filter_map(|key| Scope::parse(key)) {
                        let _ = local.send(Change::Scope { tenant: TenantId(notice.tenant), scope });
                    }
                }
                tracing::debug!("change notices: Redis subscription ended; resubscribing");
            }
            Err(e) => tracing::debug!(error = %e, "change notices: cannot subscribe to Redis yet"),
        }
        tokio::time::sleep(resubscribe_every).await;
    }
}

async fn subscribe(link: &RedisLink) -> redis::RedisResult<redis::aio::PubSub> {
    let connect = async {
        let mut pubsub = link.client().get_async_pubsub().await?;
        pubsub.subscribe(CHANNEL).await?;
        Ok(pubsub)
    };
    match tokio::time::timeout(link.op_timeout() * 5, connect).await {
        Ok(result) => result,
        Err(_) => Err(redis::RedisError::from((redis::ErrorKind::Io, "timed out subscribing"))),
    }
}
