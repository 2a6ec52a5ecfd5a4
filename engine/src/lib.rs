//! The registrations index: the engine the registration panels run on.
//!
//! Per tenant, an in-memory, columnar copy of what the panels read (registration instant
//! sorted, gender, age at registration, and a dictionary code for the place), loaded from
//! the database once and kept exact by the change records each user write leaves in its
//! transaction. Every panel (`total`, `timeline` at every granularity, `byGender`,
//! `byAge`, `byGeography`) with every filter is one pass over the period's rows, which
//! are contiguous; the SQL path stays as the reference and as the fallback while an
//! index loads.
//!
//! - [`places`]: the place dictionary;
//! - [`rows`]: the sorted columns, in blocks so that live writes stay cheap;
//! - [`index`]: one tenant's index and its panels;
//! - [`engine`]: every tenant's index under one memory budget, catch-up, loads and
//!   eviction;
//! - [`view`]: one published version of an index, which answers every panel of a
//!   question ([`ottstats_domain::repository::RegistrationViews`]).
//!
//! No IO happens here: the engine reads through [`ottstats_domain::registration_log::RegistrationLog`].

pub mod engine;
mod filter;
pub mod index;
pub mod places;
mod repository;
pub mod rows;
pub mod view;

pub use engine::{Engine, EngineCounters, EngineSettings, EngineStatus, WeakEngine};
pub use index::{Inconsistent, IndexBuilder, RegistrationIndex};
