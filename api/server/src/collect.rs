//! `POST /collect/events`: the player collector. Players (often a web page) send batches
//! of `PlayerEventInput` as a JSON array or NDJSON, with an *ingest* key, and get the
//! report `recordEvents` gives: the batch goes through the same domain function, so its
//! validation, duplicates, data versions and live pushes are those of the mutation.
//!
//! In order, each step bounding what the next may cost:
//! 0. the body's media type (`application/json`, `application/x-ndjson`, `text/plain`
//!    as `navigator.sendBeacon` sends it, or none);
//! 1. the key, from `Authorization: Bearer` or `?key=` (a beacon cannot set headers; an
//!    ingest key only writes, like Mux's environment key, so a page may hold it), before a
//!    byte of the body is read; it needs `ingest` or `write`;
//! 2. the body, bounded by `collect.max_body_bytes` and sharing the memory of all bodies;
//!    at most a batch's 10,000 items;
//! 3. the key's rate limit, charged a point per item;
//! 4. a slot among `collect.writes_in_flight`, waited for at most `collect.write_wait`:
//!    when the database falls behind, slots stay taken and the collector answers 503 with
//!    `Retry-After` instead of queueing. A write once started runs to its end even if
//!    the client leaves, so a slot is only ever free when the database is;
//! 5. the write; the answer is 200 only when the store said it stored the batch, 503
//!    `UNAVAILABLE` (logged) when it failed.
//!
//! CORS is open here whatever `http.cors_origins` says: any origin, no credentials.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response as HttpResponse;
use axum::routing::post;
use chrono::Utc;
use ottstats_domain::access::{Access, Scope};
use ottstats_domain::{DomainError, InputError, ingest};
use tokio::sync::Semaphore;
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::AppState;
use super::answer;
use super::auth::{AuthError, bearer};
use super::body::BodyError;
use super::collect_items::{self, Layout};
use super::db_health::DbState;
use super::graphql::{self, Shut};
use super::media::Media;
use ottstats_graphql::error::ApiError;

/// Where players send events.
pub const PATH: &str = "/collect/events";

/// Why a request was refused: the `reason` label of `ottstats_collect_refusals_total`.
pub const REASONS: [&str; 8] =
    ["unauthenticated", "forbidden", "bad_request", "too_large", "too_slow", "rate_limited", "busy", "unavailable"];

/// The collector's bounds: the `[collect]` section of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectSettings {
    /// The largest body (HTTP 413): a player's batch is small; a GraphQL batch may be 32 MiB.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub max_body_bytes: usize,
    /// Batches being written at once. The database is the bottleneck: more slots would
    /// only queue there, holding connections every other request needs.
    pub writes_in_flight: usize,
    /// How long a batch waits for a slot before it is refused (HTTP 503).
    #[serde(with = "ottstats_domain::units::duration")]
    pub write_wait: Duration,
    /// What `Retry-After` says on such a refusal (whole seconds, rounded up).
    #[serde(with = "ottstats_domain::units::duration")]
    pub retry_after: Duration,
}

impl Default for CollectSettings {
    fn default() -> Self {
        CollectSettings {
            max_body_bytes: 1024 * 1024,
            writes_in_flight: 4,
            write_wait: Duration::from_millis(500),
            retry_after: Duration::from_secs(1),
        }
    }
}

/// The collector's share of the server: its write slots.
#[derive(Clone)]
pub struct Collector {
    /// Public so that tests can take slots and play a database that fell behind.
    pub writes: Arc<Semaphore>,
}

impl Collector {
    pub fn new(settings: &CollectSettings) -> Collector {
        Collector { writes: Arc::new(Semaphore::new(settings.writes_in_flight)) }
    }
}

/// The collector's route.
pub fn routes() -> Router<AppState> {
    Router::new().route(PATH, post(post_events))
}

