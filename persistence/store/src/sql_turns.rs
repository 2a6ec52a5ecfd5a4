//! Turns for statistics queries, shared fairly between tenants.
//!
//! The process runs at most `slots` statistics queries at once (fewer than the pool holds,
//! so that writes and key lookups always find a connection). One tenant may hold at most
//! half of them, so that another tenant's query always finds a turn within one query's
//! time, and may have at most `queue` more waiting (64 by default, the
//! `database.sql_queue_per_tenant` setting): past that its query is
//! refused with [`RepoError::Crowded`] at once, instead of waiting for a turn that would
//! come after its timeout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use ottstats_domain::RepoError;
use ottstats_domain::tenant::TenantId;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The turns of one process.
#[derive(Debug)]
pub struct SqlTurns {
    all: Arc<Semaphore>,
    per_tenant: usize,
    queue: usize,
    tenants: Mutex<HashMap<TenantId, Share>>,
}

/// One tenant's share: `admitted` counts its queries running or waiting, `running` those
/// holding a turn.
#[derive(Debug, Clone)]
struct Share {
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

/// A turn: the query may run while this lives.
#[derive(Debug)]
pub struct SqlTurn {
    _all: OwnedSemaphorePermit,
    _running: OwnedSemaphorePermit,
    _admitted: OwnedSemaphorePermit,
}

impl SqlTurns {
    /// `slots` turns in all, half of them (at least one) for any one tenant, and as many
    /// waiting per tenant as the settings say by default.
    #[cfg(test)]
    pub fn new(slots: usize) -> SqlTurns {
        Self::with_queue(slots, crate::connect::DatabaseSettings::default().sql_queue_per_tenant)
    }

    /// `slots` turns in all, half of them (at least one) for any one tenant, which may
    /// have at most `queue` more waiting.
    pub fn with_queue(slots: usize, queue: usize) -> SqlTurns {
        Self::with_shares(slots, (slots / 2).max(1), queue)
    }

    fn with_shares(slots: usize, per_tenant: usize, queue: usize) -> SqlTurns {
        SqlTurns { all: Arc::new(Semaphore::new(slots)), per_tenant, queue, tenants: Mutex::new(HashMap::new()) }
    }

    /// Waits for a turn of `tenant`'s, or refuses at once when it has too many waiting.
    pub async fn take(&self, tenant: TenantId) -> Result<SqlTurn, RepoError> {
        let share = {
            // Entries are two semaphores per tenant that ever queried: as few as the tenants.
            let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
            tenants
                .entry(tenant)
                .or_insert_with(|| Share {
                    admitted: Arc::new(Semaphore::new(self.per_tenant + self.queue)),
                    running: Arc::new(Semaphore::new(self.per_tenant)),
                })
                .clone()
        };
        let admitted = share.admitted.try_acquire_owned().map_err(|_| {
            RepoError::Crowded(format!(
                "this tenant has {} statistics queries running and {} waiting, the most it may; retry shortly",
                self.per_tenant, self.queue
            ))
        })?;
        let closing = |_| RepoError::Unavailable("the store is closing".into());
        let running = share.running.acquire_owned().await.map_err(closing)?;
        let all = self.all.clone().acquire_owned().await.map_err(closing)?;
        Ok(SqlTurn { _all: all, _running: running, _admitted: admitted })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    async fn pending(turns: &SqlTurns, tenant: TenantId) -> bool {
        tokio::time::timeout(Duration::from_millis(50), turns.take(tenant)).await.is_err()
    }

    #[tokio::test]
    async fn a_tenant_holds_at_most_its_share_and_another_still_gets_a_turn() {
        let turns = SqlTurns::with_shares(4, 2, 1);
        let (a, b) = (TenantId(1), TenantId(2));
        let held = [turns.take(a).await.unwrap(), turns.take(a).await.unwrap()];
        // A third query of `a` waits (its share is 2), though two turns are free.
        assert!(pending(&turns, a).await);
        let other = turns.take(b).await.unwrap();
        drop(held);
        assert!(turns.take(a).await.is_ok());
        drop(other);
    }

    #[tokio::test]
    async fn past_its_queue_a_tenant_is_refused_at_once_and_others_are_not() {
        let turns = Arc::new(SqlTurns::with_shares(4, 1, 2));
        let (a, b) = (TenantId(1), TenantId(2));
        let running = turns.take(a).await.unwrap();
        let waiting: Vec<_> = (0..2)
            .map(|_| {
                let turns = turns.clone();
                tokio::spawn(async move { turns.take(a).await.map(drop) })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(turns.take(a).await, Err(RepoError::Crowded(_))));
        assert!(turns.take(b).await.is_ok());
        // The waiting ones run once the turn is given back, and room is made again.
        drop(running);
        for w in waiting {
            w.await.unwrap().unwrap();
        }
        assert!(turns.take(a).await.is_ok());
    }

    #[tokio::test]
    async fn the_process_wide_bound_holds_across_tenants() {
        let turns = SqlTurns::new(2);
        let held = [turns.take(TenantId(1)).await.unwrap(), turns.take(TenantId(2)).await.unwrap()];
        assert!(pending(&turns, TenantId(3)).await);
        drop(held);
        assert!(!pending(&turns, TenantId(3)).await);
    }
}
