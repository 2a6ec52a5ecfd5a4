//! The statistical shape of the activity: what makes it look like a real player.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Timelike};

use super::*;

#[test]
fn playback_positions_and_played_seconds_follow_the_clock() {
    let r = shared();
    let (mut checked, mut glitches, mut playing) = (0, 0, 0);
    for s in sessions(&r.events) {
        let begin = ms(&s[0].occurred_at);
        let live = s[0].content_kind.as_deref() == Some("LIVE");
        for (i, e) in s.iter().enumerate() {
            let t = ms(&e.occurred_at);
            let position = (e.position.unwrap() * 1_000.0).round() as i64;
            if live {
                assert_eq!(position, t - begin, "{e:?}");
            }
            if e.event_type == "PLAYING" {
                playing += 1;
                glitches += usize::from(e.played_seconds.is_some_and(|p| p >= 500.0));
            }
            let Some(prev) = i.checked_sub(1).map(|p| &s[p]) else { continue };
            let dt = t - ms(&prev.occurred_at);
            if e.event_type == "PLAYING" && prev.event_type == "PLAYING" {
                // The last heartbeat before ENDED comes early: the media ended.
                let before_ended = s.get(i + 1).is_some_and(|n| n.event_type == "ENDED");
                assert!(before_ended || (10_000..=30_000).contains(&dt), "heartbeat after {dt} ms: {e:?}");
                if let Some(p) = e.played_seconds.filter(|p| *p < 500.0) {
                    assert_eq!((p * 1_000.0).round() as i64, dt, "{e:?}");
                }
                if !live {
                    let before = (prev.position.unwrap() * 1_000.0).round() as i64;
                    assert_eq!(position - before, dt, "{e:?}");
                }
                checked += 1;
            }
            if prev.event_type == "PAUSE" {
                assert_eq!(e.event_type, "PLAY", "{e:?}");
            }
        }
    }
    assert!(checked > 50_000, "{checked}");
    assert!(glitches > 0 && share(glitches, playing) < 0.004, "{glitches} of {playing}");
}

#[test]
fn the_mix_of_sessions_is_realistic() {
    let r = shared();
    let all = sessions(&r.events);
    let n = all.len();
    assert!(n > 3_000, "{n} sessions");
    let count = |f: &dyn Fn(&[PlayerEventDraft]) -> bool| all.iter().filter(|s| f(s)).count();
    let live = count(&|s| s[0].content_kind.as_deref() == Some("LIVE"));
    assert_between("LIVE", share(live, n), 0.22, 0.38);
    let short = count(&|s| playback(s) < 5.0);
    assert_between("short", share(short, n), 0.08, 0.2);
    let unreported =
        count(&|s| s.iter().any(|e| e.event_type == "PLAYING") && s.iter().all(|e| e.played_seconds.is_none()));
    let with_playing = count(&|s| s.iter().any(|e| e.event_type == "PLAYING"));
    assert_between("without playedSeconds", share(unreported, with_playing), 0.06, 0.15);
    let missing = count(&|s| s[0].device.is_none() || s[0].referrer.is_none());
    assert_between("no device or referrer", share(missing, n), 0.015, 0.05);
    for t in TYPES {
        assert!(r.events.iter().any(|e| e.event_type == t), "no {t}");
    }
    let ended = count(&|s| s.last().is_some_and(|e| e.event_type == "ENDED"));
    assert_between("ENDED", share(ended, n - live), 0.1, 0.6);
    // Playback lengths: VOD up to 2 h, LIVE up to 3 h; long-tailed.
    let mut minutes: Vec<f64> = all.iter().map(|s| playback(s) / 60.0).collect();
    assert!(
        all.iter().all(|s| playback(s)
            <= if s[0].content_kind.as_deref() == Some("LIVE") { 181.0 } else { 121.0 } * 60.0 + 1_300.0)
    );
    minutes.sort_by(f64::total_cmp);
    let median = minutes[n / 2];
    assert_between("median minutes", median, 10.0, 40.0);
    assert!(minutes[n * 97 / 100] > 2.0 * median);
    // Devices: Smart TV first; every referrer used.
    let mut by_device = BTreeMap::<&str, usize>::new();
    for s in &all {
        *by_device.entry(s[0].device.as_deref().unwrap_or("?")).or_default() += 1;
    }
    assert_eq!(by_device.iter().max_by_key(|d| d.1).map(|d| *d.0), Some("Smart TV"), "{by_device:?}");
    assert_eq!(by_device.len(), 7, "{by_device:?}");
    for referrer in REFERRERS {
        assert!(all.iter().any(|s| s[0].referrer.as_deref() == Some(referrer)), "{referrer}");
    }
    // Popularity is skewed.
    let mut by_media = HashMap::<&str, usize>::new();
    for s in all.iter().filter(|s| s[0].content_kind.as_deref() == Some("VOD")) {
        *by_media.entry(s[0].content_id.as_deref().unwrap()).or_default() += 1;
    }
    let mut counts: Vec<usize> = by_media.values().copied().collect();
    counts.sort_unstable();
    assert!(counts[counts.len() - 1] > 4 * counts[counts.len() / 2], "{counts:?}");
}

