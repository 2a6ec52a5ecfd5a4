//! Packs the registrations log: a version's change records go in one row (a row per
//! 10,000 records) holding them in a binary payload (`crate::change_payload`), instead of
//! a row per record. A bulk import of 10,000 users then writes one row of the log, not
//! 10,000 with a key, an index entry and a foreign-key check each.
//!
//! The table keeps its name; its records are discarded. An index that finds no records
//! for the versions it lacks reloads, as it does whenever records were pruned from under it.

use sea_orm_migration::prelude::*;

use super::m20261125_120000_create_tenants::tenant_foreign_key;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The packed change records: `records` (1 to 10,000) of one registrations `version` in
/// `payload`, `part` numbering a version's rows from 0.
#[derive(DeriveIden)]
enum RegistrationChanges {
    Table,
    TenantId,
    Version,
    Part,
    Records,
    Payload,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite too (PostgreSQL always has one): the names dropped
    /// here are created again, and another pooled SQLite connection, whose copy of the
    /// schema may still hold the old index, would refuse to create it ("already exists").
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use RegistrationChanges as C;
        manager.drop_table(Table::drop().table(C::Table).to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(ColumnDef::new(C::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(C::Version).big_integer().not_null())
                    .col(ColumnDef::new(C::Part).integer().not_null())
                    .col(ColumnDef::new(C::Records).integer().not_null())
                    .col(ColumnDef::new(C::Payload).blob().not_null())
                    .col(ColumnDef::new(C::RecordedAt).big_integer().not_null())
                    .primary_key(
                        Index::create().name("pk_registration_changes").col(C::TenantId).col(C::Version).col(C::Part),
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

    /// Back to a row per record, empty likewise.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RegistrationChanges::Table).to_owned()).await?;
        super::m20261201_120000_create_registration_changes::Migration.up(manager).await
    }
}
