//! Concurrent writers with overlapping ids, users, sessions and logins: `accepted` and
//! `duplicates` count what was stored, and the figures equal those of the stored items
//! written again one batch at a time into another tenant (so no phantom session, device
//! or media remains from an event another batch stored first).

use futures_util::future::join_all;
use ottstats_domain::tenant::Tenant;
use ottstats_tests::{Env, on_each_backend};
use serde_json::{Value, json};

const EVENTS: &str =
    "mutation($e: [PlayerEventInput!]!) { recordEvents(events: $e) { accepted duplicates rejected { index } } }";
const LOGINS: &str = "mutation($l: [LoginInput!]!) { recordLogins(logins: $l) { accepted duplicates } }";
const CONTENTS: &str = "mutation($c: [ContentInput!]!) { upsertContents(contents: $c) { accepted duplicates } }";
const USERS: &str = "mutation($u: [UserInput!]!) { upsertUsers(users: $u) { accepted duplicates } }";
const WRITERS: usize = 4;
const PERIOD: &str = r#"{from: "2026-03-01T00:00:00Z", to: "2026-04-01T00:00:00Z", timeZone: "UTC"}"#;

/// Writer `w`'s events: the same 300 ids as every other writer; a third of them in a
/// session of the writer's own (same id, different session), the rest identical.
fn events(w: usize) -> Vec<Value> {
    (0..300)
        .map(|i| {
            let session = if i % 3 == 0 { format!("s{}-w{w}", i % 7) } else { format!("s{}", i % 7) };
            let kind = if i % 2 == 0 { "PLAYING" } else { "PLAY" };
            json!({
                "id": format!("e{i}"), "sessionId": session, "userId": format!("u{}", i % 5), "type": kind,
                "occurredAt": format!("2026-03-10T10:{:02}:{:02}Z", i / 60, i % 60), "contentKind": "VOD",
                "contentId": format!("c{}", (i + w) % 4), "device": format!("d{}", (i + w) % 3), "bandwidthKbps": 1000 + i
            })
        })
        .collect()
}

fn logins(w: usize) -> Vec<Value> {
    (0..200)
        .map(|i| json!({"id": format!("l{}", i + 50 * w), "userId": format!("u{}", i % 5), "occurredAt": "2026-03-10T09:00:00Z"}))
        .collect()
}

fn contents() -> Vec<Value> {
    (0..4).map(|i| json!({"id": format!("c{i}"), "kind": "VOD", "title": format!("Title {i}")})).collect()
}

fn users(w: usize) -> Vec<Value> {
    (0..50)
        .map(|i| {
            json!({"id": format!("u{i}"), "name": "x", "gender": if (i + w).is_multiple_of(2) { "FEMALE" } else { "MALE" },
                        "registeredAt": "2026-03-05T10:00:00Z"})
        })
        .collect()
}

async fn write(env: &Env, t: &Tenant, query: &str, var: &str, items: Vec<Value>, field: &str) -> (i64, i64) {
    let r = env.data(t, query, json!({ var: items })).await[field].clone();
    (r["accepted"].as_i64().unwrap_or(-1), r["duplicates"].as_i64().unwrap_or(-1))
}

async fn figures(env: &Env, t: &Tenant, user: &str) -> Value {
    let q = format!(
        "{{ user(id: \"{user}\") {{ activity(period: {PERIOD}) {{ overview {{ streams playbackStarts minutesConsumed }}
            details {{ devices {{ name vod {{ streams minutesConsumed }} }} medias {{ content {{ id }} streams minutesConsumed }} }}
            events(first: 1000) {{ totalCount }} bandwidth(granularity: DAY) {{ averageKbps }} }} }} }}"
    );
    env.data(t, &q, Value::Null).await["user"]["activity"].clone()
}

/// Every stored event of the tenant, as inputs (read back through the API).
async fn stored_events(env: &Env, t: &Tenant) -> Vec<Value> {
    let mut out = Vec::new();
    for u in 0..5 {
        let q = format!(
            "{{ user(id: \"u{u}\") {{ activity(period: {PERIOD}) {{ events(first: 1000) {{ nodes {{ id sessionId type occurredAt
                contentKind content {{ id }} device bandwidthKbps }} }} }} }} }}"
        );
        let r = env.data(t, &q, Value::Null).await;
        for n in r["user"]["activity"]["events"]["nodes"].as_array().cloned().unwrap_or_default() {
            out.push(json!({"id": n["id"], "sessionId": n["sessionId"], "userId": format!("u{u}"), "type": n["type"],
                "occurredAt": n["occurredAt"], "contentKind": n["contentKind"], "contentId": n["content"]["id"],
                "device": n["device"], "bandwidthKbps": n["bandwidthKbps"]}));
        }
    }
    out
}

