//! A user's playback quality and the comparison of their overview with an earlier
//! period, against figures worked out by hand. Tenant home: Spain, Europe/Madrid.
//!
//! Quality on Q = 1 March 2026, Madrid (2026-02-28T23:00Z to 2026-03-01T23:00Z):
//!
//! | session | kind, device | events (UTC)                                                              | in Q |
//! |---------|--------------|---------------------------------------------------------------------------|------|
//! | a       | VOD, TV      | LOADED 10:00:00, PLAY 10:00:01, PLAYING 10:00:03.5 (10 s), PLAYING 10:00:13.5 (10 s), BUFFERING 10:00:20 (4 s to the next event), PLAYING 10:00:24 (5 s), BUFFERING 10:01:00 (120 s to the next: capped at 60), PLAYING 10:03:00 (20 s), BUFFERING 10:03:05 (the last event: 0 s) | startup 2.5 s, 3 rebufferings of 64 s, 45 s of playback |
//! | b       | LIVE, Phone  | PLAY 12:00:00, ERROR 12:00:05, PLAY 12:00:06, BUFFERING 12:00:07 (before any PLAYING: no rebuffering), PAUSE 12:00:10 | an exit before start, 1 error |
//! | c       | VOD, TV      | PLAY 02-28 22:00:00, PLAYING 22:00:04 (4 s), BUFFERING 23:10:00, PLAYING 23:10:30 (30 s), ERROR 23:30:00 | started before Q: only its error counts |
//! | d       | none, —      | PLAY 15:00:00, PLAYING 15:00:09 (30 s), ERROR 23:30:00 (after Q)          | startup 9 s, 30 s of playback (VOD, "Unknown") |
//! | e       | VOD, TV      | LOADED 18:00:00                                                           | a session, nothing else |
//!
//! Q in total: 4 sessions; startups 2 (mean 5,750 ms, max 9,000 ms); 1 exit; 3
//! rebufferings, 64 s, ratio 64 / (64 + 75); 2 errors. Live: b. VOD: a, c's error, d, e.
//! Devices: TV (a, e; c's error), Phone (b), Unknown (d).
//!
//! Comparison on C = 2026-03-10 UTC against 2026-03-09 (previous period) and 2025-03-10
//! (previous year: nothing):
//! | session | events (UTC)                                                      | C                        | 03-09            |
//! |---------|-------------------------------------------------------------------|--------------------------|------------------|
//! | s1      | PLAY 03-09 10:00:00, PLAYING 10:01:00 (60 s)                     |                          | stream, start, 60 s |
//! | s2      | PLAY 03-09 23:59:30, PLAYING 03-10 00:00:10 (30 s)               | 30 s                     | stream, start    |
//! | s3      | PLAY 03-10 12:00:00, PLAYING 12:02:00 (120 s), PLAY 12:03:00     | stream, 2 starts, 120 s  |                  |
//! C: 1 stream, 2 starts, 2.5 minutes; 03-09: 2 streams, 2 starts, 1 minute.

