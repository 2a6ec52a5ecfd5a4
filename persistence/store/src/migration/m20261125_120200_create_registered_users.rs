use sea_orm_migration::prelude::*;

use super::m20261125_120000_create_tenants::tenant_foreign_key;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RegisteredUsers {
    Table,
    TenantId,
    Id,
    Name,
    Gender,
    BirthDate,
    Age,
    Country,
    State,
    City,
    RegisteredAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RegisteredUsers::Table)
                    .col(ColumnDef::new(RegisteredUsers::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(RegisteredUsers::Id).string_len(128).not_null())
                    .col(ColumnDef::new(RegisteredUsers::Name).string_len(256).not_null())
                    .col(ColumnDef::new(RegisteredUsers::Gender).string_len(8).not_null())
                    .col(ColumnDef::new(RegisteredUsers::BirthDate).date().null())
                    .col(ColumnDef::new(RegisteredUsers::Age).small_integer().null())
                    .col(ColumnDef::new(RegisteredUsers::Country).char_len(2).null())
                    .col(ColumnDef::new(RegisteredUsers::State).string_len(128).null())
                    .col(ColumnDef::new(RegisteredUsers::City).string_len(128).null())
                    .col(ColumnDef::new(RegisteredUsers::RegisteredAt).big_integer().not_null())
                    .col(ColumnDef::new(RegisteredUsers::UpdatedAt).big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .name("pk_registered_users")
                            .col(RegisteredUsers::TenantId)
                            .col(RegisteredUsers::Id),
                    )
                    .foreign_key(&mut tenant_foreign_key(
                        "fk_registered_users_tenant",
                        RegisteredUsers::Table,
                        RegisteredUsers::TenantId,
                    ))
                    .to_owned(),
            )
            .await?;
        // Every statistic reads a tenant's registrations in a time range; the panels group
        // by gender, age and place, so those ride along and PostgreSQL can answer from
        // the index alone.
        manager
            .create_index(
                Index::create()
                    .name("ix_registered_users_tenant_registered_at")
                    .table(RegisteredUsers::Table)
                    .col(RegisteredUsers::TenantId)
                    .col(RegisteredUsers::RegisteredAt)
                    .col(RegisteredUsers::Gender)
                    .col(RegisteredUsers::Age)
                    .col(RegisteredUsers::Country)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RegisteredUsers::Table).to_owned()).await
    }
}
