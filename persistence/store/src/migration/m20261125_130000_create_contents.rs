use sea_orm_migration::prelude::*;

use super::m20261125_120000_create_tenants::tenant_foreign_key;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Contents {
    Table,
    TenantId,
    Id,
    Kind,
    Title,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Contents::Table)
                    .col(ColumnDef::new(Contents::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(Contents::Id).string_len(128).not_null())
                    .col(ColumnDef::new(Contents::Kind).string_len(4).not_null())
                    .col(ColumnDef::new(Contents::Title).string_len(512).not_null())
                    .col(ColumnDef::new(Contents::UpdatedAt).big_integer().not_null())
                    .primary_key(Index::create().name("pk_contents").col(Contents::TenantId).col(Contents::Id))
                    .foreign_key(&mut tenant_foreign_key("fk_contents_tenant", Contents::Table, Contents::TenantId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Contents::Table).to_owned()).await
    }
}
