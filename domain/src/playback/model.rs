//! Validated player events, logins and contents.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use crate::InputError;
use crate::activity_input::{ContentDraft, LoginDraft, PlayerEventDraft};
use crate::user::{parse_instant_strict, validate_id};

pub const MAX_LABEL_CHARS: usize = 128;
pub const MAX_TITLE_CHARS: usize = 512;
pub const MAX_BANDWIDTH_KBPS: f64 = 1_000_000.0;

/// What a player reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    PlayerLoaded,
    Play,
    Playing,
    Seek,
    Pause,
    Buffering,
    Ended,
    Error,
}

impl EventType {
    pub const ALL: [EventType; 8] = [
        EventType::PlayerLoaded,
        EventType::Play,
        EventType::Playing,
        EventType::Seek,
        EventType::Pause,
        EventType::Buffering,
        EventType::Ended,
        EventType::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PlayerLoaded => "PLAYER_LOADED",
            EventType::Play => "PLAY",
            EventType::Playing => "PLAYING",
            EventType::Seek => "SEEK",
            EventType::Pause => "PAUSE",
            EventType::Buffering => "BUFFERING",
            EventType::Ended => "ENDED",
            EventType::Error => "ERROR",
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = InputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        EventType::ALL.into_iter().find(|e| e.as_str().eq_ignore_ascii_case(t)).ok_or_else(|| {
            InputError::new("type", format!("{t:?} is not an event type: expected one of {}", names(&EventType::ALL)))
        })
    }
}

fn names(all: &[EventType]) -> String {
    all.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
}

/// Live signal or video on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum ContentKind {
    Live,
    Vod,
}

impl ContentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Live => "LIVE",
            ContentKind::Vod => "VOD",
        }
    }

    /// Parses `LIVE`/`VOD` (any case), naming `argument` on error.
    pub fn parse(text: &str, argument: &str) -> Result<ContentKind, InputError> {
        match text.trim().to_ascii_uppercase().as_str() {
            "LIVE" => Ok(ContentKind::Live),
            "VOD" => Ok(ContentKind::Vod),
            _ => Err(InputError::new(argument, format!("{text:?} is not a content kind: expected LIVE or VOD"))),
        }
    }
}

/// A media (VOD) or a live signal, with its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub id: String,
    pub kind: ContentKind,
    pub title: String,
}

impl Content {
    pub fn from_draft(d: &ContentDraft) -> Result<Content, InputError> {
        let title = crate::text::RequiredText::parse(&d.title, "title", MAX_TITLE_CHARS)?;
        Ok(Content {
            id: validate_id(&d.id, "id")?,
            kind: ContentKind::parse(&d.kind, "kind")?,
            title: title.into_string(),
        })
    }
}

/// One player event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayerEvent {
    pub id: String,
    pub session_id: String,
    pub user_id: String,
    pub event_type: EventType,
    /// Kept to the millisecond.
    pub occurred_at: DateTime<Utc>,
    pub position: Option<f64>,
    pub content_kind: Option<ContentKind>,
    pub content_id: Option<String>,
    pub device: Option<String>,
    pub referrer: Option<String>,
    pub bandwidth_kbps: Option<f64>,
    pub played_seconds: Option<f64>,
}

impl PlayerEvent {
    /// Validates a draft as of `now`; errors name the field.
    pub fn from_draft(d: &PlayerEventDraft, now: DateTime<Utc>) -> Result<PlayerEvent, InputError> {
        let occurred_at = not_too_late(parse_instant_strict(&d.occurred_at, "occurredAt")?, now, "occurredAt")?;
        let number = |v: Option<f64>, arg: &str, max: f64| -> Result<Option<f64>, InputError> {
            match v {
                Some(x) if !x.is_finite() || x < 0.0 || x > max => {
                    Err(InputError::new(arg, format!("{x} is outside 0..={max}")))
                }
                other => Ok(other),
            }
        };
        Ok(PlayerEvent {
            id: validate_id(&d.id, "id")?,
            session_id: validate_id(&d.session_id, "sessionId")?,
            user_id: validate_id(&d.user_id, "userId")?,
            event_type: d.event_type.parse()?,
            occurred_at,
            position: number(d.position, "position", f64::MAX)?,
            content_kind: d.content_kind.as_deref().map(|k| ContentKind::parse(k, "contentKind")).transpose()?,
            content_id: label(&d.content_id, "contentId")?,
            device: label(&d.device, "device")?,
            referrer: label(&d.referrer, "referrer")?,
            bandwidth_kbps: number(d.bandwidth_kbps, "bandwidthKbps", MAX_BANDWIDTH_KBPS)?,
            played_seconds: number(d.played_seconds, "playedSeconds", f64::MAX)?,
        })
    }
}

