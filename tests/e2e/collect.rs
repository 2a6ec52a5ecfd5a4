//! `POST /collect/events`, the player collector: a JSON array or NDJSON of
//! `PlayerEventInput`, reported item by item as `recordEvents` reports, with an ingest
//! key (which opens nothing else), open CORS, bounded bodies in room of their own (a held
//! collector body never stops `/graphql`), per-key rate limits charged once a batch has a
//! write slot, 503 with `Retry-After` when the database falls behind, 500 `INTERNAL` when
//! a write fails for a bug (what got 200 is stored, what got 503 or 500 is not).

use std::time::{Duration, Instant};

use ottstats_domain::access::{NewKey, Scopes};
use ottstats_domain::tenant::Tenant;
use ottstats_server::{AppState, CollectSettings, CorsOrigins, HttpSettings, Settings};
use ottstats_tests::ws::WsClient;
use ottstats_tests::{Answer, Env, TestApp, TestBackend, TestServer, on_each_backend};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::operations;

const EVENTS: &str = "{ user(id: \"u1\") { activity(period: {from: \"2026-01-01\", to: \"2026-02-01\", timeZone: \"UTC\"}) { events { totalCount } } } }";
const RECORD_EVENTS_REPORT: &str = "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted duplicates rejected { index code argument message } } }";

fn event(id: &str) -> Value {
    json!({"id": id, "sessionId": "s1", "userId": "u1", "type": "PLAYING", "occurredAt": "2026-01-10T10:00:00Z",
           "position": 30.5, "contentKind": "VOD", "contentId": "m1", "device": "Chrome", "playedSeconds": 10})
}

fn with(mut event: Value, field: &str, value: Value) -> Value {
    event[field] = value;
    event
}

fn ndjson(items: &[Value]) -> String {
    items.iter().map(|i| format!("{i}\n")).collect()
}

