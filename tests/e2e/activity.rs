//! One user's activity against a small dataset whose every figure was worked out by hand.
//! Period P = [2026-03-10T00:00Z, 2026-03-11T00:00Z) (UTC).
//!
//! | session | content (kind) | device / referrer | events (UTC, playback)                                     | total | in P: starts, playback |
//! |---------|----------------|-------------------|------------------------------------------------------------|-------|------------------------|
//! | S1      | m1 (VOD)       | TV / home         | e1 LOADED 03-09 23:58:00, e2 PLAY 23:58:05, e3 PLAYING 23:58:35 (30 s given), e4 PLAYING 03-10 00:00:05 (30 s), e5 PLAYING 00:00:35 (none given: 30 s since e4), e6 PAUSE 00:01:00, e7 PLAYING 00:03:00 (none: previous is PAUSE, 0), e8 PLAYING 00:05:00 (none: 120 s since e7, capped 60) | 150 s, but starts before P: no stream in P | 0, 120 s |
//! | S2      | c1 (LIVE)      | Android / —       | f1 LOADED 10:00:00, f2 PLAY 10:00:02, f3 PLAYING 10:00:32 (500 given: 300), f4 BUFFERING 10:01:00, f5 PLAYING 10:01:30 (28 s) | 328 s: stream | 1, 328 s |
//! | S3      | m2 (VOD)       | TV / search       | g1 LOADED 20:00:00, g2 PLAY 20:00:01, g3 PLAYING 20:00:04 (3 s) | 3 s: no stream | 1, 3 s |
//! | S4      | m1 (VOD)       | Web / home        | h1 PLAY 23:59:00, h2 PLAYING 23:59:30 (30 s), h3 PLAYING 03-11 00:00:00 (30 s, after P) | 60 s: stream | 1, 30 s |
//!
//! Overview in P: streams 2 (S2, S4), starts 3, 481 s = 8.0166… minutes.
//! Bandwidth in P: hour 00 {5000, 5200}, hour 10 {2400, 800, 2000}, hour 20 {4000},
//! hour 23 {3000}; the mean of the 7 samples is 3200.

