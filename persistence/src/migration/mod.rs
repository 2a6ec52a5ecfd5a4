//! Schema migrations, applied in name order on start and by `ottstats migrate`.

use sea_orm_migration::prelude::*;

mod m20261125_120000_create_tenants;
mod m20261125_120100_create_api_keys;
mod m20261125_120200_create_registered_users;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_120000_create_tenants::Migration),
            Box::new(m20261125_120100_create_api_keys::Migration),
            Box::new(m20261125_120200_create_registered_users::Migration),
        ]
    }
}
