//! `limits { … }`: the limits a client is held to, readable before it hits them.

use async_graphql::Object;

use super::{GEOGRAPHY_ROWS, Limits, SPLIT_ROWS};

/// The limits this server holds every request to. A request past one is refused with
/// `QUERY_TOO_COMPLEX` before it runs, its `extensions` naming the limit, its maximum and
/// the request's figure.
pub struct LimitsObject(pub Limits);

/// The limits this server holds every request to.
#[Object(name = "Limits")]
impl LimitsObject {
    /// Fields a query may select once its fragments are expanded.
    async fn max_fields(&self) -> u64 {
        self.0.max_fields
    }

    /// Levels fields may nest.
    async fn max_depth(&self) -> u64 {
        self.0.max_depth
    }

    /// Aliased fields a query may hold once its fragments are expanded.
    async fn max_aliases(&self) -> u64 {
        self.0.max_aliases
    }

    /// Items of any one list sent, as an argument or in the variables.
    async fn max_list_length(&self) -> usize {
        self.0.max_list
    }

    /// What an answer may hold, in cost units: every field counts once per row of the
    /// lists around it; a series counts its buckets, a page its size, `byGeography` 250
    /// rows and `devices`, `referrers`, `medias` and `liveSignals` 50 rows each.
    async fn max_cost(&self) -> u64 {
        self.0.max_cost
    }

    /// Rows `byGeography` counts for in the cost.
    async fn geography_rows(&self) -> u64 {
        GEOGRAPHY_ROWS
    }

    /// Rows `devices`, `referrers`, `medias` and `liveSignals` count for in the cost.
    async fn split_rows(&self) -> u64 {
        SPLIT_ROWS
    }

    /// Bytes an answer may take.
    async fn max_answer_bytes(&self) -> usize {
        self.0.max_answer_bytes
    }

    /// Seconds all the work of one request may take before it is refused with `UNAVAILABLE`.
    async fn timeout_seconds(&self) -> u64 {
        self.0.timeout.as_secs()
    }
}
