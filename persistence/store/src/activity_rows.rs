//! Rows of the activity tables to and from domain values.

use chrono::{DateTime, Utc};
use ottstats_domain::RepoError;
use ottstats_domain::playback::session::SessionSummary;
use ottstats_domain::playback::{Content, ContentKind, EventType, Login, PlayerEvent};
use ottstats_domain::tenant::TenantId;
use sea_orm::Set;

use crate::entities::{content, login, playback_session, player_event};
use crate::error::corrupt;

pub(crate) fn instant(ms: i64) -> Result<DateTime<Utc>, RepoError> {
    DateTime::<Utc>::from_timestamp_millis(ms).ok_or_else(|| corrupt("instant", ms))
}

pub(crate) fn kind(text: Option<&str>) -> Result<Option<ContentKind>, RepoError> {
    text.map(|k| ContentKind::parse(k, "contentKind").map_err(|e| corrupt("content kind", e))).transpose()
}

pub(crate) fn event(row: player_event::Model) -> Result<(PlayerEvent, i64), RepoError> {
    let event_type: EventType = row.event_type.parse().map_err(|e| corrupt("event type", e))?;
    let e = PlayerEvent {
        occurred_at: instant(row.occurred_at)?,
        content_kind: kind(row.content_kind.as_deref())?,
        id: row.id,
        session_id: row.session_id,
        user_id: row.user_id,
        event_type,
        position: row.position,
        content_id: row.content_id,
        device: row.device,
        referrer: row.referrer,
        bandwidth_kbps: row.bandwidth_kbps,
        played_seconds: row.played_seconds,
    };
    Ok((e, row.playback_ms))
}

pub(crate) fn event_row(tenant: TenantId, e: &PlayerEvent, playback_ms: i64) -> player_event::ActiveModel {
    player_event::ActiveModel {
        tenant_id: Set(tenant.0),
        id: Set(e.id.clone()),
        user_id: Set(e.user_id.clone()),
        session_id: Set(e.session_id.clone()),
        event_type: Set(e.event_type.as_str().to_owned()),
        occurred_at: Set(e.occurred_at.timestamp_millis()),
        position: Set(e.position),
        content_kind: Set(e.content_kind.map(|k| k.as_str().to_owned())),
        content_id: Set(e.content_id.clone()),
        device: Set(e.device.clone()),
        referrer: Set(e.referrer.clone()),
        bandwidth_kbps: Set(e.bandwidth_kbps),
        played_seconds: Set(e.played_seconds),
        playback_ms: Set(playback_ms),
    }
}

pub(crate) fn session(row: playback_session::Model) -> Result<SessionSummary, RepoError> {
    Ok(SessionSummary {
        first_at: instant(row.first_at)?,
        content_kind: kind(row.content_kind.as_deref())?,
        session_id: row.session_id,
        user_id: row.user_id,
        content_id: row.content_id,
        device: row.device,
        referrer: row.referrer,
        playback_ms: row.playback_ms,
    })
}

pub(crate) fn session_row(tenant: TenantId, s: &SessionSummary) -> playback_session::ActiveModel {
    playback_session::ActiveModel {
        tenant_id: Set(tenant.0),
        user_id: Set(s.user_id.clone()),
        session_id: Set(s.session_id.clone()),
        first_at: Set(s.first_at.timestamp_millis()),
        content_kind: Set(s.content_kind.map(|k| k.as_str().to_owned())),
        content_id: Set(s.content_id.clone()),
        device: Set(s.device.clone()),
        referrer: Set(s.referrer.clone()),
        playback_ms: Set(s.playback_ms),
    }
}

pub(crate) fn login(row: login::Model) -> Result<Login, RepoError> {
    Ok(Login { occurred_at: instant(row.occurred_at)?, id: row.id, user_id: row.user_id, device: row.device })
}

pub(crate) fn login_row(tenant: TenantId, l: &Login) -> login::ActiveModel {
    login::ActiveModel {
        tenant_id: Set(tenant.0),
        id: Set(l.id.clone()),
        user_id: Set(l.user_id.clone()),
        occurred_at: Set(l.occurred_at.timestamp_millis()),
        device: Set(l.device.clone()),
    }
}

pub(crate) fn content(row: content::Model) -> Result<Content, RepoError> {
    let kind = ContentKind::parse(&row.kind, "kind").map_err(|e| corrupt("content kind", e))?;
    Ok(Content { id: row.id, kind, title: row.title })
}

pub(crate) fn content_row(tenant: TenantId, c: &Content, now: i64) -> content::ActiveModel {
    content::ActiveModel {
        tenant_id: Set(tenant.0),
        id: Set(c.id.clone()),
        kind: Set(c.kind.as_str().to_owned()),
        title: Set(c.title.clone()),
        updated_at: Set(now),
    }
}
