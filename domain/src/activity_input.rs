//! Player events, logins and contents as an operator sends them, before validation.

/// The fields of a player event as sent (GraphQL `PlayerEventInput`, an NDJSON line, a
/// collector item), in the documented order.
pub const PLAYER_EVENT_FIELDS: [&str; 12] = [
    "id",
    "sessionId",
    "userId",
    "type",
    "occurredAt",
    "position",
    "contentKind",
    "contentId",
    "device",
    "referrer",
    "bandwidthKbps",
    "playedSeconds",
];

/// A media or a live signal (GraphQL `ContentInput`, an NDJSON line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContentDraft {
    pub id: String,
    /// `LIVE` or `VOD`.
    pub kind: String,
    pub title: String,
}

/// One player event (GraphQL `PlayerEventInput`, an NDJSON line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlayerEventDraft {
    /// Client-given; a repeated id is a duplicate.
    pub id: String,
    /// The player view the event belongs to.
    pub session_id: String,
    pub user_id: String,
    /// `PLAYER_LOADED`, `PLAY`, `PLAYING`, `SEEK`, `PAUSE`, `BUFFERING`, `ENDED`, `ERROR`.
    pub event_type: String,
    /// RFC 3339 instant.
    pub occurred_at: String,
    /// Seconds into the content.
    pub position: Option<f64>,
    /// `LIVE` or `VOD`.
    pub content_kind: Option<String>,
    pub content_id: Option<String>,
    pub device: Option<String>,
    pub referrer: Option<String>,
    pub bandwidth_kbps: Option<f64>,
    /// Seconds played since the previous report, on `PLAYING` events.
    pub played_seconds: Option<f64>,
}

/// One login (GraphQL `LoginInput`, an NDJSON line).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoginDraft {
    pub id: String,
    pub user_id: String,
    /// RFC 3339 instant.
    pub occurred_at: String,
    pub device: Option<String>,
}
