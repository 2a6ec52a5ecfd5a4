//! Schema migrations, applied in name order on start and by `ottstats migrate`.

use sea_orm_migration::prelude::*;

mod m20261125_120000_create_tenants;
mod m20261125_120100_create_api_keys;
mod m20261125_120200_create_registered_users;
mod m20261125_130000_create_contents;
mod m20261125_130100_create_player_events;
mod m20261125_130200_create_playback_sessions;
mod m20261125_130300_create_logins;
mod m20261125_140000_create_data_versions;
mod m20261125_150000_create_installation;
mod m20261201_120000_create_registration_changes;
mod m20261201_130000_add_installation_secret;
mod m20261201_140000_add_key_scopes_and_rate_limits;
mod m20261202_120000_create_trusted_documents;
mod m20261203_120000_pack_registration_changes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_120000_create_tenants::Migration),
            Box::new(m20261125_120100_create_api_keys::Migration),
            Box::new(m20261125_120200_create_registered_users::Migration),
            Box::new(m20261125_130000_create_contents::Migration),
            Box::new(m20261125_130100_create_player_events::Migration),
            Box::new(m20261125_130200_create_playback_sessions::Migration),
            Box::new(m20261125_130300_create_logins::Migration),
            Box::new(m20261125_140000_create_data_versions::Migration),
            Box::new(m20261125_150000_create_installation::Migration),
            Box::new(m20261201_120000_create_registration_changes::Migration),
            Box::new(m20261201_130000_add_installation_secret::Migration),
            Box::new(m20261201_140000_add_key_scopes_and_rate_limits::Migration),
            Box::new(m20261202_120000_create_trusted_documents::Migration),
            Box::new(m20261203_120000_pack_registration_changes::Migration),
        ]
    }
}
