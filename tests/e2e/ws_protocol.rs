//! `graphql-transport-ws` as PROTOCOL.md says, and the bounds of `/graphql/ws`: one test
//! per rule (close codes 4400, 1009, 4409, 4429; caps per socket and per tenant answered
//! with a coded `error`; codes on validation errors; a client that does not read), and
//! identical subscriptions sharing one execution without serving stale figures.

use std::time::Duration;

use ottstats_domain::access::{NewKey, Scopes};
use ottstats_graphql::Services;
use ottstats_server::{AppState, SocketLimits};
use ottstats_tests::ws::{Event, WsClient};
use ottstats_tests::{Env, TestApp, TestServer, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

const LIVE: &str = operations::LIVE_REGISTRATIONS;
const ACTIVITY: &str = "subscription($id: ID!, $p: PeriodInput!) {
  liveUserActivity(id: $id, period: $p) { overview { streams playbackStarts } events(first: 10) { totalCount } }
}";
const UPSERT: &str = operations::UPSERT_USERS;
const RECORD: &str = operations::RECORD_EVENTS;
const WAIT: Duration = Duration::from_secs(10);

fn january() -> Value {
    json!({ "p": { "from": "2026-01-01", "to": "2026-02-01" } })
}

fn user(id: &str) -> Value {
    json!({ "id": id, "name": id, "gender": "FEMALE", "registeredAt": "2026-01-10T08:00:00Z" })
}

fn play(id: &str, user: &str) -> Value {
    json!({ "id": id, "sessionId": id, "userId": user, "type": "PLAY", "occurredAt": "2026-01-12T20:00:00Z" })
}

async fn write(server: &TestServer, key: &str, query: &str, variables: Value) {
    let (status, body) = server.graphql(Some(key), query, variables).await;
    assert!(status == 200 && body.get("errors").is_none(), "{status} {body:#}");
}

/// The server with other socket bounds than the defaults.
async fn serve_with(env: &Env, limits: SocketLimits) -> TestServer {
    TestServer::start(AppState::with_socket_limits(env.services.clone(), None, limits)).await
}

/// The errors of the next event, which must be an `error` message.
async fn refusal(ws: &mut WsClient) -> Value {
    match ws.next_event(WAIT).await {
        Some(Event::Error(errors)) => errors,
        other => panic!("expected an error message, got {other:?}"),
    }
}

async fn closed(ws: &mut WsClient) -> (u16, String) {
    match ws.next_event(WAIT).await {
        Some(Event::Closed(code, reason)) => (code, reason),
        other => panic!("expected the socket to close, got {other:?}"),
    }
}

/// A value of `/metrics`, 0 when absent.
async fn metric(server: &TestServer, series: &str) -> f64 {
    let text = server.metrics().await;
    text.lines().find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok())).unwrap_or(0.0)
}

async fn a_reused_operation_id_closes_with_4409(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    let mut ws = WsClient::connect_with_key(&server.ws_url(), &key).await;
    ws.subscribe("a", LIVE, january()).await;
    ws.next_data(WAIT).await;
    // Completed by the client, the id is free again.
    ws.send(json!({ "id": "a", "type": "complete" })).await;
    ws.subscribe("a", LIVE, january()).await;
    ws.next_data(WAIT).await;
    ws.subscribe("a", LIVE, january()).await;
    assert_eq!(closed(&mut ws).await, (4409, "Subscriber for a already exists".to_owned()));
}

async fn a_message_the_protocol_does_not_allow_closes_with_4400(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    for bad in [
        "not json".to_owned(),
        json!({ "type": "hello" }).to_string(),
        json!({ "type": "subscribe", "payload": { "query": LIVE } }).to_string(),
        json!({ "type": "subscribe", "id": "", "payload": { "query": LIVE } }).to_string(),
        json!({ "type": "subscribe", "id": "1", "payload": { "query": LIVE, "variables": [1] } }).to_string(),
        json!({ "type": "complete" }).to_string(),
        json!({ "type": "next", "id": "1", "payload": {} }).to_string(),
    ] {
        let mut ws = WsClient::connect_with_key(&server.ws_url(), &key).await;
        ws.send_text(&bad).await;
        let (code, reason) = closed(&mut ws).await;
        assert_eq!(code, 4400, "{bad}: {reason}");
        assert!(reason.starts_with("Invalid message: "), "{bad}: {reason}");
    }
    // Before connection_init too.
    let mut early = WsClient::open(&server.ws_url()).await;
    early.send_text("[]").await;
    assert_eq!(closed(&mut early).await.0, 4400);
}

