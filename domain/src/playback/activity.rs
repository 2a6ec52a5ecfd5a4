//! One user's activity in a period: the overview and the consumption details, from the
//! sessions that touch the period.

use std::collections::HashMap;

use super::model::ContentKind;
use super::session::SessionSummary;

pub const UNKNOWN: &str = "Unknown";

/// A session with what it did inside the period.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionInPeriod {
    pub summary: SessionSummary,
    /// PLAY events of the session in the period.
    pub starts: u64,
    /// Playback time of the session's events in the period.
    pub playback_ms: i64,
}

impl SessionInPeriod {
    /// Counted as a stream in this period: at least 5 s of playback in total, and its
    /// first event falls in the period (`first_in_period` is decided by the caller, who
    /// knows the period).
    fn stream(&self, first_in_period: bool) -> u64 {
        u64::from(first_in_period && self.summary.is_stream())
    }
}

/// Streams, playback starts and playback time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub streams: u64,
    pub playback_starts: u64,
    pub playback_ms: i64,
}

impl Figures {
    pub fn minutes(&self) -> f64 {
        self.playback_ms as f64 / 60_000.0
    }

    fn add(&mut self, other: Figures) {
        self.streams += other.streams;
        self.playback_starts += other.playback_starts;
        self.playback_ms += other.playback_ms;
    }

    fn is_empty(&self) -> bool {
        *self == Figures::default()
    }
}

/// Figures split into Live and VOD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Split {
    pub live: Figures,
    pub vod: Figures,
}

impl Split {
    fn add(&mut self, kind: ContentKind, f: Figures) {
        match kind {
            ContentKind::Live => self.live.add(f),
            ContentKind::Vod => self.vod.add(f),
        }
    }

    /// Live and VOD together.
    pub fn total(&self) -> Figures {
        let mut t = self.live;
        t.add(self.vod);
        t
    }
}

/// A device or referrer with its Live/VOD split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedSplit {
    pub name: String,
    pub split: Split,
}

/// A media or live signal with its figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentFigures {
    pub content_id: String,
    pub figures: Figures,
}

/// Everything the consumption-details panel shows, logins aside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Details {
    pub split: Split,
    pub devices: Vec<NamedSplit>,
    pub referrers: Vec<NamedSplit>,
    /// VOD contents, most-watched first.
    pub medias: Vec<ContentFigures>,
    /// LIVE contents, most-watched first.
    pub live_signals: Vec<ContentFigures>,
}

/// A session's kind: its first event's; a session whose first event names none is
/// taken as VOD.
pub(crate) fn kind(s: &SessionSummary) -> ContentKind {
    s.content_kind.unwrap_or(ContentKind::Vod)
}

pub(crate) fn label(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| UNKNOWN.to_owned())
}

/// Computes the overview and the details. `first_in_period(s)` tells whether session `s`
/// started in the period.
pub fn details(sessions: &[SessionInPeriod], first_in_period: impl Fn(&SessionSummary) -> bool) -> Details {
    let mut split = Split::default();
    let mut devices: HashMap<String, Split> = HashMap::new();
    let mut referrers: HashMap<String, Split> = HashMap::new();
    let mut contents: HashMap<(ContentKind, String), Figures> = HashMap::new();
    for s in sessions {
        let f = Figures {
            streams: s.stream(first_in_period(&s.summary)),
            playback_starts: s.starts,
            playback_ms: s.playback_ms,
        };
        if f.is_empty() {
            continue;
        }
        let k = kind(&s.summary);
        split.add(k, f);
        devices.entry(label(&s.summary.device)).or_default().add(k, f);
        referrers.entry(label(&s.summary.referrer)).or_default().add(k, f);
        contents.entry((k, label(&s.summary.content_id))).or_default().add(f);
    }
    let (mut medias, mut live_signals): (Vec<ContentFigures>, Vec<ContentFigures>) = (Vec::new(), Vec::new());
    for ((k, content_id), figures) in contents {
        let row = ContentFigures { content_id, figures };
        match k {
            ContentKind::Vod => medias.push(row),
            ContentKind::Live => live_signals.push(row),
        }
    }
    for list in [&mut medias, &mut live_signals] {
        list.sort_by(|a, b| most_watched(&a.figures, &b.figures).then_with(|| a.content_id.cmp(&b.content_id)));
    }
    Details { split, devices: named(devices), referrers: named(referrers), medias, live_signals }
}

