//! Whole rendered answers, keyed by the request and the data versions of every scope the
//! answer read. A repeated dashboard then costs one read of a few versions instead of
//! resolving thousands of fields.
//!
//! Which scopes a request reads is only known after running it, so the first run of a
//! request records them (its *manifest*). Later runs read the manifest's versions
//! *before* anything else, and either find the answer stored under exactly those versions
//! or run the request and store its answer under them. Since a write bumps versions in the
//! transaction that changes the data, an answer is never stored under versions older than
//! the data it was computed from, and a stored answer is never served once any scope it
//! read has moved on.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use moka::future::Cache;
use ottstats_domain::RepoError;
use ottstats_domain::tenant::TenantId;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use crate::redis_link::RedisLink;
use crate::sealed;
use crate::store::Store;
use crate::sync::lock;

const REDIS_TTL: Duration = Duration::from_secs(3600);
/// Keys carry the release and the frame (see `sealed`): a process that wrote unframed
/// answers never reads a framed one as its body, nor the other way round.
const REDIS_PREFIX: &str = concat!("ottstats:", env!("CARGO_PKG_VERSION"), ":sealed:response:");
/// What the manifests (the scopes each request reads) may hold, roughly, in bytes.
const MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

/// Rendered answers in process, and in Redis when one is configured.
#[derive(Clone)]
pub struct ResponseCache {
    store: Store,
    /// Request key → the scopes its answer reads.
    manifests: Cache<String, Arc<[String]>>,
    /// Request key and versions → the rendered answer.
    bodies: Cache<String, Bytes>,
    redis: Option<RedisLink>,
    /// What keys depend on besides the request: the schema, so that a changed schema
    /// never serves an answer rendered by another.
    salt: Arc<str>,
    hits: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
    /// Answers read from Redis that failed their check (see `sealed`), dropped and rendered.
    rejected: Arc<AtomicU64>,
    /// Answers being rendered, by key: concurrent misses of one answer (every dashboard
    /// open when a write lands) wait for a single render instead of all rendering it.
    rendering: Arc<Mutex<HashMap<String, Rendered>>>,
}

/// The outcome of a render others wait for: `Some(answer)` once stored, `None` when the
/// render produced nothing to share (an error) or was abandoned.
type Rendered = watch::Receiver<Option<Option<Bytes>>>;

/// What a lookup learnt, to store the answer under afterwards.
pub struct Lookup {
    tenant: TenantId,
    request: String,
    /// The manifest and the versions read before the request ran.
    snapshot: Option<(Arc<[String]>, String)>,
    /// Set when this request renders an answer others wait for.
    turn: Option<RenderTurn>,
}

/// The duty to render one answer; waiters are released when it is fulfilled or dropped.
struct RenderTurn {
    key: String,
    done: watch::Sender<Option<Option<Bytes>>>,
    rendering: Arc<Mutex<HashMap<String, Rendered>>>,
}

impl RenderTurn {
    fn fulfil(self, answer: Option<Bytes>) {
        self.done.send_replace(Some(answer));
    }
}

impl Drop for RenderTurn {
    fn drop(&mut self) {
        lock(&self.rendering).remove(&self.key);
        if self.done.borrow().is_none() {
            self.done.send_replace(Some(None));
        }
    }
}