use ottstats_domain::tenant::Tenant;
use ottstats_tests::{Env, first_error, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

const EVENTS: &str = "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted duplicates rejected { index argument } } }";
const LOGINS: &str =
    "mutation($l: [LoginInput!]!) { recordLogins(logins: $l) { accepted duplicates rejected { index argument } } }";
const CONTENTS: &str = "mutation($c: [ContentInput!]!) { upsertContents(contents: $c) { accepted duplicates } }";
const USERS: &str = operations::UPSERT_USERS;

#[allow(clippy::too_many_arguments)]
fn ev(
    id: &str,
    session: &str,
    ty: &str,
    at: &str,
    content: (&str, &str),
    device: Option<&str>,
    referrer: Option<&str>,
    played: Option<f64>,
    bw: Option<f64>,
) -> Value {
    let mut e = json!({"id": id, "sessionId": session, "userId": "u1", "type": ty, "occurredAt": at,
                       "contentKind": content.0, "contentId": content.1, "position": 0.0});
    if let Some(d) = device {
        e["device"] = json!(d);
    }
    if let Some(r) = referrer {
        e["referrer"] = json!(r);
    }
    if let Some(p) = played {
        e["playedSeconds"] = json!(p);
    }
    if let Some(b) = bw {
        e["bandwidthKbps"] = json!(b);
    }
    e
}

fn s1() -> Vec<Value> {
    let m1 = ("VOD", "m1");
    let (tv, home) = (Some("TV"), Some("home"));
    vec![
        ev("e1", "S1", "PLAYER_LOADED", "2026-03-09T23:58:00Z", m1, tv, home, None, None),
        ev("e2", "S1", "PLAY", "2026-03-09T23:58:05Z", m1, tv, home, None, None),
        ev("e3", "S1", "PLAYING", "2026-03-09T23:58:35Z", m1, tv, home, Some(30.0), Some(4800.0)),
        ev("e4", "S1", "PLAYING", "2026-03-10T00:00:05Z", m1, tv, home, Some(30.0), Some(5000.0)),
        ev("e5", "S1", "PLAYING", "2026-03-10T00:00:35Z", m1, tv, home, None, Some(5200.0)),
        ev("e6", "S1", "PAUSE", "2026-03-10T00:01:00Z", m1, tv, home, None, None),
        ev("e7", "S1", "PLAYING", "2026-03-10T00:03:00Z", m1, tv, home, None, None),
        ev("e8", "S1", "PLAYING", "2026-03-10T00:05:00Z", m1, tv, home, None, None),
    ]
}

fn others() -> Vec<Value> {
    let c1 = ("LIVE", "c1");
    let (m1, m2) = (("VOD", "m1"), ("VOD", "m2"));
    let android = Some("Android");
    vec![
        ev("f1", "S2", "PLAYER_LOADED", "2026-03-10T10:00:00Z", c1, android, None, None, None),
        ev("f2", "S2", "PLAY", "2026-03-10T10:00:02Z", c1, android, None, None, None),
        ev("f3", "S2", "PLAYING", "2026-03-10T10:00:32Z", c1, android, None, Some(500.0), Some(2400.0)),
        ev("f4", "S2", "BUFFERING", "2026-03-10T10:01:00Z", c1, android, None, None, Some(800.0)),
        ev("f5", "S2", "PLAYING", "2026-03-10T10:01:30Z", c1, android, None, Some(28.0), Some(2000.0)),
        ev("g1", "S3", "PLAYER_LOADED", "2026-03-10T20:00:00Z", m2, Some("TV"), Some("search"), None, None),
        ev("g2", "S3", "PLAY", "2026-03-10T20:00:01Z", m2, Some("TV"), Some("search"), None, None),
        ev("g3", "S3", "PLAYING", "2026-03-10T20:00:04Z", m2, Some("TV"), Some("search"), Some(3.0), Some(4000.0)),
        ev("h1", "S4", "PLAY", "2026-03-10T23:59:00Z", m1, Some("Web"), Some("home"), None, None),
        ev("h2", "S4", "PLAYING", "2026-03-10T23:59:30Z", m1, Some("Web"), Some("home"), Some(30.0), Some(3000.0)),
        ev("h3", "S4", "PLAYING", "2026-03-11T00:00:00Z", m1, Some("Web"), Some("home"), Some(30.0), Some(3100.0)),
    ]
}

fn user(id: &str) -> Value {
    json!({"id": id, "name": format!("User {id}"), "gender": "FEMALE", "birthDate": "1990-01-01", "country": "CL",
           "state": "Biobío", "city": "Concepción", "registeredAt": "2026-01-02T03:04:05Z"})
}

/// Tenant A with the dataset (S1 sent out of order, with a duplicate), and tenant B
/// with events for its own "u1" in P that must never show for A.
async fn seeded(env: &Env) -> (Tenant, Tenant) {
    let (a, _) = env.tenant("A", "CL", chrono_tz::America::Santiago).await;
    env.data(&a, USERS, json!({"u": [user("u1"), user("u2")]})).await;
    let contents = json!([{"id": "m1", "kind": "VOD", "title": "Movie One"}, {"id": "m2", "kind": "VOD", "title": "Movie Two"},
                          {"id": "c1", "kind": "LIVE", "title": "Channel One"}]);
    assert_eq!(
        env.data(&a, CONTENTS, json!({"c": contents})).await["upsertContents"],
        json!({"accepted": 3, "duplicates": 0})
    );
    let s1 = s1();
    // The later half first: e5 and e8 have no playedSeconds, so they depend on e4 and e7.
    let late = json!([s1[4], s1[5], s1[6], s1[7], s1[4]]);
    assert_eq!(
        env.data(&a, EVENTS, json!({"e": late})).await["recordEvents"],
        json!({"accepted": 4, "duplicates": 1, "rejected": []})
    );
    let early = json!([s1[3], s1[0], s1[2], s1[1]]);
    assert_eq!(
        env.data(&a, EVENTS, json!({"e": early})).await["recordEvents"],
        json!({"accepted": 4, "duplicates": 0, "rejected": []})
    );
    let rest = Value::from(others());
    assert_eq!(
        env.data(&a, EVENTS, json!({"e": rest})).await["recordEvents"],
        json!({"accepted": 11, "duplicates": 0, "rejected": []})
    );
    // Everything again: all duplicates, nothing changes.
    let all: Vec<Value> = s1.into_iter().chain(others()).collect();
    assert_eq!(
        env.data(&a, EVENTS, json!({"e": all})).await["recordEvents"],
        json!({"accepted": 0, "duplicates": 19, "rejected": []})
    );
    let logins = json!([{"id": "l1", "userId": "u1", "occurredAt": "2026-03-10T09:59:00Z", "device": "Android"},
                        {"id": "l2", "userId": "u1", "occurredAt": "2026-03-10T19:59:00Z"},
                        {"id": "l3", "userId": "u1", "occurredAt": "2026-03-09T10:00:00Z", "device": "TV"},
                        {"id": "l1", "userId": "u1", "occurredAt": "2026-03-10T09:59:00Z", "device": "Android"}]);
    assert_eq!(
        env.data(&a, LOGINS, json!({"l": logins})).await["recordLogins"],
        json!({"accepted": 3, "duplicates": 1, "rejected": []})
    );

    let (b, _) = env.tenant("B", "CL", chrono_tz::America::Santiago).await;
    env.data(&b, USERS, json!({"u": [user("u9")]})).await;
    let intruder = json!([
        ev("x1", "S2", "PLAY", "2026-03-10T12:00:00Z", ("LIVE", "c1"), Some("Android"), None, None, Some(1.0)),
        ev(
            "x2",
            "S2",
            "PLAYING",
            "2026-03-10T12:00:30Z",
            ("LIVE", "c1"),
            Some("Android"),
            None,
            Some(300.0),
            Some(1.0)
        )
    ]);
    env.data(&b, EVENTS, json!({"e": intruder})).await;
    env.data(&b, LOGINS, json!({"l": [{"id": "l1", "userId": "u1", "occurredAt": "2026-03-10T11:00:00Z"}]})).await;
    (a, b)
}

const P: &str = r#"{from: "2026-03-10T00:00:00Z", to: "2026-03-11T00:00:00Z", timeZone: "UTC"}"#;

async fn activity(env: &Env, tenant: &Tenant, user: &str, fields: &str) -> Value {
    let q = format!("query($id: ID!) {{ user(id: $id) {{ activity(period: {P}) {{ {fields} }} }} }}");
    env.data(tenant, &q, json!({"id": user})).await["user"]["activity"].clone()
}

fn figures(streams: i64, starts: i64, seconds: f64) -> Value {
    json!({"streams": streams, "playbackStarts": starts, "minutesConsumed": seconds / 60.0})
}

const FIGS: &str = "streams playbackStarts minutesConsumed";

async fn overview_follows_the_definitions(env: Env) {
    let (a, _) = seeded(&env).await;
    let r = activity(&env, &a, "u1", &format!("overview {{ {FIGS} }}")).await;
    assert_eq!(r["overview"], figures(2, 3, 481.0));
}

async fn details_split_live_vod_devices_referrers_and_contents(env: Env) {
    let (a, _) = seeded(&env).await;
    let fields = format!(
        "details {{ live {{ {FIGS} }} vod {{ {FIGS} }} devices {{ name live {{ {FIGS} }} vod {{ {FIGS} }} }}
           referrers {{ name live {{ {FIGS} }} vod {{ {FIGS} }} }}
           medias {{ content {{ id title kind }} {FIGS} }} liveSignals {{ content {{ id title kind }} {FIGS} }}
           logins {{ nodes {{ occurredAt device }} }} }}"
    );
    let d = activity(&env, &a, "u1", &fields).await["details"].clone();
    let zero = figures(0, 0, 0.0);
    assert_eq!(d["live"], figures(1, 1, 328.0));
    assert_eq!(d["vod"], figures(1, 2, 153.0));
    assert_eq!(
        d["devices"],
        json!([
            {"name": "Android", "live": figures(1, 1, 328.0), "vod": zero},
            {"name": "TV", "live": zero, "vod": figures(0, 1, 123.0)},
            {"name": "Web", "live": zero, "vod": figures(1, 1, 30.0)}
        ])
    );
    assert_eq!(
        d["referrers"],
        json!([
            {"name": "Unknown", "live": figures(1, 1, 328.0), "vod": zero},
            {"name": "home", "live": zero, "vod": figures(1, 1, 150.0)},
            {"name": "search", "live": zero, "vod": figures(0, 1, 3.0)}
        ])
    );
    let content = |id: &str, title: &str, kind: &str, f: Value| {
        let mut row = f;
        row["content"] = json!({"id": id, "title": title, "kind": kind});
        row
    };
    assert_eq!(
        d["medias"],
        json!([
            content("m1", "Movie One", "VOD", figures(1, 1, 150.0)),
            content("m2", "Movie Two", "VOD", figures(0, 1, 3.0))
        ])
    );
    assert_eq!(d["liveSignals"], json!([content("c1", "Channel One", "LIVE", figures(1, 1, 328.0))]));
    assert_eq!(
        d["logins"]["nodes"],
        json!([{"occurredAt": "2026-03-10T19:59:00+00:00", "device": "Unknown"}, {"occurredAt": "2026-03-10T09:59:00+00:00", "device": "Android"}])
    );
}