/// How the key goes.
#[derive(Clone, Copy)]
enum Key<'a> {
    Bearer(&'a str),
    Query(&'a str),
    None,
}

async fn send(server: &TestServer, key: Key<'_>, content_type: &str, body: String) -> Answer {
    let mut url = server.url("/collect/events");
    let client = reqwest::Client::new();
    if let Key::Query(k) = key {
        url = format!("{url}?key={k}");
    }
    let mut request = client.post(url).header("content-type", content_type).body(body);
    if let Key::Bearer(k) = key {
        request = request.bearer_auth(k);
    }
    let answer = Answer::of(request).await;
    assert!(!answer.body.is_string(), "not JSON: {}", answer.body);
    answer
}

async fn key(env: &Env, tenant: &Tenant, scopes: &str) -> String {
    let new = NewKey { name: scopes.to_owned(), scopes: Scopes::parse(scopes).unwrap(), expires_at: None };
    env.services.keys.create_key(tenant.id, new).await.unwrap_or_else(|e| panic!("{e}")).1
}

async fn seed_user(server: &TestServer, key: &str) {
    let users = json!([{"id": "u1", "name": "Ana", "registeredAt": "2026-01-01T12:00:00Z"}]);
    let (_, body) = server.graphql(Some(key), operations::UPSERT_USERS, json!({"u": users})).await;
    assert_eq!(body["data"]["upsertUsers"]["accepted"], 1, "{body}");
}

async fn events_stored(server: &TestServer, read_key: &str) -> Value {
    let (status, body) = server.graphql(Some(read_key), EVENTS, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    body["data"]["user"]["activity"]["events"]["totalCount"].clone()
}

async fn reports_item_by_item_as_record_events_does(env: Env) {
    let TestApp { server, tenant, key: full } = env.spawn_app().await;
    seed_user(&server, &full).await;
    let (ingest, read) = (key(&env, &tenant, "ingest").await, key(&env, &tenant, "read").await);

    // An array: a valid event, the same id again, a value the domain refuses, an item that
    // is no event at all.
    let items = [event("a1"), event("a1"), with(event("a2"), "type", json!("JUMP")), json!(42)];
    let a = send(&server, Key::Bearer(&ingest), "application/json", json!(items).to_string()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.header("content-type"), "application/json; charset=utf-8");
    let rejected: Vec<(Value, Value, Value)> = a.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].clone(), r["argument"].clone(), r["code"].clone()))
        .collect();
    assert_eq!((a.body["accepted"].clone(), a.body["duplicates"].clone()), (json!(1), json!(1)), "{}", a.body);
    assert_eq!(
        rejected,
        [(json!(2), json!("type"), json!("BAD_USER_INPUT")), (json!(3), json!("event"), json!("BAD_USER_INPUT"))]
    );
    assert!(a.body["rejected"][0].get("line").is_none(), "an array's items have no line");
    // Stored the moment the answer came: read right after.
    assert_eq!(events_stored(&server, &read).await, 1);

    // NDJSON, as `text/plain` with the key in the query string (as `navigator.sendBeacon`
    // sends it): a new event, a blank line, the stored one again, a line that is no JSON,
    // an instant that is none.
    let body = format!(
        "{}\n   \n{}{{\"id\": \"n2\",\n{}",
        event("n1"),
        ndjson(&[event("a1")]),
        ndjson(&[with(event("n3"), "occurredAt", json!("yesterday"))])
    );
    let a = send(&server, Key::Query(&ingest), "text/plain;charset=UTF-8", body).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let rejected: Vec<(Value, Value, Value)> = a.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["index"].clone(), r["line"].clone(), r["argument"].clone()))
        .collect();
    assert_eq!((a.body["accepted"].clone(), a.body["duplicates"].clone()), (json!(1), json!(1)), "{}", a.body);
    assert_eq!(rejected, [(json!(2), json!(4), json!("event")), (json!(3), json!(5), json!("occurredAt"))]);
    assert_eq!(events_stored(&server, &read).await, 2);
    // `application/x-ndjson` with a bearer key; a key with `write` may collect too.
    let a = send(&server, Key::Bearer(&full), "application/x-ndjson", ndjson(&[event("x1")])).await;
    assert_eq!((a.status, a.body["accepted"].clone()), (200, json!(1)), "{}", a.body);

    // The report is `recordEvents`' for the same batch, field for field.
    let batch = |p: &str| {
        vec![event(&format!("{p}1")), event(&format!("{p}1")), with(event(&format!("{p}2")), "position", json!(-1))]
    };
    let (_, graphql) = server.graphql(Some(&full), RECORD_EVENTS_REPORT, json!({"e": batch("g")})).await;
    let a = send(&server, Key::Bearer(&ingest), "application/json", json!(batch("c")).to_string()).await;
    assert_eq!(a.body, graphql["data"]["recordEvents"], "{graphql}");
    assert_eq!(a.body["rejected"][0]["argument"], "position");
    assert_eq!(events_stored(&server, &read).await, 5);
    // A body that is no batch is refused whole.
    let a = send(&server, Key::Bearer(&ingest), "application/json", "[{\"id\": ".into()).await;
    assert_eq!((a.status, a.code()), (400, "BAD_USER_INPUT"), "{}", a.body);
    let a = send(&server, Key::Bearer(&ingest), "application/x-www-form-urlencoded", "a=1".into()).await;
    assert_eq!((a.status, a.code()), (415, "BAD_USER_INPUT"), "{}", a.body);
}

