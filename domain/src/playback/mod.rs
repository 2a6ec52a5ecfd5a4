//! Playback: player events, sessions and logins, validated from what operators send,
//! and the figures of one user's activity.

pub mod activity;
pub mod bandwidth;
pub mod model;
pub mod quality;
pub mod session;

pub use model::{Content, ContentKind, EventType, Login, PlayerEvent};
