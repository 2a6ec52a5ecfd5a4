//! Whole refusals as a client gets them over HTTP (status, media type, `Allow`, the body
//! with `extensions`), compared with snapshots in `snapshots/`: a change to any of them
//! shows in review. What varies from run to run (`resetAt`) is redacted. The same
//! snapshots hold on both backends.

use insta::assert_json_snapshot;
use ottstats_tests::{Env, TestApp, TestServer, on_each_backend};
use serde_json::{Value, json};

const GR: &str = "application/graphql-response+json";

/// Status, the headers a client reads, and the body of a response.
async fn seen(response: reqwest::Response) -> Value {
    let status = response.status().as_u16();
    let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (content_type, allow) = (header("content-type"), header("allow"));
    let text = response.text().await.unwrap_or_else(|e| panic!("body: {e}"));
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    json!({ "status": status, "content-type": content_type, "allow": allow, "body": body })
}

async fn post(server: &TestServer, key: Option<&str>, body: Value) -> Value {
    let mut request = reqwest::Client::new().post(server.url("/graphql")).json(&body);
    if let Some(k) = key {
        request = request.bearer_auth(k);
    }
    seen(request.send().await.unwrap_or_else(|e| panic!("POST /graphql: {e}"))).await
}

async fn get(server: &TestServer, key: &str, query: &[(&str, &str)]) -> Value {
    let request = reqwest::Client::new().get(server.url("/graphql")).query(query).bearer_auth(key).header("accept", GR);
    seen(request.send().await.unwrap_or_else(|e| panic!("GET /graphql: {e}"))).await
}

async fn refusals_have_the_bodies_of_their_snapshots(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app().await;
    // A field's bad argument: `BAD_USER_INPUT` naming it, at its path, with `data`.
    let backwards = r#"{ registrations(period: {from: "2026-02-01", to: "2026-01-01"}) { total } }"#;
    let bad_user_input = post(&server, Some(&key), json!({ "query": backwards })).await;
    // No key: 401 before anything runs.
    let unauthenticated = post(&server, None, json!({ "query": "{ __typename }" })).await;
    // 101 aliases: refused before validation, naming the limit, its maximum and the count.
    let wide = format!("{{ {} }}", (0..101).map(|i| format!("a{i}: __typename")).collect::<Vec<_>>().join(" "));
    let query_too_complex = post(&server, Some(&key), json!({ "query": wide })).await;
    // A hash never sent with its text.
    let unknown = json!({ "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } }).to_string();
    let persisted_query_not_found = get(&server, &key, &[("extensions", &unknown)]).await;
    // GET runs queries only: 405 and `Allow: POST`.
    let mutation_over_get = get(&server, &key, &[("query", "mutation { upsertUsers(users: []) { accepted } }")]).await;

    // The settings are the thread's: no `.await` inside.
    insta::with_settings!({ omit_expression => true }, {
        let reset_at = "[resetAt]";
        assert_json_snapshot!("bad_user_input", bad_user_input, { ".body.extensions.rateLimit.resetAt" => reset_at });
        assert_json_snapshot!("unauthenticated", unauthenticated, { ".body.extensions.rateLimit.resetAt" => reset_at });
        assert_json_snapshot!("query_too_complex", query_too_complex, { ".body.extensions.rateLimit.resetAt" => reset_at });
        assert_json_snapshot!(
            "persisted_query_not_found",
            persisted_query_not_found,
            { ".body.extensions.rateLimit.resetAt" => reset_at }
        );
        assert_json_snapshot!("mutation_over_get", mutation_over_get, { ".body.extensions.rateLimit.resetAt" => reset_at });
    });
}

on_each_backend!(refusals_have_the_bodies_of_their_snapshots);
