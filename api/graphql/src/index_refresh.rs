//! Keeps the registrations indexes current in the background: a change notice for a
//! tenant's registrations (from this process or, through Redis, from another) brings its
//! index up to date at once, and a sweep every few seconds catches whatever a lost
//! notice missed. Requests still read the version themselves before answering, so this
//! only spares them the wait; it is never what makes an answer exact.

use std::time::Duration;

use ottstats_engine::Engine;
use ottstats_cache::{Change, ChangeFeed};
use ottstats_domain::scope::Scope;
use tokio::sync::broadcast::error::RecvError;

/// How often every loaded index is brought up to date without a notice.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Starts the task; it ends when the engine is dropped or the feed closes.
pub fn spawn(engine: &Engine, feed: &ChangeFeed) {
    if !engine.enabled() {
        return;
    }
    let weak = engine.downgrade();
    let mut notices = feed.subscribe();
    tokio::spawn(async move {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let which = tokio::select! {
                notice = notices.recv() => match notice {
                    Ok(Change::Scope { tenant, scope: Scope::Registrations }) => Some(tenant),
                    Ok(Change::Scope { .. }) => continue,
                    Ok(Change::Resync) | Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return,
                },
                _ = sweep.tick() => None,
            };
            let Some(engine) = weak.upgrade() else { return };
            engine.refresh(which).await;
        }
    });
}
