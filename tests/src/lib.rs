//! Support for the end-to-end tests: a migrated database per test on each backend, the
//! real schema over it, and the real router on an ephemeral port.

use async_graphql::{Request, Variables};
use chrono_tz::Tz;
pub use ottstats_cache::RedisLink;
use ottstats_domain::access::{Access, KeyGrant, KeyId, Scopes};
use ottstats_domain::country::Country;
use ottstats_domain::tenant::Tenant;
pub use ottstats_engine::EngineSettings;
use ottstats_graphql::{AppSchema, Services, TenantContext, build_schema};
use ottstats_server::{AppState, headroom_router, router};
pub use ottstats_store::testing::{DATABASE_URL_VAR, TestBackend, TestDatabase};
use serde_json::Value;

/// A link to the test Redis, if configured; panics when it is configured but does not
/// answer, so that a run never silently tests without it.
pub async fn test_redis() -> Option<RedisLink> {
    let url = ottstats_store::testing::redis_url()?;
    let var = ottstats_store::testing::REDIS_URL_VAR;
    let link = RedisLink::open(&url).unwrap_or_else(|e| panic!("{var}: {e}"));
    assert!(link.ping().await, "Redis at {url} ({var}) does not answer");
    Some(link)
}

pub mod shared_redis;
pub mod ws;

/// One test's world: its own database, the services over it and the schema. On
/// PostgreSQL the caches and change notices go through Redis when it is configured
/// (`OTTSTATS_TEST_REDIS_URL`); on SQLite they stay in process. So every test runs on
/// both cache backends.
pub struct Env {
    pub db: TestDatabase,
    pub services: Services,
    pub schema: AppSchema,
    pub redis: Option<RedisLink>,
    pub path: StatsPath,
}

/// Which engine answers the registration panels in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsPath {
    /// The registrations index, loaded before each request's tenant is queried (so that
    /// every panel comes from it; writes reach it through the change records).
    Index,
    /// The SQL path alone (the index is switched off).
    Sql,
}

impl StatsPath {
    pub fn settings(self) -> EngineSettings {
        match self {
            StatsPath::Index => EngineSettings::default(),
            StatsPath::Sql => EngineSettings { memory_budget: 0, ..EngineSettings::default() },
        }
    }
}

impl Env {
    /// `None` when `backend` is not configured on this machine.
    pub async fn new(backend: TestBackend) -> Option<Env> {
        Env::on_path(backend, StatsPath::Index).await
    }

    pub async fn on_path(backend: TestBackend, path: StatsPath) -> Option<Env> {
        let db = TestDatabase::of(backend).await?;
        let redis = match backend {
            TestBackend::Postgres => test_redis().await,
            TestBackend::Sqlite => None,
        };
        let services = Services::new(db.store.clone(), redis.clone(), path.settings());
        let schema = build_schema(services.clone());
        Some(Env { db, services, schema, redis, path })
    }

    /// Another process over the same database (and Redis): its own caches, feed and index.
    pub fn second_process(&self) -> Services {
        Services::new(self.db.store.clone(), self.redis.clone(), self.path.settings())
    }

    /// Loads the tenant's registrations index now (nothing when it is loaded or off).
    pub async fn warm_index(&self, tenant: &Tenant) {
        if let Some(load) = self.services.engine.load(tenant.id) {
            load.await.unwrap_or_else(|e| panic!("index load: {e}"));
        }
    }

    /// Creates a tenant; returns it with its API key.
    pub async fn tenant(&self, name: &str, country: &str, tz: Tz) -> (Tenant, String) {
        let country = Country::parse(country).unwrap_or_else(|| panic!("{country} is not a country"));
        let issued = self.services.tenants.create_tenant(name, country, tz).await.unwrap_or_else(|e| panic!("{e}"));
        (issued.tenant, issued.api_key)
    }

    /// Runs a GraphQL request as `tenant` (or unauthenticated) and returns the whole
    /// response as JSON (`data`, `errors`).
    pub async fn run(&self, tenant: Option<&Tenant>, query: &str, variables: Value) -> Value {
        self.execute(tenant, Request::new(query).variables(Variables::from_json(variables))).await
    }

    /// Runs the operation named `operation` of a document that holds several (as the
    /// files of `tests/e2e/operations/` may), as `tenant`; the whole response as JSON.
    pub async fn run_named(&self, tenant: Option<&Tenant>, document: &str, operation: &str, variables: Value) -> Value {
        let request = Request::new(document).operation_name(operation).variables(Variables::from_json(variables));
        self.execute(tenant, request).await
    }

    async fn execute(&self, tenant: Option<&Tenant>, mut request: Request) -> Value {
        if let Some(t) = tenant {
            self.warm_index(t).await;
            request = request.data(TenantContext::new(full_access(t), &self.services));
        }
        let response = self.schema.execute(request).await;
        serde_json::to_value(&response).unwrap_or_else(|e| panic!("response is not JSON: {e}"))
    }

    /// Runs a request that must succeed and returns its `data`.
    pub async fn data(&self, tenant: &Tenant, query: &str, variables: Value) -> Value {
        let response = self.run(Some(tenant), query, variables).await;
        assert!(response.get("errors").is_none(), "unexpected errors: {response:#}");
        response["data"].clone()
    }

    /// Starts the real router on 127.0.0.1:0.
    pub async fn serve(&self, demo: Option<ottstats_server::Prefill>) -> TestServer {
        TestServer::start(AppState::new(self.services.clone(), demo)).await
    }

