use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One row naming this database with a random token. Caches and change notices shared
/// through one Redis carry it, so that two databases (two deployments, or two test
/// databases) whose tenants and versions happen to match never read each other's entries.
#[derive(DeriveIden)]
enum Installation {
    Table,
    Id,
    Token,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Installation as I;
        manager
            .create_table(
                Table::create()
                    .table(I::Table)
                    .col(ColumnDef::new(I::Id).small_integer().not_null().primary_key())
                    .col(ColumnDef::new(I::Token).string_len(64).not_null())
                    .to_owned(),
            )
            .await?;
        let token: String = (0..16).map(|_| format!("{:02x}", rand::random::<u8>())).collect();
        let insert = Query::insert()
            .into_table(I::Table)
            .columns([I::Id, I::Token])
            .values_panic([1.into(), token.into()])
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Installation::Table).to_owned()).await
    }
}
