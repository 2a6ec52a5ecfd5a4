//! Live updates: subscriptions that push a fresh answer whenever the data it shows
//! changes, at most once a second each.
//!
//! Each push is rendered through a reader of its own, whose read set notes every scope the
//! push read and its version before the read (see [`crate::reader`]): that is what the
//! subscription watches. Change notices (from this process, or from others through Redis)
//! only wake a subscription up; it pushes when a version it watches has really moved past
//! the one its last push saw, which it also re-reads every few seconds in case a notice
//! was lost.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::{Context, ID, Subscription};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use ottstats_cache::Change;
use ottstats_domain::scope::{DataVersions, Scope};
use tokio::sync::Notify;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::time::Instant;

use ottstats_domain::tenant::TenantId;

use super::activity::UserActivity;
use super::registrations::{PeriodInput, RegistrationFilterInput, RegistrationStats};
use super::{services, tenant_context};
use crate::error::{ApiError, Gql, GqlResult};
use crate::reader::{ReadSet, Reader};

/// How often subscriptions push and look: the `[live]` section of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveSettings {
    /// The shortest time between two pushes of one subscription.
    #[serde(with = "ottstats_domain::units::duration")]
    pub min_interval: Duration,
    /// How often a subscription re-reads its versions without being told of a change.
    #[serde(with = "ottstats_domain::units::duration")]
    pub recheck_every: Duration,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings { min_interval: Duration::from_secs(1), recheck_every: Duration::from_secs(5) }
    }
}

pub struct Subscription;

/// Answers pushed as the data changes. Each subscription pushes its current answer at
/// once, then a fresh one after every change, at most once a second.
#[Subscription]
impl Subscription {
    /// Registration statistics for a period, pushed again whenever the tenant's
    /// registrations change.
    #[graphql(guard = "super::guard::Needs(ottstats_domain::access::Scope::Read)")]
    async fn live_registrations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The period `[from, to)` and the time zone its buckets follow.")] period: PeriodInput,
        #[graphql(desc = "Counts only registrations that pass this filter.")] filter: Option<RegistrationFilterInput>,
    ) -> Result<BoxStream<'static, RegistrationStats>, async_graphql::Error> {
        let stats = RegistrationStats::resolve(ctx, period, filter)?;
        let watch = Watch::new(ctx)?;
        Ok(watch.stream(move |reader| stats.fresh(reader)).boxed())
    }

    /// One user's activity in a period, pushed again whenever that user's activity
    /// changes. `NOT_FOUND` when the tenant has no such user.
    #[graphql(guard = "super::guard::Needs(ottstats_domain::access::Scope::Read)")]
    async fn live_user_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The operator's id for the user.")] id: ID,
        #[graphql(desc = "The period `[from, to)`; the tenant's time zone when none is given.")] period: PeriodInput,
    ) -> Result<BoxStream<'static, UserActivity>, async_graphql::Error> {
        let user_id = super::users::id_argument(&id, "id")?;
        let tc = tenant_context(ctx)?;
        let found = tc.reader.user(user_id.clone()).await.gql()?;
        if found.is_none() {
            let message = format!("the tenant has no user with id {user_id:?}");
            return Err(ApiError::NotFound { argument: "id", message }.into());
        }
        let activity = UserActivity::resolve(ctx, &user_id, period)?;
        let watch = Watch::new(ctx)?;
        Ok(watch.stream(move |reader| activity.fresh(reader)).boxed())
    }
}

/// The data versions one push was computed from: every write up to these versions of
/// these scopes is in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub tenant: TenantId,
    pub scopes: Vec<Scope>,
    pub versions: Vec<i64>,
}

/// Put in the session data of a subscription that several sockets share (see
/// `http::ws_fanout`): each push leaves its [`Stamp`] here, so that a socket joining
/// later can tell whether the last push is still current; [`LiveStamp::nudge`] makes
/// the subscription look at its versions again without waiting for a notice.
#[derive(Debug, Default)]
pub struct LiveStamp {
    /// The read set of the push being rendered.
    current: Mutex<Option<(TenantId, Arc<ReadSet>)>>,
    nudge: Notify,
}

impl LiveStamp {
    /// The stamp of the push just made, if a watch made it and every version it depends
    /// on was read (errors have none).
    pub fn take(&self) -> Option<Stamp> {
        let (tenant, reads) = self.lock().take()?;
        let (scopes, versions) = reads.versions_seen()?.into_iter().unzip();
        Some(Stamp { tenant, scopes, versions })
    }

