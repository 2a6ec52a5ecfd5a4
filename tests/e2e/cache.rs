//! The statistics cache: a write is seen by the next read (through any process sharing the
//! database), a write that changes nothing keeps answers warm, and a write to one scope
//! (one user's activity) does not evict another's. And what is in Redis is never taken on
//! trust: another tenant's or another installation's entry copied to a key, or garbage
//! written there, is dropped, counted and recomputed, never served.

use chrono::Utc;
use ottstats_cache::{CachedReads, Panel, RedisLink};
use ottstats_domain::activity_input::PlayerEventDraft;
use ottstats_domain::activity_repository::ActivityStats;
use ottstats_domain::country::Country;
use ottstats_domain::ingest;
use ottstats_domain::period::Period;
use ottstats_domain::registration_filter::RegistrationFilter;
use ottstats_domain::repository::{RegistrationStatsRepository, TenantRepository};
use ottstats_domain::scope::DataVersions;
use ottstats_domain::tenant::TenantId;
use ottstats_domain::user::UserDraft;
use ottstats_store::Store;
use ottstats_store::testing::TestDatabase;
use ottstats_tests::shared_redis::{RawRedis, marker, process};
use ottstats_tests::{Env, TestServer, on_each_backend};
use serde_json::{Value, json};

fn user(id: &str) -> UserDraft {
    UserDraft { id: id.into(), name: id.into(), registered_at: "2026-01-05T10:00:00Z".into(), ..Default::default() }
}

fn event(id: &str, user: &str) -> PlayerEventDraft {
    PlayerEventDraft {
        id: id.into(),
        session_id: format!("s-{user}"),
        user_id: user.into(),
        event_type: "PLAYING".into(),
        occurred_at: "2026-01-05T10:00:00Z".into(),
        played_seconds: Some(30.0),
        ..Default::default()
    }
}

/// The statistics cache of `store`, at most `bytes` in process.
fn cached(store: &Store, bytes: u64, redis: Option<RedisLink>) -> CachedReads {
    let secret = store.secret().bytes();
    CachedReads::new(std::sync::Arc::new(store.clone()), store.installation(), secret, bytes, redis)
}

fn counts(c: &CachedReads) -> (u64, u64) {
    (c.counters().total_hits(), c.counters().total_misses())
}

