//! The real router over HTTP on an ephemeral port, on each backend.

use ottstats_tests::{Env, TestApp, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

const DASHBOARD: &str = "query($p: PeriodInput!) { registrations(period: $p) { total timeline(granularity: MONTH) { buckets { total } peak { start } }
    byGender { gender count } byAge { label count } byGeography(level: STATE) { label count isOther } } }";

async fn writes_and_reads_over_http(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app().await;
    let users = json!([
        {"id": "1", "name": "A", "gender": "MALE", "birthDate": "1990-01-01", "country": "CL", "state": "Biobío", "registeredAt": "2026-02-10T12:00:00Z"},
        {"id": "2", "name": "B", "country": "PE", "registeredAt": "2026-03-10T12:00:00Z"},
        {"id": "3", "name": "C", "gender": "FEMALE", "birthDate": "2001-01-01", "country": "CL", "state": "Biobío", "registeredAt": "2026-03-11T12:00:00Z"}
    ]);
    let (status, body) = server.graphql(Some(&key), operations::UPSERT_USERS, json!({"u": users})).await;
    assert_eq!((status, body["data"]["upsertUsers"]["accepted"].clone()), (200, json!(3)), "{body}");
    let (status, body) =
        server.graphql(Some(&key), DASHBOARD, json!({"p": {"from": "2026-01-01", "to": "2026-04-01"}})).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["registrations"],
        json!({
            "total": 3,
            "timeline": {"buckets": [{"total": 0}, {"total": 1}, {"total": 2}], "peak": {"start": "2026-03-01T00:00:00-03:00"}},
            "byGender": [{"gender": "FEMALE", "count": 1}, {"gender": "MALE", "count": 1}, {"gender": "OTHER", "count": 0}, {"gender": "UNKNOWN", "count": 1}],
            "byAge": [{"label": "0-17", "count": 0}, {"label": "18-24", "count": 0}, {"label": "25-34", "count": 1}, {"label": "35-44", "count": 1},
                      {"label": "45-54", "count": 0}, {"label": "55-64", "count": 0}, {"label": "65+", "count": 0}, {"label": "Unknown", "count": 1}],
            "byGeography": [{"label": "Biobío", "count": 2, "isOther": false}, {"label": "Other", "count": 1, "isOther": true}]
        })
    );
}

async fn missing_and_wrong_keys_are_unauthenticated(env: Env) {
    let (tenant, key) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let server = env.serve(None).await;
    let forged = key.replace(&format!("ott_{}_", tenant.id.0), &format!("ott_{}_", tenant.id.0 + 1));
    for k in [None, Some("nonsense"), Some("ott_1_0000"), Some(forged.as_str())] {
        let (status, body) = server.graphql(k, "{ __typename }", Value::Null).await;
        assert_eq!(status, 401, "{k:?}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{k:?}");
        assert!(body["data"].is_null());
    }
    let (status, _) = server.graphql(Some(&key), "{ __typename }", Value::Null).await;
    assert_eq!(status, 200);
}

async fn bad_queries_get_codes(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app().await;
    let (_, body) = server.graphql(Some(&key), "{ registrations(period: {from: 1}) { total } ", Value::Null).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    let (_, body) = server.graphql(Some(&key), "{ nosuchfield }", Value::Null).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    // Deeper than the depth limit (20), and deeper than the parser's recursion limit.
    for levels in [22, 40] {
        let deep = format!(
            "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
            "ofType { ".repeat(levels),
            "} ".repeat(levels)
        );
        let (_, body) = server.graphql(Some(&key), &deep, Value::Null).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{levels}: {body}");
    }
}

/// The introspection query GraphiQL sends on load (graphql-js `getIntrospectionQuery`
/// with its nine-level `TypeRef`) passes the depth and complexity limits.
async fn graphiql_introspection_passes_the_limits(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app().await;
    let type_ref = format!("fragment TypeRef on __Type {{ kind name {} }}", {
        let mut inner = String::from("kind name");
        for _ in 0..8 {
            inner = format!("kind name ofType {{ {inner} }}");
        }
        format!("ofType {{ {inner} }}")
    });
    let query = format!(
        "query IntrospectionQuery {{ __schema {{ queryType {{ name }} mutationType {{ name }} subscriptionType {{ name }}
           types {{ ...FullType }} directives {{ name description locations args(includeDeprecated: true) {{ ...InputValue }} }} }} }}
         fragment FullType on __Type {{ kind name description specifiedByURL
           fields(includeDeprecated: true) {{ name description args(includeDeprecated: true) {{ ...InputValue }} type {{ ...TypeRef }} isDeprecated deprecationReason }}
           inputFields(includeDeprecated: true) {{ ...InputValue }} interfaces {{ ...TypeRef }}
           enumValues(includeDeprecated: true) {{ name description isDeprecated deprecationReason }} possibleTypes {{ ...TypeRef }} }}
         fragment InputValue on __InputValue {{ name description type {{ ...TypeRef }} defaultValue isDeprecated deprecationReason }}
         {type_ref}"
    );
    let (status, body) = server.graphql(Some(&key), &query, Value::Null).await;
    assert_eq!(status, 200);
    assert!(body.get("errors").is_none(), "{body}");
    assert!(body["data"]["__schema"]["types"].as_array().is_some_and(|t| t.len() > 20));
}

