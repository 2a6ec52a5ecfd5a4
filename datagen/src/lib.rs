//! Generators of realistic ottstats data from a seed: the same seed gives the same data.
//!
//! - [`users`]: registered users (names, genders, birth dates, places of the home
//!   country and abroad, a registration calendar with weekly and yearly rhythms);
//! - [`activity`]: a catalogue of medias and live signals, and viewers' playback
//!   sessions (heartbeats, pauses, seeks, buffering, errors) and logins;
//! - [`demo`]: the demo tenant's data and what it shows first.
//!
//! Depends on the domain only; the writers write to any `io::Write`.

pub mod activity;
pub mod demo;
pub mod users;
mod weighted;