#[test]
fn evenings_and_weekends_are_busier_in_chile() {
    let r = shared();
    let (mut per_hour, mut weekend, mut weekday) = ([0_usize; 24], 0, 0);
    for s in sessions(&r.events) {
        let t = at(&s[0].occurred_at);
        let local = t.with_timezone(&chrono_tz::America::Santiago).naive_local();
        per_hour[local.hour() as usize] += 1;
        if local.weekday().num_days_from_monday() >= 5 { weekend += 1 } else { weekday += 1 }
    }
    let evening: usize = per_hour[20..=23].iter().sum();
    let night: usize = per_hour[3..=6].iter().sum();
    assert!(evening > 8 * night, "{per_hour:?}");
    assert!(weekend as f64 / 2.0 > 1.1 * weekday as f64 / 5.0, "{weekend} vs {weekday}");
}

#[test]
fn logins_come_shortly_before_most_sessions() {
    let r = shared();
    let mut ids = HashSet::new();
    let (mut sessions_seen, mut with_login) = (0, 0);
    let mut last_login: Option<&LoginDraft> = None;
    for a in &r.all {
        match a {
            Activity::Login(l) => {
                assert!(ids.insert(l.id.clone()));
                assert!(l.id.starts_with(&format!("l-{}-", l.user_id)));
                last_login = Some(l);
            }
            Activity::Event(e) if e.event_type == "PLAYER_LOADED" => {
                sessions_seen += 1;
                if let Some(l) = last_login.take() {
                    assert_eq!(l.user_id, e.user_id);
                    assert_eq!(l.device, e.device);
                    let gap = ms(&e.occurred_at) - ms(&l.occurred_at);
                    assert!((1..=120_000).contains(&gap), "{l:?} {e:?}");
                    with_login += 1;
                }
            }
            Activity::Event(_) => assert!(last_login.is_none(), "a login comes right before PLAYER_LOADED"),
        }
    }
    assert_between("sessions with a login", share(with_login, sessions_seen), 0.5, 0.9);
}

#[test]
fn intensity_scales_the_sessions() {
    let (start, end) = period();
    let c = catalogue(19);
    let count = |intensity| {
        ActivityGenerator::new(19, &c, users(100), start, end, intensity)
            .filter(|a| matches!(a, Activity::Event(e) if e.event_type == "PLAYER_LOADED"))
            .count()
    };
    let (one, two) = (count(1.0), count(2.0));
    // About 3.5 sessions a week per user, 8.4 weeks, some users dormant or churned.
    assert_between("sessions per user-week", one as f64 / 100.0 / 8.4, 2.0, 4.5);
    assert_between("ratio", two as f64 / one as f64, 1.6, 2.4);
}

#[test]
fn playback_starts_within_seconds_of_play() {
    // DESIGN.md's startup time: from a session's first PLAY to the first PLAYING after it.
    let r = shared();
    let (mut startups, mut exits, mut with_play) = (Vec::new(), 0, 0);
    for s in sessions(&r.events) {
        let Some(play) = s.iter().position(|e| e.event_type == "PLAY") else { continue };
        with_play += 1;
        match s[play..].iter().find(|e| e.event_type == "PLAYING") {
            Some(first) => startups.push(ms(&first.occurred_at) - ms(&s[play].occurred_at)),
            None => exits += 1,
        }
    }
    startups.sort_unstable();
    let median = startups[startups.len() / 2];
    assert!((500..=1_500).contains(&median), "median startup {median} ms");
    // At most 6 s: a startup stall (0.53–4.3 s), a plain start (0.15–6 s) or a short
    // session's one PLAYING (1–4 s).
    assert!(*startups.last().unwrap() <= 6_000, "max {} ms", startups.last().unwrap());
    assert_between("exits before start", share(exits, with_play), 0.03, 0.08);
}