use ottstats_domain::tenant::Tenant;
use ottstats_tests::{Env, first_error, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

fn ev(
    id: &str,
    session: &str,
    ty: &str,
    at: &str,
    kind: Option<&str>,
    device: Option<&str>,
    played: Option<f64>,
) -> Value {
    let mut e = json!({"id": id, "sessionId": session, "userId": "u1", "type": ty, "occurredAt": at, "contentId": "m"});
    if let Some(k) = kind {
        e["contentKind"] = json!(k);
    }
    if let Some(d) = device {
        e["device"] = json!(d);
    }
    if let Some(p) = played {
        e["playedSeconds"] = json!(p);
    }
    e
}

fn quality_events() -> Value {
    let (vod, live, tv, phone) = (Some("VOD"), Some("LIVE"), Some("TV"), Some("Phone"));
    json!([
        ev("a0", "a", "PLAYER_LOADED", "2026-03-01T10:00:00Z", vod, tv, None),
        ev("a1", "a", "PLAY", "2026-03-01T10:00:01Z", vod, tv, None),
        ev("a2", "a", "PLAYING", "2026-03-01T10:00:03.500Z", vod, tv, Some(10.0)),
        ev("a3", "a", "PLAYING", "2026-03-01T10:00:13.500Z", vod, tv, Some(10.0)),
        ev("a4", "a", "BUFFERING", "2026-03-01T10:00:20Z", vod, tv, None),
        ev("a5", "a", "PLAYING", "2026-03-01T10:00:24Z", vod, tv, Some(5.0)),
        ev("a6", "a", "BUFFERING", "2026-03-01T10:01:00Z", vod, tv, None),
        ev("a7", "a", "PLAYING", "2026-03-01T10:03:00Z", vod, tv, Some(20.0)),
        ev("a8", "a", "BUFFERING", "2026-03-01T10:03:05Z", vod, tv, None),
        ev("b0", "b", "PLAY", "2026-03-01T12:00:00Z", live, phone, None),
        ev("b1", "b", "ERROR", "2026-03-01T12:00:05Z", live, phone, None),
        ev("b2", "b", "PLAY", "2026-03-01T12:00:06Z", live, phone, None),
        ev("b3", "b", "BUFFERING", "2026-03-01T12:00:07Z", live, phone, None),
        ev("b4", "b", "PAUSE", "2026-03-01T12:00:10Z", live, phone, None),
        ev("c0", "c", "PLAY", "2026-02-28T22:00:00Z", vod, tv, None),
        ev("c1", "c", "PLAYING", "2026-02-28T22:00:04Z", vod, tv, Some(4.0)),
        ev("c2", "c", "BUFFERING", "2026-02-28T23:10:00Z", vod, tv, None),
        ev("c3", "c", "PLAYING", "2026-02-28T23:10:30Z", vod, tv, Some(30.0)),
        ev("c4", "c", "ERROR", "2026-02-28T23:30:00Z", vod, tv, None),
        ev("d0", "d", "PLAY", "2026-03-01T15:00:00Z", None, None, None),
        ev("d1", "d", "PLAYING", "2026-03-01T15:00:09Z", None, None, Some(30.0)),
        ev("d2", "d", "ERROR", "2026-03-01T23:30:00Z", None, None, None),
        ev("e0", "e", "PLAYER_LOADED", "2026-03-01T18:00:00Z", vod, tv, None),
    ])
}

fn comparison_events() -> Value {
    let vod = Some("VOD");
    json!([
        ev("s1a", "s1", "PLAY", "2026-03-09T10:00:00Z", vod, None, None),
        ev("s1b", "s1", "PLAYING", "2026-03-09T10:01:00Z", vod, None, Some(60.0)),
        ev("s2a", "s2", "PLAY", "2026-03-09T23:59:30Z", vod, None, None),
        ev("s2b", "s2", "PLAYING", "2026-03-10T00:00:10Z", vod, None, Some(30.0)),
        ev("s3a", "s3", "PLAY", "2026-03-10T12:00:00Z", vod, None, None),
        ev("s3b", "s3", "PLAYING", "2026-03-10T12:02:00Z", vod, None, Some(120.0)),
        ev("s3c", "s3", "PLAY", "2026-03-10T12:03:00Z", vod, None, None),
    ])
}

async fn seeded(env: &Env, events: Value) -> Tenant {
    let (tenant, _) = env.tenant("Acme", "ES", chrono_tz::Europe::Madrid).await;
    let u1 =
        json!({"id": "u1", "name": "Ana", "gender": "FEMALE", "country": "ES", "registeredAt": "2026-01-01T00:00:00Z"});
    env.data(&tenant, operations::UPSERT_USERS, json!({"u": [u1]})).await;
    let n = events.as_array().map_or(0, Vec::len);
    // In reverse: quality does not depend on the order events arrive in.
    let reversed: Vec<Value> = events.as_array().cloned().unwrap_or_default().into_iter().rev().collect();
    let q = "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted rejected { index message } } }";
    let report = env.data(&tenant, q, json!({"e": reversed})).await;
    assert_eq!(report["recordEvents"], json!({"accepted": n, "rejected": []}));
    tenant
}

async fn activity(env: &Env, tenant: &Tenant, period: Value, fields: &str) -> Value {
    let q = format!("query($p: PeriodInput!) {{ user(id: \"u1\") {{ activity(period: $p) {{ {fields} }} }} }}");
    env.data(tenant, &q, json!({"p": period})).await["user"]["activity"].clone()
}

const QUALITY: &str =
    "startup { sessions averageMs maxMs } exitsBeforeStart rebuffering { count seconds ratio } errors";

fn figures(startups: i64, avg: Value, max: Value, exits: i64, rebuffers: (i64, f64, Value), errors: i64) -> Value {
    json!({"startup": {"sessions": startups, "averageMs": avg, "maxMs": max}, "exitsBeforeStart": exits,
           "rebuffering": {"count": rebuffers.0, "seconds": rebuffers.1, "ratio": rebuffers.2}, "errors": errors})
}

async fn quality_follows_the_definitions(env: Env) {
    let tenant = seeded(&env, quality_events()).await;
    let fields =
        format!("quality {{ {QUALITY} live {{ {QUALITY} }} vod {{ {QUALITY} }} devices {{ name {QUALITY} }} }}");
    let q =
        activity(&env, &tenant, json!({"from": "2026-03-01", "to": "2026-03-02"}), &fields).await["quality"].clone();
    let total = figures(2, json!(5750.0), json!(9000.0), 1, (3, 64.0, json!(64.0 / 139.0)), 2);
    for key in ["startup", "exitsBeforeStart", "rebuffering", "errors"] {
        assert_eq!(q[key], total[key], "{key}: {q:#}");
    }
    assert_eq!(q["live"], figures(0, Value::Null, Value::Null, 1, (0, 0.0, Value::Null), 1));
    assert_eq!(q["vod"], figures(2, json!(5750.0), json!(9000.0), 0, (3, 64.0, json!(64.0 / 139.0)), 1));
    let mut tv = figures(1, json!(2500.0), json!(2500.0), 0, (3, 64.0, json!(64.0 / 109.0)), 1);
    tv["name"] = json!("TV");
    let mut phone = figures(0, Value::Null, Value::Null, 1, (0, 0.0, Value::Null), 1);
    phone["name"] = json!("Phone");
    let mut unknown = figures(1, json!(9000.0), json!(9000.0), 0, (0, 0.0, json!(0.0)), 0);
    unknown["name"] = json!("Unknown");
    assert_eq!(q["devices"], json!([tv, phone, unknown]));
}

async fn quality_of_a_period_without_sessions_is_empty(env: Env) {
    let tenant = seeded(&env, quality_events()).await;
    // 2 March holds only d's ERROR (d started on 1 March).
    let q =
        activity(&env, &tenant, json!({"from": "2026-03-02", "to": "2026-03-03"}), &format!("quality {{ {QUALITY} }}"))
            .await["quality"]
            .clone();
    assert_eq!(q, figures(0, Value::Null, Value::Null, 0, (0, 0.0, Value::Null), 1));
}

fn overview(streams: i64, starts: i64, minutes: f64) -> Value {
    json!({"streams": streams, "playbackStarts": starts, "minutesConsumed": minutes})
}

async fn the_overview_compares_with_the_day_before_and_the_year_before(env: Env) {
    let tenant = seeded(&env, comparison_events()).await;
    let fields = "period { from to timeZone } overview { streams playbackStarts minutesConsumed }
        change { streams { value previous percentage } playbackStarts { value previous percentage }
                 minutesConsumed { value previous percentage } }
        previous { period { from to } overview { streams playbackStarts minutesConsumed } }
        year: change(shift: PREVIOUS_YEAR) { streams { value previous percentage } }";
    let day = json!({"from": "2026-03-10", "to": "2026-03-11", "timeZone": "UTC"});
    let r = activity(&env, &tenant, day, fields).await;
    assert_eq!(
        r["period"],
        json!({"from": "2026-03-10T00:00:00+00:00", "to": "2026-03-11T00:00:00+00:00", "timeZone": "UTC"})
    );
    assert_eq!(r["overview"], overview(1, 2, 2.5));
    assert_eq!(
        r["change"],
        json!({"streams": {"value": 1, "previous": 2, "percentage": -50.0},
               "playbackStarts": {"value": 2, "previous": 2, "percentage": 0.0},
               "minutesConsumed": {"value": 2.5, "previous": 1.0, "percentage": 150.0}})
    );
    assert_eq!(
        r["previous"],
        json!({"period": {"from": "2026-03-09T00:00:00+00:00", "to": "2026-03-10T00:00:00+00:00"},
               "overview": overview(2, 2, 1.0)})
    );
    assert_eq!(r["year"], json!({"streams": {"value": 1, "previous": 0, "percentage": null}}));
}

async fn a_bad_shift_of_an_activity_names_the_shift(env: Env) {
    let tenant = seeded(&env, comparison_events()).await;
    let q = "query { user(id: \"u1\") { activity(period: {from: \"2024-02-28T18:00\", to: \"2024-02-29T06:00\"}) {
        previous(shift: PREVIOUS_YEAR) { overview { streams } } } } }";
    let (code, argument, _) = first_error(&env.run(Some(&tenant), q, Value::Null).await);
    assert_eq!((code.as_str(), argument.as_str()), ("BAD_USER_INPUT", "shift"));
}

on_each_backend!(
    quality_follows_the_definitions,
    quality_of_a_period_without_sessions_is_empty,
    the_overview_compares_with_the_day_before_and_the_year_before,
    a_bad_shift_of_an_activity_names_the_shift,
);
