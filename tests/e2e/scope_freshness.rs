//! A cached answer never outlives the data it shows. The operations of
//! `operations/every_field.graphql` (together they select every field reachable from
//! `Query`) are asked through the router, whose answer cache keys each answer by the data
//! versions of the scopes its reads recorded, and straight on the schema (no answer
//! cache), after each kind of write. The two agree after every write only if every read
//! path records its scope: a new panel or read path that forgot would keep serving the
//! answer from before the write, and this test names the operation and the write. The
//! operations of `operations/one_read_each.graphql` do the same one read path at a time,
//! so that no read hides behind another that records the same scope.

use async_graphql::{Request, Variables};
use ottstats_graphql::TenantContext;
use ottstats_tests::{Env, TestServer, full_access, on_each_backend};
use serde_json::{Value, json};

use crate::operations::{EVERY_FIELD, ONE_READ_EACH};

const UPSERT_USERS: &str = "mutation($u: [UserInput!]!) { upsertUsers(users: $u) { accepted rejected { message } } }";
const RECORD_EVENTS: &str =
    "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted rejected { message } } }";
const RECORD_LOGINS: &str =
    "mutation($l: [LoginInput!]!) { recordLogins(logins: $l) { accepted rejected { message } } }";
const UPSERT_CONTENTS: &str =
    "mutation($c: [ContentInput!]!) { upsertContents(contents: $c) { accepted rejected { message } } }";

fn user(id: &str, name: &str, gender: &str, city: &str, at: &str) -> Value {
    json!({ "id": id, "name": name, "gender": gender, "birthDate": "1990-05-01", "country": "CL",
            "state": "Región Metropolitana", "city": city, "registeredAt": at })
}

fn event(id: &str, session: &str, kind: &str, at: &str, played: Option<f64>) -> Value {
    json!({ "id": id, "sessionId": session, "userId": "u1", "type": kind, "occurredAt": at,
            "contentKind": "VOD", "contentId": "m1", "device": "TV", "referrer": "home",
            "bandwidthKbps": 4000, "position": 12.5, "playedSeconds": played })
}

/// The operations, as (document, name, variables).
fn operations() -> Vec<(&'static str, &'static str, Value)> {
    let january = json!({ "from": "2026-01-01", "to": "2026-02-01", "timeZone": "America/Santiago" });
    let user = json!({ "id": "u1", "ids": ["u1", "u2", "u3"], "period": january });
    let mut all = vec![
        (EVERY_FIELD, "EveryRegistrationField", json!({ "period": january, "level": "CITY", "granularity": "WEEK" })),
        (
            EVERY_FIELD,
            "EveryUserField",
            json!({ "id": "u1", "ids": ["u1", "u2", "u3"], "period": january, "granularity": "DAY" }),
        ),
        (EVERY_FIELD, "EveryLimit", json!({})),
    ];
    let single = [
        "OneProfile",
        "SeveralProfiles",
        "SomePrefixMatches",
        "OneOverview",
        "OneBandwidth",
        "OneEventPage",
        "OneTitleList",
    ];
    all.extend(single.into_iter().map(|name| (ONE_READ_EACH, name, variables_of(name, &user))));
    all.push((ONE_READ_EACH, "OneTotal", json!({ "period": january })));
    all
}

/// The variables an operation of `one_read_each.graphql` declares, out of `all`.
fn variables_of(name: &str, all: &Value) -> Value {
    let keys: &[&str] = match name {
        "OneProfile" => &["id"],
        "SeveralProfiles" => &["ids"],
        "SomePrefixMatches" => &[],
        _ => &["id", "period"],
    };
    keys.iter().map(|k| ((*k).to_owned(), all[*k].clone())).collect::<serde_json::Map<_, _>>().into()
}

/// Each kind of write, as (what it changes, mutation, variables).
fn writes() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "a user renamed and moved",
            UPSERT_USERS,
            json!({ "u": [user("u1", "Ana María", "FEMALE", "Valparaíso", "2026-01-05T12:00:00Z")] }),
        ),
        (
            "a new registration",
            UPSERT_USERS,
            json!({ "u": [user("u3", "Carla", "OTHER", "Santiago", "2026-01-20T12:00:00Z")] }),
        ),
        (
            "another user's gender",
            UPSERT_USERS,
            json!({ "u": [user("u2", "Beto", "UNKNOWN", "Santiago", "2026-01-10T12:00:00Z")] }),
        ),
        (
            "a new session of the user",
            RECORD_EVENTS,
            json!({ "e": [event("e3", "s2", "PLAY", "2026-01-15T21:00:00Z", None),
                          event("e4", "s2", "PLAYING", "2026-01-15T21:01:00Z", Some(60.0))] }),
        ),
        (
            "a login",
            RECORD_LOGINS,
            json!({ "l": [{ "id": "l2", "userId": "u1", "occurredAt": "2026-01-16T08:00:00Z", "device": "Phone" }] }),
        ),
        (
            "a content renamed",
            UPSERT_CONTENTS,
            json!({ "c": [{ "id": "m1", "kind": "VOD", "title": "Film (restored)" }] }),
        ),
    ]
}