async fn keys_open_the_collector_and_nothing_else(env: Env) {
    let TestApp { server, tenant, key: full } = env.spawn_app().await;
    seed_user(&server, &full).await;
    let (ingest, read) = (key(&env, &tenant, "ingest").await, key(&env, &tenant, "read").await);
    let one = || json!([event("k1")]).to_string();
    // No key, a bad key: 401. A key without `ingest` or `write`: 403.
    for k in [Key::None, Key::Bearer("ott_1_nope"), Key::Query("ott_1_nope")] {
        let a = send(&server, k, "application/json", one()).await;
        assert_eq!((a.status, a.code()), (401, "UNAUTHENTICATED"), "{}", a.body);
        assert_eq!(a.header("www-authenticate"), "Bearer");
    }
    let a = send(&server, Key::Bearer(&read), "application/json", one()).await;
    assert_eq!((a.status, a.code()), (403, "FORBIDDEN"), "{}", a.body);
    assert_eq!(a.body["errors"][0]["extensions"]["scope"], "ingest");
    assert_eq!(send(&server, Key::Bearer(&ingest), "application/json", one()).await.status, 200);

    // The ingest key at every other endpoint: refused whole, saying where it may go.
    let (status, body) = server.graphql(Some(&ingest), "{ __typename }", Value::Null).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (403, json!("FORBIDDEN")), "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("/collect/events"), "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let (status, body) = server.graphql(Some(&ingest), operations::RECORD_EVENTS, json!({"e": [event("k2")]})).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (403, json!("FORBIDDEN")), "{body}");
    let get = reqwest::Client::new()
        .get(server.url("/graphql?query=%7B__typename%7D"))
        .bearer_auth(&ingest)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 403);
    let body: Value = get.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let refused = WsClient::connect(&server.ws_url(), json!({"Authorization": format!("Bearer {ingest}")})).await;
    let (code, reason) = refused.err().expect("an ingest key opens no socket");
    assert_eq!(code, 4403);
    assert!(reason.contains("ingest key") && reason.contains("/collect/events"), "{reason}");
    // `/metrics` takes no key: the ingest key changes nothing there.
    server.metrics().await;
    // With `read` beside `ingest`, the key reads as a read key does.
    let both = key(&env, &tenant, "ingest read").await;
    assert_eq!(server.graphql(Some(&both), "{ __typename }", Value::Null).await.0, 200);
    assert!(WsClient::connect(&server.ws_url(), json!({"Authorization": format!("Bearer {both}")})).await.is_ok());
    // Only the collected event went in: the refused mutation stored nothing.
    assert_eq!(events_stored(&server, &read).await, 1);
}

