use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Documents registered ahead (`ottstats documents add`): with trusted documents on, the
/// only operations the server runs. Installation-wide, by the SHA-256 of their text, like
/// the hashes clients send: a document is API shape, not a tenant's data.
#[derive(DeriveIden)]
enum TrustedDocuments {
    Table,
    Hash,
    Document,
    AddedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use TrustedDocuments as D;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(ColumnDef::new(D::Hash).string_len(64).not_null())
                    .col(ColumnDef::new(D::Document).text().not_null())
                    .col(ColumnDef::new(D::AddedAt).big_integer().not_null())
                    .primary_key(Index::create().name("pk_trusted_documents").col(D::Hash))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TrustedDocuments::Table).to_owned()).await
    }
}
