//! What one user's activity needs from storage.

use async_trait::async_trait;

use crate::RepoError;
use crate::granularity::Bucket;
use crate::page::{Page, PageRequest};
use crate::period::Period;
use crate::playback::activity::SessionInPeriod;
use crate::playback::bandwidth::BandwidthStats;
use crate::playback::quality::Quality;
use crate::playback::{Content, EventType, Login, PlayerEvent};
use crate::tenant::TenantId;

/// How a write of items that are never updated went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordOutcome {
    /// Items stored.
    pub written: usize,
    /// Items whose id was stored already (or repeated in the batch): stored once.
    pub duplicates: usize,
}

/// Which events of a user in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery<'a> {
    pub tenant: TenantId,
    pub user_id: &'a str,
    pub period: &'a Period,
    /// `None`: every type.
    pub types: Option<&'a [EventType]>,
}

/// The logins of a user in a period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginQuery<'a> {
    pub tenant: TenantId,
    pub user_id: &'a str,
    pub period: &'a Period,
}

/// What is written of activity: each write bumps the data versions it changes.
#[async_trait]
pub trait ActivityWrites: Send + Sync {
    /// Stores new events in one transaction, ignoring ids already stored, and
    /// re-derives the playback time of every session they touch (events may arrive late
    /// and out of order).
    async fn record_events(&self, tenant: TenantId, events: &[PlayerEvent]) -> Result<RecordOutcome, RepoError>;

    async fn record_logins(&self, tenant: TenantId, logins: &[Login]) -> Result<RecordOutcome, RepoError>;

    /// Creates or updates contents; `written` counts changes, `duplicates` unchanged ones.
    async fn upsert_contents(&self, tenant: TenantId, contents: &[Content]) -> Result<RecordOutcome, RepoError>;
}

/// What is read of one user's activity as it is stored: pages and counts of events and
/// logins, and contents.
#[async_trait]
pub trait ActivityReads: Send + Sync {
    async fn find_contents(&self, tenant: TenantId, ids: &[String]) -> Result<Vec<Content>, RepoError>;

    /// A page of the events, ordered by (instant, id), oldest first; a backward page is
    /// read from its end, never by reading every event before it.
    async fn events_page(&self, q: &EventQuery<'_>, page: &PageRequest) -> Result<Page<PlayerEvent>, RepoError>;

    async fn count_events(&self, q: &EventQuery<'_>) -> Result<u64, RepoError>;

    /// A page of the logins, ordered by (instant, id), newest first.
    async fn logins_page(&self, q: &LoginQuery<'_>, page: &PageRequest) -> Result<Page<Login>, RepoError>;

    async fn count_logins(&self, q: &LoginQuery<'_>) -> Result<u64, RepoError>;
}

/// The figures of one user's activity: what the cache keeps, keyed by the data version of
/// the user's activity.
#[async_trait]
pub trait ActivityStats: Send + Sync {
    /// Every session of the user that started in the period or has events in it, with
    /// its PLAY events and playback time inside the period.
    async fn sessions_in_period(
        &self,
        tenant: TenantId,
        user_id: &str,
        period: &Period,
    ) -> Result<Vec<SessionInPeriod>, RepoError>;

    /// The playback quality of the user's sessions that started in the period, and the
    /// ERROR events in it.
    async fn quality(&self, tenant: TenantId, user_id: &str, period: &Period) -> Result<Quality, RepoError>;

    /// Bandwidth samples of the user's events per bucket, in the buckets' order.
    async fn bandwidth(
        &self,
        tenant: TenantId,
        user_id: &str,
        buckets: &[Bucket],
    ) -> Result<Vec<BandwidthStats>, RepoError>;
}