async fn bandwidth_by_hour_and_day(env: Env) {
    let (a, _) = seeded(&env).await;
    let r = activity(&env, &a, "u1", "bandwidth { averageKbps points { start end avgKbps minKbps maxKbps samples } }")
        .await;
    let points = r["bandwidth"]["points"].as_array().cloned().unwrap_or_default();
    assert_eq!(points.len(), 24);
    assert_eq!(r["bandwidth"]["averageKbps"], 3200.0);
    assert_eq!(
        points[0],
        json!({"start": "2026-03-10T00:00:00+00:00", "end": "2026-03-10T01:00:00+00:00", "avgKbps": 5100.0, "minKbps": 5000.0, "maxKbps": 5200.0, "samples": 2})
    );
    assert_eq!(points[10]["samples"], 3);
    assert_eq!((points[10]["minKbps"].clone(), points[10]["maxKbps"].clone()), (json!(800.0), json!(2400.0)));
    assert!((points[10]["avgKbps"].as_f64().unwrap_or(0.0) - 5200.0 / 3.0).abs() < 1e-9);
    assert_eq!((points[20]["avgKbps"].clone(), points[23]["avgKbps"].clone()), (json!(4000.0), json!(3000.0)));
    assert_eq!(
        points[5],
        json!({"start": "2026-03-10T05:00:00+00:00", "end": "2026-03-10T06:00:00+00:00", "avgKbps": null, "minKbps": null, "maxKbps": null, "samples": 0})
    );
    let r = activity(&env, &a, "u1", "bandwidth(granularity: DAY) { averageKbps points { avgKbps samples } }").await;
    assert_eq!(r["bandwidth"], json!({"averageKbps": 3200.0, "points": [{"avgKbps": 3200.0, "samples": 7}]}));
}

