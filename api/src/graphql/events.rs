//! `UserActivity.events`: a cursor connection over a user's player events.

use async_graphql::{Context, ErrorExtensions, SimpleObject};
use chrono::DateTime;
use ottstats_domain::InputError;
use ottstats_domain::activity_repository::{EventCursor, EventQuery};
use ottstats_domain::period::Period;
use ottstats_domain::playback::{EventType, PlayerEvent};
use ottstats_domain::tenant::Tenant;

use super::activity::ContentRef;
use super::enums::{ContentKindValue, PlayerEventTypeValue};
use super::services;
use crate::error::{ApiError, GqlResult};

/// The largest page.
pub const MAX_PAGE: i32 = 1_000;

/// A page of events.
#[derive(SimpleObject)]
pub struct EventConnection {
    /// Events of the user in the period of the asked types, over all pages.
    total_count: i64,
    page_info: PageInfo,
    /// This page's events, ordered by time, then id.
    nodes: Vec<PlayerEventNode>,
}

/// Where a page ends.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// Whether more events follow this page.
    has_next_page: bool,
    /// Pass as `after` to get the next page; null on an empty page.
    end_cursor: Option<String>,
}

/// One player event, with what a chart shows on hover.
#[derive(SimpleObject)]
pub struct PlayerEventNode {
    id: String,
    #[graphql(name = "type")]
    event_type: PlayerEventTypeValue,
    /// RFC 3339 with the offset of the period's time zone.
    occurred_at: String,
    /// Local date (`YYYY-MM-DD`) in the period's time zone.
    day: String,
    /// Seconds into the content.
    position: Option<f64>,
    content_kind: Option<ContentKindValue>,
    /// The content played, with its title; null when the event names none.
    content: Option<ContentRef>,
    device: Option<String>,
    referrer: Option<String>,
    bandwidth_kbps: Option<f64>,
    session_id: String,
}

/// Cursors are opaque to clients: hex of `<epoch ms>:<event id>`.
fn encode_cursor(e: &PlayerEvent) -> String {
    let raw = format!("{}:{}", e.occurred_at.timestamp_millis(), e.id);
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(cursor: &str) -> Option<EventCursor> {
    if !cursor.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..cursor.len())
        .step_by(2)
        .map(|i| cursor.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect();
    let raw = String::from_utf8(bytes?).ok()?;
    let (ms, id) = raw.split_once(':')?;
    let occurred_at = DateTime::from_timestamp_millis(ms.parse().ok()?)?;
    Some(EventCursor { occurred_at, id: id.to_owned() })
}

fn bad(argument: &str, message: &str) -> async_graphql::Error {
    ApiError::Input(InputError::new(argument, message)).extend()
}

pub async fn events_page(
    ctx: &Context<'_>,
    tenant: &Tenant,
    user_id: &str,
    period: &Period,
    first: i32,
    after: Option<String>,
    types: Option<Vec<PlayerEventTypeValue>>,
) -> GqlResult<EventConnection> {
    if !(0..=MAX_PAGE).contains(&first) {
        return Err(bad("first", &format!("must be 0 to {MAX_PAGE}")));
    }
    let cursor = match after.as_deref() {
        Some(c) => Some(decode_cursor(c).ok_or_else(|| bad("after", "is not a cursor of this connection"))?),
        None => None,
    };
    if types.as_ref().is_some_and(Vec::is_empty) {
        return Err(bad("types", "must not be empty; leave it out to include every type"));
    }
    // At most one of each type, however long the list sent: a list of thousands would
    // otherwise become thousands of bound parameters.
    let types: Option<Vec<EventType>> = types.map(|t| {
        let mut t: Vec<EventType> = t.into_iter().map(Into::into).collect();
        t.sort_by_key(|e| e.as_str());
        t.dedup();
        t
    });
    let q = EventQuery { tenant: tenant.id, user_id, period, types: types.as_deref() };
    let repo = services(ctx)?.activity.as_ref();
    let limit = usize::try_from(first).unwrap_or(0);
    // Counting every event of a busy user costs more than a page: only when asked for.
    let wants_total = ctx.look_ahead().field("totalCount").exists();
    let count = async {
        match wants_total {
            true => repo.count_events(&q).await.map(Some),
            false => Ok(None),
        }
    };
    let (page, total) = tokio::try_join!(repo.events_page(&q, cursor.as_ref(), limit + 1), count)
        .map_err(|e| ApiError::Repo(e).extend())?;
    let has_next_page = page.len() > limit;
    let page: Vec<PlayerEvent> = page.into_iter().take(limit).collect();
    let end_cursor = page.last().map(encode_cursor);
    let tz = period.time_zone();
    let nodes = page
        .into_iter()
        .map(|e| PlayerEventNode {
            occurred_at: period.format(e.occurred_at),
            day: e.occurred_at.with_timezone(&tz).format("%Y-%m-%d").to_string(),
            event_type: e.event_type.into(),
            position: e.position,
            content_kind: e.content_kind.map(Into::into),
            content: e.content_id.map(|id| ContentRef { id, kind: None }),
            device: e.device,
            referrer: e.referrer,
            bandwidth_kbps: e.bandwidth_kbps,
            session_id: e.session_id,
            id: e.id,
        })
        .collect();
    Ok(EventConnection {
        total_count: total.map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX)),
        page_info: PageInfo { has_next_page, end_cursor },
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let e = PlayerEvent {
            id: "e:1/ü".into(),
            session_id: "s".into(),
            user_id: "u".into(),
            event_type: EventType::Play,
            occurred_at: DateTime::from_timestamp_millis(1_767_225_600_123).unwrap(),
            position: None,
            content_kind: None,
            content_id: None,
            device: None,
            referrer: None,
            bandwidth_kbps: None,
            played_seconds: None,
        };
        let c = decode_cursor(&encode_cursor(&e)).unwrap();
        assert_eq!((c.occurred_at, c.id.as_str()), (e.occurred_at, "e:1/ü"));
        assert_eq!(decode_cursor("zz"), None);
        assert_eq!(decode_cursor("abc"), None);
        assert_eq!(decode_cursor(""), None);
    }
}