/// Minutes, then streams, highest first.
fn most_watched(a: &Figures, b: &Figures) -> std::cmp::Ordering {
    b.playback_ms.cmp(&a.playback_ms).then_with(|| b.streams.cmp(&a.streams))
}

fn named(map: HashMap<String, Split>) -> Vec<NamedSplit> {
    let mut rows: Vec<NamedSplit> = map.into_iter().map(|(name, split)| NamedSplit { name, split }).collect();
    rows.sort_by(|a, b| most_watched(&a.split.total(), &b.split.total()).then_with(|| a.name.cmp(&b.name)));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(
        id: &str,
        kind: Option<ContentKind>,
        content: &str,
        device: Option<&str>,
        total_ms: i64,
    ) -> SessionSummary {
        SessionSummary {
            session_id: id.into(),
            user_id: "u".into(),
            first_at: "2026-01-01T00:00:00Z".parse().unwrap(),
            content_kind: kind,
            content_id: Some(content.into()),
            device: device.map(Into::into),
            referrer: None,
            playback_ms: total_ms,
        }
    }

    #[test]
    fn splits_by_kind_device_and_content() {
        let sessions = vec![
            SessionInPeriod {
                summary: session("a", Some(ContentKind::Vod), "m1", Some("TV"), 120_000),
                starts: 1,
                playback_ms: 60_000,
            },
            SessionInPeriod {
                summary: session("b", Some(ContentKind::Live), "c1", Some("TV"), 30_000),
                starts: 2,
                playback_ms: 30_000,
            },
            SessionInPeriod { summary: session("c", None, "m2", None, 4_000), starts: 1, playback_ms: 4_000 },
            SessionInPeriod {
                summary: session("d", Some(ContentKind::Vod), "m1", Some("Web"), 10_000),
                starts: 0,
                playback_ms: 0,
            },
        ];
        // Session "d" started before the period: no stream here, and nothing else in it.
        let d = details(&sessions, |s| s.session_id != "d");
        assert_eq!(d.split.vod, Figures { streams: 1, playback_starts: 2, playback_ms: 64_000 });
        assert_eq!(d.split.live, Figures { streams: 1, playback_starts: 2, playback_ms: 30_000 });
        let devices: Vec<(&str, i64)> =
            d.devices.iter().map(|n| (n.name.as_str(), n.split.total().playback_ms)).collect();
        assert_eq!(devices, [("TV", 90_000), ("Unknown", 4_000)]);
        let medias: Vec<&str> = d.medias.iter().map(|m| m.content_id.as_str()).collect();
        assert_eq!(medias, ["m1", "m2"]);
        assert_eq!(d.live_signals.len(), 1);
        assert_eq!(d.referrers[0].name, "Unknown");
        assert!((d.split.vod.minutes() - 64.0 / 60.0).abs() < 1e-12);
    }

    #[test]
    fn ties_go_by_streams_then_id() {
        let sessions = vec![
            SessionInPeriod {
                summary: session("a", Some(ContentKind::Vod), "m2", None, 6_000),
                starts: 0,
                playback_ms: 6_000,
            },
            SessionInPeriod {
                summary: session("b", Some(ContentKind::Vod), "m1", None, 6_000),
                starts: 0,
                playback_ms: 6_000,
            },
            SessionInPeriod {
                summary: session("c", Some(ContentKind::Vod), "m3", None, 6_000),
                starts: 0,
                playback_ms: 6_000,
            },
        ];
        let d = details(&sessions, |s| s.session_id == "c");
        let medias: Vec<&str> = d.medias.iter().map(|m| m.content_id.as_str()).collect();
        assert_eq!(medias, ["m3", "m1", "m2"]);
    }
}
