//! Which document a request runs: its `query`, or the text of the hash in
//! `extensions.persistedQuery` (Apollo's automatic persisted queries), and, with trusted
//! documents on, only documents registered ahead (`ottstats documents add`).

use std::sync::Arc;
use std::time::Duration;

use crate::persisted_queries::PersistedQueries;
use crate::persisted_queries::hash_of;
use ottstats_domain::InputError;
use ottstats_domain::access::Access;
use ottstats_domain::document::DocumentHash;
use ottstats_domain::repository::TrustedDocuments;
use ottstats_domain::tenant::TenantId;
use serde_json::Value;

use super::params::Params;
use ottstats_graphql::error::ApiError;

const HASH_ARGUMENT: &str = "extensions.persistedQuery.sha256Hash";

/// What is kept of documents known by hash: the `[documents]` section of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DocumentSettings {
    /// What the process keeps of persisted queries' texts.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub persisted_cache_bytes: u64,
    /// How long Redis keeps a persisted query nobody asks for.
    #[serde(with = "ottstats_domain::units::duration")]
    pub persisted_redis_ttl: Duration,
    /// The longest text remembered as a persisted query: longer ones run, but are not
    /// kept (a client sends them again), so that no tenant fills Redis with a few requests.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub persisted_max_text_bytes: usize,
    /// What the process keeps of trusted documents read from the database.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub trusted_cache_bytes: u64,
}

impl Default for DocumentSettings {
    fn default() -> Self {
        DocumentSettings {
            persisted_cache_bytes: 32 * 1024 * 1024,
            persisted_redis_ttl: Duration::from_secs(30 * 24 * 3600),
            persisted_max_text_bytes: 128 * 1024,
            trusted_cache_bytes: 16 * 1024 * 1024,
        }
    }
}

/// The text a request runs, and the hash to remember it by once it has run (a persisted
/// query sent with its text).
pub struct Found {
    pub text: String,
    pub learnt: Option<DocumentHash>,
}

/// Documents known by hash.
#[derive(Clone)]
pub struct Documents {
    persisted: PersistedQueries,
    trusted: Arc<dyn TrustedDocuments>,
    /// Trusted documents read so far: a hash names one text for good.
    known: moka::future::Cache<DocumentHash, Arc<str>>,
    /// Whether only trusted documents run.
    trusted_only: bool,
    /// The longest persisted query remembered.
    max_persisted: usize,
}

impl Documents {
    pub fn new(
        persisted: PersistedQueries,
        trusted: Arc<dyn TrustedDocuments>,
        trusted_only: bool,
        settings: &DocumentSettings,
    ) -> Documents {
        let known = moka::future::Cache::builder()
            .max_capacity(settings.trusted_cache_bytes)
            .weigher(|_, text: &Arc<str>| u32::try_from(text.len() + 64).unwrap_or(u32::MAX))
            .build();
        Documents { persisted, trusted, known, trusted_only, max_persisted: settings.persisted_max_text_bytes }
    }

    pub fn trusted_only(&self) -> bool {
        self.trusted_only
    }

    /// The text the request runs.
    pub async fn resolve(&self, access: &Access, params: &Params) -> Result<Found, ApiError> {
        let hash = persisted_hash(params)?;
        if self.trusted_only {
            let text = self.trusted_text(params.query.as_deref(), hash).await?;
            return Ok(Found { text, learnt: None });
        }
        match (&params.query, hash) {
            (Some(text), Some(hash)) => {
                if hash_of(text) != hash {
                    return Err(mismatch());
                }
                Ok(Found { text: text.clone(), learnt: Some(hash) })
            }
            (Some(text), None) => Ok(Found { text: text.clone(), learnt: None }),
            (None, Some(hash)) => match self.persisted.get(access.tenant.id, hash).await {
                Some(text) => Ok(Found { text: text.to_string(), learnt: None }),
                None => Err(ApiError::PersistedQueryNotFound),
            },
            (None, None) => Err(missing_query()),
        }
    }

    /// Remembers a persisted query that parsed, passed the limits and was paid for.
    pub async fn remember(&self, tenant: TenantId, hash: DocumentHash, text: &str) {
        if text.len() <= self.max_persisted {
            self.persisted.put(tenant, hash, text).await;
        }
    }

    /// With trusted documents on: a hash must name a registered document, and a text must
    /// be one (clients that send texts keep working, with nothing else).
    async fn trusted_text(&self, text: Option<&str>, hash: Option<DocumentHash>) -> Result<String, ApiError> {
        let hash = match (text, hash) {
            (Some(text), Some(hash)) if hash_of(text) != hash => return Err(mismatch()),
            (_, Some(hash)) => hash,
            (Some(text), None) => hash_of(text),
            (None, None) => return Err(missing_query()),
        };
        match self.trusted(hash).await? {
            Some(text) => Ok(text.to_string()),
            None if text.is_none() => Err(ApiError::PersistedQueryNotFound),
            None => Err(ApiError::Untrusted(format!(
                "this server runs only trusted documents, and {hash} is not one: register it with `ottstats documents add`"
            ))),
        }
    }

    async fn trusted(&self, hash: DocumentHash) -> Result<Option<Arc<str>>, ApiError> {
        if let Some(text) = self.known.get(&hash).await {
            return Ok(Some(text));
        }
        let Some(text) = self.trusted.document(hash).await? else { return Ok(None) };
        let text: Arc<str> = text.into();
        self.known.insert(hash, text.clone()).await;
        Ok(Some(text))
    }
}

fn mismatch() -> ApiError {
    ApiError::Input(InputError::new(HASH_ARGUMENT, "the hash is not the SHA-256 of `query`"))
}

fn missing_query() -> ApiError {
    ApiError::Input(InputError::new("query", "the `query` parameter is required (or a persisted query's hash)"))
}

/// `extensions.persistedQuery`: `{"version": 1, "sha256Hash": "…"}`.
fn persisted_hash(params: &Params) -> Result<Option<DocumentHash>, ApiError> {
    let bad = |argument: &str, message: &str| Err(ApiError::Input(InputError::new(argument, message)));
    let Some(persisted) = params.extensions.get("persistedQuery") else { return Ok(None) };
    let Value::Object(persisted) = persisted else {
        return bad("extensions.persistedQuery", "must be a map with `version` and `sha256Hash`");
    };
    if persisted.get("version") != Some(&Value::from(1)) {
        return bad("extensions.persistedQuery.version", "only version 1 of persisted queries is spoken");
    }
    let Some(Value::String(hash)) = persisted.get("sha256Hash") else {
        return bad(HASH_ARGUMENT, "must be the document's SHA-256, in hexadecimal");
    };
    Ok(Some(DocumentHash::parse(hash, HASH_ARGUMENT)?))
}
