//! Storage of ottstats: SeaORM entities and migrations, the repository implementations
//! for SQLite and PostgreSQL, and the cache.

mod activity_read;
mod activity_repo;
mod activity_rows;
mod activity_write;
mod cache;
pub mod connect;
pub mod entities;
mod error;
pub mod migration;
mod registration_stats_repo;
mod sql;
mod store;
mod tenant_repo;
mod user_repo;
pub mod versions;

pub use cache::{CacheCounters, CachedStore};
pub use connect::{Backend, connect, default_database_url};
pub use store::Store;

#[cfg(feature = "testing")]
pub mod testing;
