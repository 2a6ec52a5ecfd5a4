//! The HTTP surface: GraphQL, GraphiQL and its assets, health and readiness.

mod auth;
mod graphiql;
mod graphql;
mod health;
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

/// The largest request body: a full batch of 10,000 items fits with room to spare.
const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

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
            auth: Authenticator::new(services.tenants.clone()),
            fanout: ws_fanout::Fanout::new(services.store.clone()),
            services,
            demo,
            metrics: Metrics::new().unwrap_or_else(|e| unreachable!("the metrics' names are fixed and valid: {e}")),
            socket_limits: limits,
            operations: ws_limits::TenantOperations::default(),
        }))
    }
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
