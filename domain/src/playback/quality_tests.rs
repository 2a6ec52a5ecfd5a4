//! Hand-worked quality figures: startup, exits before start, rebuffering with its cap
//! and a session's last event, ERROR events by instant, the Live / VOD and device splits.

use super::*;
use crate::playback::session::{order, playback_ms, summarize};

const MADRID: chrono_tz::Tz = chrono_tz::Europe::Madrid;

/// 1 March 2026 in Madrid: 2026-02-28T23:00Z to 2026-03-01T23:00Z.
fn day() -> Period {
    Period::parse("2026-03-01", "2026-03-02", None, MADRID).unwrap()
}

fn session(
    id: &str,
    kind: Option<ContentKind>,
    device: Option<&str>,
    events: &[(&str, EventType, Option<f64>)],
) -> SessionEvents {
    let mut events: Vec<PlayerEvent> = events
        .iter()
        .enumerate()
        .map(|(i, (at, ty, played))| PlayerEvent {
            id: format!("{id}-{i:02}"),
            session_id: id.into(),
            user_id: "u".into(),
            event_type: *ty,
            occurred_at: at.parse().unwrap(),
            position: None,
            content_kind: kind,
            content_id: Some("m".into()),
            device: device.map(Into::into),
            referrer: None,
            bandwidth_kbps: None,
            played_seconds: *played,
        })
        .collect();
    order(&mut events);
    let summary = summarize(&events, &playback_ms(&events)).unwrap();
    SessionEvents { summary, events }
}

use EventType::*;

/// VOD on TV: a 2.5 s startup, then three rebufferings: 4 s, 120 s capped at 60 s, and a
/// last event (0 s). 45 s of playback.
fn a() -> SessionEvents {
    session(
        "a",
        Some(ContentKind::Vod),
        Some("TV"),
        &[
            ("2026-03-01T10:00:00Z", PlayerLoaded, None),
            ("2026-03-01T10:00:01Z", Play, None),
            ("2026-03-01T10:00:03.500Z", Playing, Some(10.0)),
            ("2026-03-01T10:00:13.500Z", Playing, Some(10.0)),
            ("2026-03-01T10:00:20Z", Buffering, None),
            ("2026-03-01T10:00:24Z", Playing, Some(5.0)),
            ("2026-03-01T10:01:00Z", Buffering, None),
            ("2026-03-01T10:03:00Z", Playing, Some(20.0)),
            ("2026-03-01T10:03:05Z", Buffering, None),
        ],
    )
}

/// Live on a phone: PLAY, ERROR, a BUFFERING before any PLAYING (not a rebuffering),
/// PLAY again and PAUSE: an exit before start with one error.
fn b() -> SessionEvents {
    session(
        "b",
        Some(ContentKind::Live),
        Some("Phone"),
        &[
            ("2026-03-01T12:00:00Z", Play, None),
            ("2026-03-01T12:00:05Z", Error, None),
            ("2026-03-01T12:00:06Z", Play, None),
            ("2026-03-01T12:00:07Z", Buffering, None),
            ("2026-03-01T12:00:10Z", Pause, None),
        ],
    )
}

/// VOD on TV, started the evening before (23:00 local on 28 February): not counted
/// here, but its ERROR at 00:30 local is an error of the period.
fn c() -> SessionEvents {
    session(
        "c",
        Some(ContentKind::Vod),
        Some("TV"),
        &[
            ("2026-02-28T22:00:00Z", Play, None),
            ("2026-02-28T22:00:04Z", Playing, Some(4.0)),
            ("2026-02-28T23:10:00Z", Buffering, None),
            ("2026-02-28T23:10:30Z", Playing, Some(30.0)),
            ("2026-02-28T23:30:00Z", Error, None),
        ],
    )
}

/// VOD of no known device (and no kind: taken as VOD): a 9 s startup, 30 s of playback,
/// and an ERROR after the period's end (00:30 local on 2 March).
fn d() -> SessionEvents {
    session(
        "d",
        None,
        None,
        &[
            ("2026-03-01T15:00:00Z", Play, None),
            ("2026-03-01T15:00:09Z", Playing, Some(30.0)),
            ("2026-03-01T23:30:00Z", Error, None),
        ],
    )
}

