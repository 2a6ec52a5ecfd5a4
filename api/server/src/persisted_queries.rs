//! Apollo's automatic persisted queries: a client sends a document's SHA-256 alone, and
//! its text only when the server answers `PERSISTED_QUERY_NOT_FOUND`. Texts are kept per
//! tenant in the tiered cache (in process and, when configured, in Redis, sealed) so that
//! every process knows what one learnt. A text is also checked against its hash whenever
//! it is read back, so nothing but the document itself can ever run in its place.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ottstats_cache::{CacheKey, Cached, RedisLink, TieredCache};
use ottstats_domain::document::DocumentHash;
use ottstats_domain::tenant::TenantId;
use sha2::{Digest, Sha256};

const REDIS_PREFIX: &str = concat!("ottstats:", env!("CARGO_PKG_VERSION"), ":sealed:apq:");

/// The SHA-256 of a document's text, as clients compute it.
pub fn hash_of(text: &str) -> DocumentHash {
    DocumentHash(Sha256::digest(text.as_bytes()).into())
}

/// A document's text.
#[derive(Clone)]
struct Text(Arc<str>);

impl Cached for Text {
    fn weight(&self) -> u32 {
        u32::try_from(self.0.len() + 64).unwrap_or(u32::MAX)
    }

    fn encode(&self) -> Option<Bytes> {
        Some(Bytes::copy_from_slice(self.0.as_bytes()))
    }

    fn decode(bytes: Bytes) -> Option<Self> {
        String::from_utf8(bytes.to_vec()).ok().map(|t| Text(t.into()))
    }
}

#[derive(Clone)]
pub struct PersistedQueries {
    texts: TieredCache<Text>,
    installation: Arc<str>,
}

impl PersistedQueries {
    /// `installation` keeps apart the documents of databases sharing one Redis; `secret`
    /// (the installation's) seals them there. The process keeps `local_bytes` of them,
    /// and Redis each for `redis_ttl` after it was last stored.
    pub fn new(
        redis: Option<RedisLink>,
        installation: &str,
        secret: &[u8],
        local_bytes: u64,
        redis_ttl: Duration,
    ) -> PersistedQueries {
        let texts = TieredCache::new(REDIS_PREFIX, local_bytes, redis.map(|r| (r, secret, redis_ttl)));
        PersistedQueries { texts, installation: installation.into() }
    }

    /// The text of `hash`, as this tenant sent it before.
    pub async fn get(&self, tenant: TenantId, hash: DocumentHash) -> Option<Arc<str>> {
        let text = self.texts.get(tenant, &self.key(tenant, hash)).await?;
        (hash_of(&text.0) == hash).then_some(text.0)
    }

    /// Remembers `text`, which must hash to `hash` (the caller checked).
    pub async fn put(&self, tenant: TenantId, hash: DocumentHash, text: &str) {
        self.texts.insert(tenant, self.key(tenant, hash), Text(text.into())).await;
    }

    fn key(&self, tenant: TenantId, hash: DocumentHash) -> CacheKey {
        CacheKey::builder("apq").text(&self.installation).number(tenant.0).bytes(&hash.0).finish()
    }
}
