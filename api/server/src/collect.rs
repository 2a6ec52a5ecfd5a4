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
//! 2. the body, bounded by `collect.max_body_bytes` and `collect.body_timeout`, in a
//!    memory of the collector's own (`collect.bodies_in_flight_bytes`; full: 503 with
//!    `Retry-After`), so that bodies sent with a public key never take the room of
//!    `/graphql`'s; at most a batch's 10,000 items;
//! 3. a slot among `collect.writes_in_flight`, waited for at most `collect.write_wait`:
//!    when the database falls behind, slots stay taken and the collector answers 503 with
//!    `Retry-After` instead of queueing. A write once started runs to its end even if
//!    the client leaves, so a slot is only ever free when the database is;
//! 4. the key's rate limit, charged a point per item once the batch has its slot (a
//!    batch refused busy, and sent again, is charged once);
//! 5. the write; the answer is 200 only when the store said it stored the batch; 503
//!    `UNAVAILABLE` with `Retry-After` when the store is away or conflicted, 500
//!    `INTERNAL` when it failed otherwise (the details logged, never sent).
//!
//! CORS is open here whatever `http.cors_origins` says: any origin, no credentials.

use std::borrow::Cow;
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
use ottstats_domain::{DomainError, InputError, RepoError, ingest};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::AppState;
use super::answer;
use super::auth::{AuthError, bearer};
use super::body::BodyError;
pub use super::collect_bounds::{CollectSettings, Collector};
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
    let body = match state.collect.bodies.read(body, &parts.headers).await {
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
    let stored = if batch.drafts.is_empty() {
        // Nothing for the store: no slot taken, nothing written; charged all the same.
        if let Err(refused) = charge(&state, &access, cost).await {
            return refused;
        }
        ingest::IngestReport::default()
    } else {
        match write(&state, &access, cost, std::mem::take(&mut batch.drafts)).await {
            Ok(stored) => stored,
            Err(refused) => return refused,
        }
    };
    let report = batch.report(stored);
    state.metrics.collected(report.accepted, report.duplicates, report.rejected.len());
    match serde_json::to_vec(&report) {
        Ok(json) => answer::send(Media::Json, StatusCode::OK, Bytes::from(json)),
        // Stored, but not said (a retry of the same ids is only duplicates): a bug.
        Err(e) => {
            tracing::error!(error = %e, "cannot encode a collector report");
            internal()
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

/// Step 4: `cost` points from the key's bucket.
async fn charge(state: &AppState, access: &Access, cost: u64) -> Result<(), HttpResponse> {
    match state.rate_limits.charge(&access.tenant, &access.grant.key, cost).await {
        Ok(_) => Ok(()),
        Err(limited) => {
            state.metrics.collect_refused("rate_limited");
            Err(answer::rate_limited(Media::Json, &limited))
        }
    }
}

/// Steps 3 to 5: a slot, the charge (a batch refused busy costs nothing: its retry pays),
/// then the write, which keeps its slot to its end (a task of its own, so that a client
/// leaving cannot cut it short and free the slot early).
async fn write(
    state: &AppState,
    access: &Access,
    cost: u64,
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
    // Refused here, the slot goes back at once.
    charge(state, access, cost).await?;
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
            Err(match failure(&e) {
                Failure::Unavailable => {
                    unavailable(state, "unavailable", "the events could not be stored; send them again shortly".into())
                }
                Failure::Internal => internal(),
            })
        }
        // The write panicked: a bug, not a dependency.
        Err(e) => {
            tracing::error!(error = %e, tenant = tenant.0, "the collector's write did not finish");
            Err(internal())
        }
    }
}

/// What a failed write is to the client.
#[derive(Debug, PartialEq, Eq)]
enum Failure {
    /// The store is away, conflicted or crowded: 503 `UNAVAILABLE`, send again later.
    Unavailable,
    /// Anything else (a bug, a broken schema): 500 `INTERNAL`, the details in the log only.
    Internal,
}

fn failure(e: &RepoError) -> Failure {
    match e {
        RepoError::Unavailable(_) | RepoError::Conflict(_) | RepoError::Crowded(_) => Failure::Unavailable,
        RepoError::Internal(_) => Failure::Internal,
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

/// A URI as logs show it, with no key in it: a path under `/collect` (the collector's,
/// or a mistyped one) loses its whole query string, whatever its spelling (`k%65y=` is
/// `key=` once decoded, as the collector reads it); on any other path every parameter
/// whose name decodes to `key` is redacted.
pub fn shown_uri(uri: &Uri) -> Cow<'_, str> {
    let Some(query) = uri.query() else { return Cow::Owned(uri.to_string()) };
    let path = uri.path();
    if path.starts_with("/collect") {
        return Cow::Owned(format!("{path}?[redacted]"));
    }
    let is_key = |pair: &str| decoded(pair.split('=').next().unwrap_or(pair)).eq_ignore_ascii_case("key");
    if !query.split('&').any(is_key) {
        return Cow::Owned(uri.to_string());
    }
    let kept: Vec<&str> = query.split('&').map(|p| if is_key(p) { "key=[redacted]" } else { p }).collect();
    Cow::Owned(format!("{path}?{}", kept.join("&")))
}

/// A query string's name as `application/x-www-form-urlencoded` decodes it.
fn decoded(name: &str) -> String {
    let bytes = name.as_bytes();
    let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match (b, hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'%'));
                i += 3;
            }
            _ => {
                out.push(if b == b'+' { b' ' } else { b });
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A refusal in the GraphQL shape, counted by its reason.
fn refuse(state: &AppState, reason: &'static str, status: StatusCode, error: ApiError) -> HttpResponse {
    state.metrics.collect_refused(reason);
    answer::refusal(Media::Json, status, error, None)
}

/// HTTP 500 `INTERNAL`, a generic message: what failed was logged where it failed. Not a
/// refusal (`ottstats_collect_refusals_total` leaves it out; the requests' count by status
/// has it).
fn internal() -> HttpResponse {
    let error = ApiError::Repo(RepoError::Internal("the collector's write failed (logged above)".into()));
    answer::refusal(Media::Json, StatusCode::INTERNAL_SERVER_ERROR, error, None)
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
        let shown = |uri: &str| shown_uri(&uri.parse::<Uri>().unwrap()).into_owned();
        // Under `/collect`, the whole query goes, however the key is spelt (the collector
        // decodes the query: `k%65y` is `key`), and on paths that are no route too.
        for uri in [
            "/collect/events?key=ott_1_secret&v=2",
            "/collect/events?v=2&k%65y=ott_1_secret",
            "/collect/events?%6B%65%79=ott_1_secret",
            "/collect/events/?key=ott_1_secret",
            "/collect?key=ott_1_secret",
            "/collectx?a=ott_1_secret",
        ] {
            let shown = shown(uri);
            assert!(!shown.contains("secret") && shown.ends_with("?[redacted]"), "{uri} is logged as {shown}");
        }
        assert_eq!(shown("/collect/events"), "/collect/events");
        // Elsewhere, only a `key` parameter (decoded) is left out.
        assert_eq!(shown("/graphql?query=%7B%7D"), "/graphql?query=%7B%7D");
        assert_eq!(shown("/graphql?query=%7B%7D&k%65y=ott_1_secret"), "/graphql?query=%7B%7D&key=[redacted]");
        assert_eq!(shown("/%63ollect/events?key=ott_1_secret&v"), "/%63ollect/events?key=[redacted]&v");
        assert_eq!(shown("/healthz?keys=1&key"), "/healthz?keys=1&key=[redacted]");
        assert_eq!(decoded("k%65y+%zz%4"), "key %zz%4");
    }

    #[test]
    fn only_a_failing_dependency_is_unavailable() {
        assert_eq!(failure(&RepoError::Unavailable("down".into())), Failure::Unavailable);
        assert_eq!(failure(&RepoError::Conflict("deadlock".into())), Failure::Unavailable);
        assert_eq!(failure(&RepoError::Crowded("busy".into())), Failure::Unavailable);
        assert_eq!(failure(&RepoError::Internal("no such table".into())), Failure::Internal);
    }
}
