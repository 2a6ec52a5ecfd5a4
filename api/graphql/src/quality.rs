//! `UserActivity.quality`: startup time, exits before start, rebuffering and errors.

use super::registrations::count;
use async_graphql::SimpleObject;
use ottstats_domain::playback::quality::{DeviceQuality as DomainDevice, Quality, QualityFigures as Figures};

/// Time from a session's first `PLAY` to the first `PLAYING` after it.
#[derive(SimpleObject, Clone, Copy)]
pub struct StartupTime {
    /// Sessions counted in the period that have a startup time.
    sessions: i64,
    /// Their mean startup time in milliseconds; null without such sessions.
    average_ms: Option<f64>,
    /// The longest startup time in milliseconds; null without such sessions.
    max_ms: Option<f64>,
}

/// Stalls after playback began.
#[derive(SimpleObject, Clone, Copy)]
pub struct Rebuffering {
    /// `BUFFERING` events after their session's first `PLAYING`.
    count: i64,
    /// Their length in seconds: each lasts until the session's next event, at most 60 s
    /// (0 when it is the session's last event).
    seconds: f64,
    /// `seconds / (seconds + playback seconds)` of the same sessions, 0 to 1; null when
    /// both are 0.
    ratio: Option<f64>,
}

/// Quality figures of a set of sessions. Sessions are counted, like streams, in the
/// period that holds their first event; errors by their own instant.
#[derive(SimpleObject, Clone, Copy)]
pub struct QualityFigures {
    /// Startup time.
    startup: StartupTime,
    /// Sessions whose first `PLAY` has no `PLAYING` after it.
    exits_before_start: i64,
    /// Rebuffering.
    rebuffering: Rebuffering,
    /// `ERROR` events in the period.
    errors: i64,
}

impl From<&Figures> for QualityFigures {
    fn from(f: &Figures) -> Self {
        QualityFigures {
            startup: StartupTime {
                sessions: count(f.startups),
                average_ms: f.average_startup_ms(),
                max_ms: f.max_startup_ms.map(|ms| ms as f64),
            },
            exits_before_start: count(f.exits_before_start),
            rebuffering: Rebuffering {
                count: count(f.rebuffers),
                seconds: f.rebuffer_ms as f64 / 1000.0,
                ratio: f.rebuffer_ratio(),
            },
            errors: count(f.errors),
        }
    }
}

/// A device's quality figures.
#[derive(SimpleObject, Clone)]
pub struct DeviceQuality {
    /// The device of each session's first event; "Unknown" when missing.
    name: String,
    #[graphql(flatten)]
    figures: QualityFigures,
}

impl From<&DomainDevice> for DeviceQuality {
    fn from(d: &DomainDevice) -> Self {
        DeviceQuality { name: d.name.clone(), figures: (&d.figures).into() }
    }
}

/// Playback quality of a user in a period: in total, Live / VOD, and by device.
#[derive(SimpleObject, Clone)]
pub struct PlaybackQuality {
    #[graphql(flatten)]
    total: QualityFigures,
    /// Sessions of live signals.
    live: QualityFigures,
    /// Sessions of video on demand.
    vod: QualityFigures,
    /// By the device of each session's first event ("Unknown" when missing), most
    /// sessions first, then most errors, then by name.
    devices: Vec<DeviceQuality>,
}

impl From<&Quality> for PlaybackQuality {
    fn from(q: &Quality) -> Self {
        PlaybackQuality {
            total: (&q.total).into(),
            live: (&q.live).into(),
            vod: (&q.vod).into(),
            devices: q.devices.iter().map(DeviceQuality::from).collect(),
        }
    }
}
