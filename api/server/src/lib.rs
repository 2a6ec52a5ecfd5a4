//! The HTTP side of ottstats: the router (GraphQL over HTTP and WebSocket, GraphiQL and
//! its assets, health, readiness, metrics), authentication and rate limits, persisted and
//! trusted documents, and the listener with its connection limits.

mod answer;
mod auth;
mod body;
mod cors;
pub mod db_health;
mod documents;
mod graphiql;
mod graphql;
mod health;
pub mod listener;
mod media;
mod metrics;
mod params;
mod persisted_queries;
pub mod rate_limit;
mod refusals;
mod ws;
mod ws_fanout;
mod ws_guard;
mod ws_limits;
mod ws_session;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use auth::Authenticator;
pub use cors::CorsOrigins;
pub use graphiql::Prefill;
pub use persisted_queries::{PersistedQueries, hash_of};
pub use metrics::Metrics;
pub use ws_limits::SocketLimits;

use ottstats_graphql::{AppSchema, Services};

use body::{BODIES_IN_FLIGHT_BYTES, BodyBudget, MAX_BODY_BYTES};

/// The outer bound of any request, beyond the GraphQL handler's own limit (which
/// refuses with a coded answer first).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Answers smaller than this go as they are: compressing them saves less than a packet.
const COMPRESS_ABOVE_BYTES: u16 = 1024;
/// Large requests run on the blocking pool, this many at a time.
const HEAVY_AT_ONCE: usize = 4;

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
    /// What the server was started with.
    pub settings: HttpSettings,
}

/// How the HTTP surface is configured (`ottstats serve` flags and environment).
#[derive(Debug, Clone, Default)]
pub struct HttpSettings {
    /// The origins browsers may call from (`OTTSTATS_CORS_ORIGINS`).
    pub cors_origins: CorsOrigins,
    /// Only documents registered ahead run (`OTTSTATS_TRUSTED_DOCUMENTS`).
    pub trusted_documents: bool,
    /// The bounds of `/graphql/ws`.
    pub socket_limits: SocketLimits,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(services: Services, prefill: Option<Prefill>) -> AppState {
        AppState::with_settings(services, prefill, HttpSettings::default())
    }

    /// A server whose WebSockets have other bounds than the defaults (tests reach them).
    pub fn with_socket_limits(services: Services, prefill: Option<Prefill>, limits: SocketLimits) -> AppState {
        AppState::with_settings(services, prefill, HttpSettings { socket_limits: limits, ..Default::default() })
    }

    pub fn with_settings(services: Services, prefill: Option<Prefill>, settings: HttpSettings) -> AppState {
        let store = &services.store;
        let persisted = PersistedQueries::new(services.redis.clone(), store.installation(), store.secret().bytes());
        let trusted = Arc::new(services.store.clone());
        AppState(Arc::new(Shared {
            documents: documents::Documents::new(persisted, trusted, settings.trusted_documents),
            socket_limits: settings.socket_limits,
            settings,
            schema: ottstats_graphql::build_schema(services.clone()),
            auth: Authenticator::new(services.keys.clone()),
            rate_limits: crate::rate_limit::RateLimiter::new(services.redis.clone(), services.store.installation()),
            auth_failures: Default::default(),
            bodies: BodyBudget::new(BODIES_IN_FLIGHT_BYTES),
            heavy: Arc::new(tokio::sync::Semaphore::new(HEAVY_AT_ONCE)),
            introspection: moka::sync::Cache::builder().max_capacity(64).build(),
            db_health: db_health::DbHealth::watch(services.store.prober()),
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
fn compression() -> CompressionLayer<impl Predicate> {
    let not_upgrades =
        |status: axum::http::StatusCode,
         _: axum::http::Version,
         _: &axum::http::HeaderMap,
         _: &axum::http::Extensions| status != axum::http::StatusCode::SWITCHING_PROTOCOLS;
    let predicate = SizeAbove::new(COMPRESS_ABOVE_BYTES)
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
    Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/graphql/assets/{file}", get(graphiql::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::GATEWAY_TIMEOUT, REQUEST_TIMEOUT))
        .layer(axum::middleware::from_fn(refusals::coded_refusals))
        .layer(CatchPanicLayer::custom(refusals::panic_response))
        .layer(compression())
        .layer(state.settings.cors_origins.layer())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .with_state(state)
}
