//! Erasing users: every panel forgets them at once, through the caches of two processes
//! sharing the database (and, on PostgreSQL, Redis); a subscription is told; erasing
//! again reports `notFound`; bad ids are named; a key without `write` cannot erase.
//!
//! Tenant in Madrid, period March 2026. u1 (FEMALE, ES Madrid, 31 at registration on
//! 03-05) with one session (PLAY, PLAYING 60 s at 4000 kbps, BUFFERING, PLAYING 30 s,
//! ERROR), a second session on another device, and two logins; u2 (MALE, FR, 03-06);
//! u3 (FEMALE, ES Madrid, age unknown, 03-06). Before: 3 registrations (FEMALE 2, MALE
//! 1; 03-06 the peak with 2). After erasing u1: 2 (FEMALE 1, MALE 1), and a u1
//! registered again has no activity at all.

use std::time::Duration;

use ottstats_domain::access::{NewKey, Scopes};
use ottstats_server::AppState;
use ottstats_tests::ws::WsClient;
use ottstats_tests::{Env, TestApp, TestServer, on_each_backend};
use serde_json::{Value, json};

const ERASE: &str = "mutation($ids: [ID!]!) { eraseUsers(ids: $ids) { erased notFound } }";

const PANELS: &str = "query($p: PeriodInput!) {
  registrations(period: $p) {
    total
    timeline { buckets { total } peak { start total } }
    byGender { gender count }
    byAge { label count }
    country: byGeography(level: COUNTRY) { label count }
    state: byGeography(level: STATE) { label count }
    city: byGeography(level: CITY) { label count }
  }
  users(ids: [\"u1\", \"u2\"]) { id }
  usersByIdPrefix(idPrefix: \"u\") { id }
}";

const ACTIVITY: &str = "query($p: PeriodInput!) {
  user(id: \"u1\") {
    name
    activity(period: $p) {
      overview { streams playbackStarts minutesConsumed }
      events { totalCount }
      bandwidth(granularity: MONTH) { averageKbps }
      details { devices { name } medias { content { id } } logins { totalCount } }
      quality { errors startup { sessions } rebuffering { count } }
    }
  }
}";

fn march() -> Value {
    json!({"from": "2026-03-01", "to": "2026-04-01"})
}

fn user(id: &str, gender: &str, birth: Option<&str>, country: &str, at: &str) -> Value {
    let mut u =
        json!({"id": id, "name": format!("Secret {id}"), "gender": gender, "country": country, "registeredAt": at});
    if country == "ES" {
        u["state"] = json!("Madrid");
        u["city"] = json!("Madrid");
    }
    if let Some(b) = birth {
        u["birthDate"] = json!(b);
    }
    u
}

fn ev(id: &str, session: &str, ty: &str, at: &str, device: &str, played: Option<f64>) -> Value {
    let mut e = json!({"id": id, "sessionId": session, "userId": "u1", "type": ty, "occurredAt": at,
                       "contentKind": "VOD", "contentId": "m1", "device": device, "bandwidthKbps": 4000.0});
    if let Some(p) = played {
        e["playedSeconds"] = json!(p);
    }
    e
}

/// A tenant at home in Spain, and the server.
async fn spanish_app(env: &Env) -> TestApp {
    let (tenant, key) = env.tenant("Acme", "ES", chrono_tz::Europe::Madrid).await;
    TestApp { server: env.serve(None).await, tenant, key }
}

async fn ok(server: &TestServer, key: &str, query: &str, variables: Value) -> Value {
    let (status, body) = server.graphql(Some(key), query, variables).await;
    assert!(status == 200 && body.get("errors").is_none(), "{status} {body:#}");
    body["data"].clone()
}

async fn seed(app: &TestApp) {
    let users = json!([
        user("u1", "FEMALE", Some("1995-01-01"), "ES", "2026-03-05T10:00:00Z"),
        user("u2", "MALE", Some("1980-01-01"), "FR", "2026-03-06T10:00:00Z"),
        user("u3", "FEMALE", None, "ES", "2026-03-06T11:00:00Z"),
    ]);
    let upsert = "mutation($u: [UserInput!]!) { upsertUsers(users: $u) { accepted } }";
    assert_eq!(ok(&app.server, &app.key, upsert, json!({"u": users})).await["upsertUsers"]["accepted"], 3);
    let events = json!([
        ev("e1", "s1", "PLAY", "2026-03-07T20:00:00Z", "TV", None),
        ev("e2", "s1", "PLAYING", "2026-03-07T20:01:00Z", "TV", Some(60.0)),
        ev("e3", "s1", "BUFFERING", "2026-03-07T20:01:10Z", "TV", None),
        ev("e4", "s1", "PLAYING", "2026-03-07T20:01:40Z", "TV", Some(30.0)),
        ev("e5", "s1", "ERROR", "2026-03-07T20:02:00Z", "TV", None),
        ev("e6", "s2", "PLAY", "2026-03-08T20:00:00Z", "Phone", None),
    ]);
    let record = "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted } }";
    assert_eq!(ok(&app.server, &app.key, record, json!({"e": events})).await["recordEvents"]["accepted"], 6);
    let logins = json!([{"id": "l1", "userId": "u1", "occurredAt": "2026-03-07T19:00:00Z", "device": "TV"},
                        {"id": "l2", "userId": "u1", "occurredAt": "2026-03-08T19:00:00Z"}]);
    let record = "mutation($l: [LoginInput!]!) { recordLogins(logins: $l) { accepted } }";
    assert_eq!(ok(&app.server, &app.key, record, json!({"l": logins})).await["recordLogins"]["accepted"], 2);
}

fn panels(
    total: i64,
    female: i64,
    peak: i64,
    age: &[(&str, i64)],
    countries: Value,
    users: Value,
    prefix: Value,
) -> Value {
    let mut days = vec![json!({"total": 0}); 31];
    days[4] = json!({"total": total - 2});
    days[5] = json!({"total": 2});
    let ages: Vec<Value> = ["0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
        .iter()
        .map(|label| json!({"label": label, "count": age.iter().find(|(l, _)| l == label).map_or(0, |(_, c)| *c)}))
        .chain(std::iter::once(json!({"label": "Unknown", "count": 1})))
        .collect();
    json!({
        "registrations": {
            "total": total,
            "timeline": {"buckets": days, "peak": {"start": "2026-03-06T00:00:00+01:00", "total": peak}},
            "byGender": [{"gender": "FEMALE", "count": female}, {"gender": "MALE", "count": 1},
                         {"gender": "OTHER", "count": 0}, {"gender": "UNKNOWN", "count": 0}],
            "byAge": ages,
            "country": countries,
            "state": [{"label": "Madrid", "count": total - 1}, {"label": "Other", "count": 1}],
            "city": [{"label": "Madrid", "count": total - 1}, {"label": "Other", "count": 1}],
        },
        "users": users,
        "usersByIdPrefix": prefix,
    })
}

fn before() -> Value {
    panels(
        3,
        2,
        2,
        &[("25-34", 1), ("45-54", 1)],
        json!([{"label": "Spain", "count": 2}, {"label": "France", "count": 1}]),
        json!([{"id": "u1"}, {"id": "u2"}]),
        json!([{"id": "u1"}, {"id": "u2"}, {"id": "u3"}]),
    )
}

fn after() -> Value {
    panels(
        2,
        1,
        2,
        &[("45-54", 1)],
        json!([{"label": "France", "count": 1}, {"label": "Spain", "count": 1}]),
        json!([null, {"id": "u2"}]),
        json!([{"id": "u2"}, {"id": "u3"}]),
    )
}

async fn every_panel_and_cache_forgets_an_erased_user(env: Env) {
    let app = spanish_app(&env).await;
    seed(&app).await;
    let other = TestServer::start(AppState::new(env.second_process(), None)).await;
    let activity = ok(&app.server, &app.key, ACTIVITY, json!({"p": march()})).await;
    assert_eq!(
        activity["user"]["activity"]["overview"],
        json!({"streams": 1, "playbackStarts": 2, "minutesConsumed": 1.5})
    );
    assert_eq!(
        activity["user"]["activity"]["quality"],
        json!({"errors": 1, "startup": {"sessions": 1}, "rebuffering": {"count": 1}})
    );
    // Both processes answer twice: each cache tier holds every panel.
    for server in [&app.server, &other, &app.server, &other] {
        assert_eq!(ok(server, &app.key, PANELS, json!({"p": march()})).await, before());
        assert_eq!(ok(server, &app.key, ACTIVITY, json!({"p": march()})).await, activity);
    }

    let erased = ok(&app.server, &app.key, ERASE, json!({"ids": ["u1"]})).await;
    assert_eq!(erased["eraseUsers"], json!({"erased": 1, "notFound": []}));
    for server in [&app.server, &other] {
        assert_eq!(ok(server, &app.key, PANELS, json!({"p": march()})).await, after());
        assert_eq!(ok(server, &app.key, ACTIVITY, json!({"p": march()})).await["user"], Value::Null);
    }

    // Registered again, u1 has no past: no events, sessions, logins or quality.
    let upsert = "mutation($u: [UserInput!]!) { upsertUsers(users: $u) { accepted } }";
    let again = json!([user("u1", "FEMALE", None, "FR", "2026-03-20T10:00:00Z")]);
    ok(&app.server, &app.key, upsert, json!({"u": again})).await;
    let empty = json!({"name": "Secret u1", "activity": {
        "overview": {"streams": 0, "playbackStarts": 0, "minutesConsumed": 0.0},
        "events": {"totalCount": 0},
        "bandwidth": {"averageKbps": null},
        "details": {"devices": [], "medias": [], "logins": {"totalCount": 0}},
        "quality": {"errors": 0, "startup": {"sessions": 0}, "rebuffering": {"count": 0}}}});
    for server in [&app.server, &other] {
        assert_eq!(ok(server, &app.key, ACTIVITY, json!({"p": march()})).await["user"], empty);
    }
}

async fn erasing_again_finds_nothing(env: Env) {
    let app = spanish_app(&env).await;
    seed(&app).await;
    let first = ok(&app.server, &app.key, ERASE, json!({"ids": ["u1", "nobody", "u1", " u2 "]})).await;
    assert_eq!(first["eraseUsers"], json!({"erased": 2, "notFound": ["nobody"]}));
    let again = ok(&app.server, &app.key, ERASE, json!({"ids": ["u2", "u1"]})).await;
    assert_eq!(again["eraseUsers"], json!({"erased": 0, "notFound": ["u2", "u1"]}));
    let none = ok(&app.server, &app.key, ERASE, json!({"ids": []})).await;
    assert_eq!(none["eraseUsers"], json!({"erased": 0, "notFound": []}));
    // A user known only by their events is erased too (and then not found).
    let record = "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted } }";
    let mut ghost = ev("g1", "g", "PLAY", "2026-03-09T10:00:00Z", "TV", None);
    ghost["userId"] = json!("ghost");
    ok(&app.server, &app.key, record, json!({"e": [ghost]})).await;
    let r = ok(&app.server, &app.key, ERASE, json!({"ids": ["ghost", "ghost"]})).await;
    assert_eq!(r["eraseUsers"], json!({"erased": 1, "notFound": []}));
    let r = ok(&app.server, &app.key, ERASE, json!({"ids": ["ghost"]})).await;
    assert_eq!(r["eraseUsers"], json!({"erased": 0, "notFound": ["ghost"]}));
}

async fn bad_ids_and_keys_without_write_are_refused(env: Env) {
    let app = spanish_app(&env).await;
    seed(&app).await;
    let (status, body) = app.server.graphql(Some(&app.key), ERASE, json!({"ids": ["u2", "  "]})).await;
    assert_eq!(status, 200);
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["argument"], "ids.1");
    let many: Vec<String> = (0..1001).map(|i| format!("x{i}")).collect();
    let (_, body) = app.server.graphql(Some(&app.key), ERASE, json!({"ids": many})).await;
    assert_eq!(body["errors"][0]["extensions"]["argument"], "ids", "{body}");
    let new = NewKey { name: "reader".into(), scopes: Scopes::parse("read pii").unwrap(), expires_at: None };
    let (_, read) = env.services.keys.create_key(app.tenant.id, new).await.unwrap_or_else(|e| panic!("{e}"));
    let (_, body) = app.server.graphql(Some(&read), ERASE, json!({"ids": ["u2"]})).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    // Nothing was erased by any of them.
    let (_, body) = app.server.graphql(Some(&app.key), "{ users(ids: [\"u2\"]) { id } }", Value::Null).await;
    assert_eq!(body["data"]["users"], json!([{"id": "u2"}]));
}

async fn a_subscription_is_told_of_an_erasure(env: Env) {
    let app = spanish_app(&env).await;
    seed(&app).await;
    let mut ws = WsClient::connect_with_key(&app.server.ws_url(), &app.key).await;
    let live = "subscription($p: PeriodInput!) { liveRegistrations(period: $p) { total } }";
    ws.subscribe("r", live, json!({"p": march()})).await;
    assert_eq!(ws.next_data(Duration::from_secs(5)).await["liveRegistrations"]["total"], 3);
    ok(&app.server, &app.key, ERASE, json!({"ids": ["u3"]})).await;
    assert_eq!(ws.next_data(Duration::from_secs(5)).await["liveRegistrations"]["total"], 2);
}

on_each_backend!(
    every_panel_and_cache_forgets_an_erased_user,
    erasing_again_finds_nothing,
    bad_ids_and_keys_without_write_are_refused,
    a_subscription_is_told_of_an_erasure,
);
