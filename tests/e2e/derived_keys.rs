//! Keys derived from the installation's secret (the demo's): the same key on every call
//! for one database, a real key (hashed, scoped, revocable), another for another tenant
//! or database, and the next of its series once revoked.

use ottstats_domain::access::{NewKey, Scope, Scopes};
use ottstats_domain::repository::KeyRepository;
use ottstats_tests::{Env, TestBackend, on_each_backend};

fn demo_grant() -> NewKey {
    NewKey { name: "demo".to_owned(), scopes: Scopes::DEFAULT, expires_at: None }
}

async fn a_derived_key_is_stable_real_and_revocable(env: Env) {
    let (acme, _) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let (other, _) = env.tenant("Other", "CL", chrono_tz::America::Santiago).await;
    let store = &env.db.store;
    let derive = |t| async move { store.derived_key(t, "demo", &demo_grant()).await.unwrap_or_else(|e| panic!("{e}")) };
    let key = derive(acme.id).await;
    assert_eq!(derive(acme.id).await, key, "the same database derives the same key");
    assert!(key.starts_with(&format!("ott_{}_", acme.id.0)) && key.len() == format!("ott_{}_", acme.id.0).len() + 48);
    assert_ne!(derive(other.id).await, key);
    // Stored once, as any key: it opens its tenant with its scopes.
    let (tenant, grant) = store.find_key(&key).await.ok().flatten().unwrap_or_else(|| panic!("the key is unknown"));
    assert_eq!(tenant.id, acme.id);
    assert!(grant.scopes.contains(Scope::Pii) && grant.scopes.contains(Scope::Write));
    let demo_keys: Vec<_> =
        store.list_keys(acme.id).await.unwrap_or_default().into_iter().filter(|k| k.name == "demo").collect();
    assert_eq!(demo_keys.len(), 1, "{demo_keys:?}");

    // Revoked, it stays revoked: the next one of the series is made.
    assert!(store.revoke_key(acme.id, &grant.key).await.unwrap_or(false));
    let next = derive(acme.id).await;
    assert_ne!(next, key);
    assert!(store.find_key(&key).await.ok().flatten().is_none());
    assert!(store.find_key(&next).await.ok().flatten().is_some());
    assert_eq!(derive(acme.id).await, next);

    // Another database (another installation secret) derives another key.
    if let Some(fresh) = Env::new(TestBackend::Sqlite).await {
        let (t, _) = fresh.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
        assert_eq!(t.id, acme.id, "same tenant id, so only the secret differs");
        let theirs = fresh.db.store.derived_key(t.id, "demo", &demo_grant()).await.unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(theirs, key);
    }
}

on_each_backend!(a_derived_key_is_stable_real_and_revocable);
