//! `UserActivity.events`: a cursor connection over a user's player events.

use async_graphql::{Context, ID, Object, SimpleObject};
use ottstats_domain::InputError;
use ottstats_domain::activity_repository::EventQuery;
use ottstats_domain::period::Period;
use ottstats_domain::playback::{EventType, PlayerEvent};

use super::activity::ContentRef;
use super::connection::{CursorKind, PageArgs, PageInfo, page_info};
use super::enums::{ContentKindValue, PlayerEventTypeValue};
use super::scalars::{DateScalar, DateTimeScalar};
use crate::error::{ApiError, Gql, GqlResult};
use crate::reader::Reader;

/// A page of a user's player events, oldest first.
pub struct EventConnection {
    total_count: i64,
    page_info: PageInfo,
    edges: Vec<EventEdge>,
}

/// A page of a user's player events, oldest first (a Relay connection).
#[Object]
impl EventConnection {
    /// Events of the user in the period of the asked types, over all pages.
    async fn total_count(&self) -> i64 {
        self.total_count
    }

    /// Where this page stands: whether pages come before and after it, and its cursors.
    async fn page_info(&self) -> &PageInfo {
        &self.page_info
    }

    /// This page's events with their cursors, ordered by time, then id.
    async fn edges(&self) -> &[EventEdge] {
        &self.edges
    }

    /// This page's events, ordered by time, then id: `edges` without the cursors.
    async fn nodes(&self) -> Vec<&PlayerEventNode> {
        self.edges.iter().map(|e| &e.node).collect()
    }
}

/// An event and its cursor.
#[derive(SimpleObject)]
pub struct EventEdge {
    /// Where this event stands: pass it as `after` or `before`.
    cursor: String,
    /// The event.
    node: PlayerEventNode,
}

/// One player event, with what a chart shows on hover.
#[derive(SimpleObject)]
pub struct PlayerEventNode {
    /// The client's id for the event.
    id: ID,
    /// What the player reported.
    #[graphql(name = "type")]
    event_type: PlayerEventTypeValue,
    /// When, with the offset of the period's time zone.
    occurred_at: DateTimeScalar,
    /// Local date in the period's time zone.
    day: DateScalar,
    /// Seconds into the content.
    position: Option<f64>,
    /// `LIVE` or `VOD`, as the event says.
    content_kind: Option<ContentKindValue>,
    /// The content played, with its title; null when the event names none.
    content: Option<ContentRef>,
    /// Device label, as sent.
    device: Option<String>,
    /// Where the view came from, as sent.
    referrer: Option<String>,
    /// Bandwidth measured by the player, in Kbps.
    bandwidth_kbps: Option<f64>,
    /// The player view (session) the event belongs to.
    session_id: ID,
}

fn bad(argument: &str, message: &str) -> async_graphql::Error {
    ApiError::Input(InputError::new(argument, message)).into()
}

pub async fn events_page(
    ctx: &Context<'_>,
    reader: &Reader,
    user_id: &str,
    period: &Period,
    args: PageArgs,
    types: Option<Vec<PlayerEventTypeValue>>,
) -> GqlResult<EventConnection> {
    let request = args.parse(CursorKind::Event)?;
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
    let q = EventQuery { tenant: reader.tenant(), user_id, period, types: types.as_deref() };
    let repo = reader;
    // Counting every event of a busy user costs more than a page: only when asked for.
    let wants_total = ctx.look_ahead().field("totalCount").exists();
    let count = async {
        match wants_total {
            true => repo.count_events(&q).await.map(Some),
            false => Ok(None),
        }
    };
    let (page, total) = tokio::try_join!(repo.events_page(&q, &request), count).gql()?;
    let edges: Vec<EventEdge> = page.items.into_iter().map(|e| edge(reader, period, e)).collect();
    let cursors: Vec<String> = edges.iter().map(|e| e.cursor.clone()).collect();
    Ok(EventConnection {
        total_count: total.map_or(0, |t| i64::try_from(t).unwrap_or(i64::MAX)),
        page_info: page_info(&cursors, page.has_previous, page.has_next),
        edges,
    })
}

fn edge(reader: &Reader, period: &Period, e: PlayerEvent) -> EventEdge {
    let tz = period.time_zone();
    EventEdge {
        cursor: CursorKind::Event.encode(e.occurred_at, &e.id),
        node: PlayerEventNode {
            occurred_at: period.format(e.occurred_at).into(),
            day: e.occurred_at.with_timezone(&tz).format("%Y-%m-%d").to_string().into(),
            event_type: e.event_type.into(),
            position: e.position,
            content_kind: e.content_kind.map(Into::into),
            content: e.content_id.map(|id| ContentRef { id, kind: None, reader: reader.clone() }),
            device: e.device,
            referrer: e.referrer,
            bandwidth_kbps: e.bandwidth_kbps,
            session_id: ID(e.session_id),
            id: ID(e.id),
        },
    }
}
