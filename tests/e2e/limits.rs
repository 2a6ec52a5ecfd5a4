//! Every request is measured before it runs: fragment bombs, duplicated fields, aliases of
//! long series and long lists are refused with `QUERY_TOO_COMPLEX` naming the limit, the
//! figures stay within what `limits { … }` says, and introspection is answered once for all.

use ottstats_tests::{Env, TestApp, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

/// `fragment F{i} on RegistrationStats { ...F{i-1} ...F{i-1} }`, `levels` deep.
fn fragment_bomb(levels: usize) -> String {
    let mut q = format!(
        "query {{ registrations(period: {{from: \"2026-01-01\", to: \"2026-02-01\"}}) {{ ...F{levels} }} }}\n\
         fragment F0 on RegistrationStats {{ total }}\n"
    );
    for i in 1..=levels {
        q.push_str(&format!("fragment F{i} on RegistrationStats {{ ...F{p} ...F{p} }}\n", p = i - 1));
    }
    q
}

fn refusal(body: &Value) -> (String, String, u64) {
    let ext = &body["errors"][0]["extensions"];
    (
        ext["code"].as_str().unwrap_or_default().to_owned(),
        ext["limit"].as_str().unwrap_or_default().to_owned(),
        ext["actual"].as_u64().unwrap_or_default(),
    )
}

async fn fragment_bombs_are_measured_not_expanded(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    let (status, body) = server.graphql(Some(&key), &fragment_bomb(29), Value::Null).await;
    assert_eq!(status, 200);
    // registrations + 2^29 × total
    assert_eq!(refusal(&body), ("QUERY_TOO_COMPLEX".into(), "fields".into(), 1 + (1 << 29)), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["max"], 2_000);
    assert!(body["data"].is_null());
    // A small bomb passes and counts right: 2^5 spreads of `total` are one field `total`.
    let (_, body) = server.graphql(Some(&key), &fragment_bomb(5), Value::Null).await;
    assert_eq!(body["data"]["registrations"]["total"], 0, "{body}");
}

async fn duplicated_fields_and_aliases_are_refused(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    let period = "period: {from: \"2026-01-01\", to: \"2026-02-01\"}";
    let totals = "total ".repeat(80_000);
    let (_, body) =
        server.graphql(Some(&key), &format!("{{ registrations({period}) {{ {totals} }} }}"), Value::Null).await;
    assert_eq!(refusal(&body), ("QUERY_TOO_COMPLEX".into(), "fields".into(), 80_001), "{body}");
    let cities = "byGeography(level: CITY) { label } ".repeat(20_000);
    let (_, body) =
        server.graphql(Some(&key), &format!("{{ registrations({period}) {{ {cities} }} }}"), Value::Null).await;
    assert_eq!(refusal(&body).1, "fields", "{body}");
    // 190 aliases of a 20-year DAY timeline: refused by aliases; 90 of them by cost.
    let long = "period: {from: \"2006-01-01\", to: \"2026-01-01\"}";
    let aliases = |n: usize| {
        let series: String =
            (0..n).map(|i| format!("t{i}: timeline(granularity: DAY) {{ buckets {{ start total }} }} ")).collect();
        format!("{{ registrations({long}) {{ {series} }} }}")
    };
    let (_, body) = server.graphql(Some(&key), &aliases(190), Value::Null).await;
    assert_eq!(refusal(&body), ("QUERY_TOO_COMPLEX".into(), "aliases".into(), 190), "{body}");
    let (_, body) = server.graphql(Some(&key), &aliases(90), Value::Null).await;
    let (code, limit, cost) = refusal(&body);
    assert_eq!((code.as_str(), limit.as_str()), ("QUERY_TOO_COMPLEX", "cost"), "{body}");
    // 7,306 days touched: 7,307 buckets of (bucket, start, total), 90 times, + timelines + 1.
    assert_eq!(cost, 1 + 90 * (1 + 7_307 * 3));
    // One such timeline is fine.
    let (_, body) = server.graphql(Some(&key), &aliases(1), Value::Null).await;
    assert_eq!(body["data"]["registrations"]["t0"]["buckets"].as_array().map(Vec::len), Some(7_305), "{body}");
}

async fn long_lists_are_refused_before_they_reach_the_database(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    let types: Vec<&str> = std::iter::repeat_n("PLAY", 32_766).collect();
    let q = "query($t: [PlayerEventType!]) { user(id: \"1\") { activity(period: {from: \"2026-01-01\", to: \"2026-02-01\"}) { events(types: $t) { totalCount } } } }";
    let (_, body) = server.graphql(Some(&key), q, json!({"t": types})).await;
    assert_eq!(refusal(&body), ("QUERY_TOO_COMPLEX".into(), "listLength".into(), 32_766), "{body}");
    assert_eq!(body["errors"][0]["extensions"]["argument"], "t");
    // 10,000 of them, once deduplicated, are one type: no error, no user.
    let (_, body) = server.graphql(Some(&key), q, json!({"t": &types[..10_000]})).await;
    assert!(body.get("errors").is_none(), "{body}");
}

async fn limits_are_readable_and_answers_say_what_they_cost(env: Env) {
    let TestApp { server, key, .. } = env.spawn_app_in(chrono_tz::UTC).await;
    let (_, body) = server
        .graphql(
            Some(&key),
            "{ limits { maxFields maxDepth maxAliases maxListLength maxCost maxAnswerBytes timeoutSeconds } }",
            Value::Null,
        )
        .await;
    assert_eq!(
        body["data"]["limits"],
        json!({"maxFields": 2000, "maxDepth": 20, "maxAliases": 100, "maxListLength": 10000, "maxCost": 200000,
               "maxAnswerBytes": 16777216, "timeoutSeconds": 30})
    );
    // registrations (1) + timeline (1) + 33 buckets × (bucket + total): 68.
    let q = "{ registrations(period: {from: \"2026-01-01\", to: \"2026-02-01\"}) { timeline { buckets { total } } } }";
    let (_, body) = server.graphql(Some(&key), q, Value::Null).await;
    let rate = &body["extensions"]["rateLimit"];
    assert_eq!((rate["cost"].clone(), rate["limit"].clone()), (json!(68), json!(1_000_000)), "{body}");
    assert_eq!(body["extensions"]["cached"], false);
    // The second run stores the answer (the first learnt what it reads); the third is
    // a stored answer, and costs 1.
    let (_, second) = server.graphql(Some(&key), q, Value::Null).await;
    assert_eq!(second["extensions"]["rateLimit"]["cost"], 68);
    let (_, again) = server.graphql(Some(&key), q, Value::Null).await;
    assert_eq!(
        (again["extensions"]["cached"].clone(), again["extensions"]["rateLimit"]["cost"].clone()),
        (json!(true), json!(1))
    );
    assert_eq!(again["data"], body["data"]);
}

async fn introspection_is_answered_once_for_every_tenant(env: Env) {
    let (_, a) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let (_, b) = env.tenant("Beta", "CL", chrono_tz::UTC).await;
    let server = env.serve(None).await;
    let q = "{ __schema { types { name fields { name } } } }";
    let (_, first) = server.graphql(Some(&a), q, Value::Null).await;
    assert_eq!(first["extensions"]["cached"], false, "{}", first["extensions"]);
    let (_, second) = server.graphql(Some(&b), q, Value::Null).await;
    assert_eq!(second["extensions"]["cached"], true);
    assert_eq!(first["data"], second["data"]);
    // Not without a key.
    let (status, _) = server.graphql(None, q, Value::Null).await;
    assert_eq!(status, 401);
}

/// One tenant flooding the statistics path gets answers or `RATE_LIMITED`, never a
/// failure, and another tenant's figures come through exact meanwhile.
async fn a_tenant_flooding_the_sql_path_cannot_fail_another_tenant(env: Env) {
    let upsert = operations::UPSERT_USERS;
    let record = operations::RECORD_EVENTS;
    let user = json!({ "u": [{ "id": "u1", "name": "U", "gender": "MALE", "registeredAt": "2025-06-01T00:00:00Z" }] });
    let play = |id: &str| json!({ "e": [{ "id": id, "sessionId": id, "userId": "u1", "type": "PLAY", "occurredAt": "2026-01-12T20:00:00Z" }] });
    let (_, a) = env.tenant("A", "CL", chrono_tz::UTC).await;
    let (_, b) = env.tenant("B", "CL", chrono_tz::UTC).await;
    let server = std::sync::Arc::new(env.serve(None).await);
    for (key, events) in [(&a, vec!["a1"]), (&b, vec!["b1", "b2"])] {
        assert_eq!(server.graphql(Some(key), upsert, user.clone()).await.0, 200);
        for e in events {
            assert_eq!(server.graphql(Some(key), record, play(e)).await.0, 200);
        }
    }
    let q = "query($p: PeriodInput!) { user(id: \"u1\") { activity(period: $p) { overview { playbackStarts } } } }";
    // Each period differs by a minute, so that no answer is a stored one.
    let period = |i: usize| {
        let from =
            chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap() - chrono::Duration::minutes(i as i64);
        json!({ "p": { "from": from.to_rfc3339(), "to": "2026-02-01T00:00:00Z" } })
    };
    let flood: Vec<_> = (0..400)
        .map(|i| {
            let (server, a) = (server.clone(), a.clone());
            tokio::spawn(async move { server.graphql(Some(&a), q, period(i)).await })
        })
        .collect();
    for i in 0..20 {
        let (status, body) = server.graphql(Some(&b), q, period(1000 + i)).await;
        assert_eq!(
            (status, &body["data"]["user"]["activity"]["overview"]["playbackStarts"]),
            (200, &json!(2)),
            "{body}"
        );
    }
    let mut refused = 0;
    for f in flood {
        let (status, body) = f.await.unwrap();
        match body["errors"][0]["extensions"]["code"].as_str() {
            None => {
                assert_eq!((status, &body["data"]["user"]["activity"]["overview"]["playbackStarts"]), (200, &json!(1)))
            }
            Some("RATE_LIMITED") => refused += 1,
            Some(other) => panic!("{status} {other}: {body}"),
        }
    }
    // Far more than its share and queue at once: some were refused (the rest answered).
    assert!(refused > 0, "none of 400 refused");
    eprintln!("{refused} of 400 refused");
}

on_each_backend!(
    fragment_bombs_are_measured_not_expanded,
    duplicated_fields_and_aliases_are_refused,
    long_lists_are_refused_before_they_reach_the_database,
    limits_are_readable_and_answers_say_what_they_cost,
    introspection_is_answered_once_for_every_tenant,
    a_tenant_flooding_the_sql_path_cannot_fail_another_tenant,
);