impl ResponseCache {
    /// At most `max_bytes` of answers in process; `salt` (the schema's SDL, say) goes
    /// into every key.
    pub fn new(store: Store, max_bytes: u64, redis: Option<RedisLink>, salt: &str) -> ResponseCache {
        let bodies = Cache::builder()
            .weigher(|k: &String, v: &Bytes| u32::try_from(k.len() + v.len() + 64).unwrap_or(u32::MAX))
            .max_capacity(max_bytes)
            .build();
        ResponseCache {
            store: store.clone(),
            manifests: Cache::builder()
                .weigher(|k: &String, v: &Arc<[String]>| {
                    let bytes = k.len() + v.iter().map(|s| s.len() + 24).sum::<usize>() + 64;
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .max_capacity(MANIFEST_BYTES)
                .build(),
            bodies,
            redis,
            salt: hex(&Sha256::digest(format!("{}|{salt}", store.installation()).as_bytes())).into(),
            hits: Arc::default(),
            misses: Arc::default(),
            rejected: Arc::default(),
            rendering: Arc::default(),
        }
    }

    /// Answers served whole from the cache, and requests that had to run.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// Answers found in Redis that failed their integrity check: dropped, never served.
    pub fn rejected(&self) -> u64 {
        self.rejected.load(Ordering::Relaxed)
    }

    /// The stored answer to `request` (its query, operation and variables, normalised by
    /// the caller) for `tenant`, if the data it read has not changed since.
    pub async fn lookup(&self, tenant: TenantId, request: &[u8]) -> Result<(Lookup, Option<Bytes>), RepoError> {
        let mut hasher = Sha256::new();
        hasher.update(self.salt.as_bytes());
        hasher.update(tenant.0.to_be_bytes());
        hasher.update(request);
        let request = hex(&hasher.finalize());
        let manifest = match self.manifest(&request).await {
            Some(known) => known,
            // The first of concurrent requests never seen before learns the manifest; the
            // others wait for it (then render once between them, below), including one
            // that found no learner a moment ago but meets one now.
            None => match self.render_turn(&format!("learn:{request}")) {
                Ok(turn) => {
                    self.misses.fetch_add(1, Ordering::Relaxed);
                    return Ok((Lookup { tenant, request, snapshot: None, turn: Some(turn) }, None));
                }
                Err(mut learning) => {
                    let _ = learning.wait_for(Option::is_some).await;
                    match self.manifests.get(&request).await {
                        Some(known) => known,
                        None => {
                            self.misses.fetch_add(1, Ordering::Relaxed);
                            return Ok((Lookup { tenant, request, snapshot: None, turn: None }, None));
                        }
                    }
                }
            },
        };
        let versions = self.store.versions(tenant, &manifest).await?;
        let mut hasher = Sha256::new();
        hasher.update(request.as_bytes());
        for (scope, v) in manifest.iter().zip(&versions) {
            hasher.update(scope.as_bytes());
            hasher.update([0]);
            hasher.update(v.to_be_bytes());
        }
        let key = hex(&hasher.finalize());
        let mut turn = None;
        let mut found = match self.bodies.get(&key).await {
            Some(body) => Some(body),
            None => self.shared_body(tenant, &key).await,
        };
        if found.is_none() {
            match self.render_turn(&key) {
                // Stored while this request looked in Redis: the render is done.
                Ok(mine) => match self.bodies.get(&key).await {
                    Some(body) => {
                        mine.fulfil(Some(body.clone()));
                        found = Some(body);
                    }
                    None => turn = Some(mine),
                },
                // Rendered by another request meanwhile; when it had nothing to share,
                // this request renders on its own.
                Err(mut theirs) => {
                    found = theirs.wait_for(Option::is_some).await.ok().and_then(|r| r.clone()).flatten();
                }
            }
        }
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok((Lookup { tenant, request, snapshot: Some((manifest, key)), turn }, found))
    }

    /// The scopes `request` reads; when another request is learning them right now,
    /// after waiting for it.
    async fn manifest(&self, request: &str) -> Option<Arc<[String]>> {
        if let Some(known) = self.manifests.get(request).await {
            return Some(known);
        }
        let learning = lock(&self.rendering).get(&format!("learn:{request}")).cloned();
        if let Some(mut learning) = learning {
            let _ = learning.wait_for(Option::is_some).await;
        }
        // Again: it may have been learnt between the two looks above.
        self.manifests.get(request).await
    }

    /// The turn to render the answer at `key`, or the render already under way.
    fn render_turn(&self, key: &str) -> Result<RenderTurn, Rendered> {
        let mut rendering = lock(&self.rendering);
        if let Some(theirs) = rendering.get(key) {
            return Err(theirs.clone());
        }
        let (done, waiters) = watch::channel(None);
        rendering.insert(key.to_owned(), waiters);
        Ok(RenderTurn { key: key.to_owned(), done, rendering: self.rendering.clone() })
    }

    /// Remembers the answer of a request that ran after `lookup`, which read `scopes`:
    /// `answer` is what a later hit sends as it is. Only an answer whose scopes were all
    /// read before it ran is stored; otherwise the manifest learns them and the next run
    /// stores.
    pub async fn store(&self, lookup: Lookup, scopes: BTreeSet<String>, answer: Bytes) {
        match lookup.snapshot {
            Some((manifest, key)) if scopes.iter().all(|s| manifest.contains(s)) => {
                if let Some(redis) = self.redis.clone() {
                    let shared_key = format!("{REDIS_PREFIX}{key}");
                    sealed::share(redis, self.store.sealer(), lookup.tenant, shared_key, &answer, REDIS_TTL);
                }
                self.bodies.insert(key, answer.clone()).await;
                // Stored first, so that no request arriving now renders it again.
                if let Some(turn) = lookup.turn {
                    turn.fulfil(Some(answer));
                }
            }
            _ => {
                self.manifests.insert(lookup.request, scopes.into_iter().collect()).await;
                // Dropping the turn (if this request was learning) releases the waiters.
                drop(lookup.turn);
            }
        }
    }

    /// The answer at `key` in Redis, once it passed its check; only then is it kept in
    /// process too.
    async fn shared_body(&self, tenant: TenantId, key: &str) -> Option<Bytes> {
        let redis = self.redis.as_ref()?;
        let shared_key = format!("{REDIS_PREFIX}{key}");
        let body = sealed::fetch(redis, self.store.sealer(), tenant, &shared_key, &self.rejected).await?;
        self.bodies.insert(key.to_owned(), body.clone()).await;
        Some(body)
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
