//! The HTTP surface: GraphQL, GraphiQL and its assets, health and readiness.

mod answer;
mod auth;
mod body;
pub mod db_health;
mod graphiql;
mod graphql;
mod health;
pub mod listener;
mod metrics;
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
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use auth::Authenticator;
pub use metrics::Metrics;
pub use ws_limits::SocketLimits;

use crate::graphql::{AppSchema, Services};

use body::{BODIES_IN_FLIGHT_BYTES, BodyBudget, MAX_BODY_BYTES};

/// The outer bound of any request, beyond the GraphQL handler's own limit (which
/// refuses with a coded answer first).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
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
    pub demo: Option<crate::demo::Demo>,
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
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(services: Services, demo: Option<crate::demo::Demo>) -> AppState {
        AppState::with_socket_limits(services, demo, SocketLimits::DEFAULT)
    }

    /// A server whose WebSockets have other bounds than the defaults (tests reach them).
    pub fn with_socket_limits(services: Services, demo: Option<crate::demo::Demo>, limits: SocketLimits) -> AppState {
        AppState(Arc::new(Shared {
            schema: crate::graphql::build_schema(services.clone()),
            auth: Authenticator::new(services.keys.clone()),
            rate_limits: crate::rate_limit::RateLimiter::new(services.redis.clone(), services.store.installation()),
            auth_failures: Default::default(),
            bodies: BodyBudget::new(BODIES_IN_FLIGHT_BYTES),
            heavy: Arc::new(tokio::sync::Semaphore::new(HEAVY_AT_ONCE)),
            introspection: moka::sync::Cache::builder().max_capacity(64).build(),
            db_health: db_health::DbHealth::watch(services.store.prober()),
            fanout: ws_fanout::Fanout::new(services.store.clone()),
            services,
            demo,
            metrics: Metrics::new().unwrap_or_else(|e| unreachable!("the metrics' names are fixed and valid: {e}")),
            socket_limits: limits,
            operations: ws_limits::TenantOperations::default(),
        }))
    }
}

/// What connections in the headroom (see [`listener`]) are served: health only.
pub fn headroom_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(|| async {
            let error = crate::error::ApiError::Busy("too many open connections; try again shortly".into());
            answer::refusal(axum::http::StatusCode::SERVICE_UNAVAILABLE, error, None)
        })
        .with_state(state)
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/graphql", get(graphiql::page).post(graphql::execute))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/graphql/assets/{file}", get(graphiql::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::GATEWAY_TIMEOUT, REQUEST_TIMEOUT))
        .layer(axum::middleware::map_response(graphql::coded_refusals))
        .layer(CatchPanicLayer::custom(graphql::panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .with_state(state)
}
