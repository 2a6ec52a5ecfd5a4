//! Real time over HTTP and WebSocket: answers say whether they came from the cache, a
//! write is in the very next answer while unrelated answers stay cached, `/metrics`
//! counts it all, and subscriptions push fresh figures when (and only when) the data they
//! show changes, at most once a second, across processes.

use std::time::{Duration, Instant};

use ottstats_tests::ws::{Event, WsClient};
use ottstats_tests::{Env, TestApp, TestServer, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

const DASHBOARD: &str = operations::DASHBOARD;
const ACTIVITY: &str = operations::USER_ACTIVITY;
const UPSERT: &str = operations::UPSERT_USERS;
const RECORD: &str = operations::RECORD_EVENTS;

fn january() -> Value {
    json!({ "from": "2026-01-01", "to": "2026-02-01" })
}

fn user(id: &str, gender: &str) -> Value {
    json!({ "id": id, "name": id, "gender": gender, "registeredAt": "2026-01-10T08:00:00Z" })
}

/// A PLAY, then 30 s of PLAYING: one stream, one start, half a minute.
fn viewing(user: &str, session: &str) -> Value {
    json!([
        { "id": format!("{session}-1"), "sessionId": session, "userId": user, "type": "PLAY",
          "occurredAt": "2026-01-12T20:00:00Z" },
        { "id": format!("{session}-2"), "sessionId": session, "userId": user, "type": "PLAYING",
          "occurredAt": "2026-01-12T20:00:30Z", "playedSeconds": 30 },
    ])
}

/// Posts and returns (`data`, `extensions.cached`), failing on errors.
async fn ask(server: &TestServer, key: &str, query: &str, variables: Value) -> (Value, bool) {
    let (status, body) = server.graphql(Some(key), query, variables).await;
    assert_eq!(status, 200, "{body:#}");
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    let cached = body["extensions"]["cached"].as_bool().unwrap_or_else(|| panic!("no extensions.cached: {body:#}"));
    (body["data"].clone(), cached)
}

async fn dashboard(server: &TestServer, key: &str) -> (Value, bool) {
    let (data, cached) = ask(server, key, DASHBOARD, json!({ "p": january() })).await;
    (data["registrations"].clone(), cached)
}

async fn overview(server: &TestServer, key: &str, id: &str) -> (Value, bool) {
    let (data, cached) = ask(server, key, ACTIVITY, json!({ "id": id, "p": january() })).await;
    (data["user"]["activity"]["overview"].clone(), cached)
}

async fn answers_say_whether_they_were_cached_and_writes_are_read_at_once(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    ask(&server, &key, UPSERT, json!({ "u": [user("a", "FEMALE"), user("b", "MALE")] })).await;

    // The first run learns which data the answer reads, the second stores it.
    let (first, cached) = dashboard(&server, &key).await;
    assert_eq!((first["total"].clone(), cached), (json!(2), false));
    assert!(!dashboard(&server, &key).await.1);
    let (again, cached) = dashboard(&server, &key).await;
    assert_eq!((&again, cached), (&first, true));

    // A write is in the very next answer.
    let (written, cached) = ask(&server, &key, UPSERT, json!({ "u": [user("c", "FEMALE")] })).await;
    assert_eq!((written["upsertUsers"]["accepted"].clone(), cached), (json!(1), false));
    let (after, cached) = dashboard(&server, &key).await;
    assert!(!cached);
    assert_eq!(after["total"], 3);
    assert_eq!(after["byGender"][0], json!({ "gender": "FEMALE", "count": 2 }));
    assert_eq!(dashboard(&server, &key).await, (after.clone(), true));

    // One user's events change their answer only: the dashboard and user b stay cached.
    for _ in 0..2 {
        overview(&server, &key, "b").await;
        overview(&server, &key, "a").await;
    }
    assert!(overview(&server, &key, "a").await.1);
    ask(&server, &key, RECORD, json!({ "e": viewing("a", "s1") })).await;
    let (a, cached) = overview(&server, &key, "a").await;
    assert!(!cached);
    assert_eq!(a, json!({ "streams": 1, "playbackStarts": 1, "minutesConsumed": 0.5 }));
    assert_eq!(
        overview(&server, &key, "b").await,
        (json!({ "streams": 0, "playbackStarts": 0, "minutesConsumed": 0.0 }), true)
    );
    assert_eq!(dashboard(&server, &key).await, (after, true));

    // Another tenant with the same history of writes (so the same data versions) asking
    // the same question gets its own answer, never this one.
    let (_, other) = env.tenant("B", "CL", chrono_tz::UTC).await;
    ask(&server, &other, UPSERT, json!({ "u": [user("x", "MALE")] })).await;
    ask(&server, &other, UPSERT, json!({ "u": [user("y", "MALE")] })).await;
    for _ in 0..2 {
        dashboard(&server, &other).await;
    }
    let (theirs, cached) = dashboard(&server, &other).await;
    assert_eq!((theirs["total"].clone(), cached), (json!(2), true));
    assert_eq!(theirs["byGender"][1], json!({ "gender": "MALE", "count": 2 }));
}

/// The value of one sample line of `/metrics`, 0 when absent.
fn sample(metrics: &str, series: &str) -> f64 {
    metrics.lines().find_map(|l| l.strip_prefix(series).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0.0)
}

async fn metrics_count_requests_errors_and_cache_use(env: Env) {
    let server = env.serve(None).await;
    let (tenant, key) = env.tenant("A", "CL", chrono_tz::UTC).await;
    env.warm_index(&tenant).await;
    for _ in 0..3 {
        dashboard(&server, &key).await;
    }
    let (status, body) = server.graphql(Some(&key), DASHBOARD, json!({ "p": { "from": "x", "to": "y" } })).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].as_str()), (200, Some("BAD_USER_INPUT")));
    server.graphql(Some("ott_1_nope"), DASHBOARD, json!({ "p": january() })).await;

    let m = server.metrics().await;
    assert_eq!(sample(&m, r#"ottstats_http_requests_total{route="/graphql",status="200"}"#), 4.0, "{m}");
    assert_eq!(sample(&m, r#"ottstats_http_requests_total{route="/graphql",status="401"}"#), 1.0, "{m}");
    assert_eq!(sample(&m, r#"ottstats_http_request_duration_seconds_count{route="/graphql"}"#), 5.0, "{m}");
    assert_eq!(sample(&m, r#"ottstats_graphql_errors_total{code="BAD_USER_INPUT"}"#), 1.0, "{m}");
    assert_eq!(sample(&m, r#"ottstats_graphql_errors_total{code="UNAUTHENTICATED"}"#), 1.0, "{m}");
    // Whole answers: learn, store, then one hit; the bad request ran uncached (a miss).
    assert_eq!(sample(&m, r#"ottstats_cache_hits_total{panel="response"}"#), 1.0, "{m}");
    assert_eq!(sample(&m, r#"ottstats_cache_misses_total{panel="response"}"#), 3.0, "{m}");
    // Panels: the two runs asked for the gender counts, and the warm index answered both;
    // the SQL path and its panel cache were not asked.
    assert_eq!(sample(&m, "ottstats_index_answers_total"), 2.0, "{m}");
    assert_eq!(sample(&m, "ottstats_index_fallback_answers_total"), 0.0, "{m}");
    assert_eq!(sample(&m, "ottstats_index_tenants"), 1.0, "{m}");
    assert_eq!(sample(&m, "ottstats_index_loads_total"), 1.0, "{m}");
    assert_eq!(sample(&m, r#"ottstats_cache_misses_total{panel="genders"}"#), 0.0, "{m}");
    assert_eq!(m.contains("ottstats_redis_up 1"), env.redis.is_some(), "{m}");
}

/// Every dashboard open when a write lands misses at once: one request renders the new
/// answer, the others wait for it. The same holds for a question asked for the first time.
async fn concurrent_misses_of_one_answer_render_it_once(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    // The manifest is learnt; then a write makes the stored answer old.
    dashboard(&server, &key).await;
    ask(&server, &key, UPSERT, json!({ "u": [user("a", "FEMALE")] })).await;
    let before = server.metrics().await;
    let asks: Vec<_> = (0..20).map(|_| dashboard(&server, &key)).collect();
    for (answer, _) in futures_util::future::join_all(asks).await {
        assert_eq!(answer["total"], 1);
    }
    let after = server.metrics().await;
    let delta = |series: &str| sample(&after, series) - sample(&before, series);
    assert_eq!(delta(r#"ottstats_cache_misses_total{panel="response"}"#), 1.0, "{after}");
    assert_eq!(delta(r#"ottstats_cache_hits_total{panel="response"}"#), 19.0, "{after}");

    // A question never asked before: one request learns what it reads, one renders it.
    let before = after;
    let february = json!({ "p": { "from": "2026-02-01", "to": "2026-03-01" } });
    let asks: Vec<_> = (0..20).map(|_| ask(&server, &key, DASHBOARD, february.clone())).collect();
    for (answer, _) in futures_util::future::join_all(asks).await {
        assert_eq!(answer["registrations"]["total"], 0);
    }
    let after = server.metrics().await;
    let delta = |series: &str| sample(&after, series) - sample(&before, series);
    assert_eq!(delta(r#"ottstats_cache_misses_total{panel="response"}"#), 2.0, "{after}");
    assert_eq!(delta(r#"ottstats_cache_hits_total{panel="response"}"#), 18.0, "{after}");
}

const LIVE_REGISTRATIONS: &str =
    "subscription($p: PeriodInput!) { liveRegistrations(period: $p) { total byGender { gender count } } }";
const LIVE_ACTIVITY: &str = "subscription($id: ID!, $p: PeriodInput!) {
  liveUserActivity(id: $id, period: $p) {
    overview { streams playbackStarts minutesConsumed }
    details { medias { content { title } } }
  }
}";

async fn subscriptions_push_fresh_figures_at_most_once_a_second(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    let mut ws = WsClient::connect_with_key(&server.ws_url(), &key).await;
    ws.subscribe("r", LIVE_REGISTRATIONS, json!({ "p": january() })).await;
    let first = ws.next_data(Duration::from_secs(5)).await;
    assert_eq!(first["liveRegistrations"]["total"], 0);

    // The first push is sent after the write commits, so after `started`; the next one
    // may not be sent sooner than a second after it.
    let started = Instant::now();
    ask(&server, &key, UPSERT, json!({ "u": [user("a", "FEMALE")] })).await;
    let pushed = ws.next_data(Duration::from_secs(3)).await;
    assert_eq!(pushed["liveRegistrations"]["total"], 1);
    assert_eq!(pushed["liveRegistrations"]["byGender"][0], json!({ "gender": "FEMALE", "count": 1 }));

    // A burst of writes: pushes keep coming until the last write is in, never sooner
    // than a second apart. Push k (counting the one above as 1) is sent at least k - 1
    // seconds after `started`, whenever the client gets to read it.
    for id in ["b", "c", "d"] {
        ask(&server, &key, UPSERT, json!({ "u": [user(id, "MALE")] })).await;
    }
    let mut pushes = 1;
    loop {
        let data = ws.next_data(Duration::from_secs(5)).await;
        pushes += 1;
        let since = started.elapsed();
        assert!(since >= Duration::from_secs(pushes - 1), "push {pushes} came {since:?} after the first write");
        if data["liveRegistrations"]["total"] == 4 {
            break;
        }
    }
    // Three writes in well under a second make one push, or two on a slow machine.
    assert!(pushes <= 3, "{pushes} pushes for three writes");
    // Nothing changed since: nothing more is pushed.
    assert_eq!(ws.next_event(Duration::from_millis(1500)).await, None);
}

async fn user_activity_is_pushed_when_that_user_plays(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    ask(&server, &key, UPSERT, json!({ "u": [user("a", "FEMALE"), user("b", "MALE")] })).await;
    let mut ws = WsClient::connect_with_key(&server.ws_url(), &key).await;
    ws.subscribe("a", LIVE_ACTIVITY, json!({ "id": "a", "p": january() })).await;
    let first = ws.next_data(Duration::from_secs(5)).await;
    assert_eq!(first["liveUserActivity"]["overview"]["streams"], 0);

    // Another user's events and a registration push nothing.
    ask(&server, &key, RECORD, json!({ "e": viewing("b", "sb") })).await;
    ask(&server, &key, UPSERT, json!({ "u": [user("c", "OTHER")] })).await;
    assert_eq!(ws.next_event(Duration::from_millis(1500)).await, None);

    ask(&server, &key, RECORD, json!({ "e": viewing("a", "sa") })).await;
    let pushed = ws.next_data(Duration::from_secs(3)).await;
    assert_eq!(
        pushed["liveUserActivity"]["overview"],
        json!({ "streams": 1, "playbackStarts": 1, "minutesConsumed": 0.5 })
    );

    // Content titles are part of this answer (its medias show theirs): renaming a content
    // pushes it again.
    let contents = json!({ "c": [{ "id": "m1", "kind": "VOD", "title": "Film" }] });
    ask(&server, &key, "mutation($c: [ContentInput!]!) { upsertContents(contents: $c) { accepted } }", contents).await;
    ws.next_data(Duration::from_secs(3)).await;

    // An unknown user is refused by name.
    ws.subscribe("x", LIVE_ACTIVITY, json!({ "id": "nobody", "p": january() })).await;
    let errors = match ws.next_event(Duration::from_secs(5)).await {
        Some(Event::Error(errors)) => errors,
        Some(Event::Next(payload)) => payload["errors"].clone(),
        other => panic!("expected NOT_FOUND, got {other:?}"),
    };
    assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND", "{errors:#}");
    assert_eq!(errors[0]["extensions"]["argument"], "id", "{errors:#}");
}

async fn websocket_refuses_missing_and_bad_keys(env: Env) {
    let server = env.serve(None).await;
    let url = server.ws_url();
    let refused = |payload: Value| {
        let url = url.clone();
        async move { WsClient::connect(&url, payload).await.err().map(|(code, _)| code) }
    };
    assert_eq!(refused(json!({})).await, Some(4403));
    assert_eq!(refused(json!({ "Authorization": "Bearer ott_1_0000" })).await, Some(4403));
    // A ping before the handshake is answered; something else than connection_init is not.
    let mut pinging = WsClient::open(&url).await;
    pinging.send(json!({ "type": "ping" })).await;
    pinging.send(json!({ "type": "hello" })).await;
    assert_eq!(
        pinging.next_event(Duration::from_secs(5)).await,
        Some(Event::Closed(4400, "Invalid message: unknown `type`".into()))
    );
    // A subscription before connection_init.
    let mut early = WsClient::open(&url).await;
    early.subscribe("1", LIVE_REGISTRATIONS, json!({ "p": january() })).await;
    match early.next_event(Duration::from_secs(5)).await {
        Some(Event::Closed(code, _)) => assert_eq!(code, 4401),
        other => panic!("expected close 4401, got {other:?}"),
    }
    // Only graphql-transport-ws is spoken.
    let status = reqwest::Client::new()
        .get(server.url("/graphql/ws"))
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("Sec-WebSocket-Protocol", "graphql-ws")
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(status, 400);
}

/// A subscriber on one process sees a write made through another within two seconds.
/// Over Redis the notice crosses at once; without it (SQLite here) the subscriber's own
/// periodic re-read finds the change, within [`RECHECK_EVERY`] plus a second.
async fn a_subscriber_on_one_process_sees_writes_made_through_another(env: Env) {
    let writer = env.serve(None).await;
    let reader = TestServer::start(ottstats_server::AppState::new(env.second_process(), None)).await;
    let (_, key) = env.tenant("A", "CL", chrono_tz::UTC).await;
    let mut ws = WsClient::connect_with_key(&reader.ws_url(), &key).await;
    ws.subscribe("r", LIVE_REGISTRATIONS, json!({ "p": january() })).await;
    assert_eq!(ws.next_data(Duration::from_secs(5)).await["liveRegistrations"]["total"], 0);
    // Warm the reader's caches, so that a stale answer would show.
    for _ in 0..3 {
        dashboard(&reader, &key).await;
    }

    let wrote = Instant::now();
    ask(&writer, &key, UPSERT, json!({ "u": [user("a", "FEMALE")] })).await;
    let limit = if env.redis.is_some() { Duration::from_secs(2) } else { Duration::from_secs(7) };
    let pushed = ws.next_data(limit).await;
    assert_eq!(pushed["liveRegistrations"]["total"], 1, "after {:?}", wrote.elapsed());
    // And a plain read through the other process is exact at once.
    assert_eq!(dashboard(&reader, &key).await.0["total"], 1);
}

on_each_backend!(
    answers_say_whether_they_were_cached_and_writes_are_read_at_once,
    metrics_count_requests_errors_and_cache_use,
    concurrent_misses_of_one_answer_render_it_once,
    subscriptions_push_fresh_figures_at_most_once_a_second,
    user_activity_is_pushed_when_that_user_plays,
    websocket_refuses_missing_and_bad_keys,
    a_subscriber_on_one_process_sees_writes_made_through_another,
);