async fn malformed_and_oversized_bodies_get_codes(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app().await;
    let client = reqwest::Client::new();
    let post = |body: Vec<u8>, key: Option<&str>| {
        let mut r = client.post(server.url("/graphql")).header("content-type", "application/json").body(body);
        if let Some(k) = key {
            r = r.bearer_auth(k);
        }
        r.send()
    };
    let r = post(b"{not json".to_vec(), Some(&key)).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap_or_default();
    assert_eq!(
        (body["errors"][0]["extensions"]["code"].clone(), body["errors"][0]["extensions"]["argument"].clone()),
        (json!("BAD_USER_INPUT"), json!("body"))
    );
    // Without a key the body is not even read.
    let r = post(b"{not json".to_vec(), None).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 401);
    // A body announced larger than 32 MiB is refused before it is sent.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server.base_url.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap_or_else(|e| panic!("{e}"));
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n\
         Content-Length: 40000000\r\nConnection: close\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap_or_else(|e| panic!("{e}"));
    let mut answer = String::new();
    let _ = socket.read_to_string(&mut answer).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""code":"BAD_USER_INPUT""#), "{answer}");
}

async fn graphiql_works_offline_with_the_demo_key(env: Env) {
    let period = (chrono::NaiveDate::from_ymd_opt(2026, 11, 1), chrono::NaiveDate::from_ymd_opt(2026, 12, 3));
    let period = (period.0.unwrap_or_default(), period.1.unwrap_or_default());
    let demo = ottstats_server::Prefill { api_key: "ott_9_demo\"</script>".into(), user: Some("u7".into()), period };
    let server = env.serve(Some(demo)).await;
    let browser = reqwest::Client::new().get(server.url("/graphql")).header("accept", "text/html");
    let page = browser.send().await.map(|r| r.text());
    let page = match page {
        Ok(text) => text.await.unwrap_or_default(),
        Err(e) => panic!("GET /graphql: {e}"),
    };
    assert!(page.contains("/graphql/assets/graphiql.min.js"));
    // The key is embedded as a JSON string, escaped: it cannot end the script.
    assert!(page.contains(r#"const demoKey = "ott_9_demo\"\u003c/script>";"#), "{page}");
    assert!(page.contains(r#"const demoUser = "u7";"#), "{page}");
    assert!(page.contains(r#"const demoFrom = "2026-11-01";"#) && page.contains(r#"const demoTo = "2026-12-03";"#));
    assert!(!page.contains("unpkg") && !page.contains("cdn."));
    let client = reqwest::Client::builder().no_gzip().build().unwrap_or_else(|e| panic!("{e}"));
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphql-ws.min.js",
    ] {
        let url = server.url(&format!("/graphql/assets/{asset}"));
        let r = client.get(url).header("accept-encoding", "gzip").send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status(), 200, "{asset}");
        assert_eq!(r.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("gzip"));
        let bytes = r.bytes().await.unwrap_or_default();
        assert!(bytes.len() > 1_000 && bytes[..2] == [0x1f, 0x8b], "{asset} is not gzip");
    }
    let r = client.get(server.url("/graphql/assets/nope.js")).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 404);
}

async fn health_and_readiness(env: Env) {
    let server = env.serve(None).await;
    for path in ["/healthz", "/readyz"] {
        let r = reqwest::get(server.url(path)).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status(), 200, "{path}");
    }
}

on_each_backend!(
    writes_and_reads_over_http,
    missing_and_wrong_keys_are_unauthenticated,
    bad_queries_get_codes,
    graphiql_introspection_passes_the_limits,
    malformed_and_oversized_bodies_get_codes,
    graphiql_works_offline_with_the_demo_key,
    health_and_readiness,
);

/// Readiness reports a database that is gone, and the process keeps serving.
#[tokio::test]
async fn readiness_fails_when_the_database_is_closed() {
    let env = Env::sqlite().await;
    let server = env.serve(None).await;
    env.db.store.connection().clone().close().await.unwrap_or_else(|e| panic!("{e}"));
    let r = reqwest::get(server.url("/readyz")).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 503);
    let r = reqwest::get(server.url("/healthz")).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.status(), 200);
}
