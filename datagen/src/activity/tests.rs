use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{Duration, SecondsFormat};

use super::clock::rfc3339;
use super::viewer::DEVICES;
use super::writers::EVENT_KEYS;
use super::*;

mod realism;

const TYPES: [&str; 8] = ["PLAYER_LOADED", "PLAY", "PLAYING", "SEEK", "PAUSE", "BUFFERING", "ENDED", "ERROR"];
const REFERRERS: [&str; 7] =
    ["home", "search", "recommendations", "continue-watching", "epg", "push-notification", "deep-link"];

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn period() -> (DateTime<Utc>, DateTime<Utc>) {
    (at("2026-01-01T00:00:00Z"), at("2026-03-01T00:00:00Z"))
}

/// `n` users, about 3 in 4 registered before the period and the others during it.
fn users(n: usize) -> Vec<(String, DateTime<Utc>)> {
    let (start, _) = period();
    (0..n as i64)
        .map(|i| {
            let registered = start - Duration::days(200)
                + Duration::days(i * 7_919 % 259)
                + Duration::milliseconds(i * 86_399_123 % 86_400_000);
            (format!("u{:07}", i + 1), registered)
        })
        .collect()
}

fn generator(seed: u64, n: usize) -> ActivityGenerator {
    let (start, end) = period();
    ActivityGenerator::new(seed, &catalogue(seed), users(n), start, end, 1.0)
}

#[derive(Default)]
struct Run {
    events: Vec<PlayerEventDraft>,
    logins: Vec<LoginDraft>,
    /// The whole activity, in generation order.
    all: Vec<Activity>,
}

fn run(seed: u64, n: usize) -> Run {
    let all: Vec<Activity> = generator(seed, n).collect();
    let mut r = Run::default();
    for a in &all {
        match a {
            Activity::Event(e) => r.events.push(e.clone()),
            Activity::Login(l) => r.logins.push(l.clone()),
        }
    }
    r.all = all;
    r
}

/// One run of 200 users shared by the tests that only read it.
fn shared() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| run(11, 200))
}

/// Sessions as runs of consecutive events (the generator never interleaves them).
fn sessions(events: &[PlayerEventDraft]) -> Vec<&[PlayerEventDraft]> {
    events.chunk_by(|a, b| a.session_id == b.session_id).collect()
}

fn ms(text: &str) -> i64 {
    at(text).timestamp_millis()
}

/// Playback seconds of a session by DESIGN.md's rule.
fn playback(session: &[PlayerEventDraft]) -> f64 {
    let mut total = 0.0;
    for (i, e) in session.iter().enumerate() {
        if e.event_type != "PLAYING" {
            continue;
        }
        total += match (e.played_seconds, i.checked_sub(1).map(|p| &session[p])) {
            (Some(p), _) => p.clamp(0.0, 300.0),
            (None, Some(prev)) if prev.event_type == "PLAYING" => {
                ((ms(&e.occurred_at) - ms(&prev.occurred_at)) as f64 / 1_000.0).min(60.0)
            }
            _ => 0.0,
        };
    }
    total
}

fn share(count: usize, total: usize) -> f64 {
    count as f64 / total as f64
}

fn assert_between(what: &str, value: f64, lo: f64, hi: f64) {
    assert!((lo..=hi).contains(&value), "{what}: {value:.4} not in {lo}..={hi}");
}

#[test]
fn the_catalogue_has_vod_medias_and_live_signals() {
    let c = catalogue(1);
    assert_eq!(c, catalogue(1));
    assert_ne!(c, catalogue(2));
    let vod: Vec<_> = c.iter().filter(|m| m.kind == "VOD").collect();
    let live: Vec<_> = c.iter().filter(|m| m.kind == "LIVE").collect();
    assert_eq!((vod.len(), live.len(), c.len()), (60, 12, 72));
    for (i, m) in vod.iter().enumerate() {
        assert_eq!(m.id, format!("vod-{:04}", i + 1));
    }
    for (i, m) in live.iter().enumerate() {
        assert_eq!(m.id, format!("live-{:02}", i + 1));
    }
    let titles: HashSet<_> = c.iter().map(|m| m.title.as_str()).collect();
    assert_eq!(titles.len(), 72, "titles are unique");
    let episodes = vod.iter().filter(|m| m.title.contains(" — T")).count();
    assert!((20..=40).contains(&episodes), "{episodes} episodes");
    // A series' episodes are adjacent and in order.
    let library = Library::new(1, &c);
    let mut followed = 0;
    for (i, m) in c.iter().enumerate() {
        if let Some(next) = library.get(i).and_then(|x| x.next) {
            assert_eq!(next, i + 1);
            let series = |t: &str| t.split(" — T").next().unwrap().to_owned();
            assert_eq!(series(&m.title), series(&c[next].title));
            followed += 1;
        }
    }
    assert_eq!(followed, episodes - 5, "5 series");
}

