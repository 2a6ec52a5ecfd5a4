use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can serve: its database answers. The body also says whether the
/// registrations indexes are warm (`ready`) or some still load (`ready; indexes
/// loading`): panels are answered from SQL meanwhile, so the process is ready either way.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if state.db_health.state() == super::db_health::DbState::ReadOnly {
        return (StatusCode::SERVICE_UNAVAILABLE, "database refuses writes (read-only or full disk)");
    }
    match state.services.health.ping().await {
        Ok(()) if state.services.engine.status().loading > 0 => (StatusCode::OK, "ready; indexes loading"),
        Ok(()) => (StatusCode::OK, "ready"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