    /// What most tests over HTTP begin with (as zero-to-production's `spawn_app`): the
    /// real router on an ephemeral port over this test's database, and a tenant ("Acme",
    /// Chile, America/Santiago) with its API key.
    pub async fn spawn_app(&self) -> TestApp {
        self.spawn_app_in(chrono_tz::America::Santiago).await
    }

    /// [`Env::spawn_app`] with a tenant living in `tz`.
    pub async fn spawn_app_in(&self, tz: Tz) -> TestApp {
        let (tenant, key) = self.tenant("Acme", "CL", tz).await;
        let server = self.serve(None).await;
        TestApp { server, tenant, key }
    }

    /// A world on SQLite, which is always available: for the tests that need no other backend.
    pub async fn sqlite() -> Env {
        Env::new(TestBackend::Sqlite).await.unwrap_or_else(|| unreachable!("SQLite is always available"))
    }
}

/// A started server and a tenant of its database, from [`Env::spawn_app`].
pub struct TestApp {
    pub server: TestServer,
    pub tenant: Tenant,
    /// The tenant's API key (scopes `read pii write`).
    pub key: String,
}

impl TestApp {
    /// POSTs a GraphQL request with the tenant's key; returns (status, body).
    pub async fn post(&self, query: &str, variables: Value) -> (u16, Value) {
        self.server.graphql(Some(&self.key), query, variables).await
    }
}

/// The first error of a response: (code, argument, message).
pub fn first_error(response: &Value) -> (String, String, String) {
    let e = &response["errors"][0];
    assert!(!e.is_null(), "expected an error, got {response:#}");
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (s(&e["extensions"]["code"]), s(&e["extensions"]["argument"]), s(&e["message"]))
}

/// What a `tenant create` key grants `tenant`: `read pii write`.
pub fn full_access(tenant: &Tenant) -> Access {
    access_with(tenant, Scopes::DEFAULT)
}

/// Access to `tenant` with only `scopes`.
pub fn access_with(tenant: &Tenant, scopes: Scopes) -> Access {
    let key = KeyId::of_hash("0000000000000000");
    Access { tenant: tenant.clone(), grant: KeyGrant { key, scopes, expires_at: None } }
}

/// The real router serving on an ephemeral port until dropped.
pub struct TestServer {
    pub base_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start(state: AppState) -> TestServer {
        TestServer::start_with(state, ottstats_server::listener::ConnectionLimits::default()).await
    }

    /// The router under connection limits of the test's choosing.
    pub async fn start_with(state: AppState, limits: ottstats_server::listener::ConnectionLimits) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("local addr: {e}"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            ottstats_server::listener::serve(listener, router(state.clone()), headroom_router(state), limits, stopped)
                .await;
        });
        TestServer { base_url: format!("http://{addr}"), stop: Some(stop) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The subscriptions endpoint, `ws://…/graphql/ws`.
    pub fn ws_url(&self) -> String {
        format!("{}/graphql/ws", self.base_url.replacen("http://", "ws://", 1))
    }

    /// `GET /metrics`.
    pub async fn metrics(&self) -> String {
        let response = reqwest::get(self.url("/metrics")).await.unwrap_or_else(|e| panic!("GET /metrics: {e}"));
        assert_eq!(response.status().as_u16(), 200);
        response.text().await.unwrap_or_else(|e| panic!("metrics body: {e}"))
    }

    /// POSTs a GraphQL request with an optional bearer key; returns (status, body).
    pub async fn graphql(&self, key: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .post(self.url("/graphql"))
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(k) = key {
            request = request.bearer_auth(k);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("request failed: {e}"));
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or_else(|e| panic!("body is not JSON: {e}"));
        (status, body)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Writes one test per backend for each named `async fn(Env)`: `sqlite::name` always
/// runs; `postgres::name` runs when PostgreSQL is configured (and fails when CI requires
/// it but it is missing).
#[macro_export]
macro_rules! on_each_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Env::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(env) = $crate::Env::new($crate::TestBackend::Postgres).await else {
                        eprintln!("skipped: {} is not set", $crate::DATABASE_URL_VAR);
                        return;
                    };
                    super::$name(env).await;
                }
            )*
        }
    };
}

/// Like [`on_each_backend!`], and each test once more with the registrations index off,
/// so that hand-worked figures hold on both the index and the SQL path:
/// `sqlite::name`, `postgres::name` (index), `sqlite_sql::name`, `postgres_sql::name`.
#[macro_export]
macro_rules! on_each_backend_and_path {
    ($($name:ident),* $(,)?) => {
        $crate::on_each_backend!($($name),*);
        mod sqlite_sql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let env = $crate::Env::on_path($crate::TestBackend::Sqlite, $crate::StatsPath::Sql).await;
                    super::$name(env.unwrap_or_else(|| unreachable!("SQLite is always available"))).await;
                }
            )*
        }
        mod postgres_sql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(env) = $crate::Env::on_path($crate::TestBackend::Postgres, $crate::StatsPath::Sql).await else {
                        eprintln!("skipped: {} is not set", $crate::DATABASE_URL_VAR);
                        return;
                    };
                    super::$name(env).await;
                }
            )*
        }
    };
}

/// What an HTTP request got: its status, headers and body (JSON when it parses, else the
/// text as a JSON string).
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Sends `request` and reads the whole answer.
    pub async fn of(request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap_or_else(|e| panic!("request failed: {e}"));
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, headers, body }
    }

    /// The header's value, or "" when it is missing or not text.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The first error's `extensions.code`, or "".
    pub fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"].as_str().unwrap_or("")
    }
}
