use sea_orm_migration::prelude::*;

use super::m20261125_120000_create_tenants::{byte_ordered_id, tenant_foreign_key};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Logins {
    Table,
    TenantId,
    Id,
    UserId,
    OccurredAt,
    Device,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Logins::Table)
                    .col(ColumnDef::new(Logins::TenantId).big_integer().not_null())
                    .col(byte_ordered_id(manager, Logins::Id))
                    .col(ColumnDef::new(Logins::UserId).string_len(128).not_null())
                    .col(ColumnDef::new(Logins::OccurredAt).big_integer().not_null())
                    .col(ColumnDef::new(Logins::Device).string_len(128).null())
                    .primary_key(Index::create().name("pk_logins").col(Logins::TenantId).col(Logins::Id))
                    .foreign_key(&mut tenant_foreign_key("fk_logins_tenant", Logins::Table, Logins::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_logins_tenant_user_time")
                    .table(Logins::Table)
                    .col(Logins::TenantId)
                    .col(Logins::UserId)
                    .col(Logins::OccurredAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Logins::Table).to_owned()).await
    }
}
