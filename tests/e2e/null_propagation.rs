//! Field errors follow the GraphQL spec ("Handling Execution Errors"): the field is
//! null, a null in a non-null position makes its parent null, up to the nearest nullable
//! ancestor (or `data`), and the keys of every object come in the query's order. Every
//! cause: an argument, a limit, a missing scope, storage. Expected answers are written
//! out from the schema's nullability, not copied from output.

use ottstats_domain::access::Scopes;
use ottstats_tests::{Env, TestApp, access_with, full_access, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

const USERS: &str = operations::UPSERT_USERS;
const P: &str = r#"period: {from: "2026-03-01", to: "2026-04-01"}"#;

async fn seeded(env: &Env) -> ottstats_domain::tenant::Tenant {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let users = json!([
        {"id": "u1", "name": "Ana", "gender": "FEMALE", "birthDate": "1990-05-01", "country": "CL", "registeredAt": "2026-03-10T12:00:00Z"},
        {"id": "u2", "name": "Bo", "registeredAt": "2026-03-11T12:00:00Z"}
    ]);
    env.data(&tenant, USERS, json!({"u": users})).await;
    tenant
}

/// The answer as the schema sends it: JSON text, so that key order can be read.
async fn raw(env: &Env, access: ottstats_domain::access::Access, query: &str) -> (String, Value) {
    env.warm_index(&access.tenant).await;
    let request = async_graphql::Request::new(query).data(ottstats_graphql::TenantContext::new(access, &env.services));
    let response = env.schema.execute(request).await;
    let text = serde_json::to_string(&response).unwrap_or_else(|e| panic!("{e}"));
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    (text, value)
}

fn paths(body: &Value) -> Vec<Value> {
    body["errors"].as_array().map(|e| e.iter().map(|e| e["path"].clone()).collect()).unwrap_or_default()
}

fn codes(body: &Value) -> Vec<String> {
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or_default().to_owned()).collect()
}

/// `byAge: [AgeShare!]!` fails inside `registrations: RegistrationStats!`, which is
/// non-null on `Query`: the null reaches `data`.
async fn a_bad_argument_inside_non_null_fields_nulls_the_data(env: Env) {
    let tenant = seeded(&env).await;
    let q = format!("{{ registrations({P}) {{ total byAge(ranges: [{{minAge: 30, maxAge: 20}}]) {{ label }} }} }}");
    let (_, body) = raw(&env, full_access(&tenant), &q).await;
    assert_eq!(body["data"], Value::Null, "{body:#}");
    assert!(body.as_object().is_some_and(|o| o.contains_key("data")), "a field error keeps `data` (null): {body:#}");
    assert_eq!(paths(&body), vec![json!(["registrations", "byAge"])]);
    assert_eq!(codes(&body), ["BAD_USER_INPUT"]);
}

