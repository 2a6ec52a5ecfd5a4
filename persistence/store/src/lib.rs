//! Storage of ottstats: SeaORM entities and migrations, the repositories for SQLite and
//! PostgreSQL (statistics grouped in SQL: the reference and fallback of the registrations
//! index), data versions (bumped by every write in its own transaction), the registrations
//! log the index catches up from, and test databases (`testing` feature). No cache lives
//! here: `ottstats-cache` sits in front of these reads.

mod activity_pages;
mod activity_quality;
mod activity_read;
mod activity_rows;
mod activity_write;
pub mod change_payload;
pub mod connect;
mod copy_text;
mod derived_key;
pub mod entities;
mod error;
mod key_repo;
pub mod migration;
mod pg_bulk;
mod pg_bulk_events;
mod pg_bulk_users;
mod prober;
mod registration_load;
pub mod registration_log;
mod registration_stats_repo;
mod retry;
mod secret;
mod sql;
mod sql_turns;
mod store;
mod sync;
mod tenant_repo;
mod trusted_documents;
mod user_erase;
mod user_repo;
mod user_search;
mod version_reads;
mod versions;

pub use connect::{Backend, DatabaseSettings, connect, connect_with, default_database_url};
pub use secret::InstallationSecret;
pub use store::Store;

#[cfg(feature = "testing")]
pub mod testing;
