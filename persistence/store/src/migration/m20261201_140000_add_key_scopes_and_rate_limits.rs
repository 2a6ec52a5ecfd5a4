use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    TenantId,
    KeyId,
    Name,
    Scopes,
    ExpiresAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    RateLimit,
}

#[derive(DeriveIden)]
enum Installation {
    Table,
    KeysRevision,
}

/// Keys get a public id, a name, scopes, an expiry and a last-used time; the
/// installation row gets a counter that every change of a key moves, which every process
/// polls to forget what it remembers of keys (a revocation holds within a second).
/// Existing keys keep every right they had: `read pii write`. Tenants get a rate limit
/// of their own (points a minute per key; the server's default when null).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            ColumnDef::new(ApiKeys::KeyId).string_len(13).not_null().default("").to_owned(),
            ColumnDef::new(ApiKeys::Name).string_len(200).not_null().default("").to_owned(),
            ColumnDef::new(ApiKeys::Scopes).string_len(64).not_null().default("read pii write").to_owned(),
            ColumnDef::new(ApiKeys::ExpiresAt).big_integer().null().to_owned(),
            ColumnDef::new(ApiKeys::LastUsedAt).big_integer().null().to_owned(),
        ];
        for mut column in columns {
            manager.alter_table(Table::alter().table(ApiKeys::Table).add_column(&mut column).to_owned()).await?;
        }
        // The id is `k` and the first 12 hex digits of the hash, for old keys and new.
        manager
            .get_connection()
            .execute_unprepared("UPDATE api_keys SET key_id = 'k' || substr(key_hash, 1, 12)")
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_api_keys_tenant_key_id")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::TenantId)
                    .col(ApiKeys::KeyId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Tenants::Table)
                    .add_column(ColumnDef::new(Tenants::RateLimit).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Installation::Table)
                    .add_column(ColumnDef::new(Installation::KeysRevision).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("ux_api_keys_tenant_key_id").table(ApiKeys::Table).to_owned()).await?;
        for column in [ApiKeys::KeyId, ApiKeys::Name, ApiKeys::Scopes, ApiKeys::ExpiresAt, ApiKeys::LastUsedAt] {
            manager.alter_table(Table::alter().table(ApiKeys::Table).drop_column(column).to_owned()).await?;
        }
        manager.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::RateLimit).to_owned()).await?;
        manager
            .alter_table(Table::alter().table(Installation::Table).drop_column(Installation::KeysRevision).to_owned())
            .await
    }
}