/// `user: User` is nullable: an error in its non-null `activity` makes the user null,
/// and the aliased siblings keep their answers, in the query's order.
async fn aliases_keep_their_order_and_their_answers(env: Env) {
    let tenant = seeded(&env).await;
    let q = format!(
        r#"{{ zeta: registrations({P}) {{ total }}
              bad: user(id: "u1") {{ name activity(period: {{from: "2026-03-01", to: "2026-01-01"}}) {{ overview {{ streams }} }} }}
              alpha: registrations({P}) {{ byGender {{ count gender }} total }}
              good: user(id: "u2") {{ name id }} }}"#
    );
    let (text, body) = raw(&env, full_access(&tenant), &q).await;
    assert_eq!(body["data"]["bad"], Value::Null, "{body:#}");
    assert_eq!(body["data"]["zeta"], json!({"total": 2}));
    assert_eq!(body["data"]["good"], json!({"name": "Bo", "id": "u2"}));
    assert_eq!(paths(&body), vec![json!(["bad", "activity"])]);
    let order: Vec<usize> =
        ["\"zeta\"", "\"bad\"", "\"alpha\"", "\"good\"", "\"byGender\":[{\"count\"", "\"name\":\"Bo\",\"id\""]
            .iter()
            .map(|k| text.find(k).unwrap_or_else(|| panic!("{k} missing in {text}")))
            .collect();
    assert!(order[..4].windows(2).all(|w| w[0] < w[1]), "keys out of query order: {text}");
    assert!(text.contains(r#""alpha":{"byGender":[{"count":"#), "fields out of query order: {text}");
}

/// A limit (`first` over 1000) inside `events: EventConnection!` inside
/// `activity: UserActivity!`, reached through a named fragment and an inline one: the
/// null stops at the nullable `user`.
async fn a_limit_inside_fragments_stops_at_the_nearest_nullable_field(env: Env) {
    let tenant = seeded(&env).await;
    let q = format!(
        r#"query {{ ...Top }}
           fragment Top on Query {{ user(id: "u1") {{ id ... on User {{ activity({P}) {{ overview {{ streams }} events(first: 1001) {{ totalCount }} }} }} }} n: registrations({P}) {{ total }} }}"#
    );
    let (text, body) = raw(&env, full_access(&tenant), &q).await;
    assert_eq!(body["data"], json!({"user": null, "n": {"total": 2}}), "{body:#}");
    assert!(text.find("\"user\"") < text.find("\"n\""), "{text}");
    assert_eq!(paths(&body), vec![json!(["user", "activity", "events"])]);
}

/// Errors in list items: `users: [User]!` holds nullable items, so each failing user is
/// null and the list stays.
async fn errors_in_list_items_null_only_the_item(env: Env) {
    let tenant = seeded(&env).await;
    let q = r#"{ users(ids: ["u1", "nope", "u2"]) { id activity(period: {from: "x", to: "y"}) { overview { streams } } } }"#;
    let (_, body) = raw(&env, full_access(&tenant), q).await;
    assert_eq!(body["data"], json!({"users": [null, null, null]}), "{body:#}");
    assert_eq!(paths(&body), vec![json!(["users", 0, "activity"]), json!(["users", 2, "activity"])]);
}

/// A nullable field failing (no `pii` scope: `name` is null with FORBIDDEN) nulls only
/// itself; `@skip` and `@include` leave fields out, not null.
async fn nullable_fields_fail_alone_and_skipped_ones_stay_out(env: Env) {
    let tenant = seeded(&env).await;
    let q = r#"query($no: Boolean = false) { user(id: "u1") { id gender @include(if: $no) name country @skip(if: false) } }"#;
    let (text, body) = raw(&env, access_with(&tenant, Scopes::of(&[ottstats_domain::access::Scope::Read])), q).await;
    assert_eq!(body["data"], json!({"user": {"id": "u1", "name": null, "country": "CL"}}), "{body:#}");
    assert!(text.contains(r#"{"user":{"id":"u1","name":null,"country":"CL"}}"#), "{text}");
    assert_eq!(codes(&body), ["FORBIDDEN"]);
}

/// Storage failing under `activity` (its tables gone): the same propagation, and the
/// client learns only `INTERNAL`.
async fn a_storage_failure_propagates_like_any_error(env: Env) {
    let tenant = seeded(&env).await;
    for table in ["player_events", "playback_sessions"] {
        let sql = format!("ALTER TABLE {table} RENAME TO {table}_gone");
        sea_orm::ConnectionTrait::execute_unprepared(env.db.store.connection(), &sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    let q = format!(
        r#"{{ user(id: "u1") {{ name activity({P}) {{ overview {{ streams }} }} }} ok: registrations({P}) {{ total }} }}"#
    );
    let (_, body) = raw(&env, full_access(&tenant), &q).await;
    assert_eq!(body["data"], json!({"user": null, "ok": {"total": 2}}), "{body:#}");
    assert!(codes(&body).iter().all(|c| c == "INTERNAL"), "{body:#}");
    assert!(paths(&body).iter().all(|p| p[0] == "user" && p[1] == "activity"), "{body:#}");
}

/// Pushed answers complete the same way: an error inside `liveRegistrations`'s non-null
/// panels nulls the push's `data`.
async fn pushed_answers_follow_the_same_rules(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app().await;
    let mut socket = ottstats_tests::ws::WsClient::connect_with_key(&server.ws_url(), &key).await;
    let q = format!(
        "subscription {{ liveRegistrations({P}) {{ total byAge(ranges: [{{minAge: 9, maxAge: 1}}]) {{ label }} }} }}"
    );
    socket.subscribe("1", &q, Value::Null).await;
    match socket.next_event(std::time::Duration::from_secs(10)).await {
        Some(ottstats_tests::ws::Event::Next(payload)) => {
            assert_eq!(payload["data"], Value::Null, "{payload:#}");
            assert_eq!(paths(&payload), vec![json!(["liveRegistrations", "byAge"])]);
        }
        other => panic!("expected a push, got {other:?}"),
    }
}

/// Variables' defaults decide `@include`/`@skip` as the spec's CoerceVariableValues
/// says; an object whose every field is skipped is `{}`, not `null`.
async fn directives_see_variable_defaults_and_empty_objects_stay(env: Env) {
    let tenant = seeded(&env).await;
    let q = format!("query($t: Boolean! = true) {{ registrations({P}) {{ total @include(if: $t) }} }}");
    let (_, body) = raw(&env, full_access(&tenant), &q).await;
    assert_eq!(body, json!({"data": {"registrations": {"total": 2}}}));
    let q = format!("query($s: Boolean = true) {{ registrations({P}) {{ total @skip(if: $s) }} }}");
    let (_, body) = raw(&env, full_access(&tenant), &q).await;
    assert_eq!(body, json!({"data": {"registrations": {}}}));
}

/// Over `/graphql/ws`: the operation named among several is the one completed, and a
/// subscription's push carries its one root field, not nulls for the others.
async fn pushes_complete_against_the_operation_they_run(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app().await;
    let mut socket = ottstats_tests::ws::WsClient::connect_with_key(&server.ws_url(), &key).await;
    let doc = format!("query A {{ limits {{ maxCost }} }} subscription B {{ liveRegistrations({P}) {{ total }} }}");
    let frame = json!({"id": "1", "type": "subscribe", "payload": {"query": doc, "operationName": "B"}});
    socket.send(frame).await;
    assert_eq!(socket.next_data(std::time::Duration::from_secs(10)).await, json!({"liveRegistrations": {"total": 0}}));
    let two = format!("subscription {{ a: liveRegistrations({P}) {{ total }} b: liveRegistrations({P}) {{ total }} }}");
    socket.subscribe("2", &two, Value::Null).await;
    let data = socket.next_data(std::time::Duration::from_secs(10)).await;
    assert!(data == json!({"a": {"total": 0}}) || data == json!({"b": {"total": 0}}), "{data}");
}

on_each_backend!(
    directives_see_variable_defaults_and_empty_objects_stay,
    pushes_complete_against_the_operation_they_run,
    pushed_answers_follow_the_same_rules,
    a_bad_argument_inside_non_null_fields_nulls_the_data,
    aliases_keep_their_order_and_their_answers,
    a_limit_inside_fragments_stops_at_the_nearest_nullable_field,
    errors_in_list_items_null_only_the_item,
    nullable_fields_fail_alone_and_skipped_ones_stay_out,
    a_storage_failure_propagates_like_any_error,
);
