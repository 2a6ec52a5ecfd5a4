//! What the use cases need from storage. `persistence` implements these for SQLite and
//! PostgreSQL; every call is scoped to one tenant.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::RepoError;
use crate::access::{KeyGrant, KeyId, KeyRecord, NewKey};
use crate::country::Country;
use crate::document::DocumentHash;
use crate::gender::GenderCounts;
use crate::geography::{GeoCount, GeoLevel};
use crate::granularity::Bucket;
use crate::period::Period;
use crate::registration_filter::RegistrationFilter;
use crate::tenant::{Tenant, TenantId};
use crate::user::RegisteredUser;

/// A tenant and the API key it was issued (shown once, stored only as a hash).
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub tenant: Tenant,
    pub api_key: String,
}

#[async_trait]
pub trait TenantRepository: Send + Sync {
    /// Creates a tenant with a fresh API key.
    async fn create_tenant(&self, name: &str, home_country: Country, time_zone: Tz) -> Result<IssuedKey, RepoError>;
    /// The tenant an API key belongs to, if any.
    async fn find_by_api_key(&self, api_key: &str) -> Result<Option<Tenant>, RepoError>;
    async fn find_by_name(&self, name: &str) -> Result<Option<Tenant>, RepoError>;
    /// Revokes every key of the tenant and issues a new one.
    async fn rotate_api_key(&self, tenant: TenantId) -> Result<String, RepoError>;
    /// Sets the rate limit of each of the tenant's keys, points a minute (`None`: the
    /// server's default); `false` when there is no such tenant.
    async fn set_rate_limit(&self, tenant: TenantId, per_minute: Option<u32>) -> Result<bool, RepoError>;
}

/// API keys: each opens one tenant with some scopes. Only hashes are stored; a key is
/// shown once, when it is made.
#[async_trait]
pub trait KeyRepository: Send + Sync {
    /// The tenant and grant of a key that exists and is not revoked (its expiry is the
    /// caller's to check, so that a cached grant expires on time too).
    async fn find_key(&self, api_key: &str) -> Result<Option<(Tenant, KeyGrant)>, RepoError>;
    /// Makes a key; the key itself is the second value.
    async fn create_key(&self, tenant: TenantId, new: NewKey) -> Result<(KeyRecord, String), RepoError>;
    /// Every key of the tenant, revoked ones included, newest first.
    async fn list_keys(&self, tenant: TenantId) -> Result<Vec<KeyRecord>, RepoError>;
    /// Revokes a key at once; `false` when the tenant has no such unrevoked key.
    async fn revoke_key(&self, tenant: TenantId, key: &KeyId) -> Result<bool, RepoError>;
    /// A new key with the old one's name and scopes; the old one keeps working for
    /// `overlap` (0: not at all), so clients can switch without a gap. `None` when the
    /// tenant has no such unrevoked key.
    async fn rotate_key(
        &self,
        tenant: TenantId,
        key: &KeyId,
        overlap: std::time::Duration,
    ) -> Result<Option<(KeyRecord, String)>, RepoError>;
    /// Records that keys were used (at most about once a minute each).
    async fn touch_keys(&self, used: &[(TenantId, KeyId)], at: DateTime<Utc>) -> Result<(), RepoError>;
    /// A number that moves whenever a key is made, revoked or rotated, in any process:
    /// what every process polls to drop what it remembers of keys.
    async fn keys_revision(&self) -> Result<i64, RepoError>;
}

/// How an upsert of users went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertOutcome {
    /// Users written: new, or different from what was stored.
    pub written: usize,
    /// Users already stored exactly as sent.
    pub unchanged: usize,
}

#[async_trait]
pub trait UserRepository: Send + Sync {
    /// Stores the users in one transaction; a later item with the same id wins.
    async fn upsert_users(&self, tenant: TenantId, users: &[RegisteredUser]) -> Result<UpsertOutcome, RepoError>;
    /// The users among `ids` that exist, in no particular order.
    async fn find_users(&self, tenant: TenantId, ids: &[String]) -> Result<Vec<RegisteredUser>, RepoError>;
    /// Erases the user's profile, player events, sessions and logins in one transaction
    /// (the registrations index told, every scope of the user bumped); `false` when none
    /// of them was stored.
    async fn erase_user(&self, tenant: TenantId, id: &str) -> Result<bool, RepoError>;
}

/// Counts of registrations in a period that pass a filter.
#[async_trait]
pub trait RegistrationStatsRepository: Send + Sync {
    async fn count_by_gender(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<GenderCounts, RepoError>;

    /// One entry per bucket, in the buckets' order.
    async fn count_by_bucket(
        &self,
        tenant: TenantId,
        buckets: &[Bucket],
        filter: &RegistrationFilter,
    ) -> Result<Vec<GenderCounts>, RepoError>;

    /// Counts per age at registration (`None`: unknown).
    async fn count_by_age(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
    ) -> Result<Vec<(Option<u8>, u64)>, RepoError>;

    /// Counts grouped as `level` needs them, relative to `home`.
    async fn count_by_place(
        &self,
        tenant: TenantId,
        period: &Period,
        filter: &RegistrationFilter,
        level: GeoLevel,
        home: Country,
    ) -> Result<Vec<GeoCount>, RepoError>;
}

/// Documents registered ahead: with trusted documents on, the only ones that run.
#[async_trait]
pub trait TrustedDocuments: Send + Sync {
    /// Registers `text` under its hash; `false` when it was registered already.
    async fn add_document(&self, hash: DocumentHash, text: &str) -> Result<bool, RepoError>;
    /// The document registered under `hash`.
    async fn document(&self, hash: DocumentHash) -> Result<Option<String>, RepoError>;
}

/// Whether the store answers, for readiness probes.
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// The store answers a read.
    async fn ping(&self) -> Result<(), RepoError>;
    /// The store takes a write (one that changes nothing): fails on a read-only or full disk.
    async fn probe_write(&self) -> Result<(), RepoError>;
}

/// Hands out repositories that answer every panel of one question from one state of the
/// data, so that a request's total, timeline and shares always add up.
#[async_trait]
pub trait RegistrationViews: Send + Sync {
    /// Answers about `tenant`, all from one state of its data at least as new as when this
    /// call began.
    async fn view(&self, tenant: TenantId) -> Result<std::sync::Arc<dyn RegistrationStatsRepository>, RepoError>;
}
