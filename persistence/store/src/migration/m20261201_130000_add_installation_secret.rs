use rand::RngCore;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A secret of this installation, the key of the integrity tag on every cache entry it
/// writes to Redis (see `sealed`). It lives in the database, beside the data it vouches
/// for, so every process over one database shares it with no configuration, and a Redis
/// shared by other installations cannot forge or swap entries: they do not know it.
#[derive(DeriveIden)]
enum Installation {
    Table,
    Id,
    Secret,
}

/// Bytes of the secret (stored as hex): the HMAC-SHA256 key size.
const SECRET_BYTES: usize = 32;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Installation as I;
        // Nullable: SQLite adds a NOT NULL column only with a default, and a shared default
        // would be no secret. The one row is filled below, in the same migration.
        manager
            .alter_table(
                Table::alter().table(I::Table).add_column(ColumnDef::new(I::Secret).string_len(64).null()).to_owned(),
            )
            .await?;
        // Generated here rather than by SQL: neither backend has a portable random-bytes
        // function. The thread RNG is a CSPRNG seeded from the operating system.
        let mut secret = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut secret);
        let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        let fill = Query::update().table(I::Table).value(I::Secret, hex).and_where(Expr::col(I::Id).eq(1)).to_owned();
        manager.exec_stmt(fill).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Installation::Table).drop_column(Installation::Secret).to_owned())
            .await
    }
}