async fn every_field_stays_fresh_after_every_kind_of_write(env: Env) {
    let server = env.serve(None).await;
    let (tenant, key) = env.tenant("A", "CL", chrono_tz::America::Santiago).await;
    let seed = [
        (
            UPSERT_USERS,
            json!({ "u": [user("u1", "Ana", "FEMALE", "Santiago", "2026-01-05T12:00:00Z"),
                                      user("u2", "Beto", "MALE", "Santiago", "2026-01-10T12:00:00Z")] }),
        ),
        (UPSERT_CONTENTS, json!({ "c": [{ "id": "m1", "kind": "VOD", "title": "Film" }] })),
        (
            RECORD_EVENTS,
            json!({ "e": [event("e1", "s1", "PLAY", "2026-01-12T20:00:00Z", None),
                                       event("e2", "s1", "PLAYING", "2026-01-12T20:00:30Z", Some(30.0))] }),
        ),
        (
            RECORD_LOGINS,
            json!({ "l": [{ "id": "l1", "userId": "u1", "occurredAt": "2026-01-12T19:59:00Z", "device": "TV" }] }),
        ),
    ];
    for (mutation, variables) in seed {
        write(&server, &key, mutation, variables).await;
    }
    for (document, name, variables) in operations() {
        // The first run learns what the answer reads, the second stores it: the third
        // must come from the answer cache, or this test could not see a stale one.
        ask(&server, &key, document, name, &variables).await;
        ask(&server, &key, document, name, &variables).await;
        let (_, cached) = ask(&server, &key, document, name, &variables).await;
        assert!(cached, "{name}: the third identical request was not answered from the cache");
    }
    for (change, mutation, variables) in writes() {
        write(&server, &key, mutation, variables).await;
        for (document, name, variables) in operations() {
            let (through_cache, _) = ask(&server, &key, document, name, &variables).await;
            env.warm_index(&tenant).await;
            let request = Request::new(document)
                .operation_name(name)
                .variables(Variables::from_json(variables.clone()))
                .data(TenantContext::new(full_access(&tenant), &env.services));
            let fresh = serde_json::to_value(env.schema.execute(request).await).unwrap_or_default();
            assert!(fresh.get("errors").is_none(), "{name}: {fresh:#}");
            assert_eq!(through_cache, fresh["data"], "{name} after {change}: the cached answer is stale");
            // And the fresh answer is cached again: at once, or, when the write changed
            // which scopes the answer reads (usersByIdPrefix reads each user it finds),
            // once it has learned them again.
            let (_, mut cached) = ask(&server, &key, document, name, &variables).await;
            if !cached && name == "SomePrefixMatches" {
                cached = ask(&server, &key, document, name, &variables).await.1;
            }
            assert!(cached, "{name} after {change}: not cached again");
        }
    }
}

/// Runs a mutation that must accept everything.
async fn write(server: &TestServer, key: &str, mutation: &str, variables: Value) {
    let (status, body) = server.graphql(Some(key), mutation, variables).await;
    assert_eq!(status, 200, "{body:#}");
    let report = body["data"].as_object().and_then(|d| d.values().next()).cloned().unwrap_or_default();
    assert_eq!(report["rejected"], json!([]), "{body:#}");
}

/// One operation of `document` through the router: its `data`, and whether the answer came
/// from the cache.
async fn ask(server: &TestServer, key: &str, document: &str, name: &str, variables: &Value) -> (Value, bool) {
    let body = json!({ "query": document, "operationName": name, "variables": variables });
    let response = reqwest::Client::new()
        .post(server.url("/graphql"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let answer: Value = response.json().await.unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(answer.get("errors").is_none(), "{name}: {answer:#}");
    (answer["data"].clone(), answer["extensions"]["cached"] == true)
}

on_each_backend!(every_field_stays_fresh_after_every_kind_of_write);