async fn concurrent_writers_give_the_figures_of_what_was_stored(env: Env) {
    let (a, _) = env.tenant("Concurrent", "CL", chrono_tz::UTC).await;
    let (b, _) = env.tenant("Sequential", "CL", chrono_tz::UTC).await;
    write(&env, &a, CONTENTS, "c", contents(), "upsertContents").await;
    write(&env, &b, CONTENTS, "c", contents(), "upsertContents").await;

    for round in 0..3 {
        let ev = join_all((0..WRITERS).map(|w| write(&env, &a, EVENTS, "e", events(w), "recordEvents"))).await;
        let lo = join_all((0..WRITERS).map(|w| write(&env, &a, LOGINS, "l", logins(w), "recordLogins"))).await;
        let co = join_all((0..WRITERS).map(|_| write(&env, &a, CONTENTS, "c", contents(), "upsertContents"))).await;
        let us = join_all((0..WRITERS).map(|w| write(&env, &a, USERS, "u", users(w + round), "upsertUsers"))).await;
        let accepted = |r: &[(i64, i64)]| r.iter().map(|x| x.0).sum::<i64>();
        let sent = |r: &[(i64, i64)]| r.iter().map(|x| x.0 + x.1).sum::<i64>();
        // Stored once each: 300 event ids, 350 login ids (each writer's window overlaps
        // the next), and the contents were stored before.
        assert_eq!(accepted(&ev), if round == 0 { 300 } else { 0 }, "events {ev:?}");
        assert_eq!(sent(&ev), (WRITERS * 300) as i64);
        assert_eq!(accepted(&lo), if round == 0 { 350 } else { 0 }, "logins {lo:?}");
        assert_eq!(sent(&lo), (WRITERS * 200) as i64);
        assert_eq!(accepted(&co), 0, "contents {co:?}");
        assert_eq!(sent(&us), (WRITERS * 50) as i64);
    }
    let stored = stored_events(&env, &a).await;
    assert_eq!(stored.len(), 300);
    write(&env, &b, USERS, "u", users(0), "upsertUsers").await;
    let (accepted, _) = write(&env, &b, EVENTS, "e", stored, "recordEvents").await;
    assert_eq!(accepted, 300);
    for u in 0..5 {
        let user = format!("u{u}");
        assert_eq!(figures(&env, &a, &user).await, figures(&env, &b, &user).await, "figures of {user}");
    }
    let q = format!("{{ registrations(period: {PERIOD}) {{ total byGender {{ gender count }} }} }}");
    let total = env.data(&a, &q, Value::Null).await;
    assert_eq!(total["registrations"]["total"], 50, "{total:#}");
}

on_each_backend!(concurrent_writers_give_the_figures_of_what_was_stored);

/// Two processes (two stores, two pools) writing one SQLite file at once: every batch
/// lands, none fails with "database is locked", and every item is counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_write_one_sqlite_file_without_failures() {
    use ottstats_domain::activity_repository::ActivityWrites;
    use ottstats_domain::repository::UserRepository;
    let env = Env::sqlite().await;
    let (t, _) = env.tenant("Shared file", "CL", chrono_tz::UTC).await;
    let second = ottstats_store::Store::open(&env.db.url).await.unwrap_or_else(|e| panic!("{e}"));
    let stores = [env.db.store.clone(), second];
    let now = chrono::Utc::now();
    let tasks = stores.iter().enumerate().map(|(p, store)| {
        let store = store.clone();
        tokio::spawn(async move {
            let (mut events, mut logins, mut users) = (0, 0, 0);
            for round in 0..25 {
                let batch: Vec<_> = (0..40)
                    .map(|i| {
                        let d = ottstats_domain::activity_input::PlayerEventDraft {
                            id: format!("e{p}-{round}-{i}"),
                            session_id: format!("s{}", i % 3),
                            user_id: format!("u{}", i % 5),
                            event_type: "PLAYING".into(),
                            occurred_at: "2026-03-10T10:00:00Z".into(),
                            ..Default::default()
                        };
                        ottstats_domain::playback::PlayerEvent::from_draft(&d, now).unwrap_or_else(|e| panic!("{e}"))
                    })
                    .collect();
                events += store.record_events(t.id, &batch).await.unwrap_or_else(|e| panic!("events: {e}")).written;
                let login = ottstats_domain::activity_input::LoginDraft {
                    id: format!("l{p}-{round}"),
                    user_id: "u1".into(),
                    occurred_at: "2026-03-10T09:00:00Z".into(),
                    ..Default::default()
                };
                let login = ottstats_domain::playback::Login::from_draft(&login, now).unwrap_or_else(|e| panic!("{e}"));
                logins += store.record_logins(t.id, &[login]).await.unwrap_or_else(|e| panic!("logins: {e}")).written;
                let user = ottstats_domain::user::UserDraft {
                    id: format!("u{p}-{round}"),
                    name: "x".into(),
                    registered_at: "2026-03-05T10:00:00Z".into(),
                    ..Default::default()
                };
                let user =
                    ottstats_domain::user::RegisteredUser::from_draft(&user, now).unwrap_or_else(|e| panic!("{e}"));
                users += store.upsert_users(t.id, &[user]).await.unwrap_or_else(|e| panic!("users: {e}")).written;
            }
            (events, logins, users)
        })
    });
    for done in join_all(tasks).await {
        let (events, logins, users) = done.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((events, logins, users), (25 * 40, 25, 25));
    }
    let q = format!("{{ registrations(period: {PERIOD}) {{ total }} }}");
    assert_eq!(env.data(&t, &q, Value::Null).await["registrations"]["total"], 50);
}
