//! `/metrics` after a fixed sequence of requests, compared with a snapshot: every series'
//! name, help, type and labels, and the counts that follow from the sequence. What varies
//! from run to run (durations: histogram buckets and sums) is redacted. On SQLite with
//! the in-process cache (no Redis series), on a fresh server: its registry is its own.

use ottstats_tests::{Env, TestApp};
use serde_json::json;

use crate::operations;

/// The text with the value of every sample that measures time replaced by `[duration]`.
fn redacted(metrics: &str) -> String {
    let mut out = String::new();
    for line in metrics.lines() {
        let sample = !line.starts_with('#') && !line.is_empty();
        let series = line.split(['{', ' ']).next().unwrap_or_default();
        let timed = series.contains("seconds") && (series.ends_with("_bucket") || series.ends_with("_sum"));
        match line.rsplit_once(' ') {
            Some((name, _)) if sample && timed => out.push_str(&format!("{name} [duration]")),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_after_a_fixed_sequence_of_requests() {
    let env = Env::sqlite().await;
    let app = env.spawn_app_in(chrono_tz::UTC).await;
    let TestApp { server, tenant, .. } = &app;
    env.warm_index(tenant).await;
    let users = json!({ "u": [
        { "id": "a", "name": "A", "gender": "FEMALE", "registeredAt": "2026-01-10T08:00:00Z" },
        { "id": "b", "name": "B", "gender": "MALE", "registeredAt": "2026-01-11T08:00:00Z" },
    ] });
    assert_eq!(app.post(operations::UPSERT_USERS, users).await.0, 200);
    let january = json!({ "p": { "from": "2026-01-01", "to": "2026-02-01" } });
    // Learnt, stored, then a stored answer.
    for _ in 0..3 {
        let (status, body) = app.post(operations::DASHBOARD, january.clone()).await;
        assert_eq!((status, &body["data"]["registrations"]["total"]), (200, &json!(2)), "{body}");
    }
    let (_, body) = app.post(operations::DASHBOARD, json!({ "p": { "from": "x", "to": "y" } })).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT", "{body}");
    let (status, _) = server.graphql(Some("ott_1_nope"), operations::DASHBOARD, january).await;
    assert_eq!(status, 401);
    // The collector: one event stored, one item that is none.
    let events = json!([{ "id": "e1", "sessionId": "s1", "userId": "a", "type": "PLAY", "occurredAt": "2026-01-10T09:00:00Z" }, 7]);
    let collected = reqwest::Client::new()
        .post(server.url("/collect/events"))
        .bearer_auth(&app.key)
        .json(&events)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(collected.status(), 200);
    let health = reqwest::get(server.url("/healthz")).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(health.status(), 200);

    insta::assert_snapshot!("metrics", redacted(&server.metrics().await));
}
