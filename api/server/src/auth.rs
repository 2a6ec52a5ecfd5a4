//! API keys: `Authorization: Bearer <key>` decides the tenant and what the request may do.
//!
//! Grants are remembered in process so that a busy dashboard costs no database round
//! trip per request. Every process polls the installation's keys revision (moved by every
//! change of a key, in whichever process or CLI made it) and forgets every grant when it
//! moves: a revocation holds everywhere within [`AuthSettings::poll_every`] and a round
//! trip. Open sockets watch the same revision.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use chrono::Utc;
use moka::future::Cache;
use ottstats_domain::RepoError;
use ottstats_domain::access::{Access, KeyGrant, KeyId};
use ottstats_domain::repository::KeyRepository;
use ottstats_domain::tenant::{Tenant, TenantId};
use sha2::{Digest, Sha256};
use tokio::sync::watch;

/// How keys are remembered and re-read: the `[auth]` section of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// How often the keys revision is read: a revocation holds within this and a round trip.
    #[serde(with = "ottstats_domain::units::duration")]
    pub poll_every: Duration,
    /// How long a grant is remembered even if the revision never moves (a missed poll).
    #[serde(with = "ottstats_domain::units::duration")]
    pub grant_ttl: Duration,
    /// How often a key's last-used time is written, at most.
    #[serde(with = "ottstats_domain::units::duration")]
    pub touch_every: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            poll_every: Duration::from_millis(250),
            grant_ttl: Duration::from_secs(60),
            touch_every: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("an API key is required: send `Authorization: Bearer <key>`")]
    Missing,
    #[error("the API key is not valid")]
    Invalid,
    #[error("the API key has expired")]
    Expired,
    #[error(transparent)]
    Store(#[from] RepoError),
}

/// Resolves API keys to their tenant and grant.
#[derive(Clone)]
pub struct Authenticator(Arc<Inner>);

struct Inner {
    keys: Arc<dyn KeyRepository>,
    /// Grants of valid keys, by the key's SHA-256.
    known: Cache<[u8; 32], (Tenant, KeyGrant)>,
    /// Keys found to open nothing, apart from `known` so that a flood of wrong keys never
    /// evicts a valid one.
    unknown: Cache<[u8; 32], ()>,
    /// Keys that opened a tenant within the last hour (hashes only): an address refused for
    /// wrong keys is still served for these, since their grants may be looked up again.
    proven: Cache<[u8; 32], ()>,
    /// The keys revision last read; moves when any key changes anywhere.
    revision: watch::Sender<i64>,
    /// When each key's last-used time was last written by this process.
    touched: Mutex<HashMap<(TenantId, KeyId), Instant>>,
    /// How often it is written at most.
    touch_every: Duration,
}

impl Authenticator {
    /// Starts polling the keys revision; must be called inside a Tokio runtime.
    pub fn new(keys: Arc<dyn KeyRepository>) -> Authenticator {
        Authenticator::with_settings(keys, &AuthSettings::default())
    }

    /// [`Authenticator::new`], polling and remembering as `settings` say.
    pub fn with_settings(keys: Arc<dyn KeyRepository>, settings: &AuthSettings) -> Authenticator {
        let grant_ttl = settings.grant_ttl;
        let inner = Arc::new(Inner {
            keys,
            known: Cache::builder().max_capacity(100_000).time_to_live(grant_ttl).build(),
            unknown: Cache::builder().max_capacity(10_000).time_to_live(grant_ttl).build(),
            proven: Cache::builder().max_capacity(100_000).time_to_idle(Duration::from_secs(3600)).build(),
            revision: watch::channel(0).0,
            touched: Mutex::new(HashMap::new()),
            touch_every: settings.touch_every,
        });
        tokio::spawn(poll(Arc::downgrade(&inner), settings.poll_every));
        Authenticator(inner)
    }

