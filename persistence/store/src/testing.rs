//! Fresh, migrated databases for tests: each test gets its own, so tests run in parallel
//! and leave nothing behind.
//!
//! PostgreSQL tests run when `OTTSTATS_TEST_DATABASE_URL` names a server (any database
//! on it: a new one is created per test). With `OTTSTATS_TEST_REQUIRE_SERVICES=1` (as CI
//! sets it) a missing or unreachable server fails the test instead of skipping it.

use rand::RngCore;
use sea_orm::{ConnectionTrait, Database};

use crate::Store;

pub const DATABASE_URL_VAR: &str = "OTTSTATS_TEST_DATABASE_URL";
pub const REDIS_URL_VAR: &str = "OTTSTATS_TEST_REDIS_URL";
pub const REQUIRE_VAR: &str = "OTTSTATS_TEST_REQUIRE_SERVICES";

/// Whether CI demands that the external services be used.
pub fn services_required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// The PostgreSQL server URL for tests, if configured; panics when required but unset.
pub fn postgres_server_url() -> Option<String> {
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if services_required() => panic!("{REQUIRE_VAR} is set but {DATABASE_URL_VAR} is not"),
        _ => None,
    }
}

/// The Redis URL for tests, if configured; panics when required but unset.
pub fn redis_url() -> Option<String> {
    match std::env::var(REDIS_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if services_required() => panic!("{REQUIRE_VAR} is set but {REDIS_URL_VAR} is not"),
        _ => None,
    }
}

/// Which engine a test database runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

/// A migrated database that disappears when dropped.
pub struct TestDatabase {
    pub url: String,
    pub backend: TestBackend,
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { server_url: String, name: String },
}

impl TestDatabase {
    /// A migrated SQLite file in a fresh temporary directory.
    pub async fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("cannot create a temporary directory: {e}"));
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
        let store = Store::open(&url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        TestDatabase { url, backend: TestBackend::Sqlite, store, cleanup: Cleanup::Sqlite(dir) }
    }

    /// A new migrated PostgreSQL database, or `None` when PostgreSQL tests are not
    /// configured.
    pub async fn postgres() -> Option<TestDatabase> {
        let server_url = postgres_server_url()?;
        let mut suffix = [0u8; 8];
        rand::rng().fill_bytes(&mut suffix);
        let name = format!("ottstats_test_{}", suffix.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let admin = Database::connect(&server_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {server_url}: {e}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        let _ = admin.close().await;
        let url = with_database(&server_url, &name);
        let store = Store::open(&url).await.unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
        Some(TestDatabase {
            url,
            backend: TestBackend::Postgres,
            store,
            cleanup: Cleanup::Postgres { server_url, name },
        })
    }

    /// The database of `backend`, or `None` when that backend is not configured.
    pub async fn of(backend: TestBackend) -> Option<TestDatabase> {
        match backend {
            TestBackend::Sqlite => Some(TestDatabase::sqlite().await),
            TestBackend::Postgres => TestDatabase::postgres().await,
        }
    }
}

/// `postgres://host:port/any?x` with the path replaced by `/name`.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Postgres { server_url, name } = &self.cleanup else {
            return;
        };
        // Drop runs outside async: a short-lived runtime on its own thread drops the
        // database (FORCE ends connections the pool still holds).
        let (server_url, db_name) = (server_url.clone(), name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let admin = Database::connect(&server_url).await.ok()?;
                let r = admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")).await;
                let _ = admin.close().await;
                r.ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("warning: could not drop test database {name}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_in_urls() {
        assert_eq!(with_database("postgres://127.0.0.1:5432/test", "x"), "postgres://127.0.0.1:5432/x");
        assert_eq!(with_database("postgres://u@h/test?sslmode=disable", "x"), "postgres://u@h/x?sslmode=disable");
        assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
    }
}
