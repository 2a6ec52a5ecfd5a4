//! Table rows. They stay inside persistence: the API maps domain types, never rows.

pub mod api_key;
pub mod registered_user;
pub mod tenant;