/// A player loaded on TV and nothing else: a session without a start or an exit.
fn e() -> SessionEvents {
    session("e", Some(ContentKind::Vod), Some("TV"), &[("2026-03-01T18:00:00Z", PlayerLoaded, None)])
}

#[test]
fn one_session_startup_and_rebuffering_with_the_cap_and_the_last_event() {
    let f = session_quality(&a(), &day());
    assert_eq!(
        f,
        QualityFigures {
            sessions: 1,
            startups: 1,
            startup_ms: 2_500,
            max_startup_ms: Some(2_500),
            exits_before_start: 0,
            rebuffers: 3,
            rebuffer_ms: 64_000,
            playback_ms: 45_000,
            errors: 0,
        }
    );
    assert_eq!(f.rebuffer_ratio(), Some(64.0 / 109.0));
}

#[test]
fn an_exit_before_start_and_its_error() {
    let f = session_quality(&b(), &day());
    assert_eq!(f, QualityFigures { sessions: 1, exits_before_start: 1, errors: 1, ..QualityFigures::default() });
    assert_eq!(f.average_startup_ms(), None);
    assert_eq!(f.rebuffer_ratio(), None);
}

#[test]
fn a_session_of_an_earlier_period_brings_only_its_errors_in_the_period() {
    let f = session_quality(&c(), &day());
    assert_eq!(f, QualityFigures { errors: 1, ..QualityFigures::default() });
}

#[test]
fn the_panel_adds_up_in_total_live_vod_and_by_device() {
    let q = quality(&[a(), b(), c(), d(), e()], &day());
    assert_eq!(
        q.total,
        QualityFigures {
            sessions: 4,
            startups: 2,
            startup_ms: 11_500,
            max_startup_ms: Some(9_000),
            exits_before_start: 1,
            rebuffers: 3,
            rebuffer_ms: 64_000,
            playback_ms: 75_000,
            errors: 2,
        }
    );
    assert_eq!(q.total.average_startup_ms(), Some(5_750.0));
    assert_eq!(q.total.rebuffer_ratio(), Some(64.0 / 139.0));
    assert_eq!(q.live, QualityFigures { sessions: 1, exits_before_start: 1, errors: 1, ..QualityFigures::default() });
    assert_eq!(
        q.vod,
        QualityFigures {
            sessions: 3,
            startups: 2,
            startup_ms: 11_500,
            max_startup_ms: Some(9_000),
            exits_before_start: 0,
            rebuffers: 3,
            rebuffer_ms: 64_000,
            playback_ms: 75_000,
            errors: 1,
        }
    );
    let devices: Vec<(&str, u64, u64)> =
        q.devices.iter().map(|d| (d.name.as_str(), d.figures.sessions, d.figures.errors)).collect();
    // TV: a, e (and c's error); Phone before Unknown on errors.
    assert_eq!(devices, [("TV", 2, 1), ("Phone", 1, 1), ("Unknown", 1, 0)]);
}

#[test]
fn startup_runs_from_the_first_play_to_the_next_playing() {
    // A PLAYING before the first PLAY (a resumed player) is not the startup's end.
    let s = session(
        "f",
        None,
        Some("Web"),
        &[
            ("2026-03-01T09:00:00Z", Playing, Some(1.0)),
            ("2026-03-01T09:00:10Z", Play, None),
            ("2026-03-01T09:00:11Z", Play, None),
            ("2026-03-01T09:00:13Z", Playing, Some(3.0)),
        ],
    );
    let f = session_quality(&s, &day());
    assert_eq!((f.startups, f.startup_ms, f.exits_before_start), (1, 3_000, 0));
    // Ties on devices go by name.
    let g = session("g", None, Some("Apple TV"), &[("2026-03-01T09:00:00Z", Play, None)]);
    let q = quality(&[s, g], &day());
    let names: Vec<&str> = q.devices.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["Apple TV", "Web"]);
}

#[test]
fn nothing_gives_empty_figures() {
    let q = quality(&[], &day());
    assert_eq!(q, Quality::default());
    assert_eq!(q.total.average_startup_ms(), None);
    assert_eq!(q.total.rebuffer_ratio(), None);
}