    /// Asks for a fresh look at the versions (still no sooner than
    /// [`LiveSettings::min_interval`] after the last push).
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    fn set(&self, tenant: TenantId, reads: Arc<ReadSet>) {
        *self.lock() = Some((tenant, reads));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(TenantId, Arc<ReadSet>)>> {
        // A plain value: whole even if a holder panicked.
        self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One subscription's view of the data its pushes show.
struct Watch {
    notices: broadcast::Receiver<Change>,
    versions: Arc<dyn DataVersions>,
    /// Makes each push's reader.
    reader: Reader,
    /// What the last push read, and the versions it saw; `None` before the first push.
    last: Option<Arc<ReadSet>>,
    pushed_at: Option<Instant>,
    /// Present when the subscription is shared by several sockets.
    stamp: Option<Arc<LiveStamp>>,
    settings: LiveSettings,
}

impl Watch {
    fn new(ctx: &Context<'_>) -> GqlResult<Watch> {
        let services = services(ctx)?;
        let reader = tenant_context(ctx)?.reader.clone();
        // Subscribed before the first read, so no change between the two goes unnoticed.
        let notices = services.changes.subscribe();
        let stamp = ctx.data_opt::<Arc<LiveStamp>>().cloned();
        let versions: Arc<dyn DataVersions> = Arc::new(services.store.clone());
        let settings = services.live;
        Ok(Watch { notices, versions, reader, last: None, pushed_at: None, stamp, settings })
    }

    fn tenant(&self) -> TenantId {
        self.reader.tenant()
    }

    fn stream<T, F>(self, answer: F) -> impl Stream<Item = T>
    where
        F: Fn(Reader) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        futures_util::stream::unfold((self, answer), |(mut watch, answer)| async move {
            // The versions just compared are read after the last push and before this one:
            // the push starts from them instead of reading them again.
            let known = watch.next_change().await?;
            let reads = Arc::new(ReadSet::versioned(watch.versions.clone(), watch.tenant(), known));
            if let Some(stamp) = &watch.stamp {
                stamp.set(watch.tenant(), reads.clone());
            }
            let item = answer(watch.reader.for_reads(reads.clone()));
            watch.last = Some(reads);
            watch.pushed_at = Some(Instant::now());
            Some((item, (watch, answer)))
        })
    }

    /// Waits until a version the last push saw has moved on (at once for the first push),
    /// no sooner than [`LiveSettings::min_interval`] after the last push. `None` when the feed is gone
    /// (the server is shutting down).
    /// The versions it read on the way, by scope (none before the first push).
    async fn next_change(&mut self) -> Option<Vec<(Scope, i64)>> {
        loop {
            let Some(last) = self.last.clone() else { return Some(Vec::new()) };
            if let Some(at) = self.pushed_at {
                self.woken(&last).await?;
                tokio::time::sleep_until(at + self.settings.min_interval).await;
                // What arrived while waiting is covered by the read below.
                self.drain();
            }
            // A version the last push could not read: it failed, so look again now.
            let Some(seen) = last.versions_seen() else { return Some(Vec::new()) };
            let (scopes, versions): (Vec<Scope>, Vec<i64>) = seen.into_iter().unzip();
            match self.versions.versions(self.tenant(), &scopes).await {
                Ok(now) if now != versions => return Some(scopes.into_iter().zip(now).collect()),
                Ok(_) => {}
                // The database is away: wait, then look again.
                Err(e) => {
                    tracing::warn!(error = %e, "live update: cannot read data versions");
                    tokio::time::sleep(self.settings.min_interval).await;
                }
            }
        }
    }

    /// Waits for a notice about a scope the last push read, a lag (notices were dropped),
    /// a nudge, or the periodic re-check.
    async fn woken(&mut self, last: &ReadSet) -> Option<()> {
        let deadline = Instant::now() + self.settings.recheck_every;
        let stamp = self.stamp.clone();
        let nudged = async move {
            match &stamp {
                Some(s) => s.nudge.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(nudged);
        let tenant = self.tenant();
        loop {
            tokio::select! {
                () = &mut nudged => return Some(()),
                notice = self.notices.recv() => match notice {
                    Ok(change) if last.scopes().iter().any(|s| change.concerns(tenant, s)) => return Some(()),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => return Some(()),
                    Err(RecvError::Closed) => return None,
                },
                () = tokio::time::sleep_until(deadline) => return Some(()),
            }
        }
    }

    fn drain(&mut self) {
        loop {
            match self.notices.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty | TryRecvError::Closed) => return,
            }
        }
    }
}
