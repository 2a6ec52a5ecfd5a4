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
//!
//! Both the manifests (in process) and the answers (in process and Redis) are
//! [`TieredCache`]s, whose turns make concurrent requests learn a manifest once and render
//! an answer once.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use ottstats_cache::{CacheKey, Cached, Claim, RedisLink, TieredCache, Turn};
use ottstats_domain::RepoError;
use ottstats_domain::scope::{DataVersions, Scope};
use ottstats_domain::tenant::TenantId;

use crate::services::CacheSettings;

/// Keys carry the release and the frame (see `ottstats_cache::tiered`): a process that
/// wrote unframed answers never reads a framed one as its body, nor the other way round.
const REDIS_PREFIX: &str = concat!("ottstats:", env!("CARGO_PKG_VERSION"), ":sealed:response:");

/// The scopes one request's answer reads.
#[derive(Clone)]
struct Manifest(Arc<[Scope]>);

impl Cached for Manifest {
    fn weight(&self) -> u32 {
        let bytes = self.0.iter().map(|s| s.key().len() + 24).sum::<usize>() + 96;
        u32::try_from(bytes).unwrap_or(u32::MAX)
    }

    /// Manifests stay in process: learning one again costs a single run.
    fn encode(&self) -> Option<Bytes> {
        None
    }

    fn decode(_: Bytes) -> Option<Self> {
        None
    }
}

/// Rendered answers in process, and in Redis when one is configured.
#[derive(Clone)]
pub struct ResponseCache {
    versions: Arc<dyn DataVersions>,
    manifests: TieredCache<Manifest>,
    bodies: TieredCache<Bytes>,
    /// What keys depend on besides the request: the installation and the schema, so that
    /// a changed schema never serves an answer rendered by another.
    salt: Arc<str>,
    hits: Arc<AtomicU64>,
    misses: Arc<AtomicU64>,
}

/// What a lookup learnt, to store the answer under afterwards.
pub struct Lookup {
    tenant: TenantId,
    request: CacheKey,
    /// The manifest and the key of the answer under the versions read before the request ran.
    snapshot: Option<(Manifest, CacheKey)>,
    /// This request learns the manifest that others wait for.
    learning: Option<Box<Turn<Manifest>>>,
    /// This request renders the answer others wait for.
    rendering: Option<Box<Turn<Bytes>>>,
}

impl ResponseCache {
    /// At most `sizes.answer_bytes` of answers in process, shared through `redis` (sealed
    /// with the installation's `secret`) when given; the `installation` and the `schema`
    /// (its SDL) go into every key.
    pub fn new(
        versions: Arc<dyn DataVersions>,
        sizes: &CacheSettings,
        redis: Option<RedisLink>,
        secret: &[u8],
        installation: &str,
        schema: &str,
    ) -> ResponseCache {
        let salt = CacheKey::builder("salt").text(installation).text(schema).finish().hex();
        ResponseCache {
            versions,
            manifests: TieredCache::new("", sizes.manifest_bytes, None),
            bodies: TieredCache::new(
                REDIS_PREFIX,
                sizes.answer_bytes,
                redis.map(|r| (r, secret, sizes.answer_redis_ttl)),
            ),
            salt: salt.into(),
            hits: Arc::default(),
            misses: Arc::default(),
        }
    }

    /// Answers served whole from the cache, and requests that had to run.
    pub fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// Answers found in Redis that failed their integrity check: dropped, never served.
    pub fn rejected(&self) -> u64 {
        self.bodies.rejected()
    }

    /// The stored answer to `request` (its query, operation and variables, normalised by
    /// the caller) for `tenant`, if the data it read has not changed since.
    pub async fn lookup(&self, tenant: TenantId, request: &[u8]) -> Result<(Lookup, Option<Bytes>), RepoError> {
        let request = CacheKey::builder("request").text(&self.salt).number(tenant.0).bytes(request).finish();
        let mut lookup = Lookup { tenant, request, snapshot: None, learning: None, rendering: None };
        // The first of concurrent requests never seen before learns the manifest; the
        // others wait for it (then render once between them, below).
        let manifest = match self.manifests.claim(tenant, &lookup.request).await {
            Claim::Found(manifest) => manifest,
            Claim::Load(turn) => {
                lookup.learning = Some(turn);
                return Ok(self.missed(lookup));
            }
            Claim::Alone => return Ok(self.missed(lookup)),
        };
        let versions = self.versions.versions(tenant, &manifest.0).await?;
        let mut key = CacheKey::builder("answer").key(&lookup.request);
        for (scope, version) in manifest.0.iter().zip(&versions) {
            key = key.text(&scope.key()).number(*version);
        }
        let key = key.finish();
        let found = match self.bodies.claim(tenant, &key).await {
            Claim::Found(body) => Some(body),
            Claim::Load(turn) => {
                lookup.rendering = Some(turn);
                None
            }
            // Another request's render had nothing to share: this one renders on its own.
            Claim::Alone => None,
        };
        lookup.snapshot = Some((manifest, key));
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok((lookup, found))
    }

    fn missed(&self, lookup: Lookup) -> (Lookup, Option<Bytes>) {
        self.misses.fetch_add(1, Ordering::Relaxed);
        (lookup, None)
    }

    /// Remembers the answer of a request that ran after `lookup`, which read `scopes`:
    /// `answer` is what a later hit sends as it is. Only an answer whose scopes were all
    /// read before it ran is stored; otherwise the manifest learns them and the next run
    /// stores. Dropping a lookup instead (an answer with errors, a write) releases
    /// whoever waits for it.
    pub async fn store(&self, lookup: Lookup, scopes: BTreeSet<Scope>, answer: Bytes) {
        let Lookup { tenant, request, snapshot, learning, rendering } = lookup;
        match snapshot {
            Some((manifest, key)) if scopes.iter().all(|s| manifest.0.contains(s)) => match rendering {
                Some(turn) => turn.fulfil(answer).await,
                None => self.bodies.insert(tenant, key, answer).await,
            },
            _ => {
                let manifest = Manifest(scopes.into_iter().collect());
                match learning {
                    Some(turn) => turn.fulfil(manifest).await,
                    None => self.manifests.insert(tenant, request, manifest).await,
                }
                // Dropping the render turn releases its waiters: they render on their own.
                drop(rendering);
            }
        }
    }
}