async fn messages_are_bounded_and_pings_rationed_before_connection_init(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    let padded = |bytes: usize| json!({ "type": "ping", "payload": { "pad": "x".repeat(bytes) } }).to_string();

    // A ping of 20 KiB before connection_init: over the 16 KiB a socket gets until then.
    let mut early = WsClient::open(&server.ws_url()).await;
    early.send_text(&padded(20 * 1024)).await;
    assert_eq!(closed(&mut early).await.0, 1009);
    // The same ping after connection_ack is fine; one over 1 MiB is not.
    let mut ws = WsClient::connect_with_key(&server.ws_url(), &key).await;
    ws.send_text(&padded(20 * 1024)).await;
    assert!(ws.pong(WAIT).await);
    if ws.try_send_text(&padded(1024 * 1024 + 1)).await {
        assert_eq!(closed(&mut ws).await.0, 1009);
    }

    // A flood of pings gets a burst of pongs answered, not one each.
    let mut flooding = WsClient::open(&server.ws_url()).await;
    for _ in 0..50 {
        flooding.send(json!({ "type": "ping" })).await;
    }
    let mut pongs = 0;
    while flooding.pong(Duration::from_millis(500)).await {
        pongs += 1;
    }
    assert!((1..=SocketLimits::DEFAULT.ping_burst as usize + 2).contains(&pongs), "{pongs} pongs for 50 pings");
}