/// CORS for the collector: any origin, without credentials (the key is in the request,
/// never in a cookie, and it can only write its tenant's events).
pub fn cors(max_age: Duration) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::any())
        .allow_methods([Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([header::RETRY_AFTER])
        .max_age(max_age)
}

pub async fn post_events(State(state): State<AppState>, request: Request) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let Some(layout) = layout(&parts.headers) else {
        let error = InputError::new(
            "Content-Type",
            "send events as `application/json` (an array), `application/x-ndjson` or `text/plain`",
        );
        return refuse(&state, "bad_request", StatusCode::UNSUPPORTED_MEDIA_TYPE, ApiError::Input(error));
    };
    let access = match admit(&state, &parts).await {
        Ok(access) => access,
        Err(refused) => return refused,
    };
    let max = state.settings.collect.max_body_bytes;
    let body = match state.bodies.read_at_most(body, &parts.headers, max).await {
        Ok(body) => body,
        Err(BodyError::Busy) => return unavailable(&state, "busy", BodyError::Busy.to_string()),
        Err(e) => {
            let reason = match e {
                BodyError::TooLarge(_) => "too_large",
                BodyError::TooSlow(_) => "too_slow",
                _ => "bad_request",
            };
            return refuse(&state, reason, e.status(), ApiError::Input(InputError::new("body", e.to_string())));
        }
    };
    let mut batch = match collect_items::read(&body.bytes, layout) {
        Ok(batch) => batch,
        Err(e) => return refuse(&state, "bad_request", StatusCode::BAD_REQUEST, ApiError::Input(e)),
    };
    // The items are drafts now: the body's room goes back to the others.
    drop(body);
    let cost = u64::try_from(batch.items).unwrap_or(u64::MAX).max(1);
    if let Err(limited) = state.rate_limits.charge(&access.tenant, &access.grant.key, cost).await {
        state.metrics.collect_refused("rate_limited");
        return answer::rate_limited(Media::Json, &limited);
    }
    let stored = if batch.drafts.is_empty() {
        // Nothing for the store: no slot taken, nothing written.
        ingest::IngestReport::default()
    } else {
        match write(&state, &access, std::mem::take(&mut batch.drafts)).await {
            Ok(stored) => stored,
            Err(refused) => return refused,
        }
    };
    let report = batch.report(stored);
    state.metrics.collected(report.accepted, report.duplicates, report.rejected.len());
    match serde_json::to_vec(&report) {
        Ok(json) => answer::send(Media::Json, StatusCode::OK, Bytes::from(json)),
        // Stored, but not said: a retry of the same ids is only duplicates.
        Err(e) => {
            tracing::error!(error = %e, "cannot encode a collector report");
            unavailable(&state, "unavailable", "the report could not be sent; send the batch again".into())
        }
    }
}

/// Step 1: the database takes writes, the address is not blocked, the key is good and
/// may collect.
async fn admit(state: &AppState, parts: &Parts) -> Result<Access, HttpResponse> {
    if state.db_health.state() != DbState::Up {
        let message = "the database does not take writes now; try again shortly".to_owned();
        return Err(unavailable(state, "unavailable", message));
    }
    let key = key_of(parts);
    let access = match graphql::open(state, parts, key.as_deref()).await {
        Ok(access) => access,
        Err(Shut::Blocked(wait)) => {
            state.metrics.collect_refused("rate_limited");
            return Err(graphql::blocked(Media::Json, wait));
        }
        Err(Shut::Key(e)) => {
            let message = match e {
                AuthError::Missing => "an API key is required: send `Authorization: Bearer <key>` or `?key=<key>`",
                AuthError::Invalid => "the API key is not valid",
                AuthError::Expired => "the API key has expired",
                AuthError::Store(e) => {
                    tracing::error!(error = %e, "cannot check a collector's API key");
                    return Err(unavailable(state, "unavailable", "the API key cannot be checked now".into()));
                }
            };
            let mut refused =
                refuse(state, "unauthenticated", StatusCode::UNAUTHORIZED, ApiError::Unauthenticated(message));
            refused.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return Err(refused);
        }
    };
    // `write` opens the collector too: it may record the same events through
    // `recordEvents` already.
    if !(access.allows(Scope::Ingest) || access.allows(Scope::Write)) {
        let message = format!("the API key grants neither `ingest` nor `write`: {PATH} needs one of them");
        let error = ApiError::WrongEndpoint { scope: Some(Scope::Ingest), message };
        return Err(refuse(state, "forbidden", StatusCode::FORBIDDEN, error));
    }
    Ok(access)
}

