use sea_orm_migration::prelude::*;

use super::m20261125_120000_create_tenants::{byte_ordered_id, tenant_foreign_key};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlayerEvents {
    Table,
    TenantId,
    Id,
    UserId,
    SessionId,
    EventType,
    OccurredAt,
    Position,
    ContentKind,
    ContentId,
    Device,
    Referrer,
    BandwidthKbps,
    PlayedSeconds,
    PlaybackMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use PlayerEvents as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(ColumnDef::new(E::TenantId).big_integer().not_null())
                    .col(byte_ordered_id(manager, E::Id))
                    .col(ColumnDef::new(E::UserId).string_len(128).not_null())
                    .col(ColumnDef::new(E::SessionId).string_len(128).not_null())
                    .col(ColumnDef::new(E::EventType).string_len(16).not_null())
                    .col(ColumnDef::new(E::OccurredAt).big_integer().not_null())
                    .col(ColumnDef::new(E::Position).double().null())
                    .col(ColumnDef::new(E::ContentKind).string_len(4).null())
                    .col(ColumnDef::new(E::ContentId).string_len(128).null())
                    .col(ColumnDef::new(E::Device).string_len(128).null())
                    .col(ColumnDef::new(E::Referrer).string_len(128).null())
                    .col(ColumnDef::new(E::BandwidthKbps).double().null())
                    .col(ColumnDef::new(E::PlayedSeconds).double().null())
                    // Derived from the session on every write (see domain::playback::session).
                    .col(ColumnDef::new(E::PlaybackMs).big_integer().not_null())
                    .primary_key(Index::create().name("pk_player_events").col(E::TenantId).col(E::Id))
                    .foreign_key(&mut tenant_foreign_key("fk_player_events_tenant", E::Table, E::TenantId))
                    .to_owned(),
            )
            .await?;
        // A user's events in a period, in page order; the figures' columns ride along so
        // the aggregates can be answered from the index.
        manager
            .create_index(
                Index::create()
                    .name("ix_player_events_tenant_user_time")
                    .table(E::Table)
                    .col(E::TenantId)
                    .col(E::UserId)
                    .col(E::OccurredAt)
                    .col(E::Id)
                    .col(E::EventType)
                    .col(E::SessionId)
                    .col(E::PlaybackMs)
                    .col(E::BandwidthKbps)
                    .to_owned(),
            )
            .await?;
        // Walking a session when late events arrive.
        manager
            .create_index(
                Index::create()
                    .name("ix_player_events_tenant_session")
                    .table(E::Table)
                    .col(E::TenantId)
                    .col(E::SessionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlayerEvents::Table).to_owned()).await
    }
}