#[test]
fn the_same_arguments_give_the_same_activity_and_bytes() {
    let a = run(7, 20);
    let b = run(7, 20);
    assert!(!a.all.is_empty());
    assert!(a.all == b.all);
    let (mut x, mut y) = (Vec::new(), Vec::new());
    write_events_ndjson(&mut x, a.events.into_iter()).unwrap();
    write_events_ndjson(&mut y, b.events.into_iter()).unwrap();
    assert_eq!(x, y);
    let other = run(8, 20);
    assert!(other.all != a.all);
}

#[test]
fn a_users_activity_does_not_depend_on_the_other_users() {
    let (start, end) = period();
    let c = catalogue(3);
    let owner = |a: &Activity| match a {
        Activity::Event(e) => e.user_id.clone(),
        Activity::Login(l) => l.user_id.clone(),
    };
    let by_user = |list: Vec<(String, DateTime<Utc>)>| {
        let mut map = BTreeMap::<String, Vec<Activity>>::new();
        for a in ActivityGenerator::new(3, &c, list, start, end, 1.0) {
            map.entry(owner(&a)).or_default().push(a);
        }
        map
    };
    let mut list = users(8);
    let before = by_user(list.clone());
    assert!(before.len() >= 5, "{} active users", before.len());
    list[1] = ("someone-else".to_owned(), start + Duration::days(3));
    let after = by_user(list);
    for (user, activity) in &before {
        if user != "u0000002" {
            assert!(after.get(user) == Some(activity), "{user}");
        }
    }
}

#[test]
fn every_event_is_sane() {
    let (start, end) = period();
    let c = catalogue(11);
    let kinds: HashMap<_, _> = c.iter().map(|m| (m.id.as_str(), m.kind.as_str())).collect();
    let registered: HashMap<_, _> = users(200).into_iter().collect();
    let r = shared();
    assert!(r.events.len() > 100_000, "{} events", r.events.len());
    let devices: HashSet<_> = DEVICES.iter().map(|d| d.0).collect();
    for e in &r.events {
        assert!(TYPES.contains(&e.event_type.as_str()), "{e:?}");
        let t = at(&e.occurred_at);
        assert!(t >= start && t < end && t >= registered[e.user_id.as_str()], "{e:?}");
        assert_eq!(e.occurred_at.len(), 24, "{e:?}");
        assert_eq!(t.to_rfc3339_opts(SecondsFormat::Millis, true), e.occurred_at);
        assert!(e.position.is_some_and(|p| p >= 0.0 && p.is_finite()), "{e:?}");
        assert!(e.bandwidth_kbps.is_none_or(|b| (0.0..=1_000_000.0).contains(&b)), "{e:?}");
        assert!(e.played_seconds.is_none_or(|p| p >= 0.0 && p.is_finite()), "{e:?}");
        assert!(e.played_seconds.is_none() || e.event_type == "PLAYING", "{e:?}");
        let id = e.content_id.as_deref().unwrap();
        assert_eq!(e.content_kind.as_deref(), Some(kinds[id]), "{e:?}");
        assert!(e.device.as_deref().is_none_or(|d| devices.contains(d)), "{e:?}");
        assert!(e.referrer.as_deref().is_none_or(|x| REFERRERS.contains(&x)), "{e:?}");
        if e.content_kind.as_deref() == Some("VOD") {
            assert_ne!(e.referrer.as_deref(), Some("epg"), "{e:?}");
        }
    }
    for l in &r.logins {
        let t = at(&l.occurred_at);
        assert!(t >= start && t < end && t >= registered[l.user_id.as_str()], "{l:?}");
        assert!(l.device.as_deref().is_none_or(|d| devices.contains(d)), "{l:?}");
    }
}

#[test]
fn sessions_are_chronological_with_one_content_and_sequential_ids() {
    let r = shared();
    let mut last_of_user = HashMap::<&str, (u32, i64)>::new();
    for s in sessions(&r.events) {
        let first = &s[0];
        assert_eq!(first.event_type, "PLAYER_LOADED", "{first:?}");
        let number: u32 = first.session_id.rsplit('-').next().unwrap().parse().unwrap();
        assert_eq!(first.session_id, format!("s-{}-{number}", first.user_id));
        let begin = ms(&first.occurred_at);
        // Sessions of a user come in order, numbered from 1, and never overlap.
        let previous = last_of_user.insert(&first.user_id, (number, ms(&s[s.len() - 1].occurred_at)));
        match previous {
            Some((n, end)) => assert!(number == n + 1 && begin > end, "{first:?}"),
            None => assert_eq!(number, 1),
        }
        for (i, e) in s.iter().enumerate() {
            assert_eq!(e.id, format!("e-{}-{number}-{}", e.user_id, i + 1));
            assert_eq!(e.user_id, first.user_id);
            assert_eq!((&e.content_id, &e.content_kind), (&first.content_id, &first.content_kind));
            assert_eq!((&e.device, &e.referrer), (&first.device, &first.referrer));
            if i > 0 {
                assert!(ms(&e.occurred_at) > ms(&s[i - 1].occurred_at), "{e:?}");
                assert_ne!(e.event_type, "PLAYER_LOADED");
            }
            if e.event_type == "ENDED" {
                assert_eq!(i, s.len() - 1, "ENDED is last");
                assert_eq!(e.content_kind.as_deref(), Some("VOD"));
            }
        }
    }
}

