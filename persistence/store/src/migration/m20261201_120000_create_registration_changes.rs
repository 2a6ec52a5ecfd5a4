use sea_orm_migration::prelude::*;

use super::m20261125_120000_create_tenants::tenant_foreign_key;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The change records of registrations: every user write that changes what the
/// registration panels read leaves, in its own transaction and under the registrations
/// version it produced, one row per registration that appeared (`added`) or went away.
/// A process brings its in-memory index from its version to the current one by reading
/// only these. Records older than the retention are pruned; an index further behind
/// reloads. (`m20261203_120000_pack_registration_changes` packs a version's records in
/// one row.)
#[derive(DeriveIden)]
enum RegistrationChanges {
    Table,
    TenantId,
    Version,
    Seq,
    Added,
    RegisteredAt,
    Gender,
    Age,
    Country,
    State,
    City,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RegistrationChanges as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(ColumnDef::new(C::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(C::Version).big_integer().not_null())
                    .col(ColumnDef::new(C::Seq).integer().not_null())
                    .col(ColumnDef::new(C::Added).boolean().not_null())
                    .col(ColumnDef::new(C::RegisteredAt).big_integer().not_null())
                    .col(ColumnDef::new(C::Gender).string_len(8).not_null())
                    .col(ColumnDef::new(C::Age).small_integer().null())
                    .col(ColumnDef::new(C::Country).char_len(2).null())
                    .col(ColumnDef::new(C::State).string_len(128).null())
                    .col(ColumnDef::new(C::City).string_len(128).null())
                    .col(ColumnDef::new(C::RecordedAt).big_integer().not_null())
                    .primary_key(
                        Index::create().name("pk_registration_changes").col(C::TenantId).col(C::Version).col(C::Seq),
                    )
                    .foreign_key(&mut tenant_foreign_key("fk_registration_changes_tenant", C::Table, C::TenantId))
                    .to_owned(),
            )
            .await?;
        // Pruning finds a tenant's old records by the time they were written.
        manager
            .create_index(
                Index::create()
                    .name("ix_registration_changes_tenant_recorded_at")
                    .table(C::Table)
                    .col(C::TenantId)
                    .col(C::RecordedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RegistrationChanges::Table).to_owned()).await
    }
}
