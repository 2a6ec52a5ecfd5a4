//! The HTTP side of ottstats: the router (GraphQL over HTTP and WebSocket, GraphiQL and
//! its assets, the player collector, health, readiness, metrics), authentication and rate
//! limits, persisted and trusted documents, and the listener with its connection limits.

mod answer;
mod auth;
mod body;
pub mod collect;
mod collect_bounds;
mod collect_items;
mod cors;
mod dashboard;
pub mod db_health;
mod documents;
mod embedded;
mod graphiql;
mod graphql;
mod health;
pub mod listener;
mod media;
mod metrics;
mod params;
mod persisted_queries;
mod prefill;
pub mod rate_limit;
mod refusals;
pub mod settings;
mod ws;
mod ws_fanout;
mod ws_guard;
mod ws_limits;
mod ws_session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use auth::{AuthSettings, Authenticator};
pub use collect::CollectSettings;
pub use cors::CorsOrigins;
pub use db_health::HealthSettings;
pub use documents::DocumentSettings;
pub use metrics::Metrics;
pub use persisted_queries::{PersistedQueries, hash_of};
pub use prefill::Prefill;
pub use rate_limit::RateLimitSettings;
pub use settings::{Settings, SettingsError};
pub use ws_limits::SocketLimits;

use ottstats_graphql::{AppSchema, Services};

use body::BodyBudget;

/// What every handler shares; cloned for every request, so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The contents of [`AppState`].
pub struct Shared {
    pub schema: AppSchema,
    pub services: Services,
    pub auth: Authenticator,
    /// Pre-filled in GraphiQL when the server runs with `--demo`.
    pub prefill: Option<Prefill>,
    pub metrics: Metrics,
    /// Per-key, cost-based rate limits.
    pub rate_limits: crate::rate_limit::RateLimiter,
    /// Addresses that keep presenting wrong keys.
    pub auth_failures: crate::rate_limit::AuthFailures,
    /// Memory all request bodies may take together.
    pub bodies: BodyBudget,
    /// Turns of large requests on the blocking pool.
    pub heavy: Arc<tokio::sync::Semaphore>,
    /// The database as last probed: requests fail fast while it is away.
    pub db_health: db_health::DbHealth,
    /// Introspection answers: the same for every tenant, by request.
    pub introspection: moka::sync::Cache<Vec<u8>, axum::body::Bytes>,
    /// The bounds of `/graphql/ws`.
    pub socket_limits: SocketLimits,
    /// Every tenant's operations over `/graphql/ws`, counted against its cap.
    pub operations: ws_limits::TenantOperations,
    /// Subscriptions shared by sockets asking the same.
    pub fanout: ws_fanout::Fanout,
    /// Documents known by hash: persisted queries and trusted documents.
    pub documents: documents::Documents,
    /// The player collector's write slots.
    pub collect: collect::Collector,
    /// What the server was started with.
    pub settings: Settings,
}

/// How the HTTP surface is configured: the `[http]` section of the settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpSettings {
    /// Where `ottstats serve` listens (`OTTSTATS_BIND`).
    pub bind: SocketAddr,
    /// The origins browsers may call from (`OTTSTATS_CORS_ORIGINS`).
    pub cors_origins: CorsOrigins,
    /// How long a browser may reuse a preflight's answer.
    #[serde(with = "ottstats_domain::units::duration")]
    pub cors_max_age: Duration,
    /// Only documents registered ahead run (`OTTSTATS_TRUSTED_DOCUMENTS`).
    pub trusted_documents: bool,
    /// The outer bound of any request, beyond the GraphQL handler's own limit
    /// (`limits.timeout`, which refuses with a coded answer first): then HTTP 504.
    #[serde(with = "ottstats_domain::units::duration")]
    pub request_timeout: Duration,
    /// The largest request body: a full batch of 10,000 items fits with room to spare.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub max_body_bytes: usize,
    /// What all bodies being read or held at once may take.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub bodies_in_flight_bytes: usize,
    /// How long a client may take to send its body (then HTTP 408).
    #[serde(with = "ottstats_domain::units::duration")]
    pub body_timeout: Duration,
    /// How long a body waits for room among `bodies_in_flight_bytes` before it is refused
    /// (HTTP 503).
    #[serde(with = "ottstats_domain::units::duration")]
    pub body_room_wait: Duration,
    /// Bodies larger than this are parsed and run on the blocking pool, so that their
    /// parsing never holds the workers that answer everyone else.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub blocking_body_bytes: usize,
    /// Such large requests run this many at a time.
    pub blocking_at_once: usize,
    /// Answers smaller than this go as they are: compressing them saves less than a packet.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub compress_above_bytes: u16,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            cors_origins: CorsOrigins::Any,
            cors_max_age: Duration::from_secs(86_400),
            trusted_documents: false,
            request_timeout: Duration::from_secs(60),
            max_body_bytes: 32 * 1024 * 1024,
            bodies_in_flight_bytes: 256 * 1024 * 1024,
            body_timeout: Duration::from_secs(30),
            body_room_wait: Duration::from_secs(5),
            blocking_body_bytes: 256 * 1024,
            blocking_at_once: 4,
            compress_above_bytes: 1024,
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(services: Services, prefill: Option<Prefill>) -> AppState {
        AppState::from_settings(services, prefill, Settings::default())
    }

    /// A server whose WebSockets have other bounds than the defaults (tests reach them).
    pub fn with_socket_limits(services: Services, prefill: Option<Prefill>, limits: SocketLimits) -> AppState {
        AppState::from_settings(services, prefill, Settings { websocket: limits, ..Settings::default() })
    }

    /// A server whose HTTP surface is configured by `http`, with the defaults otherwise.
    pub fn with_settings(services: Services, prefill: Option<Prefill>, http: HttpSettings) -> AppState {
        AppState::from_settings(services, prefill, Settings { http, ..Settings::default() })
    }

    /// A server configured by `settings`: its sections for the HTTP side (the sections the
    /// services took, `database`, `redis`, `cache`, `index`, `limits`, `live`, were given
    /// to [`Services::with_settings`] already: see [`Settings::services`]).
    pub fn from_settings(services: Services, prefill: Option<Prefill>, settings: Settings) -> AppState {
        let store = &services.store;
        let docs = &settings.documents;
        let persisted = PersistedQueries::new(
            services.redis.clone(),
            store.installation(),
            store.secret().bytes(),
            docs.persisted_cache_bytes,
            docs.persisted_redis_ttl,
        );
        let trusted = Arc::new(services.store.clone());
        let rate_limits = crate::rate_limit::RateLimiter::with_default(
            services.redis.clone(),
            services.store.installation(),
            settings.rate_limit.default_per_minute,
        );
        AppState(Arc::new(Shared {
            documents: documents::Documents::new(persisted, trusted, settings.http.trusted_documents, docs),
            socket_limits: settings.websocket,
            schema: ottstats_graphql::build_schema(services.clone()),
            auth: Authenticator::with_settings(services.keys.clone(), &settings.auth),
            rate_limits,
            auth_failures: crate::rate_limit::AuthFailures::new(&settings.rate_limit),
            bodies: BodyBudget::new(&settings.http),
            heavy: Arc::new(tokio::sync::Semaphore::new(settings.http.blocking_at_once)),
            collect: collect::Collector::new(&settings.collect),
            introspection: moka::sync::Cache::builder().max_capacity(64).build(),
            db_health: db_health::DbHealth::watch_with(services.store.prober(), settings.health),
            settings,
            fanout: ws_fanout::Fanout::new(services.store.clone()),
            services,
            prefill,
            metrics: Metrics::new().unwrap_or_else(|e| unreachable!("the metrics' names are fixed and valid: {e}")),
            operations: ws_limits::TenantOperations::default(),
        }))
    }
}

