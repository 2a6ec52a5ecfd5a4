//! A session (one player view): the playback time of each of its events, and what the
//! session is about (taken from its first event).

use chrono::{DateTime, Utc};

use super::model::{ContentKind, EventType, PlayerEvent};

/// `playedSeconds` above this is clamped.
pub const MAX_PLAYED_SECONDS: f64 = 300.0;
/// Without `playedSeconds`, the time since a previous PLAYING event counts up to this.
pub const FALLBACK_CAP_MS: i64 = 60_000;
/// A session with at least this much playback in total is a stream.
pub const STREAM_MIN_MS: i64 = 5_000;

/// What a session is about, from its first event, and its playback in total.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionSummary {
    pub session_id: String,
    pub user_id: String,
    pub first_at: DateTime<Utc>,
    pub content_kind: Option<ContentKind>,
    pub content_id: Option<String>,
    pub device: Option<String>,
    pub referrer: Option<String>,
    /// Playback time of every event of the session, in milliseconds.
    pub playback_ms: i64,
}

impl SessionSummary {
    pub fn is_stream(&self) -> bool {
        self.playback_ms >= STREAM_MIN_MS
    }
}

/// Sorts a session's events into their order ("previous" and "first": by instant, then
/// by id).
pub fn order(events: &mut [PlayerEvent]) {
    events.sort_by(event_order);
}

/// The order of a session's events: by instant, then by id.
pub fn event_order(a: &PlayerEvent, b: &PlayerEvent) -> std::cmp::Ordering {
    a.occurred_at.cmp(&b.occurred_at).then_with(|| a.id.cmp(&b.id))
}

/// The playback time in milliseconds of each event of a session given in [`order`].
/// A PLAYING event counts its `playedSeconds` clamped to 0..=300 when given; otherwise the
/// time since the previous event if that was PLAYING, capped at 60 s; otherwise nothing.
/// Other events count nothing.
pub fn playback_ms(ordered: &[PlayerEvent]) -> Vec<i64> {
    let mut out = Vec::with_capacity(ordered.len());
    let mut previous: Option<&PlayerEvent> = None;
    for e in ordered {
        let ms = match (e.event_type, e.played_seconds) {
            (EventType::Playing, Some(s)) => (s.clamp(0.0, MAX_PLAYED_SECONDS) * 1000.0).round() as i64,
            (EventType::Playing, None) => match previous {
                Some(p) if p.event_type == EventType::Playing => {
                    (e.occurred_at - p.occurred_at).num_milliseconds().clamp(0, FALLBACK_CAP_MS)
                }
                _ => 0,
            },
            _ => 0,
        };
        out.push(ms);
        previous = Some(e);
    }
    out
}

/// The summary of a session given in [`order`] with its events' playback times; `None`
/// for a session without events.
pub fn summarize(ordered: &[PlayerEvent], playback: &[i64]) -> Option<SessionSummary> {
    let first = ordered.first()?;
    Some(SessionSummary {
        session_id: first.session_id.clone(),
        user_id: first.user_id.clone(),
        first_at: first.occurred_at,
        content_kind: first.content_kind,
        content_id: first.content_id.clone(),
        device: first.device.clone(),
        referrer: first.referrer.clone(),
        playback_ms: playback.iter().sum(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn event(id: &str, t: &str, ty: EventType, played: Option<f64>) -> PlayerEvent {
        PlayerEvent {
            id: id.into(),
            session_id: "s".into(),
            user_id: "u".into(),
            event_type: ty,
            occurred_at: t.parse().unwrap(),
            position: None,
            content_kind: Some(ContentKind::Vod),
            content_id: Some("m".into()),
            device: None,
            referrer: None,
            bandwidth_kbps: None,
            played_seconds: played,
        }
    }

    #[test]
    fn playing_counts_given_seconds_clamped() {
        let events = [
            event("1", "2026-01-01T10:00:00Z", EventType::Play, Some(99.0)),
            event("2", "2026-01-01T10:00:10Z", EventType::Playing, Some(10.5)),
            event("3", "2026-01-01T10:20:00Z", EventType::Playing, Some(900.0)),
        ];
        assert_eq!(playback_ms(&events), [0, 10_500, 300_000]);
    }

    #[test]
    fn without_seconds_playing_counts_time_since_a_previous_playing_capped() {
        let events = [
            event("1", "2026-01-01T10:00:00Z", EventType::Playing, None),
            event("2", "2026-01-01T10:00:20Z", EventType::Playing, None),
            event("3", "2026-01-01T10:05:00Z", EventType::Playing, None),
            event("4", "2026-01-01T10:05:10Z", EventType::Pause, None),
            event("5", "2026-01-01T10:05:30Z", EventType::Playing, None),
        ];
        assert_eq!(playback_ms(&events), [0, 20_000, 60_000, 0, 0]);
    }

    #[test]
    fn order_is_by_instant_then_id_and_the_first_event_names_the_session() {
        let mut events = vec![
            event("b", "2026-01-01T10:00:05Z", EventType::Playing, None),
            event("z", "2026-01-01T10:00:00Z", EventType::PlayerLoaded, None),
            event("a", "2026-01-01T10:00:05Z", EventType::Playing, None),
        ];
        events[1].device = Some("TV".into());
        order(&mut events);
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["z", "a", "b"]);
        let ms = playback_ms(&events);
        assert_eq!(ms, [0, 0, 0]);
        let s = summarize(&events, &ms).unwrap();
        assert_eq!(s.device.as_deref(), Some("TV"));
        assert!(!s.is_stream());
    }

    #[test]
    fn five_seconds_make_a_stream() {
        let events = [event("1", "2026-01-01T10:00:00Z", EventType::Playing, Some(5.0))];
        let s = summarize(&events, &playback_ms(&events)).unwrap();
        assert!(s.is_stream());
        assert_eq!(summarize(&[], &[]), None);
    }
}
