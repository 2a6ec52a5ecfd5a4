//! `ottstats documents add`: trusted documents from `.graphql` files and Apollo
//! persisted query manifests, all or nothing, on each backend.

use std::process::{Command, Output};

use ottstats_domain::document::DocumentHash;
use ottstats_domain::repository::TrustedDocuments;
use ottstats_persistence::persisted_queries::hash_of;
use ottstats_persistence::testing::{TestBackend, TestDatabase};

fn ottstats(db: &TestDatabase, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ottstats"))
        .args(args)
        .env("OTTSTATS_DATABASE_URL", &db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap_or_else(|e| panic!("cannot run ottstats: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn documents_add_registers_files_and_manifests_all_or_nothing() {
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        let Some(db) = TestDatabase::of(backend).await else { continue };
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = |name: &str, body: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, body).unwrap_or_else(|e| panic!("{e}"));
            path.display().to_string()
        };
        let query = "query Total { registrations(period: {from: \"2026-01-01\", to: \"2026-02-01\"}) { total } }\n";
        let other = "query Me { __typename }";
        let graphql = file("total.graphql", query);
        let manifest = file(
            "manifest.json",
            &serde_json::json!({"format": "apollo-persisted-query-manifest", "version": 1,
                "operations": [{"id": hash_of(other).to_string(), "name": "Me", "type": "query", "body": other}]})
            .to_string(),
        );
        let broken = file("broken.graphql", "query { ");
        let lying = file(
            "lying.json",
            &serde_json::json!({"format": "apollo-persisted-query-manifest", "version": 1,
                "operations": [{"id": hash_of(query).to_string(), "body": other}]})
            .to_string(),
        );
        // A file that cannot be read fails the whole command before anything is stored.
        for bad in [&broken, &lying] {
            let out = ottstats(&db, &["documents", "add", &graphql, bad]);
            assert!(!out.status.success(), "{bad}");
            let err = text(&out.stderr);
            assert!(err.contains(bad.as_str()), "the error names the file: {err}");
        }
        assert_eq!(db.store.document(hash_of(query)).await.unwrap_or_else(|e| panic!("{e}")), None);

        let out = ottstats(&db, &["documents", "add", &graphql, &manifest]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let printed = text(&out.stdout);
        assert!(
            printed.contains(&hash_of(query).to_string()) && printed.contains(&hash_of(other).to_string()),
            "{printed}"
        );
        let stored = |hash: DocumentHash| {
            let store = &db.store;
            async move { store.document(hash).await.unwrap_or_else(|e| panic!("{e}")) }
        };
        assert_eq!(stored(hash_of(query)).await.as_deref(), Some(query));
        assert_eq!(stored(hash_of(other)).await.as_deref(), Some(other));
        let again = ottstats(&db, &["documents", "add", &graphql]);
        assert!(text(&again.stdout).contains("(registered already)"), "{}", text(&again.stdout));
    }
}
