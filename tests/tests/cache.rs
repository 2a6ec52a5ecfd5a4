//! The statistics cache: a write is seen by the next read (through any process sharing the
//! database), a write that changes nothing keeps answers warm, and a write to one scope
//! (one user's activity) does not evict another's.

use chrono::Utc;
use ottstats_domain::activity_input::PlayerEventDraft;
use ottstats_domain::activity_repository::ActivityRepository;
use ottstats_domain::country::Country;
use ottstats_domain::ingest;
use ottstats_domain::period::Period;
use ottstats_domain::registration_filter::RegistrationFilter;
use ottstats_domain::repository::{RegistrationStatsRepository, TenantRepository};
use ottstats_domain::user::UserDraft;
use ottstats_persistence::CachedStore;
use ottstats_tests::{Env, on_each_backend};

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

fn counts(c: &CachedStore) -> (u64, u64) {
    (c.counters().total_hits(), c.counters().total_misses())
}

async fn writes_are_read_through_any_cache(env: Env) {
    let store = &env.db.store;
    let home = Country::parse("CL").unwrap_or_else(|| unreachable!());
    let tenant = store.create_tenant("A", home, chrono_tz::UTC).await.unwrap_or_else(|e| panic!("{e}")).tenant;
    let period = Period::parse("2026-01-01", "2026-02-01", None, chrono_tz::UTC).unwrap_or_else(|e| panic!("{e}"));
    let all = RegistrationFilter::default();
    // Two processes sharing one database, each with its own cache.
    let (a, b) = (
        CachedStore::new(store.clone(), 1 << 20, env.redis.clone()),
        CachedStore::new(store.clone(), 1 << 20, env.redis.clone()),
    );
    let all = &all;
    let total = |c: &CachedStore| {
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
    let cache = CachedStore::new(store.clone(), 1 << 20, env.redis.clone());
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
    let scopes = [ottstats_persistence::versions::REGISTRATIONS.to_owned()];
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

on_each_backend!(
    writes_are_read_through_any_cache,
    one_users_events_leave_other_answers_warm,
    shared_version_reads_are_never_older_than_the_call,
);