/// Steps 4 and 5: a slot, then the write, which keeps its slot to its end (a task of its
/// own, so that a client leaving cannot cut it short and free the slot early).
async fn write(
    state: &AppState,
    access: &Access,
    drafts: Vec<ottstats_domain::activity_input::PlayerEventDraft>,
) -> Result<ingest::IngestReport, HttpResponse> {
    let settings = &state.settings.collect;
    let slot = match tokio::time::timeout(settings.write_wait, state.collect.writes.clone().acquire_owned()).await {
        Ok(Ok(slot)) => slot,
        Ok(Err(_)) | Err(_) => {
            let message = "the database is behind: events are not taken now; send them again later".to_owned();
            return Err(unavailable(state, "busy", message));
        }
    };
    let (activity, tenant) = (state.services.activity.clone(), access.tenant.id);
    let written = tokio::spawn(async move {
        let _slot = slot;
        ingest::record_events(activity.as_ref(), tenant, &drafts, Utc::now()).await
    });
    match written.await {
        Ok(Ok(stored)) => Ok(stored),
        // Sizes are checked before: no batch of drafts is refused whole.
        Ok(Err(DomainError::Input(e))) => {
            Err(refuse(state, "bad_request", StatusCode::BAD_REQUEST, ApiError::Input(e)))
        }
        Ok(Err(DomainError::Repo(e))) => {
            tracing::error!(error = %e, tenant = tenant.0, "the collector cannot store a batch");
            Err(unavailable(state, "unavailable", "the events could not be stored; send them again shortly".into()))
        }
        Err(e) => {
            tracing::error!(error = %e, tenant = tenant.0, "the collector's write did not finish");
            Err(unavailable(state, "unavailable", "the events could not be stored; send them again shortly".into()))
        }
    }
}

/// The body's layout by its media type; `None` for a type the collector does not read.
fn layout(headers: &HeaderMap) -> Option<Layout> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else { return Some(Layout::Sniffed) };
    let essence = value.to_str().ok()?.split(';').next()?.trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/x-ndjson" | "application/ndjson" => Some(Layout::Ndjson),
        // A page that cannot afford a preflight sends `text/plain`; JSON may be either.
        "application/json" | "text/plain" | "" => Some(Layout::Sniffed),
        _ => None,
    }
}

/// The key: `Authorization: Bearer <key>`, else the query string's `key`.
fn key_of(parts: &Parts) -> Option<String> {
    if let Some(key) = bearer(&parts.headers) {
        return Some(key.to_owned());
    }
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri).ok()?;
    pairs.into_iter().find(|(name, _)| name == "key").map(|(_, key)| key.trim().to_owned()).filter(|k| !k.is_empty())
}

/// A URI as logs show it: the collector's `key` is left out (a page may hold an ingest
/// key, a log should not).
pub fn shown_uri(uri: &Uri) -> Cow<'_, str> {
    match uri.query() {
        Some(query) if uri.path() == PATH && query.split('&').any(|p| p.starts_with("key=")) => {
            let kept: Vec<&str> =
                query.split('&').map(|p| if p.starts_with("key=") { "key=[redacted]" } else { p }).collect();
            Cow::Owned(format!("{}?{}", uri.path(), kept.join("&")))
        }
        _ => Cow::Owned(uri.to_string()),
    }
}

/// A refusal in the GraphQL shape, counted by its reason.
fn refuse(state: &AppState, reason: &'static str, status: StatusCode, error: ApiError) -> HttpResponse {
    state.metrics.collect_refused(reason);
    answer::refusal(Media::Json, status, error, None)
}

/// HTTP 503 `UNAVAILABLE` with `Retry-After` (`collect.retry_after`).
fn unavailable(state: &AppState, reason: &'static str, message: String) -> HttpResponse {
    let mut response = refuse(state, reason, StatusCode::SERVICE_UNAVAILABLE, ApiError::Busy(message));
    let wait = state.settings.collect.retry_after;
    let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_decide_the_layout() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, v.parse().unwrap());
            layout(&h)
        };
        assert_eq!(layout(&HeaderMap::new()), Some(Layout::Sniffed));
        assert_eq!(with("text/plain;charset=UTF-8"), Some(Layout::Sniffed));
        assert_eq!(with("Application/JSON"), Some(Layout::Sniffed));
        assert_eq!(with("application/x-ndjson"), Some(Layout::Ndjson));
        assert_eq!(with("application/x-www-form-urlencoded"), None);
    }

    #[test]
    fn logs_never_show_a_key() {
        let uri: Uri = "/collect/events?key=ott_1_secret&v=2".parse().unwrap();
        assert_eq!(shown_uri(&uri), "/collect/events?key=[redacted]&v=2");
        let uri: Uri = "/graphql?query=%7B%7D".parse().unwrap();
        assert_eq!(shown_uri(&uri), "/graphql?query=%7B%7D");
    }
}