    /// The access of the request's bearer key.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Access, AuthError> {
        self.authenticate_key(bearer(headers).ok_or(AuthError::Missing)?).await
    }

    /// The access an API key gives.
    pub async fn authenticate_key(&self, key: &str) -> Result<Access, AuthError> {
        let hash: [u8; 32] = Sha256::digest(key.as_bytes()).into();
        let found = match self.0.known.get(&hash).await {
            Some(found) => found,
            None if self.0.unknown.contains_key(&hash) => return Err(AuthError::Invalid),
            None => {
                let revision = *self.0.revision.borrow();
                match self.0.keys.find_key(key).await? {
                    Some(found) => {
                        // A grant read before the revision moved may be stale: not kept. The
                        // second look closes the gap between the first and the insert, since
                        // the poll publishes a new revision before it forgets every grant.
                        if *self.0.revision.borrow() == revision {
                            self.0.known.insert(hash, found.clone()).await;
                            if *self.0.revision.borrow() != revision {
                                self.0.known.invalidate(&hash).await;
                            }
                        }
                        found
                    }
                    None => {
                        self.0.unknown.insert(hash, ()).await;
                        return Err(AuthError::Invalid);
                    }
                }
            }
        };
        let (tenant, grant) = found;
        if !grant.is_live(Utc::now()) {
            return Err(AuthError::Expired);
        }
        self.0.proven.insert(hash, ()).await;
        self.touch(tenant.id, &grant.key);
        Ok(Access { tenant, grant })
    }

    /// Whether the request's key opened a tenant in this process within the last hour. An
    /// address refused for its wrong keys is still served for such keys (many clients
    /// share an address behind a carrier's NAT); no other key of it costs a lookup.
    pub fn proven(&self, headers: &HeaderMap) -> bool {
        bearer(headers).is_some_and(|key| self.proven_key(key))
    }

    /// [`Authenticator::proven`] for a key however it came (the collector also takes it
    /// in its query string).
    pub fn proven_key(&self, key: &str) -> bool {
        self.0.proven.contains_key(&<[u8; 32]>::from(Sha256::digest(key.as_bytes())))
    }

    /// Moves whenever any key changes: a socket re-checks its key then.
    pub fn changes(&self) -> watch::Receiver<i64> {
        self.0.revision.subscribe()
    }

    /// Writes the key's last-used time, at most once a [`AuthSettings::touch_every`] per process,
    /// without holding up the request.
    fn touch(&self, tenant: TenantId, key: &KeyId) {
        let now = Instant::now();
        {
            let mut touched = self.0.touched.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let entry = (tenant, key.clone());
            if touched.get(&entry).is_some_and(|at| now.duration_since(*at) < self.0.touch_every) {
                return;
            }
            touched.insert(entry, now);
        }
        let (keys, key) = (self.0.keys.clone(), key.clone());
        tokio::spawn(async move {
            if let Err(e) = keys.touch_keys(&[(tenant, key)], Utc::now()).await {
                tracing::warn!(error = %e, "cannot record when a key was last used");
            }
        });
    }
}

/// Reads the keys revision every `every`; forgets every grant when it moves. Ends when
/// the authenticator is dropped.
async fn poll(inner: std::sync::Weak<Inner>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last = None;
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        match inner.keys.keys_revision().await {
            Ok(revision) if last != Some(revision) => {
                // Published first: a lookup that raced this sees the move after its insert.
                inner.revision.send_replace(revision);
                // The first read too: grants remembered before it (requests served while
                // it was on its way) may predate a change it is the first to see.
                inner.known.invalidate_all();
                inner.unknown.invalidate_all();
                last = Some(revision);
            }
            Ok(_) => {}
            // Grants expire by themselves meanwhile; the store's failure shows elsewhere.
            Err(e) => tracing::debug!(error = %e, "cannot read the keys revision"),
        }
    }
}

/// The key of the request's `Authorization: Bearer <key>`.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
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
