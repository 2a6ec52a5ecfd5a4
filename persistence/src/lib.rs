//! Storage of ottstats: SeaORM entities and migrations, the repository implementations
//! for SQLite and PostgreSQL, and the cache.

mod activity_pages;
mod activity_read;
mod activity_repo;
mod activity_rows;
mod activity_write;
mod cache;
mod cache_counters;
pub mod changes;
pub mod connect;
mod derived_key;
pub mod entities;
mod error;
mod key_repo;
pub mod migration;
pub mod persisted_queries;
mod prober;
pub mod redis_link;
mod registration_load;
pub mod registration_log;
mod registration_stats_repo;
pub mod response_cache;
mod retry;
mod sealed;
mod sql;
mod sql_turns;
mod store;
mod sync;
mod tenant_repo;
mod trusted_documents;
mod user_repo;
mod version_reads;
pub mod versions;

pub use cache::{CacheCounters, CachedStore, Panel};
pub use changes::{Change, ChangeFeed};
pub use connect::{Backend, connect, default_database_url};
pub use persisted_queries::PersistedQueries;
pub use redis_link::RedisLink;
pub use response_cache::ResponseCache;
pub use store::Store;

#[cfg(feature = "testing")]
pub mod testing;
