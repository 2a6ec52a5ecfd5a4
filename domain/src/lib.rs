//! The pure core of ottstats: what a period, a bucket, an age range or a geography row
//! is, how the figures are defined, the data scopes reads depend on and writes change
//! ([`scope`]), and the repository traits that the store and the cache implement.
//! Nothing here does IO.

pub mod access;
pub mod activity_input;
pub mod activity_repository;
pub mod age;
pub mod country;
pub mod document;
pub mod erasure;
pub mod error;
pub mod gender;
pub mod geography;
pub mod granularity;
pub mod ingest;
pub mod page;
pub mod period;
pub mod period_shift;
pub mod playback;
pub mod registration_filter;
pub mod registration_log;
pub mod registration_stats;
pub mod repository;
pub mod scope;
pub mod share;
pub mod tenant;
pub mod text;
pub mod timeline;
pub mod units;
pub mod user;
pub mod user_search;

pub use error::{DomainError, InputError, RepoError};
