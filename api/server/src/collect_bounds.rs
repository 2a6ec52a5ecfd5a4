//! The collector's bounds (the `[collect]` section of the settings) and what enforces
//! them: its write slots and the memory its bodies may take, apart from `/graphql`'s.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::body::BodyBudget;

/// The collector's bounds: the `[collect]` section of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectSettings {
    /// The largest body (HTTP 413): a player's batch is small; a GraphQL batch may be 32 MiB.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub max_body_bytes: usize,
    /// Batches being written at once. The database is the bottleneck: more slots would
    /// only queue there, holding connections every other request needs.
    pub writes_in_flight: usize,
    /// How long a batch waits for a slot before it is refused (HTTP 503).
    #[serde(with = "ottstats_domain::units::duration")]
    pub write_wait: Duration,
    /// What `Retry-After` says on such a refusal (whole seconds, rounded up).
    #[serde(with = "ottstats_domain::units::duration")]
    pub retry_after: Duration,
    /// What the collector's bodies being read or held at once may take: room of its own,
    /// apart from `http.bodies_in_flight_bytes`, so that slow bodies sent with a public
    /// key cannot starve `/graphql`. A body that declares no length takes
    /// `max_body_bytes` of it; when it is full, HTTP 503 with `Retry-After`.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub bodies_in_flight_bytes: usize,
    /// How long a player may take to send its body (then HTTP 408): a batch is small.
    #[serde(with = "ottstats_domain::units::duration")]
    pub body_timeout: Duration,
}

impl Default for CollectSettings {
    fn default() -> Self {
        CollectSettings {
            max_body_bytes: 1024 * 1024,
            writes_in_flight: 4,
            write_wait: Duration::from_millis(500),
            retry_after: Duration::from_secs(1),
            bodies_in_flight_bytes: 16 * 1024 * 1024,
            body_timeout: Duration::from_secs(5),
        }
    }
}

/// The collector's share of the server: its write slots and the memory of its bodies.
#[derive(Clone)]
pub struct Collector {
    /// Public so that tests can take slots and play a database that fell behind.
    pub writes: Arc<Semaphore>,
    /// A body waits for room as long as a batch for a slot (`collect.write_wait`).
    pub(crate) bodies: BodyBudget,
}

impl Collector {
    pub fn new(settings: &CollectSettings) -> Collector {
        Collector {
            writes: Arc::new(Semaphore::new(settings.writes_in_flight)),
            bodies: BodyBudget::with_bounds(
                settings.bodies_in_flight_bytes,
                settings.max_body_bytes,
                settings.body_timeout,
                settings.write_wait,
            ),
        }
    }

    /// The bytes of `collect.bodies_in_flight_bytes` free now.
    pub fn body_room_free(&self) -> usize {
        self.bodies.free_bytes()
    }
}