async fn writes_are_read_through_any_cache(env: Env) {
    let store = &env.db.store;
    let home = Country::parse("CL").unwrap_or_else(|| unreachable!());
    let tenant = store.create_tenant("A", home, chrono_tz::UTC).await.unwrap_or_else(|e| panic!("{e}")).tenant;
    let period = Period::parse("2026-01-01", "2026-02-01", None, chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"));
    let all = RegistrationFilter::default();
    // Two processes sharing one database, each with its own cache.
    let (a, b) = (cached(store, 1 << 20, env.redis.clone()), cached(store, 1 << 20, env.redis.clone()));
    let all = &all;
    let total = |c: &CachedReads| {
        let c = c.clone();
        async move { c.count_by_gender(tenant.id, &period, all).await.unwrap_or_else(|e| panic!("{e}")).total() }
    };
    assert_eq!((total(&a).await, total(&b).await), (0, 0));
    assert_eq!(total(&a).await, 0);
    assert_eq!(counts(&a), (1, 1));

    ingest::upsert_users(store, tenant.id, &[user("u1"), user("u2")], Utc::now())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((total(&a).await, total(&b).await), (2, 2));
    assert_eq!(counts(&a), (1, 2));
    // Sending the same users again changes nothing: the answer stays cached.
    ingest::upsert_users(store, tenant.id, &[user("u1")], Utc::now()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(total(&a).await, 2);
    assert_eq!(counts(&a), (2, 2));
}

async fn one_users_events_leave_other_answers_warm(env: Env) {
    let store = &env.db.store;
    let home = Country::parse("CL").unwrap_or_else(|| unreachable!());
    let tenant = store.create_tenant("A", home, chrono_tz::UTC).await.unwrap_or_else(|e| panic!("{e}")).tenant;
    let period = Period::parse("2026-01-01", "2026-02-01", None, chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"));
    let cache = cached(store, 1 << 20, env.redis.clone());
    let record = |id: &'static str, user: &'static str| async move {
        ingest::record_events(store, tenant.id, &[event(id, user)], Utc::now()).await.unwrap_or_else(|e| panic!("{e}"))
    };
    let sessions = |user: &'static str| {
        let cache = cache.clone();
        async move { cache.sessions_in_period(tenant.id, user, &period).await.unwrap_or_else(|e| panic!("{e}")).len() }
    };
    let all = RegistrationFilter::default();
    record("e1", "a").await;
    record("e2", "b").await;
    assert_eq!((sessions("a").await, sessions("b").await), (1, 1));
    cache.count_by_gender(tenant.id, &period, &all).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(counts(&cache), (0, 3));

    let mut later = event("e3", "a");
    later.session_id = "s-a-2".into();
    ingest::record_events(store, tenant.id, &[later], Utc::now()).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sessions("a").await, 2);
    assert_eq!(counts(&cache), (0, 4));
    assert_eq!(sessions("b").await, 1);
    cache.count_by_gender(tenant.id, &period, &all).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(counts(&cache), (2, 4));
    // A duplicate event writes nothing and evicts nothing.
    record("e1", "a").await;
    assert_eq!(sessions("a").await, 2);
    assert_eq!(counts(&cache), (3, 4));
}

/// Concurrent callers share version reads; none may get a version older than a write
/// that committed before its call began.
async fn shared_version_reads_are_never_older_than_the_call(env: Env) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicI64, Ordering};

    let store = env.db.store.clone();
    let home = Country::parse("CL").unwrap_or_else(|| unreachable!());
    let tenant = store.create_tenant("A", home, chrono_tz::UTC).await.unwrap_or_else(|e| panic!("{e}")).tenant;
    let committed = Arc::new(AtomicI64::new(0));
    let scopes = [ottstats_domain::scope::Scope::Registrations];
    let readers: Vec<_> = (0..16)
        .map(|_| {
            let (store, committed, scopes) = (store.clone(), committed.clone(), scopes.clone());
            tokio::spawn(async move {
                let mut reads = 0;
                while committed.load(Ordering::SeqCst) < 20 {
                    let before = committed.load(Ordering::SeqCst);
                    let v = store.versions(tenant.id, &scopes).await.unwrap_or_else(|e| panic!("{e}"))[0];
                    assert!(v >= before, "read version {v} after {before} writes had committed");
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    for n in 1..=20 {
        let u = user(&format!("u{n}"));
        ingest::upsert_users(&store, tenant.id, &[u], Utc::now()).await.unwrap_or_else(|e| panic!("{e}"));
        committed.store(n, Ordering::SeqCst);
        tokio::task::yield_now().await;
    }
    for r in readers {
        r.await.unwrap_or_else(|e| panic!("a reader failed: {e}"));
    }
    assert_eq!(store.versions(tenant.id, &scopes).await.unwrap_or_else(|e| panic!("{e}")), [20]);
}

/// Whole answers and panels in Redis, as their keys are spelt.
const ANSWERS: &str = "ottstats:*:response:*";
const PANELS: &str = "ottstats:*:panel:*";

/// `n` users registered in January.
async fn register(store: &Store, tenant: TenantId, n: usize) {
    let users: Vec<_> = (1..=n).map(|i| user(&format!("u{i}"))).collect();
    ingest::upsert_users(store, tenant, &users, Utc::now()).await.unwrap_or_else(|e| panic!("{e}"));
}

/// `sessions` sessions of the user `m`, named `<label>-<m>-<n>`, so that their panel
/// entries hold `m` and tell whose they are.
async fn play(store: &Store, tenant: TenantId, m: &str, label: &str, sessions: usize) {
    let events: Vec<_> = (1..=sessions)
        .map(|n| PlayerEventDraft { session_id: format!("{label}-{m}-{n}"), ..event(&format!("{label}{n}"), m) })
        .collect();
    ingest::record_events(store, tenant, &events, Utc::now()).await.unwrap_or_else(|e| panic!("{e}"));
}

fn january() -> Period {
    Period::parse("2026-01-01", "2026-02-01", None, chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"))
}

/// A registrations question whose answer holds `m` (its alias).
fn question(m: &str) -> String {
    format!("query($p: PeriodInput!) {{ {m}: registrations(period: $p) {{ total }} }}")
}

/// Asks `m`'s question three times as `key`: (total, `extensions.cached`) each time. A
/// body that is not a JSON answer fails the test here.
async fn ask_thrice(server: &TestServer, key: &str, m: &str) -> Vec<(u64, bool)> {
    let mut seen = Vec::new();
    for _ in 0..3 {
        let text = reqwest::Client::new()
            .post(server.url("/graphql"))
            .bearer_auth(key)
            .json(&json!({ "query": question(m), "variables": { "p": { "from": "2026-01-01", "to": "2026-02-01" } } }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"))
            .text()
            .await
            .unwrap_or_else(|e| panic!("no body: {e}"));
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("served a body that is not JSON ({e}): {text:?}"));
        let total = body["data"][m]["total"].as_u64().unwrap_or_else(|| panic!("no total: {body}"));
        seen.push((total, body["extensions"]["cached"] == json!(true)));
    }
    seen
}

/// Rendered, rendered and stored, then served whole from the cache.
fn fresh(total: u64) -> Vec<(u64, bool)> {
    vec![(total, false), (total, false), (total, true)]
}

/// The sessions of user `m` through `cache`.
async fn sessions(cache: &CachedReads, tenant: TenantId, m: &str) -> usize {
    cache.sessions_in_period(tenant, m, &january()).await.unwrap_or_else(|e| panic!("{e}")).len()
}

/// The one of two entries that holds `needle`, and the other.
fn split(mut two: Vec<(String, Vec<u8>)>, needle: &str) -> ((String, Vec<u8>), (String, Vec<u8>)) {
    assert_eq!(two.len(), 2, "{:?}", two.iter().map(|e| &e.0).collect::<Vec<_>>());
    let holds = |v: &[u8]| v.windows(needle.len()).any(|w| w == needle.as_bytes());
    let (second, first) = (two.remove(1), two.remove(0));
    if holds(&first.1) { (first, second) } else { (second, first) }
}

fn skipped() {
    eprintln!("skipped: {} is not set", ottstats_store::testing::REDIS_URL_VAR);
}

async fn another_tenants_entries_copied_in_redis_are_not_served(env: Env) {
    let (Some(redis), Some(mut raw)) = (ottstats_tests::test_redis().await, RawRedis::connect().await) else {
        return skipped();
    };
    let (store, m) = (&env.db.store, marker());
    let ((a, key_a), (b, key_b)) =
        (env.tenant("A", "CL", chrono_tz::UTC).await, env.tenant("B", "CL", chrono_tz::UTC).await);
    register(store, a.id, 2).await;
    register(store, b.id, 3).await;
    let (_, first) = process(store, &redis, env.path).await;
    assert_eq!((ask_thrice(&first, &key_a, &m).await, ask_thrice(&first, &key_b, &m).await), (fresh(2), fresh(3)));
    // B's answer in A's key: another process (nothing in process yet) reads it from Redis.
    let ((_, theirs), (mine, _)) = split(raw.keys_holding(ANSWERS, &m, 2).await, "\"total\":3");
    raw.set(&mine, &theirs).await;
    let (services, second) = process(store, &redis, env.path).await;
    assert_eq!(ask_thrice(&second, &key_a, &m).await, fresh(2), "A was served B's answer");
    assert_eq!(services.responses.rejected(), 1);

    // The same with panels: B's sessions of a user of the same id in A's entry.
    play(store, a.id, &m, "A", 1).await;
    play(store, b.id, &m, "B", 2).await;
    let cache = cached(store, 1 << 20, Some(redis.clone()));
    assert_eq!((sessions(&cache, a.id, &m).await, sessions(&cache, b.id, &m).await), (1, 2));
    let ((_, theirs), (mine, _)) = split(raw.keys_holding(PANELS, &m, 2).await, &format!("B-{m}"));
    raw.set(&mine, &theirs).await;
    let cache = cached(store, 1 << 20, Some(redis.clone()));
    assert_eq!(sessions(&cache, a.id, &m).await, 1, "A was served B's sessions");
    assert_eq!((cache.counters().rejected(Panel::Sessions), cache.counters().misses(Panel::Sessions)), (1, 1));
}

/// Bytes no cache wrote: garbage, a value of the right kind with no frame, and one in a
/// frame of the right layout and tenant whose tag was made up.
fn forgeries(tenant: TenantId, value: &str) -> [Vec<u8>; 3] {
    let garbage = b"\x00\xff not a frame, and not JSON either ".repeat(3);
    let forged = [&[1u8][..], &tenant.0.to_be_bytes(), &[0u8; 32], value.as_bytes()].concat();
    [garbage, value.as_bytes().to_vec(), forged]
}

async fn garbage_in_redis_is_dropped_and_recomputed(env: Env) {
    let (Some(redis), Some(mut raw)) = (ottstats_tests::test_redis().await, RawRedis::connect().await) else {
        return skipped();
    };
    let (store, m) = (&env.db.store, marker());
    let (a, key) = env.tenant("A", "CL", chrono_tz::UTC).await;
    register(store, a.id, 2).await;
    let (_, first) = process(store, &redis, env.path).await;
    assert_eq!(ask_thrice(&first, &key, &m).await, fresh(2));
    let (answer, _) = raw.keys_holding(ANSWERS, &m, 1).await.remove(0);
    let lie = format!("{{\"data\":{{\"{m}\":{{\"total\":99}}}},\"extensions\":{{\"cached\":true}}}}");
    for junk in forgeries(a.id, &lie) {
        raw.set(&answer, &junk).await;
        let (services, again) = process(store, &redis, env.path).await;
        assert_eq!(ask_thrice(&again, &key, &m).await, fresh(2));
        assert_eq!(services.responses.rejected(), 1);
        let metrics = again.metrics().await;
        assert!(metrics.contains("ottstats_cache_rejected_total{panel=\"response\"} 1"), "{metrics}");
        raw.rewritten(&answer, &junk).await;
    }

    play(store, a.id, &m, "A", 1).await;
    let cache = cached(store, 1 << 20, Some(redis.clone()));
    assert_eq!(sessions(&cache, a.id, &m).await, 1);
    let (panel, _) = raw.keys_holding(PANELS, &m, 1).await.remove(0);
    for junk in forgeries(a.id, r#"{"Sessions":[]}"#) {
        raw.set(&panel, &junk).await;
        let cache = cached(store, 1 << 20, Some(redis.clone()));
        assert_eq!(sessions(&cache, a.id, &m).await, 1);
        assert_eq!((cache.counters().rejected(Panel::Sessions), cache.counters().misses(Panel::Sessions)), (1, 1));
        raw.rewritten(&panel, &junk).await;
    }
}

/// Two databases whose tenants have the same id, sharing one Redis: neither reads what the
/// other wrote, even copied to its own keys.
async fn installations_sharing_a_redis_cannot_read_each_other(env: Env) {
    let (Some(redis), Some(mut raw)) = (ottstats_tests::test_redis().await, RawRedis::connect().await) else {
        return skipped();
    };
    let Some(other) = TestDatabase::of(env.db.backend).await else { return skipped() };
    let (mine, theirs, m) = (&env.db.store, &other.store, marker());
    let home = Country::parse("CL").unwrap_or_else(|| unreachable!());
    let a = mine.create_tenant("A", home, chrono_tz::UTC).await.unwrap_or_else(|e| panic!("{e}"));
    let b = theirs.create_tenant("A", home, chrono_tz::UTC).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(a.tenant.id, b.tenant.id, "only the installation tells them apart");
    register(mine, a.tenant.id, 2).await;
    register(theirs, b.tenant.id, 3).await;
    let ((_, one), (_, two)) = (process(mine, &redis, env.path).await, process(theirs, &redis, env.path).await);
    assert_eq!((ask_thrice(&one, &a.api_key, &m).await, ask_thrice(&two, &b.api_key, &m).await), (fresh(2), fresh(3)));
    let ((_, their_answer), (my_key, _)) = split(raw.keys_holding(ANSWERS, &m, 2).await, "\"total\":3");
    raw.set(&my_key, &their_answer).await;
    let (services, again) = process(mine, &redis, env.path).await;
    assert_eq!(ask_thrice(&again, &a.api_key, &m).await, fresh(2), "served the other installation's answer");
    assert_eq!(services.responses.rejected(), 1);

    play(mine, a.tenant.id, &m, "A", 1).await;
    play(theirs, b.tenant.id, &m, "B", 2).await;
    let (c1, c2) = (cached(mine, 1 << 20, Some(redis.clone())), cached(theirs, 1 << 20, Some(redis.clone())));
    assert_eq!((sessions(&c1, a.tenant.id, &m).await, sessions(&c2, b.tenant.id, &m).await), (1, 2));
    let ((_, their_panel), (my_key, _)) = split(raw.keys_holding(PANELS, &m, 2).await, &format!("B-{m}"));
    raw.set(&my_key, &their_panel).await;
    let cache = cached(mine, 1 << 20, Some(redis.clone()));
    assert_eq!(sessions(&cache, a.tenant.id, &m).await, 1, "served the other installation's sessions");
    assert_eq!(cache.counters().rejected(Panel::Sessions), 1);
}

on_each_backend!(
    writes_are_read_through_any_cache,
    one_users_events_leave_other_answers_warm,
    shared_version_reads_are_never_older_than_the_call,
    another_tenants_entries_copied_in_redis_are_not_served,
    garbage_in_redis_is_dropped_and_recomputed,
    installations_sharing_a_redis_cannot_read_each_other,
);
