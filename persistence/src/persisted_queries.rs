//! Apollo's automatic persisted queries: a client sends a document's SHA-256 alone, and
//! its text only when the server answers `PERSISTED_QUERY_NOT_FOUND`. Texts are kept per
//! tenant, in process and, when configured, in Redis so that every process knows what
//! one learnt. A text is checked against its hash whenever it is read back, so a value
//! planted in Redis under a hash can never run in its place.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use ottstats_domain::document::DocumentHash;
use ottstats_domain::tenant::TenantId;
use sha2::{Digest, Sha256};

use crate::redis_link::RedisLink;

/// How long Redis keeps a document nobody asks for.
const REDIS_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// What the process keeps of them.
const LOCAL_BYTES: u64 = 32 * 1024 * 1024;
const REDIS_PREFIX: &str = "ottstats:apq:";

/// The SHA-256 of a document's text, as clients compute it.
pub fn hash_of(text: &str) -> DocumentHash {
    DocumentHash(Sha256::digest(text.as_bytes()).into())
}

#[derive(Clone)]
pub struct PersistedQueries {
    local: Cache<(TenantId, DocumentHash), Arc<str>>,
    redis: Option<RedisLink>,
    installation: Arc<str>,
}

impl PersistedQueries {
    /// `installation` keeps apart the documents of databases sharing one Redis.
    pub fn new(redis: Option<RedisLink>, installation: &str) -> PersistedQueries {
        let local = Cache::builder()
            .max_capacity(LOCAL_BYTES)
            .weigher(|_, text: &Arc<str>| u32::try_from(text.len() + 64).unwrap_or(u32::MAX))
            .build();
        PersistedQueries { local, redis, installation: installation.into() }
    }

    /// The text of `hash`, as this tenant sent it before.
    pub async fn get(&self, tenant: TenantId, hash: DocumentHash) -> Option<Arc<str>> {
        if let Some(text) = self.local.get(&(tenant, hash)).await {
            return Some(text);
        }
        let redis = self.redis.as_ref()?;
        let bytes = redis.get(&self.redis_key(tenant, hash)).await?;
        let text = String::from_utf8(bytes).ok().filter(|t| hash_of(t) == hash)?;
        let text: Arc<str> = text.into();
        self.local.insert((tenant, hash), text.clone()).await;
        Some(text)
    }

    /// Remembers `text`, which must hash to `hash` (the caller checked).
    pub async fn put(&self, tenant: TenantId, hash: DocumentHash, text: &str) {
        self.local.insert((tenant, hash), text.into()).await;
        if let Some(redis) = &self.redis {
            redis.set(&self.redis_key(tenant, hash), text.as_bytes(), REDIS_TTL).await;
        }
    }

    fn redis_key(&self, tenant: TenantId, hash: DocumentHash) -> String {
        format!("{REDIS_PREFIX}{}:{}:{hash}", self.installation, tenant.0)
    }
}
