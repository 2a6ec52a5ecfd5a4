//! `upsertUsers`: every valid item lands, every invalid one is reported by index, nothing
//! half-written, and re-sending is harmless.

use ottstats_tests::{Env, first_error, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

const UPSERT: &str = operations::UPSERT_USERS_REPORT;
const TOTAL: &str = "{ registrations(period: {from: \"2026-01-01\", to: \"2026-02-01\", timeZone: \"UTC\"}) { total byGender { gender count } } }";

fn user(id: &str, registered_at: &str) -> Value {
    json!({"id": id, "name": format!("User {id}"), "gender": "FEMALE", "country": "CL", "registeredAt": registered_at})
}

async fn valid_items_land_and_invalid_ones_are_reported(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let mut bad_country = user("b1", "2026-01-05T10:00:00Z");
    bad_country["country"] = json!("XX");
    let mut future_birth = user("b2", "2026-01-05T10:00:00Z");
    future_birth["birthDate"] = json!("2999-01-01");
    let users = json!([
        user("a1", "2026-01-05T10:00:00Z"),
        bad_country,
        user("", "2026-01-05T10:00:00Z"),
        user("a2", "2026-01-06T10:00:00+01:00"),
        user("b3", "not a time"),
        future_birth,
        user(&"x".repeat(129), "2026-01-05T10:00:00Z"),
    ]);
    let report = env.data(&tenant, UPSERT, json!({"users": users})).await["upsertUsers"].clone();
    assert_eq!(report["accepted"], 2);
    assert_eq!(report["duplicates"], 0);
    let rejected: Vec<(i64, String, String)> = report["rejected"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    assert_eq!(r["code"], "BAD_USER_INPUT");
                    (
                        r["index"].as_i64().unwrap_or(-1),
                        r["argument"].as_str().unwrap_or("").to_owned(),
                        r["message"].to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let summary: Vec<(i64, &str)> = rejected.iter().map(|(i, a, _)| (*i, a.as_str())).collect();
    assert_eq!(summary, [(1, "country"), (2, "id"), (4, "registeredAt"), (5, "birthDate"), (6, "id")]);
    assert_eq!(env.data(&tenant, TOTAL, Value::Null).await["registrations"]["total"], 2);
}

async fn resending_is_a_duplicate_and_changes_are_written(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let batch = json!([user("a1", "2026-01-05T10:00:00Z"), user("a2", "2026-01-06T10:00:00Z")]);
    let first = env.data(&tenant, UPSERT, json!({"users": batch})).await;
    assert_eq!(first["upsertUsers"], json!({"accepted": 2, "duplicates": 0, "rejected": []}));
    let again = env.data(&tenant, UPSERT, json!({"users": batch})).await;
    assert_eq!(again["upsertUsers"], json!({"accepted": 0, "duplicates": 2, "rejected": []}));
    // a2 becomes male and moves out of January; the same id twice in one batch: last wins.
    let mut moved = user("a2", "2026-02-10T10:00:00Z");
    moved["gender"] = json!("MALE");
    let mut back = user("a1", "2026-01-05T10:00:00Z");
    back["gender"] = json!("MALE");
    let changes = json!([user("a1", "2026-01-05T10:00:00Z"), moved, back]);
    let report = env.data(&tenant, UPSERT, json!({"users": changes})).await;
    assert_eq!(report["upsertUsers"], json!({"accepted": 2, "duplicates": 1, "rejected": []}));
    let r = env.data(&tenant, TOTAL, Value::Null).await;
    assert_eq!(r["registrations"]["total"], 1);
    assert_eq!(r["registrations"]["byGender"][1], json!({"gender": "MALE", "count": 1}));
}

async fn oversized_batches_are_refused_whole(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let users: Vec<Value> = (0..10_001).map(|i| user(&format!("u{i}"), "2026-01-05T10:00:00Z")).collect();
    let response = env.run(Some(&tenant), UPSERT, json!({"users": users})).await;
    // Refused by the list limit before it is even validated, naming the variable.
    let (code, argument, _) = first_error(&response);
    assert_eq!((code.as_str(), argument.as_str()), ("QUERY_TOO_COMPLEX", "users"), "{response}");
    assert_eq!(response["errors"][0]["extensions"]["actual"], 10_001);
    assert_eq!(env.data(&tenant, TOTAL, Value::Null).await["registrations"]["total"], 0);
}

async fn a_full_batch_is_accepted(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let users: Vec<Value> = (0..10_000).map(|i| user(&format!("u{i:05}"), "2026-01-05T10:00:00Z")).collect();
    let report = env.data(&tenant, UPSERT, json!({"users": users})).await;
    assert_eq!(report["upsertUsers"], json!({"accepted": 10_000, "duplicates": 0, "rejected": []}));
    assert_eq!(env.data(&tenant, TOTAL, Value::Null).await["registrations"]["total"], 10_000);
}

async fn a_user_id_belongs_to_its_tenant(env: Env) {
    let (a, _) = env.tenant("A", "CL", chrono_tz::America::Santiago).await;
    let (b, _) = env.tenant("B", "CL", chrono_tz::America::Santiago).await;
    env.data(&a, UPSERT, json!({"users": [user("same", "2026-01-05T10:00:00Z")]})).await;
    let report = env.data(&b, UPSERT, json!({"users": [user("same", "2026-01-05T10:00:00Z")]})).await;
    // Not a duplicate: B has no such user yet.
    assert_eq!(report["upsertUsers"]["accepted"], 1);
    for t in [&a, &b] {
        assert_eq!(env.data(t, TOTAL, Value::Null).await["registrations"]["total"], 1);
    }
}

/// A NUL character (which PostgreSQL cannot store) in any string of any item is bad input
/// naming that item and field; the rest of the batch lands. In an id argument it is bad
/// input too, never INTERNAL.
async fn nul_characters_are_bad_input_naming_the_item(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let mut in_name = user("n1", "2026-01-05T10:00:00Z");
    in_name["name"] = json!("Ana\u{0}");
    let mut in_city = user("n2", "2026-01-05T10:00:00Z");
    in_city["city"] = json!("\u{0}Santiago");
    let users = json!([user("ok1", "2026-01-05T10:00:00Z"), in_name, user("n\u{0}3", "2026-01-05T10:00:00Z"), in_city]);
    let report = env.data(&tenant, UPSERT, json!({"users": users})).await["upsertUsers"].clone();
    let rejected: Vec<(i64, &str)> = report["rejected"]
        .as_array()
        .map(|a| a.iter().map(|r| (r["index"].as_i64().unwrap_or(-1), r["argument"].as_str().unwrap_or(""))).collect())
        .unwrap_or_default();
    assert_eq!(rejected, [(1, "name"), (2, "id"), (3, "city")], "{report:#}");
    assert_eq!(report["accepted"], 1);
    assert_eq!(env.data(&tenant, TOTAL, Value::Null).await["registrations"]["total"], 1);

    let events = json!([
        {"id": "e1", "sessionId": "s1", "userId": "ok1", "type": "PLAY", "occurredAt": "2026-01-05T10:00:00Z"},
        {"id": "e2", "sessionId": "s\u{0}", "userId": "ok1", "type": "PLAY", "occurredAt": "2026-01-05T10:00:00Z"},
        {"id": "e3", "sessionId": "s1", "userId": "ok1", "type": "PLAY", "occurredAt": "2026-01-05T10:00:01Z", "device": "tv\u{0}"}
    ]);
    let q = "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted rejected { index argument } } }";
    let report = env.data(&tenant, q, json!({"e": events})).await["recordEvents"].clone();
    assert_eq!(
        report,
        json!({"accepted": 1, "rejected": [{"index": 1, "argument": "sessionId"}, {"index": 2, "argument": "device"}]})
    );
    let q = "mutation($c: [ContentInput!]!) { upsertContents(contents: $c) { accepted rejected { index argument } } }";
    let contents =
        json!([{"id": "c1", "kind": "VOD", "title": "T\u{0}"}, {"id": "c2", "kind": "LIVE", "title": "News"}]);
    let report = env.data(&tenant, q, json!({"c": contents})).await["upsertContents"].clone();
    assert_eq!(report, json!({"accepted": 1, "rejected": [{"index": 0, "argument": "title"}]}));
    let q = "mutation($l: [LoginInput!]!) { recordLogins(logins: $l) { accepted rejected { index argument } } }";
    let logins = json!([{"id": "l\u{0}", "userId": "ok1", "occurredAt": "2026-01-05T10:00:00Z"}]);
    let report = env.data(&tenant, q, json!({"l": logins})).await["recordLogins"].clone();
    assert_eq!(report, json!({"accepted": 0, "rejected": [{"index": 0, "argument": "id"}]}));

    for (query, argument) in [
        ("query($id: ID!) { user(id: $id) { name } }", "id"),
        ("query($id: ID!) { users(ids: [\"ok1\", $id]) { name } }", "ids[1]"),
    ] {
        let r = env.run(Some(&tenant), query, json!({"id": "ok\u{0}1"})).await;
        let (code, arg, _) = first_error(&r);
        assert_eq!((code.as_str(), arg.as_str()), ("BAD_USER_INPUT", argument), "{r:#}");
    }
    // A list of thousands of event types (up to the list limit) is the few types it names.
    let q = "query($t: [PlayerEventType!]) { user(id: \"ok1\") { activity(period: {from: \"2026-01-01\", to: \"2026-02-01\"}) { events(types: $t) { totalCount } } } }";
    let types: Vec<&str> = ["PLAY", "PAUSE"].into_iter().cycle().take(10_000).collect();
    let r = env.data(&tenant, q, json!({"t": types})).await;
    assert_eq!(r["user"]["activity"]["events"]["totalCount"], 1, "{r:#}");
}

/// A name or a title that is empty or only white space is rejected by its index, naming
/// the field; the rest of the batch lands, and a padded name is kept trimmed.
async fn blank_required_text_is_rejected_by_index(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let named = |id: &str, name: &str| {
        let mut u = user(id, "2026-01-05T10:00:00Z");
        u["name"] = json!(name);
        u
    };
    let users = json!([named("b1", ""), named("ok1", "  Ana  "), named("b2", " \t "), named("b3", "\u{3000}")]);
    let report = env.data(&tenant, UPSERT, json!({"users": users})).await["upsertUsers"].clone();
    let rejected: Vec<(i64, &str, &str, &str)> = report["rejected"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    let text = |k: &str| r[k].as_str().unwrap_or("");
                    (r["index"].as_i64().unwrap_or(-1), text("code"), text("argument"), text("message"))
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        rejected,
        [
            (0, "BAD_USER_INPUT", "name", "is empty: it is required"),
            (2, "BAD_USER_INPUT", "name", "is only white space: it is required"),
            (3, "BAD_USER_INPUT", "name", "is only white space: it is required"),
        ],
        "{report:#}"
    );
    assert_eq!(report["accepted"], 1);
    let q = "{ users(ids: [\"ok1\", \"b1\"]) { name } }";
    assert_eq!(env.data(&tenant, q, Value::Null).await["users"], json!([{"name": "Ana"}, null]));

    let q = "mutation($c: [ContentInput!]!) { upsertContents(contents: $c) { accepted rejected { index argument } } }";
    let contents = json!([{"id": "c1", "kind": "VOD", "title": "  "}, {"id": "c2", "kind": "LIVE", "title": "News"}]);
    let report = env.data(&tenant, q, json!({"c": contents})).await["upsertContents"].clone();
    assert_eq!(report, json!({"accepted": 1, "rejected": [{"index": 0, "argument": "title"}]}));
}

on_each_backend!(
    blank_required_text_is_rejected_by_index,
    nul_characters_are_bad_input_naming_the_item,
    valid_items_land_and_invalid_ones_are_reported,
    resending_is_a_duplicate_and_changes_are_written,
    oversized_batches_are_refused_whole,
    a_full_batch_is_accepted,
    a_user_id_belongs_to_its_tenant,
);
