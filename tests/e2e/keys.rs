//! Keys with scopes, expiry, rotation and revocation that holds everywhere within a
//! second; per-key rate limits; addresses that keep presenting wrong keys.

use std::time::{Duration, Instant};

use chrono::Utc;
use ottstats_domain::access::{KeyId, NewKey, Scopes};
use ottstats_server::AppState;

use ottstats_tests::{Env, TestServer, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

const PROFILE: &str = "{ user(id: \"u1\") { id name birthDate gender } }";

async fn seed_user(server: &TestServer, key: &str) {
    let users = json!([{"id": "u1", "name": "Ana", "gender": "FEMALE", "birthDate": "1990-05-01", "country": "CL", "registeredAt": "2026-01-10T12:00:00Z"}]);
    let (_, body) = server.graphql(Some(key), operations::UPSERT_USERS, json!({"u": users})).await;
    assert_eq!(body["data"]["upsertUsers"]["accepted"], 1, "{body}");
}

async fn key(env: &Env, tenant: &ottstats_domain::tenant::Tenant, scopes: &str) -> (KeyId, String) {
    let new = NewKey { name: scopes.to_owned(), scopes: Scopes::parse(scopes).unwrap(), expires_at: None };
    let (record, key) = env.services.keys.create_key(tenant.id, new).await.unwrap_or_else(|e| panic!("{e}"));
    (record.id, key)
}

fn codes(body: &Value) -> Vec<(String, Value)> {
    let errors = body["errors"].as_array().cloned().unwrap_or_default();
    errors
        .iter()
        .map(|e| (e["extensions"]["code"].as_str().unwrap_or_default().to_owned(), e["path"].clone()))
        .collect()
}

/// Polls until `key` gets `status`, for at most `within`; true when it did.
async fn refused_within(server: &TestServer, key: &str, status: u16, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let (got, body) = server.graphql(Some(key), "{ __typename }", Value::Null).await;
        if got == status {
            return true;
        }
        if Instant::now() > deadline {
            eprintln!("still {got} after {within:?}: {body}");
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn scopes_decide_what_a_key_may_do(env: Env) {
    let (tenant, full) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let server = env.serve(None).await;
    seed_user(&server, &full).await;
    let (_, read) = key(&env, &tenant, "read").await;
    let (_, ingest) = key(&env, &tenant, "ingest").await;

    let (_, body) = server.graphql(Some(&full), PROFILE, Value::Null).await;
    assert_eq!(body["data"]["user"], json!({"id": "u1", "name": "Ana", "birthDate": "1990-05-01", "gender": "FEMALE"}));
    // Without pii: names and birth dates are null, each with FORBIDDEN at its path; the
    // rest answers. Twice, so that a cached answer of the full key cannot leak.
    for _ in 0..3 {
        server.graphql(Some(&full), PROFILE, Value::Null).await;
        let (status, body) = server.graphql(Some(&read), PROFILE, Value::Null).await;
        assert_eq!(status, 200);
        assert_eq!(
            body["data"]["user"],
            json!({"id": "u1", "name": null, "birthDate": null, "gender": "FEMALE"}),
            "{body}"
        );
        assert_eq!(
            codes(&body),
            vec![
                ("FORBIDDEN".to_owned(), json!(["user", "name"])),
                ("FORBIDDEN".to_owned(), json!(["user", "birthDate"]))
            ]
        );
        assert_eq!(body["errors"][0]["extensions"]["scope"], "pii");
    }
    // Without write: no mutation.
    let (_, body) =
        server.graphql(Some(&read), "mutation { upsertContents(contents: []) { accepted } }", Value::Null).await;
    assert_eq!(codes(&body), vec![("FORBIDDEN".to_owned(), json!(["upsertContents"]))]);
    assert_eq!(body["errors"][0]["extensions"]["scope"], "write");
    // An ingest key reads nothing: refused whole before anything runs (it may sit in a
    // web page; `collect` has the rest).
    let (status, body) = server.graphql(Some(&ingest), PROFILE, Value::Null).await;
    assert_eq!((status, codes(&body)), (403, vec![("FORBIDDEN".to_owned(), Value::Null)]), "{body}");
    assert!(body.get("data").is_none(), "{body}");
    // With read beside it, the key reads as a read key does.
    let (_, ingest_read) = key(&env, &tenant, "ingest read").await;
    let (status, body) = server.graphql(Some(&ingest_read), "{ user(id: \"u1\") { id gender } }", Value::Null).await;
    assert_eq!((status, body["data"]["user"].clone()), (200, json!({"id": "u1", "gender": "FEMALE"})), "{body}");
}

async fn a_revoked_key_stops_in_every_process_within_a_second(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let (id, key) = key(&env, &tenant, "read").await;
    let here = env.serve(None).await;
    let there = TestServer::start(AppState::new(env.second_process(), None)).await;
    for server in [&here, &there] {
        assert_eq!(server.graphql(Some(&key), "{ __typename }", Value::Null).await.0, 200);
    }
    assert!(env.services.keys.revoke_key(tenant.id, &id).await.unwrap());
    for server in [&here, &there] {
        assert!(refused_within(server, &key, 401, Duration::from_secs(1)).await, "the revoked key still works");
    }
    assert!(!env.services.keys.revoke_key(tenant.id, &id).await.unwrap(), "revoked once only");
    let listed = env.services.keys.list_keys(tenant.id).await.unwrap();
    let record = listed.iter().find(|k| k.id == id).unwrap();
    assert!(record.revoked_at.is_some() && record.last_used_at.is_some(), "{record:?}");
}

async fn rotation_overlaps_and_expiry_ends_a_key(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let server = env.serve(None).await;
    let (old_id, old) = key(&env, &tenant, "read pii").await;
    let (record, new) =
        env.services.keys.rotate_key(tenant.id, &old_id, Duration::from_secs(3600)).await.unwrap().unwrap();
    assert_eq!((record.name.as_str(), record.scopes), ("read pii", Scopes::parse("read,pii").unwrap()));
    // Both work during the overlap.
    for k in [&old, &new] {
        assert_eq!(server.graphql(Some(k), "{ __typename }", Value::Null).await.0, 200);
    }
    let old_record =
        env.services.keys.list_keys(tenant.id).await.unwrap().into_iter().find(|k| k.id == old_id).unwrap();
    let left = old_record.expires_at.unwrap() - Utc::now();
    assert!(left > chrono::Duration::minutes(59) && left <= chrono::Duration::minutes(60), "{left}");
    // Rotating without overlap ends the old key at once.
    let (_, newest) = env.services.keys.rotate_key(tenant.id, &record.id, Duration::ZERO).await.unwrap().unwrap();
    // The one-second bound is `a_revoked_key_stops_in_every_process_within_a_second`'s; here
    // only that it ends, with room for a loaded machine.
    assert!(refused_within(&server, &new, 401, Duration::from_secs(5)).await, "the rotated key still works");
    assert_eq!(server.graphql(Some(&newest), "{ __typename }", Value::Null).await.0, 200);
    // An expired key is refused, saying so.
    let past = NewKey {
        name: "old".into(),
        scopes: Scopes::DEFAULT,
        expires_at: Some(Utc::now() - chrono::Duration::seconds(1)),
    };
    let (_, expired) = env.services.keys.create_key(tenant.id, past).await.unwrap();
    let (status, body) = server.graphql(Some(&expired), "{ __typename }", Value::Null).await;
    assert_eq!((status, body["errors"][0]["message"].clone()), (401, json!("the API key has expired")));
    assert!(
        env.services
            .keys
            .rotate_key(tenant.id, &KeyId::parse("k000000000000").unwrap(), Duration::ZERO)
            .await
            .unwrap()
            .is_none()
    );
}

async fn each_key_has_a_cost_based_rate_limit(env: Env) {
    let (tenant, key_a) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let (_, key_b) = key(&env, &tenant, "read").await;
    assert!(env.services.tenants.set_rate_limit(tenant.id, Some(300)).await.unwrap());
    let server = env.serve(None).await;
    // 33 DAY buckets × 2 + 2 = 68 points; distinct periods so that none is a stored answer.
    let q = "query($p: PeriodInput!) { registrations(period: $p) { timeline { buckets { total } } } }";
    let period = |d: u32| json!({"p": {"from": format!("2026-01-{d:02}"), "to": format!("2026-02-{d:02}")}});
    let mut remaining = Vec::new();
    for d in 1..=4 {
        let (status, body) = server.graphql(Some(&key_a), q, period(d)).await;
        assert_eq!(status, 200, "{body}");
        let rate = &body["extensions"]["rateLimit"];
        assert_eq!((rate["limit"].clone(), rate["cost"].clone()), (json!(300), json!(68)));
        remaining.push(rate["remaining"].as_u64().unwrap());
    }
    // 300 - 4 × 68 = 28 (plus what a few milliseconds refilled).
    assert!((28..=31).contains(&remaining[3]), "{remaining:?}");
    let client = reqwest::Client::new();
    let r = client
        .post(server.url("/graphql"))
        .bearer_auth(&key_a)
        .json(&json!({"query": q, "variables": period(5)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry), "{retry}");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert_eq!(body["extensions"]["rateLimit"]["cost"], 68);
    // Another key of the tenant has a bucket of its own.
    assert_eq!(server.graphql(Some(&key_b), q, period(5)).await.0, 200);
    // Dearer than the whole bucket: refused, saying it never can pass.
    assert!(env.services.tenants.set_rate_limit(tenant.id, Some(50)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (status, body) = server.graphql(Some(&key_b), q, period(6)).await;
    assert_eq!(status, 429);
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("whole limit"), "{body}");
}

async fn wrong_keys_from_one_address_are_refused_before_any_lookup(env: Env) {
    let (tenant, key) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let (_, never_seen) = self::key(&env, &tenant, "read").await;
    let server = env.serve(None).await;
    // The good key is used once, so the process knows it.
    assert_eq!(server.graphql(Some(&key), "{ __typename }", Value::Null).await.0, 200);
    // A burst of 100 failures is allowed, then 10 a second: the first refusal comes
    // after at least 100 (and, over the time these take, not many more).
    let wrong = |i: usize| format!("ott_{}_{i:048x}", tenant.id.0);
    let mut failures = 0;
    while server.graphql(Some(&wrong(failures)), "{ __typename }", Value::Null).await.0 == 401 {
        failures += 1;
        assert!(failures < 400, "never refused");
    }
    assert!(failures >= 100, "{failures}");
    for i in 0..10 {
        let (status, body) = server.graphql(Some(&wrong(1_000 + i)), "{ __typename }", Value::Null).await;
        assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (429, json!("RATE_LIMITED")));
    }
    // Meanwhile a key the process knows good is still served from the address (clients
    // behind one NAT share it), while any other key is refused without a lookup, valid
    // or not: nothing of the tenant leaks either way.
    assert_eq!(server.graphql(Some(&key), "{ __typename }", Value::Null).await.0, 200);
    let (status, body) = server.graphql(Some(&never_seen), "{ __typename }", Value::Null).await;
    assert_eq!((status, body["errors"][0]["extensions"]["code"].clone()), (429, json!("RATE_LIMITED")));
}

/// The keys of `inner`, whose keys revision answers slowly the first time: a process
/// whose first poll was still on its way while it served requests.
struct SlowFirstRevision {
    inner: std::sync::Arc<dyn ottstats_domain::repository::KeyRepository>,
    asked: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl ottstats_domain::repository::KeyRepository for SlowFirstRevision {
    async fn find_key(
        &self,
        api_key: &str,
    ) -> Result<Option<(ottstats_domain::tenant::Tenant, ottstats_domain::access::KeyGrant)>, ottstats_domain::RepoError>
    {
        self.inner.find_key(api_key).await
    }
    async fn create_key(
        &self,
        tenant: ottstats_domain::tenant::TenantId,
        new: NewKey,
    ) -> Result<(ottstats_domain::access::KeyRecord, String), ottstats_domain::RepoError> {
        self.inner.create_key(tenant, new).await
    }
    async fn list_keys(
        &self,
        tenant: ottstats_domain::tenant::TenantId,
    ) -> Result<Vec<ottstats_domain::access::KeyRecord>, ottstats_domain::RepoError> {
        self.inner.list_keys(tenant).await
    }
    async fn revoke_key(
        &self,
        tenant: ottstats_domain::tenant::TenantId,
        key: &KeyId,
    ) -> Result<bool, ottstats_domain::RepoError> {
        self.inner.revoke_key(tenant, key).await
    }
    async fn rotate_key(
        &self,
        tenant: ottstats_domain::tenant::TenantId,
        key: &KeyId,
        overlap: Duration,
    ) -> Result<Option<(ottstats_domain::access::KeyRecord, String)>, ottstats_domain::RepoError> {
        self.inner.rotate_key(tenant, key, overlap).await
    }
    async fn touch_keys(
        &self,
        used: &[(ottstats_domain::tenant::TenantId, KeyId)],
        at: chrono::DateTime<Utc>,
    ) -> Result<(), ottstats_domain::RepoError> {
        self.inner.touch_keys(used, at).await
    }
    async fn keys_revision(&self) -> Result<i64, ottstats_domain::RepoError> {
        if !self.asked.swap(true, std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        self.inner.keys_revision().await
    }
}

/// A key revoked while the process's first look at the keys revision was on its way is
/// refused once that look comes back: the grants remembered before it are forgotten too.
async fn a_revocation_before_the_first_poll_returns_holds(env: Env) {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let (id, key) = key(&env, &tenant, "read").await;
    let keys = SlowFirstRevision { inner: env.services.keys.clone(), asked: Default::default() };
    let auth = ottstats_server::Authenticator::new(std::sync::Arc::new(keys));
    assert!(auth.authenticate_key(&key).await.is_ok());
    assert!(env.services.keys.revoke_key(tenant.id, &id).await.unwrap());
    // The first poll returns after 600 ms, with the revision the revocation moved.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert!(auth.authenticate_key(&key).await.is_err(), "a grant from before the first poll outlived the revocation");
}

on_each_backend!(
    a_revocation_before_the_first_poll_returns_holds,
    scopes_decide_what_a_key_may_do,
    a_revoked_key_stops_in_every_process_within_a_second,
    rotation_overlaps_and_expiry_ends_a_key,
    each_key_has_a_cost_based_rate_limit,
    wrong_keys_from_one_address_are_refused_before_any_lookup,
);
