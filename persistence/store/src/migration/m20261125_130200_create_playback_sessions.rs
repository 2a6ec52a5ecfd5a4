use sea_orm_migration::prelude::*;

use super::m20261125_120000_create_tenants::tenant_foreign_key;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One row per session, derived from its events on every write: what it is about (its
/// first event) and its playback in total.
#[derive(DeriveIden)]
enum PlaybackSessions {
    Table,
    TenantId,
    UserId,
    SessionId,
    FirstAt,
    ContentKind,
    ContentId,
    Device,
    Referrer,
    PlaybackMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PlaybackSessions as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(ColumnDef::new(S::TenantId).big_integer().not_null())
                    .col(ColumnDef::new(S::UserId).string_len(128).not_null())
                    .col(ColumnDef::new(S::SessionId).string_len(128).not_null())
                    .col(ColumnDef::new(S::FirstAt).big_integer().not_null())
                    .col(ColumnDef::new(S::ContentKind).string_len(4).null())
                    .col(ColumnDef::new(S::ContentId).string_len(128).null())
                    .col(ColumnDef::new(S::Device).string_len(128).null())
                    .col(ColumnDef::new(S::Referrer).string_len(128).null())
                    .col(ColumnDef::new(S::PlaybackMs).big_integer().not_null())
                    .primary_key(
                        Index::create().name("pk_playback_sessions").col(S::TenantId).col(S::UserId).col(S::SessionId),
                    )
                    .foreign_key(&mut tenant_foreign_key("fk_playback_sessions_tenant", S::Table, S::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_playback_sessions_tenant_user_first_at")
                    .table(S::Table)
                    .col(S::TenantId)
                    .col(S::UserId)
                    .col(S::FirstAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlaybackSessions::Table).to_owned()).await
    }
}