#[test]
fn ids_are_unique_over_200_users() {
    let r = shared();
    let mut ids = HashSet::with_capacity(r.events.len());
    assert!(r.events.iter().all(|e| ids.insert(e.id.as_str())));
    let mut ids = HashSet::new();
    assert!(r.logins.iter().all(|l| ids.insert(l.id.as_str())));
    let sessions: HashSet<_> = r.events.iter().map(|e| e.session_id.as_str()).collect();
    assert_eq!(sessions.len(), self::sessions(&r.events).len());
}

#[test]
fn nothing_outside_the_range_or_before_registration() {
    let (start, end) = period();
    let c = catalogue(18);
    let make = |users: Vec<(String, DateTime<Utc>)>, start: DateTime<Utc>, end: DateTime<Utc>, intensity: f64| {
        ActivityGenerator::new(18, &c, users, start, end, intensity)
    };
    assert_eq!(make(users(20), start, start, 1.0).count(), 0);
    assert_eq!(make(users(20), end, start, 1.0).count(), 0);
    assert_eq!(make(users(20), start, end, 0.0).count(), 0);
    assert_eq!(ActivityGenerator::new(18, &[], users(20), start, end, 1.0).count(), 0);
    let late = vec![("late".to_owned(), end), ("later".to_owned(), end + Duration::days(9))];
    assert_eq!(make(late, start, end, 5.0).count(), 0);
    // Registered mid-range with a heavy intensity, in an odd range.
    let registered = start + Duration::milliseconds(10 * 86_400_000 + 123_456_789);
    let odd_end = end - Duration::microseconds(1_500);
    let heavy = make(vec![("heavy".to_owned(), registered)], start, odd_end, 20.0);
    let mut n = 0;
    for a in heavy {
        let t = at(match &a {
            Activity::Event(e) => &e.occurred_at,
            Activity::Login(l) => &l.occurred_at,
        });
        assert!(t >= registered && t < odd_end, "{a:?}");
        n += 1;
    }
    assert!(n > 10_000, "{n}");
}

#[test]
fn writers_use_the_input_keys() {
    let r = run(20, 12);
    let mut bytes = Vec::new();
    write_events_ndjson(&mut bytes, r.events.iter().cloned()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let allowed: HashSet<&str> = EVENT_KEYS.into_iter().collect();
    let mut seen = HashSet::new();
    for (line, e) in text.lines().zip(&r.events) {
        let o: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
        for (k, v) in &o {
            assert!(allowed.contains(k.as_str()), "{k}");
            assert!(!v.is_null(), "{line}");
            seen.insert(k.clone());
        }
        let text = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let number = |k: &str| o.get(k).and_then(serde_json::Value::as_f64);
        let read = PlayerEventDraft {
            id: text("id").unwrap(),
            session_id: text("sessionId").unwrap(),
            user_id: text("userId").unwrap(),
            event_type: text("type").unwrap(),
            occurred_at: text("occurredAt").unwrap(),
            position: number("position"),
            content_kind: text("contentKind"),
            content_id: text("contentId"),
            device: text("device"),
            referrer: text("referrer"),
            bandwidth_kbps: number("bandwidthKbps"),
            played_seconds: number("playedSeconds"),
        };
        assert_eq!(&read, e);
        if let Some(b) = o.get("bandwidthKbps") {
            assert!(b.is_u64(), "whole Kbps are written without a fraction: {line}");
        }
    }
    assert_eq!(seen.len(), 12, "{seen:?}");
    assert_eq!(text.lines().count(), r.events.len());

    let mut bytes = Vec::new();
    write_logins_ndjson(&mut bytes, r.logins.iter().cloned()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("{\"id\":\"l-u0000001-1\",\"userId\":\"u0000001\",\"occurredAt\":\"2026-"), "{first}");
    for line in text.lines() {
        let o: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
        assert!(o.keys().all(|k| ["id", "userId", "occurredAt", "device"].contains(&k.as_str())), "{line}");
    }

    let mut bytes = Vec::new();
    write_contents_ndjson(&mut bytes, catalogue(20).into_iter()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.lines().count(), 72);
    assert!(text.starts_with("{\"id\":\"vod-0001\",\"kind\":\"VOD\",\"title\":\""), "{text}");
    assert!(text.lines().last().unwrap().starts_with("{\"id\":\"live-12\",\"kind\":\"LIVE\",\"title\":\""));
}

#[test]
fn instants_are_formatted_like_chrono() {
    let mut x: i64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let ms = x.rem_euclid(253_402_300_800_000); // years 1970..=9999
        let t = DateTime::<Utc>::from_timestamp_millis(ms).unwrap();
        assert_eq!(rfc3339(ms), t.to_rfc3339_opts(SecondsFormat::Millis, true));
    }
    assert_eq!(rfc3339(ms("2026-03-04T21:15:07.250Z")), "2026-03-04T21:15:07.250Z");
    assert_eq!(rfc3339(ms("2024-02-29T00:00:00Z")), "2024-02-29T00:00:00.000Z");
}
