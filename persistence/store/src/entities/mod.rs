//! Table rows. They stay inside persistence: the API maps domain types, never rows.

pub mod api_key;
pub mod content;
pub mod login;
pub mod playback_session;
pub mod player_event;
pub mod registered_user;
pub mod tenant;