async fn events_page_through_every_event_once(env: Env) {
    let (a, _) = seeded(&env).await;
    let expected = ["e4", "e5", "e6", "e7", "e8", "f1", "f2", "f3", "f4", "f5", "g1", "g2", "g3", "h1", "h2"];
    let mut seen = Vec::new();
    let mut after = Value::Null;
    for _ in 0..10 {
        let q = format!(
            "query($after: String) {{ user(id: \"u1\") {{ activity(period: {P}) {{ events(first: 4, after: $after) {{
               totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ id }} }} }} }} }}"
        );
        let page = env.data(&a, &q, json!({"after": after})).await["user"]["activity"]["events"].clone();
        assert_eq!(page["totalCount"], 15);
        seen.extend(page["nodes"].as_array().into_iter().flatten().map(|n| n["id"].as_str().unwrap_or("").to_owned()));
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, expected);
}

async fn events_carry_hover_details_and_filter_by_type(env: Env) {
    let (a, _) = seeded(&env).await;
    // The same instants read in Santiago (-03 in March): local days differ from UTC.
    let q = r#"{ user(id: "u1") { activity(period: {from: "2026-03-09T21:00", to: "2026-03-10T21:00", timeZone: "America/Santiago"}) {
               events(first: 2, types: [PLAY, BUFFERING]) { totalCount nodes { id type occurredAt day position contentKind
               content { id title } device referrer bandwidthKbps sessionId } } } } }"#;
    let events = env.data(&a, q, Value::Null).await["user"]["activity"]["events"].clone();
    assert_eq!(events["totalCount"], 4);
    assert_eq!(
        events["nodes"],
        json!([
            {"id": "f2", "type": "PLAY", "occurredAt": "2026-03-10T07:00:02-03:00", "day": "2026-03-10", "position": 0.0, "contentKind": "LIVE",
             "content": {"id": "c1", "title": "Channel One"}, "device": "Android", "referrer": null, "bandwidthKbps": null, "sessionId": "S2"},
            {"id": "f4", "type": "BUFFERING", "occurredAt": "2026-03-10T07:01:00-03:00", "day": "2026-03-10", "position": 0.0, "contentKind": "LIVE",
             "content": {"id": "c1", "title": "Channel One"}, "device": "Android", "referrer": null, "bandwidthKbps": 800.0, "sessionId": "S2"}
        ])
    );
    let q = r#"{ user(id: "u1") { activity(period: {from: "2026-03-09T21:00", to: "2026-03-10T21:00", timeZone: "America/Santiago"}) {
               events(first: 1) { nodes { id day } } } } }"#;
    let first = env.data(&a, q, Value::Null).await["user"]["activity"]["events"]["nodes"][0].clone();
    assert_eq!(first, json!({"id": "e4", "day": "2026-03-09"}));
}

