use sea_orm_migration::prelude::*;

use super::m20261125_120000_create_tenants::tenant_foreign_key;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    TenantId,
    KeyHash,
    CreatedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Keys carry their tenant id, so the lookup is by (tenant_id, key_hash): tenant first.
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(ColumnDef::new(ApiKeys::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(ApiKeys::KeyHash).char_len(64).not_null())
                    .col(ColumnDef::new(ApiKeys::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(ApiKeys::RevokedAt).big_integer().null())
                    .primary_key(Index::create().name("pk_api_keys").col(ApiKeys::TenantId).col(ApiKeys::KeyHash))
                    .foreign_key(&mut tenant_foreign_key("fk_api_keys_tenant", ApiKeys::Table, ApiKeys::TenantId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await
    }
}
