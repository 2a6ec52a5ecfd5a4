//! Per-request context: the tenant, DataLoaders that batch look-ups of users and
//! content titles so that a list never costs a database round trip per row, and the data
//! scopes the request read (what its cached answer depends on).

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::{DataLoader, Loader};
use ottstats_domain::RepoError;
use ottstats_domain::access::{Access, KeyId, Scopes};
use ottstats_domain::activity_repository::ActivityRepository;
use ottstats_domain::playback::Content;
use ottstats_domain::repository::UserRepository;
use ottstats_domain::tenant::{Tenant, TenantId};
use ottstats_domain::user::RegisteredUser;

use super::Services;

/// The authenticated tenant of a request, what its key grants, and its loaders.
pub struct TenantContext {
    pub tenant: Tenant,
    pub scopes: Scopes,
    /// The key's id: what rate limits and logs name.
    pub key: KeyId,
    pub users: DataLoader<UserLoader>,
    pub contents: DataLoader<ContentLoader>,
    pub reads: Arc<Reads>,
}

/// The data scopes (see `ottstats_persistence::versions`) a request read. Every resolver
/// that reads stored data records its scope here before reading.
#[derive(Debug, Default)]
pub struct Reads {
    scopes: Mutex<BTreeSet<String>>,
    wrote: AtomicBool,
}

impl Reads {
    pub fn record(&self, scope: impl Into<String>) {
        self.lock().insert(scope.into());
    }

    /// The request writes: its answer is never cached.
    pub fn record_write(&self) {
        self.wrote.store(true, Ordering::Relaxed);
    }

    /// The scopes read, or `None` when the request wrote.
    pub fn scopes(&self) -> Option<BTreeSet<String>> {
        if self.wrote.load(Ordering::Relaxed) { None } else { Some(self.lock().clone()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        // A set of names stays whole even if a holder panicked.
        self.scopes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TenantContext {
    pub fn new(access: Access, services: &Services) -> TenantContext {
        let Access { tenant, grant } = access;
        TenantContext {
            scopes: grant.scopes,
            key: grant.key,
            users: DataLoader::new(UserLoader { repo: services.users.clone(), tenant: tenant.id }, tokio::spawn),
            contents: DataLoader::new(
                ContentLoader { repo: services.activity.clone(), tenant: tenant.id },
                tokio::spawn,
            ),
            tenant,
            reads: Arc::default(),
        }
    }
}

/// Users by id, of one tenant.
pub struct UserLoader {
    repo: Arc<dyn UserRepository>,
    tenant: TenantId,
}

impl Loader<String> for UserLoader {
    type Value = RegisteredUser;
    type Error = RepoError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, RegisteredUser>, RepoError> {
        let users = self.repo.find_users(self.tenant, keys).await?;
        Ok(users.into_iter().map(|u| (u.id.clone(), u)).collect())
    }
}

/// Contents (titles, kinds) by id, of one tenant.
pub struct ContentLoader {
    repo: Arc<dyn ActivityRepository>,
    tenant: TenantId,
}

impl Loader<String> for ContentLoader {
    type Value = Content;
    type Error = RepoError;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Content>, RepoError> {
        let contents = self.repo.find_contents(self.tenant, keys).await?;
        Ok(contents.into_iter().map(|c| (c.id.clone(), c)).collect())
    }
}
