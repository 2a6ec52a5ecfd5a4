use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Tenants {
    Table,
    Id,
    Name,
    HomeCountry,
    TimeZone,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(ColumnDef::new(Tenants::Id).big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Tenants::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Tenants::HomeCountry).char_len(2).not_null())
                    .col(ColumnDef::new(Tenants::TimeZone).string_len(64).not_null())
                    .col(ColumnDef::new(Tenants::CreatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ux_tenants_name").table(Tenants::Table).col(Tenants::Name).unique().to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Tenants::Table).to_owned()).await
    }
}

/// The cascade from a tenant to one of its tables: every table is keyed by tenant first.
pub fn tenant_foreign_key<T: IntoIden + 'static, C: IntoIden + 'static>(
    name: &str,
    table: T,
    column: C,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// A client-given id compared byte by byte, as SQLite and the domain order them: ties in
/// time are broken the same way on every backend (PostgreSQL would follow its locale).
pub fn byte_ordered_id<T: IntoIden + 'static>(manager: &SchemaManager, column: T) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    def.string_len(128).not_null();
    if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        def.extra("COLLATE \"C\"");
    }
    def
}