/// A login of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub id: String,
    pub user_id: String,
    pub occurred_at: DateTime<Utc>,
    pub device: Option<String>,
}

impl Login {
    pub fn from_draft(d: &LoginDraft, now: DateTime<Utc>) -> Result<Login, InputError> {
        Ok(Login {
            id: validate_id(&d.id, "id")?,
            user_id: validate_id(&d.user_id, "userId")?,
            occurred_at: not_too_late(parse_instant_strict(&d.occurred_at, "occurredAt")?, now, "occurredAt")?,
            device: label(&d.device, "device")?,
        })
    }
}

fn not_too_late(t: DateTime<Utc>, now: DateTime<Utc>, argument: &str) -> Result<DateTime<Utc>, InputError> {
    if t > now + Duration::days(1) {
        return Err(InputError::new(argument, "is more than a day in the future"));
    }
    Ok(t)
}

/// A trimmed, non-blank label of at most 128 characters, or none.
fn label(s: &Option<String>, argument: &str) -> Result<Option<String>, InputError> {
    if let Some(text) = s {
        crate::user::storable(text, argument)?;
    }
    match s.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if t.chars().count() > MAX_LABEL_CHARS => {
            Err(InputError::new(argument, format!("is longer than {MAX_LABEL_CHARS} characters")))
        }
        t => Ok(t.map(str::to_owned)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-06-01T12:00:00Z".parse().unwrap()
    }

    fn draft() -> PlayerEventDraft {
        PlayerEventDraft {
            id: "e1".into(),
            session_id: "s1".into(),
            user_id: "u1".into(),
            event_type: "playing".into(),
            occurred_at: "2026-05-01T10:00:00.5Z".into(),
            position: Some(12.5),
            content_kind: Some("vod".into()),
            content_id: Some(" m1 ".into()),
            device: Some("  ".into()),
            referrer: None,
            bandwidth_kbps: Some(4_000.0),
            played_seconds: Some(10.0),
        }
    }

    #[test]
    fn normalises_a_valid_event() {
        let e = PlayerEvent::from_draft(&draft(), now()).unwrap();
        assert_eq!(e.event_type, EventType::Playing);
        assert_eq!(e.content_kind, Some(ContentKind::Vod));
        assert_eq!(e.content_id.as_deref(), Some("m1"));
        assert_eq!(e.device, None);
    }

    #[test]
    fn each_bad_field_is_named() {
        let check = |f: fn(&mut PlayerEventDraft), arg: &str| {
            let mut d = draft();
            f(&mut d);
            assert_eq!(PlayerEvent::from_draft(&d, now()).unwrap_err().argument, arg);
        };
        check(|d| d.event_type = "SKIP".into(), "type");
        check(|d| d.content_kind = Some("RADIO".into()), "contentKind");
        check(|d| d.position = Some(-1.0), "position");
        check(|d| d.bandwidth_kbps = Some(1_000_001.0), "bandwidthKbps");
        check(|d| d.bandwidth_kbps = Some(f64::NAN), "bandwidthKbps");
        check(|d| d.played_seconds = Some(-0.5), "playedSeconds");
        check(|d| d.occurred_at = "2026-06-03T00:00:00Z".into(), "occurredAt");
        check(|d| d.session_id = String::new(), "sessionId");
        check(|d| d.user_id = "x".repeat(129), "userId");
    }

    #[test]
    fn contents_and_logins_validate() {
        let c = Content::from_draft(&ContentDraft { id: "m1".into(), kind: "live".into(), title: " News ".into() })
            .unwrap();
        assert_eq!((c.kind, c.title.as_str()), (ContentKind::Live, "News"));
        let e = Content::from_draft(&ContentDraft { id: "m1".into(), kind: "radio".into(), title: "x".into() });
        assert_eq!(e.unwrap_err().argument, "kind");
        for blank in ["", "  \t"] {
            let e = Content::from_draft(&ContentDraft { id: "m1".into(), kind: "VOD".into(), title: blank.into() });
            assert_eq!(e.unwrap_err().argument, "title", "{blank:?}");
        }
        let l = LoginDraft { id: "l1".into(), user_id: "u1".into(), occurred_at: "bad".into(), device: None };
        assert_eq!(Login::from_draft(&l, now()).unwrap_err().argument, "occurredAt");
    }
}
