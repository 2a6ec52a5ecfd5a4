use sea_orm_migration::prelude::*;

use super::m20261125_120000_create_tenants::tenant_foreign_key;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A counter per tenant and scope (`registrations`, `activity:<user id>`), bumped in the
/// same transaction as every write that changes that scope's figures. Cached answers are
/// keyed by it, so no cache can serve figures older than the database's.
#[derive(DeriveIden)]
enum DataVersions {
    Table,
    TenantId,
    Scope,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use DataVersions as V;
        manager
            .create_table(
                Table::create()
                    .table(V::Table)
                    .col(ColumnDef::new(V::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(V::Scope).string_len(160).not_null())
                    .col(ColumnDef::new(V::Version).big_integer().not_null())
                    .primary_key(Index::create().name("pk_data_versions").col(V::TenantId).col(V::Scope))
                    .foreign_key(&mut tenant_foreign_key("fk_data_versions_tenant", V::Table, V::TenantId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(DataVersions::Table).to_owned()).await
    }
}
