//! The cache of ottstats and what keeps it honest.
//!
//! - [`tiered`]: the one cache, in process then Redis, with sealed entries and shared
//!   misses; [`key`]: its typed keys;
//! - [`reads`]: the statistics reads of the store behind it, each keyed by the data
//!   version of its scope;
//! - [`redis_link`]: the connection to Redis, with its breaker;
//! - [`changes`]: change notices, within a process and between processes.
//!
//! Depends on the domain only: versions, reads and the secret come in through its traits
//! and constructors.

pub mod changes;
pub mod key;
pub mod reads;
mod reads_counters;
pub mod redis_link;
mod sealed;
mod sync;
pub mod tiered;

pub use changes::{Change, ChangeFeed};
pub use key::CacheKey;
pub use reads::CachedReads;
pub use reads_counters::{CacheCounters, Panel};
pub use redis_link::{RedisLink, RedisSettings};
pub use tiered::{Cached, Claim, Source, TieredCache, Turn};
