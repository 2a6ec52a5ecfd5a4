//! Per-request context: the tenant, what its key grants, and the reader its resolvers
//! read through (which records what the request read: what its cached answer depends on).

use std::sync::Arc;

use ottstats_domain::access::{Access, KeyId, Scopes};
use ottstats_domain::tenant::Tenant;

use crate::reader::{ReadSet, Reader};
use crate::services::Services;

/// The authenticated tenant of a request, what its key grants, and its reader.
pub struct TenantContext {
    pub tenant: Tenant,
    pub scopes: Scopes,
    /// The key's id: what rate limits and logs name.
    pub key: KeyId,
    pub reader: Reader,
}

impl TenantContext {
    pub fn new(access: Access, services: &Services) -> TenantContext {
        let Access { tenant, grant } = access;
        let reader = services.reader(tenant.id, Arc::default());
        TenantContext { scopes: grant.scopes, key: grant.key, reader, tenant }
    }

    /// What the request read so far.
    pub fn reads(&self) -> &Arc<ReadSet> {
        self.reader.reads()
    }
}
