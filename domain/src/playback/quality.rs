//! Playback quality of one user's sessions (DESIGN.md, "Playback quality"): startup
//! time, exits before start, rebuffering and errors, in total, Live / VOD and by device.

use std::collections::HashMap;

use super::activity::{kind, label};
use super::model::{ContentKind, EventType, PlayerEvent};
use super::session::SessionSummary;
use crate::period::Period;

/// A rebuffering lasts until the session's next event, at most this long.
pub const REBUFFER_CAP_MS: i64 = 60_000;

/// A session with every one of its events, in [`super::session::order`].
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEvents {
    pub summary: SessionSummary,
    pub events: Vec<PlayerEvent>,
}

/// The quality figures of a set of sessions. Sessions count in the period holding their
/// first event; errors count by their own instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QualityFigures {
    /// Sessions counted (their first event is in the period).
    pub sessions: u64,
    /// Counted sessions with a startup time: a `PLAYING` after their first `PLAY`.
    pub startups: u64,
    /// Sum of those startup times.
    pub startup_ms: i64,
    /// The longest of them.
    pub max_startup_ms: Option<i64>,
    /// Counted sessions whose first `PLAY` has no `PLAYING` after it.
    pub exits_before_start: u64,
    /// `BUFFERING` events after their session's first `PLAYING`.
    pub rebuffers: u64,
    /// Their length: until the session's next event, each capped at 60 s; 0 for a
    /// session's last event.
    pub rebuffer_ms: i64,
    /// Playback time of the counted sessions, in all.
    pub playback_ms: i64,
    /// `ERROR` events in the period.
    pub errors: u64,
}

impl QualityFigures {
    /// Mean startup time; `None` without startups.
    pub fn average_startup_ms(&self) -> Option<f64> {
        (self.startups > 0).then(|| self.startup_ms as f64 / self.startups as f64)
    }

    /// Rebuffer seconds over rebuffer and playback seconds; `None` when both are 0.
    pub fn rebuffer_ratio(&self) -> Option<f64> {
        let all = self.rebuffer_ms + self.playback_ms;
        (all > 0).then(|| self.rebuffer_ms as f64 / all as f64)
    }

    fn add(&mut self, o: &QualityFigures) {
        self.sessions += o.sessions;
        self.startups += o.startups;
        self.startup_ms += o.startup_ms;
        self.max_startup_ms = match (self.max_startup_ms, o.max_startup_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.exits_before_start += o.exits_before_start;
        self.rebuffers += o.rebuffers;
        self.rebuffer_ms += o.rebuffer_ms;
        self.playback_ms += o.playback_ms;
        self.errors += o.errors;
    }

    fn is_empty(&self) -> bool {
        self.sessions == 0 && self.errors == 0
    }
}

/// A device with its quality figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeviceQuality {
    pub name: String,
    pub figures: QualityFigures,
}

/// Everything the quality panel shows.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Quality {
    pub total: QualityFigures,
    pub live: QualityFigures,
    pub vod: QualityFigures,
    /// By the device of each session's first event ("Unknown" when missing), most
    /// sessions first, then most errors, then by name.
    pub devices: Vec<DeviceQuality>,
}

/// The figures of one session in `period`.
pub fn session_quality(s: &SessionEvents, period: &Period) -> QualityFigures {
    let events = &s.events;
    let errors = events.iter().filter(|e| e.event_type == EventType::Error && period.contains(e.occurred_at)).count();
    let mut f = QualityFigures { errors: errors as u64, ..QualityFigures::default() };
    if !period.contains(s.summary.first_at) {
        return f;
    }
    f.sessions = 1;
    f.playback_ms = s.summary.playback_ms;
    let position =
        |ty: EventType, from: usize| events.iter().skip(from).position(|e| e.event_type == ty).map(|i| i + from);
    if let Some(play) = position(EventType::Play, 0) {
        match position(EventType::Playing, play + 1) {
            Some(playing) => {
                let ms = (events[playing].occurred_at - events[play].occurred_at).num_milliseconds().max(0);
                f.startups = 1;
                f.startup_ms = ms;
                f.max_startup_ms = Some(ms);
            }
            None => f.exits_before_start = 1,
        }
    }
    if let Some(first_playing) = position(EventType::Playing, 0) {
        for (i, e) in events.iter().enumerate().skip(first_playing + 1) {
            if e.event_type != EventType::Buffering {
                continue;
            }
            f.rebuffers += 1;
            if let Some(next) = events.get(i + 1) {
                f.rebuffer_ms += (next.occurred_at - e.occurred_at).num_milliseconds().clamp(0, REBUFFER_CAP_MS);
            }
        }
    }
    f
}

/// The quality panel of `sessions` in `period`.
pub fn quality(sessions: &[SessionEvents], period: &Period) -> Quality {
    let mut q = Quality::default();
    let mut devices: HashMap<String, QualityFigures> = HashMap::new();
    for s in sessions {
        let f = session_quality(s, period);
        if f.is_empty() {
            continue;
        }
        q.total.add(&f);
        match kind(&s.summary) {
            ContentKind::Live => q.live.add(&f),
            ContentKind::Vod => q.vod.add(&f),
        }
        devices.entry(label(&s.summary.device)).or_default().add(&f);
    }
    q.devices = devices.into_iter().map(|(name, figures)| DeviceQuality { name, figures }).collect();
    q.devices.sort_by(|a, b| {
        (b.figures.sessions, b.figures.errors)
            .cmp(&(a.figures.sessions, a.figures.errors))
            .then_with(|| a.name.cmp(&b.name))
    });
    q
}

#[cfg(test)]
#[path = "quality_tests.rs"]
mod tests;
