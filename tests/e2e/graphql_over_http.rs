//! GraphQL over HTTP as the spec (and the `graphql-http` audit) says: GET runs queries
//! only, answers follow `Accept`, request errors are 4xx under
//! `application/graphql-response+json` and 200 under `application/json`; automatic
//! persisted queries; trusted documents; CORS; compression.

use ottstats_domain::document::DocumentHash;
use ottstats_domain::repository::TrustedDocuments;
use ottstats_server::hash_of;
use ottstats_server::{AppState, CorsOrigins, HttpSettings};
use ottstats_tests::ws::{Event, WsClient};
use ottstats_tests::{Answer, Env, TestApp, TestServer, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

const GR: &str = "application/graphql-response+json";
const WAIT: std::time::Duration = std::time::Duration::from_secs(10);
const TOTAL: &str = operations::JANUARY_TOTAL;

async fn answer(request: reqwest::RequestBuilder) -> Answer {
    Answer::of(request).await
}

fn get(server: &TestServer, key: &str, query: &[(&str, &str)], accept: Option<&str>) -> reqwest::RequestBuilder {
    let mut r = reqwest::Client::new().get(server.url("/graphql")).query(query).bearer_auth(key);
    if let Some(a) = accept {
        r = r.header("accept", a);
    }
    r
}

fn post(server: &TestServer, key: &str, body: &str, accept: Option<&str>) -> reqwest::RequestBuilder {
    let mut r = reqwest::Client::new()
        .post(server.url("/graphql"))
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(a) = accept {
        r = r.header("accept", a);
    }
    r
}

async fn get_runs_queries_and_only_queries(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app().await;
    let a = answer(get(&server, &key, &[("query", TOTAL)], None)).await;
    assert_eq!((a.status, a.body["data"]["registrations"]["total"].clone()), (200, json!(0)), "{}", a.body);
    assert!(a.header("content-type").starts_with("application/json"), "{:?}", a.headers);
    let vars = r#"{"p": {"from": "2026-01-01", "to": "2026-02-01"}}"#;
    let q = "query T($p: PeriodInput!) { registrations(period: $p) { total } }";
    let a = answer(get(&server, &key, &[("query", q), ("variables", vars), ("operationName", "T")], Some(GR))).await;
    assert_eq!((a.status, a.body["data"]["registrations"]["total"].clone()), (200, json!(0)), "{}", a.body);
    assert!(a.header("content-type").starts_with(GR));
    // A mutation, even one of several operations, is refused with 405 and `Allow: POST`.
    let m = r#"query Q { __typename } mutation M { upsertUsers(users: []) { accepted } }"#;
    for (doc, name) in [(m, Some("M")), ("mutation { upsertUsers(users: []) { accepted } }", None)] {
        let mut params = vec![("query", doc)];
        params.extend(name.map(|n| ("operationName", n)));
        let a = answer(get(&server, &key, &params, Some(GR))).await;
        assert_eq!((a.status, a.header("allow"), a.code()), (405, "POST", "BAD_USER_INPUT"), "{}", a.body);
    }
    let a = answer(get(&server, &key, &[("query", m), ("operationName", "Q")], None)).await;
    assert_eq!(a.body["data"]["__typename"], "Query", "{}", a.body);
    // No query: a request error.
    let a = answer(get(&server, &key, &[], Some(GR))).await;
    assert_eq!((a.status, a.code()), (400, "BAD_USER_INPUT"));
    assert_eq!(a.body["errors"][0]["extensions"]["argument"], "query");
    // A browser navigating gets GraphiQL.
    let page = reqwest::Client::new()
        .get(server.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(page.headers()["content-type"].to_str().unwrap_or("").starts_with("text/html"));
    assert!(page.text().await.unwrap_or_default().contains("graphiql.min.js"));
}

async fn media_types_and_status_codes_follow_the_spec(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app().await;
    let typename = r#"{"query": "{ __typename }"}"#;
    for (accept, content_type) in [
        (None, "application/json"),
        (Some("*/*"), "application/json"),
        (Some("application/json"), "application/json"),
        (Some(GR), GR),
    ] {
        let a = answer(post(&server, &key, typename, accept)).await;
        assert_eq!(a.status, 200, "{accept:?}");
        assert_eq!(a.header("content-type"), format!("{content_type}; charset=utf-8"), "{accept:?}");
    }
    // Request errors: 400 and no `data` as graphql-response+json; 200 as JSON.
    // A body that is not a JSON object: 400 under both.
    for body in [r#"{ "not a JSON"#, r#"[{"query": "{ __typename }"}]"#, ""] {
        for accept in [GR, "application/json"] {
            let a = answer(post(&server, &key, body, Some(accept))).await;
            assert_eq!((a.status, a.code()), (400, "BAD_USER_INPUT"), "{body}: {}", a.body);
            assert_eq!(a.body["errors"][0]["extensions"]["argument"], "body");
        }
    }
    let bad = [
        r#"{"qeury": "{ __typename }"}"#,
        r#"{"query": {"obj": "ect"}}"#,
        r#"{"query": "{ __typename }", "operationName": 0}"#,
        r#"{"query": "{ __typename }", "variables": "string"}"#,
        r#"{"query": "{ __typename }", "extensions": ["array"]}"#,
        r#"{"query": "{"}"#,
        r#"{"query": "{ nosuchfield }"}"#,
        r#"{"query": "subscription { __typename }"}"#,
    ];
    for body in bad {
        let a = answer(post(&server, &key, body, Some(GR))).await;
        assert_eq!(a.status, 400, "{body}: {}", a.body);
        assert!(a.body.get("data").is_none() && a.body["errors"].is_array(), "{body}: {}", a.body);
        let a = answer(post(&server, &key, body, Some("application/json"))).await;
        assert_eq!(a.status, 200, "{body}: {}", a.body);
        assert!(a.body["errors"].is_array(), "{body}: {}", a.body);
    }
    // A field error is not a request error: 200 and `data`, under both.
    let field_error = r#"{"query": "{ registrations(period: {from: \"2026-01-01\", to: \"2025-01-01\"}) { total } }"}"#;
    for accept in [GR, "application/json"] {
        let a = answer(post(&server, &key, field_error, Some(accept))).await;
        assert_eq!((a.status, a.code()), (200, "BAD_USER_INPUT"), "{}", a.body);
        assert!(a.body.as_object().is_some_and(|o| o.contains_key("data")), "{}", a.body);
    }
    // A POST must say it is JSON; an Accept that names nothing spoken gets 406.
    let plain = reqwest::Client::new().post(server.url("/graphql")).bearer_auth(&key).body(typename);
    let a = answer(plain).await;
    assert_eq!((a.status, a.code()), (415, "BAD_USER_INPUT"), "{}", a.body);
    let form = reqwest::Client::new()
        .post(server.url("/graphql"))
        .bearer_auth(&key)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("query=%7B__typename%7D");
    assert_eq!(answer(form).await.status, 415);
    let a = answer(post(&server, &key, typename, Some("text/plain"))).await;
    assert_eq!(a.status, 406, "{}", a.body);
    // Other methods: 405 in the GraphQL shape.
    let a = answer(reqwest::Client::new().delete(server.url("/graphql")).header("accept", GR)).await;
    assert_eq!((a.status, a.code()), (405, "BAD_USER_INPUT"), "{}", a.body);
}

async fn persisted_queries_by_hash_over_get_and_post(env: Env) {
    let (_, key) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let (_, other_key) = env.tenant("Other", "CL", chrono_tz::America::Santiago).await;
    let server = env.serve(None).await;
    let hash = hash_of(TOTAL).to_string();
    let ext = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}}).to_string();
    // Unknown hash: PERSISTED_QUERY_NOT_FOUND, over GET and POST.
    let a = answer(get(&server, &key, &[("extensions", &ext)], None)).await;
    assert_eq!((a.status, a.code()), (200, "PERSISTED_QUERY_NOT_FOUND"), "{}", a.body);
    assert_eq!(a.body["errors"][0]["message"], "PersistedQueryNotFound");
    let by_hash = json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash}}}).to_string();
    assert_eq!(answer(post(&server, &key, &by_hash, Some(GR))).await.code(), "PERSISTED_QUERY_NOT_FOUND");
    // Sent with its text, it runs and is remembered.
    let a = answer(get(&server, &key, &[("query", TOTAL), ("extensions", &ext)], None)).await;
    assert_eq!(a.body["data"]["registrations"]["total"], 0, "{}", a.body);
    for request in [get(&server, &key, &[("extensions", &ext)], None), post(&server, &key, &by_hash, None)] {
        let a = answer(request).await;
        assert_eq!((a.status, a.body["data"]["registrations"]["total"].clone()), (200, json!(0)), "{}", a.body);
    }
    // Another tenant has not sent it.
    assert_eq!(
        answer(get(&server, &other_key, &[("extensions", &ext)], None)).await.code(),
        "PERSISTED_QUERY_NOT_FOUND"
    );
    // A hash that is not the text's, a malformed one, another version: named errors.
    let wrong =
        json!({"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash}}});
    let bad_hex = json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "abc"}}});
    let v2 = json!({"extensions": {"persistedQuery": {"version": 2, "sha256Hash": hash}}});
    for (body, argument) in [
        (wrong, "extensions.persistedQuery.sha256Hash"),
        (bad_hex, "extensions.persistedQuery.sha256Hash"),
        (v2, "extensions.persistedQuery.version"),
    ] {
        let a = answer(post(&server, &key, &body.to_string(), Some(GR))).await;
        assert_eq!((a.status, a.code()), (400, "BAD_USER_INPUT"), "{}", a.body);
        assert_eq!(a.body["errors"][0]["extensions"]["argument"], argument);
    }
    // A text is remembered only once it passed the limits (and was charged).
    let wide = format!("{{ {} }}", (0..101).map(|i| format!("a{i}: __typename")).collect::<Vec<_>>().join(" "));
    let wide_hash = hash_of(&wide).to_string();
    let refused = json!({"query": wide, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": wide_hash}}});
    assert_eq!(answer(post(&server, &key, &refused.to_string(), None)).await.code(), "QUERY_TOO_COMPLEX");
    let again = json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": wide_hash}}});
    assert_eq!(answer(post(&server, &key, &again.to_string(), None)).await.code(), "PERSISTED_QUERY_NOT_FOUND");
    // Over `/graphql/ws`, by hash alone.
    let mut socket = WsClient::connect_with_key(&server.ws_url(), &key).await;
    let frame = json!({"id": "1", "type": "subscribe",
                       "payload": {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash}}}});
    socket.send(frame).await;
    assert_eq!(socket.next_data(WAIT).await["registrations"]["total"], 0);
    // Another process knows it through Redis when there is one; on its own, it does not.
    let second = TestServer::start(AppState::new(env.second_process(), None)).await;
    let expected = if env.redis.is_some() { "" } else { "PERSISTED_QUERY_NOT_FOUND" };
    assert_eq!(answer(post(&second, &key, &by_hash, None)).await.code(), expected);
}