/// gzip and brotli for answers above a small size, as `Accept-Encoding` allows (brotli
/// first when both are). Not for WebSocket upgrades, and not for GraphiQL's assets (stored
/// gzipped, sent plain to clients that do not take gzip): compressing 3.5 MB again for a
/// client that takes brotli alone would let anyone spend the server's CPU.
fn compression(above_bytes: u16) -> CompressionLayer<impl Predicate> {
    let not_upgrades =
        |status: axum::http::StatusCode,
         _: axum::http::Version,
         _: &axum::http::HeaderMap,
         _: &axum::http::Extensions| status != axum::http::StatusCode::SWITCHING_PROTOCOLS;
    let predicate = SizeAbove::new(above_bytes)
        .and(NotForContentType::IMAGES)
        .and(NotForContentType::SSE)
        .and(NotForContentType::const_new("text/javascript"))
        .and(NotForContentType::const_new("text/css"))
        .and(not_upgrades);
    // Level 4 of brotli (tower-http's default) compresses JSON about as well as gzip's
    // best at a fraction of brotli 11's time.
    CompressionLayer::new().gzip(true).br(true).compress_when(predicate)
}

/// What connections in the headroom (see [`listener`]) are served: health only.
pub fn headroom_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(|| async {
            refusals::unavailable(media::Media::Json, "too many open connections; try again shortly")
        })
        .with_state(state)
}

pub fn router(state: AppState) -> Router {
    let http = &state.settings.http;
    let graphql = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/graphql/assets/{file}", get(graphiql::asset))
        .route("/", get(dashboard::page))
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/assets/{file}", get(dashboard::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        // Set here, so that unknown paths pass the same layers as before.
        .fallback(|| async { axum::http::StatusCode::NOT_FOUND })
        .layer(RequestBodyLimitLayer::new(http.max_body_bytes))
        .layer(axum::extract::DefaultBodyLimit::max(http.max_body_bytes));
    // The collector bounds its body itself (`collect.max_body_bytes`), after its key.
    // Each part has its own CORS, outside the layers that make refusals, so that those
    // carry the part's headers too.
    let graphql = guarded(graphql, http)
        .layer(http.cors_origins.layer(http.cors_max_age))
        .layer(axum::middleware::from_fn(cors::pages_not_shared));
    let collector = guarded(collect::routes(), http).layer(collect::cors(http.cors_max_age));
    Router::new()
        .merge(graphql)
        .merge(collector)
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<axum::body::Body>| {
                    // DefaultMakeSpan's fields, with the collector's key left out of the URI.
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        uri = %collect::shown_uri(request.uri()),
                        version = ?request.version(),
                    )
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .with_state(state)
}

/// The layers every part of the router has: the outer time bound, coded refusals, panics
/// caught, compression.
fn guarded(routes: Router<AppState>, http: &HttpSettings) -> Router<AppState> {
    routes
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::GATEWAY_TIMEOUT, http.request_timeout))
        .layer(axum::middleware::from_fn(refusals::coded_refusals))
        .layer(CatchPanicLayer::custom(refusals::panic_response))
        .layer(compression(http.compress_above_bytes))
}
