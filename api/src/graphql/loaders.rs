//! Per-request context: the tenant, and DataLoaders that batch look-ups of users and
//! content titles so that a list never costs a database round trip per row.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use ottstats_domain::RepoError;
use ottstats_domain::activity_repository::ActivityRepository;
use ottstats_domain::playback::Content;
use ottstats_domain::repository::UserRepository;
use ottstats_domain::tenant::{Tenant, TenantId};
use ottstats_domain::user::RegisteredUser;

use super::Services;

/// The authenticated tenant of a request and its loaders.
pub struct TenantContext {
    pub tenant: Tenant,
    pub users: DataLoader<UserLoader>,
    pub contents: DataLoader<ContentLoader>,
}

impl TenantContext {
    pub fn new(tenant: Tenant, services: &Services) -> TenantContext {
        TenantContext {
            users: DataLoader::new(UserLoader { repo: services.users.clone(), tenant: tenant.id }, tokio::spawn),
            contents: DataLoader::new(
                ContentLoader { repo: services.activity.clone(), tenant: tenant.id },
                tokio::spawn,
            ),
            tenant,
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