async fn trusted_documents_run_alone(env: Env) {
    let (_, key) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let registered = TOTAL;
    let hash: DocumentHash = hash_of(registered);
    assert!(env.db.store.add_document(hash, registered).await.unwrap_or_else(|e| panic!("{e}")));
    assert!(!env.db.store.add_document(hash, registered).await.unwrap_or_else(|e| panic!("{e}")));
    let settings = HttpSettings { trusted_documents: true, ..Default::default() };
    let server = TestServer::start(AppState::with_settings(env.services.clone(), None, settings)).await;
    let by_hash = json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash.to_string()}}}).to_string();
    let a = answer(post(&server, &key, &by_hash, None)).await;
    assert_eq!(a.body["data"]["registrations"]["total"], 0, "{}", a.body);
    let a = answer(post(&server, &key, &json!({"query": registered}).to_string(), None)).await;
    assert_eq!(a.body["data"]["registrations"]["total"], 0, "{}", a.body);
    // Anything else: its text is refused, its hash unknown.
    let other = "{ __typename }";
    let a = answer(post(&server, &key, &json!({"query": other}).to_string(), Some(GR))).await;
    assert_eq!((a.status, a.code()), (400, "FORBIDDEN"), "{}", a.body);
    let unknown = json!({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash_of(other).to_string()}}});
    assert_eq!(answer(post(&server, &key, &unknown.to_string(), None)).await.code(), "PERSISTED_QUERY_NOT_FOUND");
    // Sending the text with its hash does not register it, as it would without the mode.
    let register = json!({"query": other, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash_of(other).to_string()}}});
    assert_eq!(answer(post(&server, &key, &register.to_string(), None)).await.code(), "FORBIDDEN");
    assert_eq!(answer(post(&server, &key, &unknown.to_string(), None)).await.code(), "PERSISTED_QUERY_NOT_FOUND");
    // The same over `/graphql/ws`: a registered query runs, anything else is refused.
    let mut socket = WsClient::connect_with_key(&server.ws_url(), &key).await;
    socket.subscribe("1", registered, Value::Null).await;
    assert_eq!(socket.next_data(WAIT).await["registrations"]["total"], 0);
    assert_eq!(socket.next_event(WAIT).await, Some(Event::Complete));
    socket.subscribe("2", other, Value::Null).await;
    match socket.next_event(WAIT).await {
        Some(Event::Error(errors)) => assert_eq!(errors[0]["extensions"]["code"], "FORBIDDEN", "{errors}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn browsers_on_other_origins_may_call(env: Env) {
    let (_, key) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let preflight = |server: &TestServer, origin: &str| {
        reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, server.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization,content-type")
    };
    let any = env.serve(None).await;
    let a = answer(preflight(&any, "https://app.example.com")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("access-control-allow-origin"), "*");
    assert!(a.header("access-control-allow-headers").to_ascii_lowercase().contains("authorization"), "{:?}", a.headers);
    assert!(a.header("access-control-allow-methods").contains("POST"));
    assert_eq!(a.header("access-control-max-age"), "86400");
    assert_eq!(a.header("access-control-allow-credentials"), "", "never with credentials");
    let call = post(&any, &key, r#"{"query": "{ __typename }"}"#, None).header("origin", "https://app.example.com");
    let a = answer(call).await;
    assert_eq!((a.status, a.header("access-control-allow-origin")), (200, "*"));

    let origins = CorsOrigins::parse("https://app.example.com").unwrap_or_else(|e| panic!("{e}"));
    let settings = HttpSettings { cors_origins: origins, ..Default::default() };
    let listed = TestServer::start(AppState::with_settings(env.services.clone(), None, settings)).await;
    let a = answer(preflight(&listed, "https://app.example.com")).await;
    assert_eq!(a.header("access-control-allow-origin"), "https://app.example.com");
    assert!(a.header("vary").to_ascii_lowercase().contains("origin"), "{:?}", a.headers);
    let a = answer(preflight(&listed, "https://evil.example.com")).await;
    assert_eq!(a.header("access-control-allow-origin"), "", "{:?}", a.headers);
}

async fn answers_and_assets_are_compressed_as_accepted(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app().await;
    let big = r#"{"query": "{ __schema { types { name fields { name } } } }"}"#;
    for (accepted, expected) in
        [("br", "br"), ("gzip", "gzip"), ("gzip, br", "br"), ("identity", ""), ("br;q=0, gzip", "gzip")]
    {
        let a = answer(post(&server, &key, big, None).header("accept-encoding", accepted)).await;
        assert_eq!((a.status, a.header("content-encoding")), (200, expected), "{accepted}");
    }
    // Small answers go as they are.
    let a = answer(post(&server, &key, r#"{"query": "{ __typename }"}"#, None).header("accept-encoding", "br")).await;
    assert_eq!(a.header("content-encoding"), "");
    // Assets: gzip as stored, plain otherwise (never compressed again on demand).
    let js = server.url("/graphql/assets/graphiql.min.js");
    let client = reqwest::Client::new();
    for (accepted, expected, magic) in
        [(Some("gzip, deflate, br"), "gzip", Some([0x1f, 0x8b])), (Some("br"), "", None), (None, "", None)]
    {
        let mut r = client.get(&js);
        if let Some(a) = accepted {
            r = r.header("accept-encoding", a);
        }
        let r = r.send().await.unwrap_or_else(|e| panic!("{e}"));
        let encoding = r.headers().get("content-encoding").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        assert_eq!(encoding, expected, "{accepted:?}");
        let bytes = r.bytes().await.unwrap_or_default();
        assert!(bytes.len() > 1000);
        match magic {
            Some(m) => assert_eq!(bytes[..2], m),
            None if expected.is_empty() => assert!(std::str::from_utf8(&bytes[..100]).is_ok(), "plain JavaScript"),
            None => {}
        }
    }
}

on_each_backend!(
    get_runs_queries_and_only_queries,
    media_types_and_status_codes_follow_the_spec,
    persisted_queries_by_hash_over_get_and_post,
    trusted_documents_run_alone,
    browsers_on_other_origins_may_call,
    answers_and_assets_are_compressed_as_accepted,
);
