//! [`ActivityRepository`] over the store; the work is in `activity_write` and
//! `activity_read`.

use async_trait::async_trait;
use ottstats_domain::RepoError;
use ottstats_domain::activity_repository::{ActivityRepository, EventQuery, LoginQuery, RecordOutcome};
use ottstats_domain::granularity::Bucket;
use ottstats_domain::page::{Page, PageRequest};
use ottstats_domain::period::Period;
use ottstats_domain::playback::activity::SessionInPeriod;
use ottstats_domain::playback::bandwidth::BandwidthStats;
use ottstats_domain::playback::{Content, Login, PlayerEvent};
use ottstats_domain::tenant::TenantId;

use crate::store::Store;

#[async_trait]
impl ActivityRepository for Store {
    async fn record_events(&self, tenant: TenantId, events: &[PlayerEvent]) -> Result<RecordOutcome, RepoError> {
        crate::retry::retrying("recordEvents", || self.write_events(tenant, events)).await
    }

    async fn record_logins(&self, tenant: TenantId, logins: &[Login]) -> Result<RecordOutcome, RepoError> {
        crate::retry::retrying("recordLogins", || self.write_logins(tenant, logins)).await
    }

    async fn upsert_contents(&self, tenant: TenantId, contents: &[Content]) -> Result<RecordOutcome, RepoError> {
        crate::retry::retrying("upsertContents", || self.write_contents(tenant, contents)).await
    }

    async fn find_contents(&self, tenant: TenantId, ids: &[String]) -> Result<Vec<Content>, RepoError> {
        self.read_contents(tenant, ids).await
    }

    async fn sessions_in_period(
        &self,
        tenant: TenantId,
        user_id: &str,
        period: &Period,
    ) -> Result<Vec<SessionInPeriod>, RepoError> {
        self.read_sessions_in_period(tenant, user_id, period).await
    }

    async fn events_page(&self, q: &EventQuery<'_>, request: &PageRequest) -> Result<Page<PlayerEvent>, RepoError> {
        self.read_events_page(q, request).await
    }

    async fn count_events(&self, q: &EventQuery<'_>) -> Result<u64, RepoError> {
        self.read_count_events(q).await
    }

    async fn bandwidth(
        &self,
        tenant: TenantId,
        user_id: &str,
        buckets: &[Bucket],
    ) -> Result<Vec<BandwidthStats>, RepoError> {
        self.read_bandwidth(tenant, user_id, buckets).await
    }

    async fn logins_page(&self, q: &LoginQuery<'_>, request: &PageRequest) -> Result<Page<Login>, RepoError> {
        self.read_logins_page(q, request).await
    }

    async fn count_logins(&self, q: &LoginQuery<'_>) -> Result<u64, RepoError> {
        self.read_count_logins(q).await
    }
}
