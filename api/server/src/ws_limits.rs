//! What one WebSocket, and one tenant's sockets together, may hold: the bounds of
//! `/graphql/ws` in one place, and the process-wide count of each tenant's operations.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ottstats_domain::tenant::TenantId;

/// The bounds one server applies to `/graphql/ws`: the `[websocket]` section of the
/// settings; [`SocketLimits::DEFAULT`] unless they say otherwise, smaller in tests that
/// must reach them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SocketLimits {
    /// The largest message before `connection_ack`. A `ping` or `connection_init` fits in
    /// a few hundred bytes; 16 KiB leaves room for any init payload a client sends, and
    /// keeps what an unauthenticated socket can make the server hold small.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub max_message_before_ack: usize,
    /// The largest message of an acknowledged socket: a `subscribe` with a large query and
    /// its variables. Also the transport's own limit (axum's `max_message_size` and
    /// `max_frame_size`), so a larger frame is refused while it is read, never buffered.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub max_message: usize,
    /// Operations (subscriptions, and queries or mutations sent over the socket) active at
    /// once on one socket.
    pub operations_per_socket: usize,
    /// Operations active at once across every socket of one tenant in this process.
    pub operations_per_tenant: usize,
    /// A push that cannot be written within this long means the client is not reading:
    /// the socket is closed and its operations freed.
    #[serde(with = "ottstats_domain::units::duration")]
    pub write_timeout: Duration,
    /// Pings answered: a burst of this many, then `pings_per_second`. A client measuring
    /// latency sends one every few seconds; more are ignored, not answered.
    pub ping_burst: u32,
    pub pings_per_second: u32,
    /// How long a client has to send `connection_init`.
    #[serde(with = "ottstats_domain::units::duration")]
    pub init_timeout: Duration,
    /// How often an open socket's key is checked again without any key changing (so that
    /// an expiry closes it).
    #[serde(with = "ottstats_domain::units::duration")]
    pub recheck_key_every: Duration,
}

impl SocketLimits {
    pub const DEFAULT: SocketLimits = SocketLimits {
        max_message_before_ack: 16 * 1024,
        max_message: 1024 * 1024,
        operations_per_socket: 20,
        operations_per_tenant: 200,
        write_timeout: Duration::from_secs(10),
        ping_burst: 5,
        pings_per_second: 2,
        init_timeout: Duration::from_secs(10),
        recheck_key_every: Duration::from_secs(30),
    };
}

impl Default for SocketLimits {
    fn default() -> Self {
        SocketLimits::DEFAULT
    }
}

/// Active operations per tenant, across every socket of this process.
#[derive(Clone, Default)]
pub struct TenantOperations {
    counts: Arc<Mutex<HashMap<TenantId, usize>>>,
    /// Operations refused because a socket or its tenant was at its cap (for `/metrics`).
    refused: Arc<AtomicU64>,
}

impl TenantOperations {
    /// A slot for one more operation of `tenant`, or `None` when it holds `max` already.
    /// The slot gives itself back when dropped, whichever way the operation ends (its
    /// stream completes, the client completes it, the socket closes or its task panics).
    pub fn acquire(&self, tenant: TenantId, max: usize) -> Option<OperationSlot> {
        let mut counts = self.lock();
        let count = counts.entry(tenant).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(OperationSlot { owner: self.clone(), tenant })
    }

    /// The operations `tenant` holds now.
    pub fn active(&self, tenant: TenantId) -> usize {
        self.lock().get(&tenant).copied().unwrap_or(0)
    }

    /// Operations active now, every tenant together.
    pub fn total(&self) -> usize {
        self.lock().values().sum()
    }

    pub fn count_refusal(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn refusals(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, usize>> {
        // Counts stay consistent even if a holder panicked: every change is one statement.
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One active operation of a tenant; see [`TenantOperations::acquire`].
pub struct OperationSlot {
    owner: TenantOperations,
    tenant: TenantId,
}

impl Drop for OperationSlot {
    fn drop(&mut self) {
        let mut counts = self.owner.lock();
        if let Some(count) = counts.get_mut(&self.tenant) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // No entry for idle tenants: the map holds only tenants with live sockets.
                counts.remove(&self.tenant);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_capped_per_tenant_and_given_back_when_dropped() {
        let ops = TenantOperations::default();
        let (a, b) = (TenantId(1), TenantId(2));
        let held: Vec<_> = (0..3).filter_map(|_| ops.acquire(a, 3)).collect();
        assert_eq!(held.len(), 3);
        assert!(ops.acquire(a, 3).is_none());
        // Another tenant has its own count.
        let other = ops.acquire(b, 3);
        assert!(other.is_some());
        assert_eq!((ops.active(a), ops.total()), (3, 4));
        drop(held);
        drop(other);
        assert_eq!(ops.total(), 0);
        assert!(ops.lock().is_empty());
        assert!(ops.acquire(a, 3).is_some());
    }
}
