//! API keys: `Authorization: Bearer <key>` decides the tenant.

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use moka::future::Cache;
use ottstats_domain::RepoError;
use ottstats_domain::repository::TenantRepository;
use ottstats_domain::tenant::Tenant;

/// How long a key's tenant is remembered; a revoked key stops working after at most this.
const KEY_TTL: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("an API key is required: send `Authorization: Bearer <key>`")]
    Missing,
    #[error("the API key is not valid")]
    Invalid,
    #[error(transparent)]
    Store(#[from] RepoError),
}

/// Resolves API keys to tenants, remembering recent answers so that a busy dashboard does
/// not cost a database round trip per request.
#[derive(Clone)]
pub struct Authenticator {
    tenants: Arc<dyn TenantRepository>,
    known: Cache<String, Option<Tenant>>,
}

impl Authenticator {
    pub fn new(tenants: Arc<dyn TenantRepository>) -> Authenticator {
        Authenticator { tenants, known: Cache::builder().max_capacity(10_000).time_to_live(KEY_TTL).build() }
    }

    /// The tenant of the request's bearer key.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Tenant, AuthError> {
        self.authenticate_key(bearer(headers).ok_or(AuthError::Missing)?).await
    }

    /// The tenant of an API key.
    pub async fn authenticate_key(&self, key: &str) -> Result<Tenant, AuthError> {
        if let Some(found) = self.known.get(key).await {
            return found.ok_or(AuthError::Invalid);
        }
        let found = self.tenants.find_by_api_key(key).await?;
        self.known.insert(key.to_owned(), found.clone()).await;
        found.ok_or(AuthError::Invalid)
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    bearer_value(headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?)
}

/// The key of an `Authorization` value, `Bearer <key>`.
pub fn bearer_value(value: &str) -> Option<&str> {
    let (scheme, key) = value.trim().split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn reads_bearer_keys_only() {
        assert_eq!(bearer(&headers("Bearer ott_1_ab")), Some("ott_1_ab"));
        assert_eq!(bearer(&headers("bearer   ott_1_ab ")), Some("ott_1_ab"));
        assert_eq!(bearer(&headers("Basic abc")), None);
        assert_eq!(bearer(&headers("Bearer ")), None);
        assert_eq!(bearer(&HeaderMap::new()), None);
    }
}