async fn cors_is_open_whatever_the_allow_list(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let ingest = key(&env, &tenant, "ingest").await;
    let cors_origins = CorsOrigins::parse("https://dashboard.example.com").unwrap();
    let http = HttpSettings { cors_origins, ..HttpSettings::default() };
    let server = TestServer::start(AppState::with_settings(env.services.clone(), None, http)).await;
    let client = reqwest::Client::new();
    let preflight = |path: &str| {
        client
            .request(reqwest::Method::OPTIONS, server.url(path))
            .header("origin", "https://player.example.org")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let r = preflight("/collect/events").await.unwrap();
    assert_eq!(r.status(), 200);
    let h = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    assert_eq!(h("access-control-allow-origin"), "*");
    assert!(h("access-control-allow-methods").contains("post"), "{:?}", r.headers());
    let allowed = h("access-control-allow-headers");
    assert!(allowed.contains("authorization") && allowed.contains("content-type"), "{allowed}");
    assert_eq!(h("access-control-max-age"), "86400");
    assert_eq!(h("access-control-allow-credentials"), "", "never with credentials");
    // The allow-list still holds for /graphql.
    let r = preflight("/graphql").await.unwrap();
    assert_eq!(r.headers().get("access-control-allow-origin"), None, "{:?}", r.headers());
    // The answer itself, and a refusal, carry the header too.
    for k in [Key::Bearer(&ingest), Key::None] {
        let mut request = client
            .post(server.url("/collect/events"))
            .header("origin", "https://player.example.org")
            .header("content-type", "text/plain")
            .body(json!([event("o1")]).to_string());
        if let Key::Bearer(k) = k {
            request = request.bearer_auth(k);
        }
        let r = request.send().await.unwrap();
        assert!(matches!(r.status().as_u16(), 200 | 401), "{}", r.status());
        assert_eq!(r.headers().get("access-control-allow-origin").unwrap(), "*");
    }
}

async fn bounds_bodies_batches_and_rates(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    assert!(env.services.tenants.set_rate_limit(tenant.id, Some(20)).await.unwrap());
    let ingest = key(&env, &tenant, "ingest").await;
    let collect = CollectSettings { max_body_bytes: 64 * 1024, ..CollectSettings::default() };
    let state = AppState::from_settings(env.services.clone(), None, Settings { collect, ..Settings::default() });
    let server = TestServer::start(state).await;
    // Over the body's bound: 413, with a code.
    let big = ndjson(&vec![event("b"); 400]);
    assert!(big.len() > 64 * 1024);
    let a = send(&server, Key::Bearer(&ingest), "application/x-ndjson", big.clone()).await;
    assert_eq!((a.status, a.code()), (413, "BAD_USER_INPUT"), "{}", a.body);
    // More items than a batch may hold: refused whole, before any is parsed or stored.
    let a = send(&server, Key::Bearer(&ingest), "application/x-ndjson", "{}\n".repeat(10_001)).await;
    assert_eq!((a.status, a.code()), (400, "BAD_USER_INPUT"), "{}", a.body);
    assert_eq!(a.body["errors"][0]["extensions"]["argument"], "events");
    // A point per item, from the key's bucket of 20 a minute.
    let batch = |n: usize, p: &str| json!((0..n).map(|i| event(&format!("{p}{i}"))).collect::<Vec<_>>()).to_string();
    let a = send(&server, Key::Bearer(&ingest), "application/json", batch(15, "r")).await;
    assert_eq!((a.status, a.body["accepted"].clone()), (200, json!(15)), "{}", a.body);
    let a = send(&server, Key::Bearer(&ingest), "application/json", batch(10, "s")).await;
    assert_eq!((a.status, a.code()), (429, "RATE_LIMITED"), "{}", a.body);
    let retry: u64 = a.header("retry-after").parse().unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    assert_eq!(a.body["extensions"]["rateLimit"]["cost"], 10);
    let metrics = server.metrics().await;
    for line in [
        "ottstats_collect_refusals_total{reason=\"too_large\"} 1",
        "ottstats_collect_refusals_total{reason=\"bad_request\"} 1",
        "ottstats_collect_refusals_total{reason=\"rate_limited\"} 1",
        "ottstats_collect_events_total{outcome=\"accepted\"} 15",
    ] {
        assert!(metrics.contains(line), "{line} is not in\n{metrics}");
    }
}

/// Holds the database's write lock from a connection of its own until dropped (or
/// `release`d): SQLite's, for the whole file; PostgreSQL's, on the events table.
struct Stall(Option<sea_orm::DatabaseTransaction>);

impl Stall {
    async fn hold(env: &Env) -> Stall {
        let db = sea_orm::Database::connect(&env.db.url).await.unwrap();
        let txn = db.begin().await.unwrap();
        let statement = match env.db.backend {
            TestBackend::Sqlite => "CREATE TABLE collector_stall (x INTEGER)",
            TestBackend::Postgres => "LOCK TABLE player_events IN EXCLUSIVE MODE",
        };
        txn.execute_unprepared(statement).await.unwrap();
        Stall(Some(txn))
    }

    async fn release(mut self) {
        if let Some(txn) = self.0.take() {
            txn.rollback().await.unwrap();
        }
    }
}

async fn answers_503_when_the_database_falls_behind(env: Env) {
    let (tenant, full) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    // 9 points a minute for the ingest key: `[]` (1), the first batch (3) and the second
    // sent again (3) fit; had the refused second batch been charged too (3), its retry
    // would be 429.
    assert!(env.services.tenants.set_rate_limit(tenant.id, Some(9)).await.unwrap());
    let (ingest, read) = (key(&env, &tenant, "ingest").await, key(&env, &tenant, "read").await);
    let collect = CollectSettings {
        writes_in_flight: 1,
        write_wait: Duration::from_millis(200),
        retry_after: Duration::from_secs(3),
        ..CollectSettings::default()
    };
    let state = AppState::from_settings(env.services.clone(), None, Settings { collect, ..Settings::default() });
    let server = TestServer::start(state.clone()).await;
    seed_user(&server, &full).await;
    // Keys known before the stall (their first lookup writes nothing anyway).
    assert_eq!(send(&server, Key::Bearer(&ingest), "application/json", "[]".into()).await.status, 200);
    let batch = |p: &str| json!((0..3).map(|i| event(&format!("{p}{i}"))).collect::<Vec<_>>()).to_string();

    let stall = Stall::hold(&env).await;
    let first = tokio::spawn({
        let (url, ingest, body) = (server.url("/collect/events"), ingest.clone(), batch("first"));
        async move {
            let r = reqwest::Client::new().post(url).bearer_auth(ingest).body(body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    });
    // The first batch holds the one slot, waiting on the database.
    let deadline = Instant::now() + Duration::from_secs(5);
    while state.collect.writes.available_permits() > 0 {
        assert!(Instant::now() < deadline, "the first batch never reached the database");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    let second = send(&server, Key::Bearer(&ingest), "application/json", batch("second")).await;
    assert_eq!((second.status, second.code()), (503, "UNAVAILABLE"), "{}", second.body);
    assert_eq!(second.header("retry-after"), "3");
    assert!(started.elapsed() < Duration::from_secs(2), "waited {:?} for a slot", started.elapsed());
    assert!(second.body["errors"][0]["message"].as_str().unwrap().contains("behind"), "{}", second.body);
    assert!(!first.is_finished(), "the first batch was answered while the database was held");

    stall.release().await;
    let (status, report) = first.await.unwrap();
    assert_eq!((status, report), (200, json!({"accepted": 3, "duplicates": 0, "rejected": []})));
    // What got 200 is there; what got 503 is not, not even in part: sent again, all of it
    // is new. The refusal cost the key nothing: its retry is charged once.
    assert_eq!(events_stored(&server, &read).await, 3);
    let again = send(&server, Key::Bearer(&ingest), "application/json", batch("second")).await;
    assert_eq!((again.status, again.body["accepted"].clone()), (200, json!(3)), "{}", again.body);
    assert_eq!(events_stored(&server, &read).await, 6);
    assert!(server.metrics().await.contains("ottstats_collect_refusals_total{reason=\"busy\"} 1"));
}

async fn a_write_that_fails_is_500_internal_and_stores_nothing(env: Env) {
    let TestApp { server, tenant, key: full } = env.spawn_app().await;
    seed_user(&server, &full).await;
    let (ingest, read) = (key(&env, &tenant, "ingest").await, key(&env, &tenant, "read").await);
    let batch = json!([event("f1"), event("f2"), event("f3")]).to_string();
    // The events' table taken away: every insert fails, and not for a dependency that is
    // away (the store calls it internal).
    let db = sea_orm::Database::connect(&env.db.url).await.unwrap();
    db.execute_unprepared("ALTER TABLE player_events RENAME TO player_events_away").await.unwrap();
    let a = send(&server, Key::Bearer(&ingest), "application/json", batch.clone()).await;
    db.execute_unprepared("ALTER TABLE player_events_away RENAME TO player_events").await.unwrap();
    // INTERNAL, as DESIGN says of anything but a failing dependency: no "send again", no
    // `Retry-After`, and never a detail of the failure.
    assert_eq!((a.status, a.code()), (500, "INTERNAL"), "{}", a.body);
    assert_eq!(a.header("retry-after"), "", "{:?}", a.headers);
    assert_eq!(a.body["errors"][0]["message"], "internal error", "{}", a.body);
    assert!(!a.body.to_string().contains("player_events"), "{}", a.body);
    // Nothing of it was written: sent again, all of it is new.
    let a = send(&server, Key::Bearer(&ingest), "application/json", batch).await;
    assert_eq!((a.status, a.body["accepted"].clone()), (200, json!(3)), "{}", a.body);
    assert_eq!(events_stored(&server, &read).await, 3);
    let metrics = server.metrics().await;
    assert!(metrics.contains("ottstats_http_requests_total{route=\"/collect/events\",status=\"500\"} 1"), "{metrics}");
    // A failure is no refusal: no reason counts it.
    assert!(metrics.contains("ottstats_collect_refusals_total{reason=\"unavailable\"} 0"), "{metrics}");
}

/// A collector body that is started and never finished, over a socket of its own (no
/// `Content-Length`: it takes `collect.max_body_bytes` of the room).
async fn hold_a_body(server: &TestServer, key: &str) -> tokio::net::TcpStream {
    let address = server.base_url.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /collect/events HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {key}\r\n\
         Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    socket
}

async fn a_held_collector_body_does_not_stop_graphql(env: Env) {
    let (tenant, full) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let ingest = key(&env, &tenant, "ingest").await;
    const ROOM: usize = 64 * 1024;
    // Room for one body in each budget: one held collector body would take the whole of
    // a shared one.
    let http = HttpSettings {
        max_body_bytes: ROOM,
        bodies_in_flight_bytes: ROOM,
        body_room_wait: Duration::from_millis(300),
        ..HttpSettings::default()
    };
    let collect = CollectSettings {
        max_body_bytes: ROOM,
        bodies_in_flight_bytes: ROOM,
        body_timeout: Duration::from_secs(2),
        write_wait: Duration::from_millis(200),
        retry_after: Duration::from_secs(2),
        ..CollectSettings::default()
    };
    let state = AppState::from_settings(env.services.clone(), None, Settings { http, collect, ..Settings::default() });
    let server = TestServer::start(state.clone()).await;
    seed_user(&server, &full).await;
    assert_eq!(send(&server, Key::Bearer(&ingest), "application/json", "[]".into()).await.status, 200);

    let mut held = hold_a_body(&server, &ingest).await;
    let deadline = Instant::now() + Duration::from_secs(2);
    while state.collect.body_room_free() >= ROOM && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // /graphql reads its bodies as if the collector were idle (sharing the room, it would
    // wait `http.body_room_wait` for it, then answer 503).
    let (status, body) = server.graphql(Some(&full), "{ __typename }", Value::Null).await;
    assert_eq!(status, 200, "a held collector body stopped /graphql: {body}");
    let (status, body) = server.graphql(Some(&full), operations::RECORD_EVENTS, json!({"e": [event("g1")]})).await;
    assert_eq!(status, 200, "{body}");
    // The collector's own room is taken: the next body is refused at once, to come back.
    assert!(state.collect.body_room_free() < ROOM, "the held body took no room of the collector's");
    let a = send(&server, Key::Bearer(&ingest), "application/json", json!([event("c1")]).to_string()).await;
    assert_eq!((a.status, a.code()), (503, "UNAVAILABLE"), "{}", a.body);
    assert_eq!(a.header("retry-after"), "2");
    // The held body is cut at `collect.body_timeout` (408), and its room comes back.
    let mut answer = vec![0; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), held.read(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    let a = send(&server, Key::Bearer(&ingest), "application/json", json!([event("c1")]).to_string()).await;
    assert_eq!((a.status, a.body["accepted"].clone()), (200, json!(1)), "{}", a.body);
    let metrics = server.metrics().await;
    for line in
        ["ottstats_collect_refusals_total{reason=\"busy\"} 1", "ottstats_collect_refusals_total{reason=\"too_slow\"} 1"]
    {
        assert!(metrics.contains(line), "{line} is not in\n{metrics}");
    }
}

on_each_backend!(
    reports_item_by_item_as_record_events_does,
    keys_open_the_collector_and_nothing_else,
    cors_is_open_whatever_the_allow_list,
    bounds_bodies_batches_and_rates,
    answers_503_when_the_database_falls_behind,
    a_write_that_fails_is_500_internal_and_stores_nothing,
    a_held_collector_body_does_not_stop_graphql,
);