async fn a_user_without_activity_has_zeros(env: Env) {
    let (a, _) = seeded(&env).await;
    let fields = format!(
        "overview {{ {FIGS} }} events {{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {{ id }} }}
         bandwidth(granularity: DAY) {{ averageKbps points {{ avgKbps samples }} }}
         details {{ live {{ {FIGS} }} devices {{ name }} medias {{ streams }} liveSignals {{ streams }} logins {{ totalCount nodes {{ device }} }} }}"
    );
    let r = activity(&env, &a, "u2", &fields).await;
    assert_eq!(
        r,
        json!({
            "overview": figures(0, 0, 0.0),
            "events": {"totalCount": 0, "pageInfo": {"hasNextPage": false, "endCursor": null}, "nodes": []},
            "bandwidth": {"averageKbps": null, "points": [{"avgKbps": null, "samples": 0}]},
            "details": {"live": figures(0, 0, 0.0), "devices": [], "medias": [], "liveSignals": [], "logins": {"totalCount": 0, "nodes": []}}
        })
    );
}

async fn profiles_and_unknown_users(env: Env) {
    let (a, b) = seeded(&env).await;
    let q = r#"{ user(id: "u1") { id name gender birthDate age country state city registeredAt } nobody: user(id: "nobody") { id } }"#;
    let r = env.data(&a, q, Value::Null).await;
    assert_eq!(
        r["user"],
        json!({"id": "u1", "name": "User u1", "gender": "FEMALE", "birthDate": "1990-01-01", "age": 36, "country": "CL",
               "state": "Biobío", "city": "Concepción", "registeredAt": "2026-01-02T03:04:05Z"})
    );
    assert!(r["nobody"].is_null());
    // Tenant B has events for a "u1" but no such registered user; A's u1 is not B's.
    assert!(env.data(&b, r#"{ user(id: "u1") { id } }"#, Value::Null).await["user"].is_null());
    let r = env.data(&a, r#"{ users(ids: ["u2", "nobody", "u1"]) { id } }"#, Value::Null).await;
    assert_eq!(r["users"], json!([{"id": "u2"}, null, {"id": "u1"}]));
    let ids: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let r = env.run(Some(&a), "query($ids: [ID!]!) { users(ids: $ids) { id } }", json!({"ids": ids})).await;
    assert_eq!(first_error(&r).1, "ids");
}

async fn bad_events_are_rejected_by_index(env: Env) {
    let (a, _) = env.tenant("A", "CL", chrono_tz::America::Santiago).await;
    let good = ev("ok", "S", "PLAY", "2026-03-10T10:00:00Z", ("VOD", "m"), None, None, None, Some(1.0));
    let mut bad_bw = good.clone();
    bad_bw["id"] = json!("b1");
    bad_bw["bandwidthKbps"] = json!(1_000_001.0);
    let mut bad_pos = good.clone();
    bad_pos["id"] = json!("b2");
    bad_pos["position"] = json!(-1.0);
    let mut bad_played = good.clone();
    bad_played["id"] = json!("b3");
    bad_played["playedSeconds"] = json!(-1.0);
    let mut future = good.clone();
    future["id"] = json!("b4");
    future["occurredAt"] = json!("2999-01-01T00:00:00Z");
    let mut no_session = good.clone();
    no_session["id"] = json!("b5");
    no_session["sessionId"] = json!("");
    let r = env.data(&a, EVENTS, json!({"e": [bad_bw, good, bad_pos, bad_played, future, no_session]})).await;
    assert_eq!(
        r["recordEvents"],
        json!({"accepted": 1, "duplicates": 0, "rejected": [
            {"index": 0, "argument": "bandwidthKbps"}, {"index": 2, "argument": "position"}, {"index": 3, "argument": "playedSeconds"},
            {"index": 4, "argument": "occurredAt"}, {"index": 5, "argument": "sessionId"}]})
    );
    let r = env.run(Some(&a), r#"{ user(id: "x") { activity(period: {from: "2026-01-01", to: "2025-01-01"}) { overview { streams } } } }"#, Value::Null).await;
    // No such user: null before the period is even read.
    assert!(r["data"]["user"].is_null());
    env.data(&a, USERS, json!({"u": [user("x")]})).await;
    let r = env.run(Some(&a), r#"{ user(id: "x") { activity(period: {from: "2026-01-01", to: "2025-01-01"}) { overview { streams } } } }"#, Value::Null).await;
    assert_eq!(first_error(&r).1, "period.to");
    let r = env
        .run(
            Some(&a),
            &format!(r#"{{ user(id: "x") {{ activity(period: {P}) {{ events(first: 1001) {{ totalCount }} }} }} }}"#),
            Value::Null,
        )
        .await;
    assert_eq!(first_error(&r).1, "first");
    let r = env
        .run(
            Some(&a),
            &format!(r#"{{ user(id: "x") {{ activity(period: {P}) {{ events(after: "zz") {{ totalCount }} }} }} }}"#),
            Value::Null,
        )
        .await;
    assert_eq!(first_error(&r).1, "after");
}

/// Late events for more sessions than one statement reads, with session ids that two
/// users share: every session is re-derived once and only from its own events.
async fn many_late_sessions_shared_ids(env: Env) {
    let (a, _) = env.tenant("A", "CL", chrono_tz::America::Santiago).await;
    env.data(&a, USERS, json!({"u": [user("u1"), user("u2")]})).await;
    let batch = |seq: u32, at: &str, played: Option<f64>| -> Value {
        let events: Vec<Value> = ["u1", "u2"]
            .iter()
            .flat_map(|u| {
                (0..1_100).map(move |i| {
                    json!({"id": format!("{u}-{i}-{seq}"), "sessionId": format!("s{i}"), "userId": u, "type": "PLAYING",
                           "occurredAt": at, "contentKind": "VOD", "contentId": "m1", "playedSeconds": played})
                })
            })
            .collect();
        Value::from(events)
    };
    // Each session: a PLAYING of 3 s, then a late first PLAYING without playedSeconds (0):
    // 3 s in total, no stream. A session read twice would count 6 s and become one.
    for (seq, at, played) in [(2, "2026-03-10T10:00:20Z", Some(3.0)), (1, "2026-03-10T10:00:00Z", None)] {
        let r = env.data(&a, EVENTS, json!({"e": batch(seq, at, played)})).await;
        assert_eq!(r["recordEvents"], json!({"accepted": 2_200, "duplicates": 0, "rejected": []}));
    }
    for u in ["u1", "u2"] {
        let r = activity(&env, &a, u, &format!("overview {{ {FIGS} }}")).await;
        assert_eq!(r["overview"], figures(0, 0, 1_100.0 * 3.0), "{u}");
    }
}

/// Events at the same instant come in byte order of their ids on every backend, as the
/// domain orders a session's events ("previous" and "first").
async fn equal_instants_order_by_id_bytes(env: Env) {
    let (a, _) = env.tenant("A", "CL", chrono_tz::America::Santiago).await;
    env.data(&a, USERS, json!({"u": [user("u1")]})).await;
    let events: Vec<Value> = ["b", "B", "a", "a-2", "A"]
        .iter()
        .map(|id| ev(id, "S", "PAUSE", "2026-03-10T10:00:00Z", ("VOD", "m"), None, None, None, None))
        .collect();
    env.data(&a, EVENTS, json!({"e": events})).await;
    let r = activity(&env, &a, "u1", "events { nodes { id } }").await;
    let ids: Vec<&str> =
        r["events"]["nodes"].as_array().into_iter().flatten().filter_map(|n| n["id"].as_str()).collect();
    assert_eq!(ids, ["A", "B", "a", "a-2", "b"]);
}

on_each_backend!(
    equal_instants_order_by_id_bytes,
    many_late_sessions_shared_ids,
    overview_follows_the_definitions,
    details_split_live_vod_devices_referrers_and_contents,
    bandwidth_by_hour_and_day,
    events_page_through_every_event_once,
    events_carry_hover_details_and_filter_by_type,
    a_user_without_activity_has_zeros,
    profiles_and_unknown_users,
    bad_events_are_rejected_by_index,
);
