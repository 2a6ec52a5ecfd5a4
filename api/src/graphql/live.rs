//! Live updates: subscriptions that push a fresh answer whenever the data it shows
//! changes, at most once a second each.
//!
//! Change notices (from this process, or from others through Redis) only wake a
//! subscription up; it pushes when the data version it watches has really moved, which
//! it also re-reads every few seconds in case a notice was lost.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::{Context, ErrorExtensions, ID, Subscription};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use ottstats_persistence::versions;
use ottstats_persistence::{Change, Store};
use tokio::sync::Notify;
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::time::Instant;

use ottstats_domain::tenant::TenantId;

use super::activity::UserActivity;
use super::registrations::{PeriodInput, RegistrationFilterInput, RegistrationStats};
use super::{services, tenant_context};
use crate::error::{ApiError, GqlResult};

/// The shortest time between two pushes of one subscription.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// How often a subscription re-reads its version without being told of a change.
pub const RECHECK_EVERY: Duration = Duration::from_secs(5);

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
        let tenant = tenant_context(ctx)?.tenant.id;
        let watch = Watch::new(ctx, tenant, vec![versions::REGISTRATIONS.to_owned()])?;
        Ok(watch.stream(move || stats.fresh()).boxed())
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
        let found = tc.users.load_one(user_id.clone()).await.map_err(|e| ApiError::Repo(e).extend())?;
        if found.is_none() {
            let message = format!("the tenant has no user with id {user_id:?}");
            return Err(ApiError::NotFound { argument: "id", message }.extend());
        }
        let activity = UserActivity::resolve(ctx, &user_id, period)?;
        // Titles of contents are part of the answer too.
        let scopes = vec![versions::activity(&user_id), versions::CONTENTS.to_owned()];
        let watch = Watch::new(ctx, tc.tenant.id, scopes)?;
        Ok(watch.stream(move || activity.fresh()).boxed())
    }
}

/// The data versions one push was computed from: every write up to these versions of
/// these scopes is in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub tenant: TenantId,
    pub scopes: Vec<String>,
    pub versions: Vec<i64>,
}

/// Put in the session data of a subscription that several sockets share (see
/// `http::ws_fanout`): each push leaves its [`Stamp`] here, so that a socket joining
/// later can tell whether the last push is still current; [`LiveStamp::nudge`] makes
/// the subscription look at its versions again without waiting for a notice.
#[derive(Debug, Default)]
pub struct LiveStamp {
    last: Mutex<Option<Stamp>>,
    nudge: Notify,
}

impl LiveStamp {
    /// The stamp of the push just made, if a watch made it (errors have none).
    pub fn take(&self) -> Option<Stamp> {
        self.lock().take()
    }

    /// Asks for a fresh look at the versions (still no sooner than [`MIN_INTERVAL`]
    /// after the last push).
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    fn set(&self, stamp: Stamp) {
        *self.lock() = Some(stamp);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Stamp>> {
        // A plain value: whole even if a holder panicked.
        self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One subscription's view of the data scopes its answer shows.
struct Watch {
    notices: broadcast::Receiver<Change>,
    store: Store,
    tenant: TenantId,
    scopes: Vec<String>,
    /// The versions last pushed; `None` before the first push.
    pushed: Option<Vec<i64>>,
    pushed_at: Option<Instant>,
    /// Present when the subscription is shared by several sockets.
    stamp: Option<Arc<LiveStamp>>,
}

impl Watch {
    fn new(ctx: &Context<'_>, tenant: TenantId, scopes: Vec<String>) -> GqlResult<Watch> {
        let services = services(ctx)?;
        // Subscribed before the first read, so no change between the two goes unnoticed.
        let notices = services.changes.subscribe();
        let stamp = ctx.data_opt::<Arc<LiveStamp>>().cloned();
        Ok(Watch { notices, store: services.store.clone(), tenant, scopes, pushed: None, pushed_at: None, stamp })
    }

    fn stream<T, F>(self, answer: F) -> impl Stream<Item = T>
    where
        F: Fn() -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        futures_util::stream::unfold((self, answer), |(mut watch, answer)| async move {
            watch.next_change().await?;
            if let (Some(stamp), Some(versions)) = (&watch.stamp, &watch.pushed) {
                // Read before the answer is computed, so the answer holds at least these.
                let (tenant, scopes) = (watch.tenant, watch.scopes.clone());
                stamp.set(Stamp { tenant, scopes, versions: versions.clone() });
            }
            let item = answer();
            Some((item, (watch, answer)))
        })
    }

    /// Waits until the scope's version differs from the one last pushed (at once for the
    /// first push), no sooner than [`MIN_INTERVAL`] after the last push. `None` when the
    /// feed is gone (the server is shutting down).
    async fn next_change(&mut self) -> Option<()> {
        loop {
            if let Some(at) = self.pushed_at {
                self.woken().await?;
                tokio::time::sleep_until(at + MIN_INTERVAL).await;
                // What arrived while waiting is covered by the read below.
                self.drain();
            }
            match self.store.versions(self.tenant, &self.scopes).await {
                Ok(v) if self.pushed.as_ref() != Some(&v) => {
                    self.pushed = Some(v);
                    self.pushed_at = Some(Instant::now());
                    return Some(());
                }
                Ok(_) => {}
                // The database is away: wait, then look again.
                Err(e) => {
                    tracing::warn!(error = %e, "live update: cannot read data versions");
                    tokio::time::sleep(MIN_INTERVAL).await;
                }
            }
        }
    }

    /// Waits for a notice about this scope, a lag (notices were dropped), a nudge, or the
    /// periodic re-check.
    async fn woken(&mut self) -> Option<()> {
        let deadline = Instant::now() + RECHECK_EVERY;
        let stamp = self.stamp.clone();
        let nudged = async move {
            match &stamp {
                Some(s) => s.nudge.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(nudged);
        loop {
            tokio::select! {
                () = &mut nudged => return Some(()),
                notice = self.notices.recv() => match notice {
                    Ok(change) if self.scopes.iter().any(|s| change.concerns(self.tenant, s)) => return Some(()),
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
