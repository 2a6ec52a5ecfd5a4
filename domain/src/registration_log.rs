//! What the registrations index reads from storage: every registration of a tenant at
//! one version, and the change records each user write leaves in its transaction.
//!
//! A registration is only the facts the panels group by. Two users with the same facts
//! are interchangeable in every figure, so the index keeps a multiset of facts and a
//! change is "one more of these" or "one fewer of these": an upsert that moves a user
//! records the old facts removed and the new ones added.

use async_trait::async_trait;

use crate::RepoError;
use crate::country::Country;
use crate::gender::Gender;
use crate::tenant::TenantId;
use crate::user::RegisteredUser;

/// What the registration panels read of one user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistrationFacts {
    /// Milliseconds since the Unix epoch.
    pub registered_at_ms: i64,
    pub gender: Gender,
    /// Whole years at registration; `None` when unknown.
    pub age: Option<u8>,
    pub country: Option<Country>,
    pub state: Option<String>,
    pub city: Option<String>,
}

impl RegistrationFacts {
    pub fn of(user: &RegisteredUser) -> RegistrationFacts {
        RegistrationFacts {
            registered_at_ms: user.registered_at.timestamp_millis(),
            gender: user.gender,
            age: user.age,
            country: user.country,
            state: user.state.clone(),
            city: user.city.clone(),
        }
    }

    /// The same facts, borrowed.
    pub fn as_ref(&self) -> RegistrationRef<'_> {
        RegistrationRef {
            registered_at_ms: self.registered_at_ms,
            gender: self.gender,
            age: self.age,
            country: self.country,
            state: self.state.as_deref(),
            city: self.city.as_deref(),
        }
    }
}

/// [`RegistrationFacts`] borrowed from a row being read, so loading millions of them
/// allocates nothing per row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationRef<'a> {
    pub registered_at_ms: i64,
    pub gender: Gender,
    pub age: Option<u8>,
    pub country: Option<Country>,
    pub state: Option<&'a str>,
    pub city: Option<&'a str>,
}

/// One change record: at `version`, one registration with these facts appeared
/// (`added`) or went away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationChange {
    pub version: i64,
    pub added: bool,
    pub facts: RegistrationFacts,
}

/// The records after a version, as far as the store still keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangesSince {
    /// Every change after the version asked for, in version order, ending with whole
    /// versions only.
    Changes(Vec<RegistrationChange>),
    /// Some of them were pruned, or there are more than the caller's limit: reload.
    TooFarBehind,
}

/// Every registration of a tenant at one version, in no particular order.
pub struct RegistrationSnapshot {
    pub version: i64,
}

/// Where the index reads registrations from. Each call is scoped to one tenant.
#[async_trait]
pub trait RegistrationLog: Send + Sync {
    /// Every tenant, for loading their indexes at start.
    async fn tenant_ids(&self) -> Result<Vec<TenantId>, RepoError>;

    /// The tenant's registrations version, read by a query that began after this call.
    async fn registrations_version(&self, tenant: TenantId) -> Result<i64, RepoError>;

    /// Feeds every registration of the tenant to `sink`, all from one consistent
    /// snapshot, and returns the version of that snapshot.
    async fn load_registrations(
        &self,
        tenant: TenantId,
        sink: &mut (dyn for<'a> FnMut(RegistrationRef<'a>) + Send),
    ) -> Result<RegistrationSnapshot, RepoError>;

    /// The change records after `since`, at most about `limit` of them.
    async fn registration_changes(&self, tenant: TenantId, since: i64, limit: usize)
    -> Result<ChangesSince, RepoError>;
}