async fn a_second_connection_init_closes_with_4429(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    let mut ws = WsClient::connect_with_key(&server.ws_url(), &key).await;
    ws.send(json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {key}") } })).await;
    assert_eq!(closed(&mut ws).await, (4429, "Too many initialisation requests".to_owned()));
}

async fn operations_past_the_socket_cap_are_refused_and_the_socket_serves_the_others(env: Env) {
    let limits = SocketLimits { operations_per_socket: 3, ..SocketLimits::DEFAULT };
    let server = serve_with(&env, limits).await;
    let (_, key) = env.tenant("A", "CL", chrono_tz::UTC).await;
    let mut ws = WsClient::connect_with_key(&server.ws_url(), &key).await;
    for id in ["1", "2", "3"] {
        ws.subscribe(id, LIVE, january()).await;
        ws.next_data(WAIT).await;
    }
    ws.subscribe("4", LIVE, january()).await;
    let errors = refusal(&mut ws).await;
    assert_eq!(errors[0]["extensions"]["code"], "RATE_LIMITED", "{errors:#}");
    assert!(errors[0]["message"].as_str().is_some_and(|m| m.contains("at most 3")), "{errors:#}");

    // The three still push, and a completed one makes room.
    write(&server, &key, UPSERT, json!({ "u": [user("a")] })).await;
    for _ in 0..3 {
        assert_eq!(ws.next_data(WAIT).await["liveRegistrations"]["total"], 1);
    }
    ws.send(json!({ "id": "2", "type": "complete" })).await;
    ws.subscribe("4", LIVE, january()).await;
    assert_eq!(ws.next_data(WAIT).await["liveRegistrations"]["total"], 1);
    assert_eq!(metric(&server, "ottstats_ws_refused_operations_total").await, 1.0);
}

async fn the_tenant_cap_counts_every_socket_and_is_given_back_when_a_socket_closes(env: Env) {
    let limits = SocketLimits { operations_per_socket: 3, operations_per_tenant: 4, ..SocketLimits::DEFAULT };
    let server = serve_with(&env, limits).await;
    let (_, key) = env.tenant("A", "CL", chrono_tz::UTC).await;
    let (_, other) = env.tenant("B", "CL", chrono_tz::UTC).await;
    let mut first = WsClient::connect_with_key(&server.ws_url(), &key).await;
    for id in ["1", "2", "3"] {
        first.subscribe(id, LIVE, january()).await;
        first.next_data(WAIT).await;
    }
    let mut second = WsClient::connect_with_key(&server.ws_url(), &key).await;
    second.subscribe("1", LIVE, january()).await;
    second.next_data(WAIT).await;
    second.subscribe("2", LIVE, january()).await;
    let errors = refusal(&mut second).await;
    assert_eq!(errors[0]["extensions"]["code"], "RATE_LIMITED", "{errors:#}");
    assert!(errors[0]["message"].as_str().is_some_and(|m| m.contains("tenant")), "{errors:#}");
    // Another tenant has a count of its own.
    let mut theirs = WsClient::connect_with_key(&server.ws_url(), &other).await;
    theirs.subscribe("1", LIVE, january()).await;
    theirs.next_data(WAIT).await;
    assert_eq!(metric(&server, "ottstats_ws_operations").await, 5.0);

    // The first socket goes: its three are given back.
    drop(first);
    let mut freed = false;
    for attempt in 0..50 {
        second.subscribe(&format!("retry{attempt}"), LIVE, january()).await;
        match second.next_event(WAIT).await {
            Some(Event::Next(_)) => {
                freed = true;
                break;
            }
            Some(Event::Error(_)) => tokio::time::sleep(Duration::from_millis(100)).await,
            other => panic!("{other:?}"),
        }
    }
    assert!(freed, "the closed socket's operations were never given back");
    drop((second, theirs));
    for _ in 0..50 {
        if metric(&server, "ottstats_ws_operations").await == 0.0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("operations are still counted after every socket closed");
}

async fn errors_pushed_over_the_socket_carry_a_code(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    let mut ws = WsClient::connect_with_key(&server.ws_url(), &key).await;
    // Over the field limit (2,000 once expanded), refused before it runs.
    let many = "overview { streams } ".repeat(1_100);
    let too_complex =
        format!("subscription($p: PeriodInput!) {{ liveUserActivity(id: \"a\", period: $p) {{ {many} }} }}");
    for (query, variables, code) in [
        ("subscription { nothingHere }", json!({}), "BAD_USER_INPUT"),
        ("subscription {", json!({}), "BAD_USER_INPUT"),
        (too_complex.as_str(), january(), "QUERY_TOO_COMPLEX"),
    ] {
        ws.subscribe("v", query, variables).await;
        // An operation refused before it runs gets `error`, which ends it: no `complete`.
        let errors = refusal(&mut ws).await;
        assert_eq!(errors[0]["extensions"]["code"], code, "{query}: {errors:#}");
    }
    assert_eq!(ws.next_event(Duration::from_millis(500)).await, None);
    // Errors of the execution (a variable missing, an unknown user) come in a `next`
    // followed by `complete`, as the reference server sends them, and are coded too.
    let unknown =
        "subscription($p: PeriodInput!) { liveUserActivity(id: \"nobody\", period: $p) { overview { streams } } }";
    for (query, variables, code) in [(LIVE, json!({}), "BAD_USER_INPUT"), (unknown, january(), "NOT_FOUND")] {
        ws.subscribe("x", query, variables).await;
        let errors = match ws.next_event(WAIT).await {
            Some(Event::Next(payload)) => payload["errors"].clone(),
            other => panic!("expected a next with errors, got {other:?}"),
        };
        assert_eq!(errors[0]["extensions"]["code"], code, "{query}: {errors:#}");
        assert_eq!(ws.next_event(WAIT).await, Some(Event::Complete));
    }
}

async fn a_client_that_does_not_read_is_closed_and_its_operations_freed(env: Env) {
    let limits = SocketLimits { write_timeout: Duration::from_secs(1), ..SocketLimits::DEFAULT };
    let server = serve_with(&env, limits).await;
    let (_, key) = env.tenant("A", "CL", chrono_tz::UTC).await;
    // About 2 MB a push (every hour of 13 months), twenty of them: far more than the
    // socket buffers of both ends hold while the client reads nothing.
    let timeline = "subscription($p: PeriodInput!) { liveRegistrations(period: $p) {
        timeline(granularity: HOUR) { buckets { start end total byGender { gender count } } } } }";
    let long = json!({ "p": { "from": "2025-01-01", "to": "2026-02-01" } });
    let mut ws = WsClient::connect_with_key(&server.ws_url(), &key).await;
    for i in 0..20 {
        ws.subscribe(&i.to_string(), timeline, long.clone()).await;
    }
    let mut freed = false;
    for _ in 0..150 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let held = metric(&server, "ottstats_ws_operations").await;
        if held == 0.0 {
            freed = true;
            break;
        }
    }
    assert!(freed, "a socket that does not read still holds its operations");
    // What was sent before the socket was dropped may still be read; then it ends.
    let mut ended = false;
    for _ in 0..200 {
        match ws.next_event(WAIT).await {
            Some(Event::Closed(code, _)) => {
                assert!(code == 4499 || code == 1006, "closed with {code}");
                ended = true;
                break;
            }
            Some(_) => {}
            None => panic!("the socket neither ended nor sent anything"),
        }
    }
    assert!(ended);
}

