//! Keeps the registrations indexes current in the background: a change notice for a
//! tenant's registrations (from this process or, through Redis, from another) brings its
//! index up to date at once, and a sweep every few seconds catches whatever a lost
//! notice missed. Requests still read the version themselves before answering, so this
//! only spares them the wait; it is never what makes an answer exact.

use ottstats_cache::{Change, ChangeFeed};
use ottstats_domain::scope::Scope;
use ottstats_engine::Engine;
use tokio::sync::broadcast::error::RecvError;

/// Starts the task, sweeping every [`ottstats_engine::EngineSettings::refresh_every`]; it
/// ends when the engine is dropped or the feed closes.
pub fn spawn(engine: &Engine, feed: &ChangeFeed) {
    if !engine.enabled() {
        return;
    }
    let weak = engine.downgrade();
    let mut notices = feed.subscribe();
    let every = engine.settings().refresh_every;
    tokio::spawn(async move {
        // The first sweep one period from now: an interval's first tick is at once, which
        // would refresh at some unplanned moment of start-up (after a test's own write).
        let mut sweep = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
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