async fn identical_subscriptions_share_one_execution_and_a_joiner_never_gets_stale_figures(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    write(&server, &key, UPSERT, json!({ "u": [user("a")] })).await;
    let variables = json!({ "id": "a", "p": january()["p"] });
    let mut sockets = Vec::new();
    for _ in 0..5 {
        let mut ws = WsClient::connect_with_key(&server.ws_url(), &key).await;
        ws.subscribe("1", ACTIVITY, variables.clone()).await;
        sockets.push(ws);
    }
    for ws in &mut sockets {
        assert_eq!(ws.next_data(WAIT).await["liveUserActivity"]["events"]["totalCount"], 0);
    }
    assert_eq!(metric(&server, "ottstats_ws_shared_subscriptions").await, 1.0);
    let answers = metric(&server, "ottstats_ws_answers_total").await;
    assert!(answers <= 2.0, "{answers} answers for five identical subscriptions");

    // One write: one answer, pushed to all five.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    write(&server, &key, RECORD, json!({ "e": [play("e1", "a")] })).await;
    for ws in &mut sockets {
        assert_eq!(ws.next_data(WAIT).await["liveUserActivity"]["events"]["totalCount"], 1);
    }
    assert_eq!(metric(&server, "ottstats_ws_answers_total").await, answers + 1.0);

    // A write through another process that announces nothing (as `ottstats import`): the
    // shared answer is behind for up to 5 s, and a socket joining must not be given it.
    let quiet = env.db.store.clone().with_change_sink(std::sync::Arc::new(ottstats_domain::scope::NoNotices));
    let other = TestServer::start(AppState::new(Services::new(quiet, None, env.path.settings()), None)).await;
    write(&other, &key, RECORD, json!({ "e": [play("e2", "a")] })).await;
    let mut late = WsClient::connect_with_key(&server.ws_url(), &key).await;
    late.subscribe("1", ACTIVITY, variables.clone()).await;
    assert_eq!(late.next_data(WAIT).await["liveUserActivity"]["events"]["totalCount"], 2);

    // Sharing stops with the last socket.
    drop((sockets, late));
    for _ in 0..50 {
        if metric(&server, "ottstats_ws_shared_subscriptions").await == 0.0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the shared execution outlived its sockets");
}

async fn operations_and_their_pushes_are_charged_to_the_key_s_rate_limit(env: Env) {
    let (tenant, key) = env.tenant("A", "CL", chrono_tz::UTC).await;
    let writer = NewKey { name: "writer".into(), scopes: Scopes::parse("write").unwrap(), expires_at: None };
    let (_, writer) = env.services.keys.create_key(tenant.id, writer).await.unwrap();
    assert!(env.services.tenants.set_rate_limit(tenant.id, Some(100)).await.unwrap());
    let server = env.serve(None).await;
    // 68 points (33 DAY buckets × 2 + 2), the cost the same question has over HTTP.
    let series = "subscription($p: PeriodInput!) { liveRegistrations(period: $p) { timeline { buckets { total } } } }";
    let mut ws = WsClient::connect_with_key(&server.ws_url(), &key).await;
    ws.subscribe("a", series, january()).await;
    ws.next_data(WAIT).await;
    // 32 points left: a second operation is refused before it runs, the first goes on.
    ws.subscribe("b", series, january()).await;
    let errors = refusal(&mut ws).await;
    let extensions = &errors[0]["extensions"];
    assert_eq!(extensions["code"], "RATE_LIMITED", "{errors:#}");
    assert_eq!(extensions["rateLimit"]["cost"], 68);
    assert_eq!(extensions["rateLimit"]["limit"], 100);
    // What the bucket holds (32, and what a moment refilled), short of the cost.
    assert!((32..40).contains(&extensions["rateLimit"]["remaining"].as_u64().unwrap()), "{errors:#}");
    assert!((1..=60).contains(&extensions["retryAfter"].as_u64().unwrap()), "{errors:#}");
    // A write (by a key of its own) makes the first push again: it costs 68 more, which
    // the bucket lacks, so the operation ends with RATE_LIMITED.
    write(&server, &writer, UPSERT, json!({ "u": [user("u1")] })).await;
    let errors = refusal(&mut ws).await;
    assert_eq!(errors[0]["extensions"]["code"], "RATE_LIMITED", "{errors:#}");
    assert_eq!(ws.next_event(Duration::from_millis(500)).await, None);
    assert_eq!(metric(&server, "ottstats_graphql_errors_total{code=\"RATE_LIMITED\"}").await, 2.0);
}

on_each_backend!(
    a_reused_operation_id_closes_with_4409,
    a_message_the_protocol_does_not_allow_closes_with_4400,
    messages_are_bounded_and_pings_rationed_before_connection_init,
    a_second_connection_init_closes_with_4429,
    operations_past_the_socket_cap_are_refused_and_the_socket_serves_the_others,
    the_tenant_cap_counts_every_socket_and_is_given_back_when_a_socket_closes,
    errors_pushed_over_the_socket_carry_a_code,
    a_client_that_does_not_read_is_closed_and_its_operations_freed,
    identical_subscriptions_share_one_execution_and_a_joiner_never_gets_stale_figures,
    operations_and_their_pushes_are_charged_to_the_key_s_rate_limit,
);
