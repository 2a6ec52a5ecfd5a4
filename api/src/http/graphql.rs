//! `POST /graphql`. In order, each step bounding what the next may cost:
//! 1. the key (before a byte of the body is read; an address presenting wrong keys
//!    again and again is refused before any lookup);
//! 2. the body, bounded in size, in time, and with every other body in memory;
//! 3. the document, parsed and measured against the limits before validation;
//! 4. the key's rate limit, charged the request's cost (a cached answer costs 1);
//! 5. the answer: cached, or run under the time limit and held to the byte cap.
//!
//! Requests with large bodies do all of this on the blocking pool: their synchronous
//! work (JSON, parsing, argument coercion of 10,000 items) would otherwise hold a
//! runtime worker for long stretches.

use std::any::Any;

use async_graphql::Response;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response as HttpResponse;
use ottstats_domain::InputError;
use ottstats_domain::access::{Access, Scopes};
use serde_json::json;

use super::AppState;
use super::answer::{self, rate_limit_json};
use super::auth::AuthError;
use crate::error::{ApiError, Code};
use crate::graphql::TenantContext;
use crate::graphql::limits::{self, Limits, Measured};

/// Bodies up to this size are handled on the runtime's workers; larger ones on the
/// blocking pool.
const INLINE_BODY_BYTES: usize = 256 * 1024;

pub async fn execute(State(state): State<AppState>, request: Request) -> HttpResponse {
    let (parts, body) = request.into_parts();
    if state.db_health.state() == super::db_health::DbState::Down {
        state.metrics.count_errors([Code::Unavailable.as_str()]);
        let error = ApiError::Busy("the database is unavailable; try again shortly".into());
        let mut response = answer::refusal(StatusCode::SERVICE_UNAVAILABLE, error, None);
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
        return response;
    }
    let peer = super::listener::peer(&parts.extensions).ip();
    let blocked = match state.auth_failures.blocked_for(peer) {
        Some(wait) if !state.auth.proven(&parts.headers) => Some(wait),
        _ => None,
    };
    if let Some(wait) = blocked {
        state.metrics.count_errors([Code::RateLimited.as_str()]);
        let message = format!("too many requests with wrong keys from this address; retry in {} s", wait.as_secs() + 1);
        let mut response = answer::refusal(StatusCode::TOO_MANY_REQUESTS, ApiError::RateLimited(message), None);
        if let Ok(v) = (wait.as_secs() + 1).to_string().parse() {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        return response;
    }
    let access = match state.auth.authenticate(&parts.headers).await {
        Ok(access) => access,
        Err(e) => {
            if !matches!(e, AuthError::Store(_)) {
                state.auth_failures.failed(peer);
            }
            return auth_failure(&state, e);
        }
    };
    let body = match state.bodies.read(body, &parts.headers).await {
        Ok(body) => body,
        Err(e) => {
            let code =
                if e.status() == StatusCode::SERVICE_UNAVAILABLE { Code::Unavailable } else { Code::BadUserInput };
            state.metrics.count_errors([code.as_str()]);
            let error = match code {
                Code::Unavailable => ApiError::Busy(e.to_string()),
                _ => ApiError::Input(InputError::new("body", e.to_string())),
            };
            return answer::refusal(e.status(), error, None);
        }
    };
    let health = state.db_health.clone();
    let answered = async move {
        if body.bytes.len() <= INLINE_BODY_BYTES {
            return run(state, access, body.bytes).await;
        }
        on_blocking_pool(state, access, body).await
    };
    tokio::select! {
        response = answered => response,
        () = health.went_down() => {
            let error = ApiError::Busy("the database went away; try again shortly".into());
            let mut response = answer::refusal(StatusCode::SERVICE_UNAVAILABLE, error, None);
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from_static("1"));
            response
        }
    }
}

/// Runs a large request on the blocking pool, a few at a time.
async fn on_blocking_pool(state: AppState, access: Access, body: super::body::ReadBody) -> HttpResponse {
    let Ok(_turn) = state.heavy.clone().acquire_owned().await else {
        return answer::refusal(StatusCode::SERVICE_UNAVAILABLE, ApiError::Busy("shutting down".into()), None);
    };
    let runtime = tokio::runtime::Handle::current();
    let bytes = body.bytes.clone();
    let worker = tokio::task::spawn_blocking(move || runtime.block_on(run(state, access, bytes)));
    let outcome = worker.await;
    drop(body);
    outcome.unwrap_or_else(|e| panic_response(Box::new(e.to_string())))
}

/// Steps 3 to 5.
async fn run(state: AppState, access: Access, body: Bytes) -> HttpResponse {
    let limits = Limits::DEFAULT;
    let mut request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            state.metrics.count_errors([Code::BadUserInput.as_str()]);
            let error =
                ApiError::Input(InputError::new("body", format!("not a GraphQL request (JSON with `query`): {e}")));
            return answer::refusal(StatusCode::BAD_REQUEST, error, None);
        }
    };
    // A document that does not parse is left to the schema, which says why.
    // Parsed once here (the schema reuses the document); the variables step aside while
    // the document is borrowed.
    let variables = std::mem::take(&mut request.variables);
    let measured = match request.parsed_query() {
        Ok(doc) => match limits::check(doc, &variables, &limits) {
            Ok(measure) => Some((measure, is_introspection(doc))),
            Err(e) => {
                state.metrics.count_errors([Code::QueryTooComplex.as_str()]);
                return answer::refusal(StatusCode::OK, ApiError::Limit(e), None);
            }
        },
        Err(_) => None,
    };
    request.variables = variables;
    let tenant_id = access.tenant.id;
    let context = TenantContext::new(access, &state.services);
    let key = request_key(&request, context.scopes);
    let introspection = measured.is_some_and(|(_, i)| i);

    // A stored answer, when there is one, costs a single point.
    let lookup = if introspection {
        if let Some(stored) = key.as_ref().and_then(|k| state.introspection.get(k)) {
            return stored_answer(&state, &context, &stored).await;
        }
        None
    } else {
        match &key {
            Some(k) => match state.services.responses.lookup(tenant_id, k).await {
                Ok((_, Some(stored))) => return stored_answer(&state, &context, &stored).await,
                Ok((lookup, None)) => Some(lookup),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read data versions; running uncached");
                    None
                }
            },
            None => None,
        }
    };
    let cost = measured.map_or(1, |(m, _)| m.cost);
    let charge = match state.rate_limits.charge(&context.tenant, &context.key, cost).await {
        Ok(charge) => charge,
        Err(limited) => {
            state.metrics.count_errors([Code::RateLimited.as_str()]);
            return answer::rate_limited(&limited);
        }
    };
    let reads = context.reads.clone();
    let mut request = request.data(context);
    if let Some((measure, _)) = measured {
        request = request.data(Measured(measure));
    }
    let response = match tokio::time::timeout(limits.timeout, state.schema.execute(request)).await {
        Ok(response) => response,
        Err(_) => {
            state.metrics.count_errors([Code::Unavailable.as_str()]);
            let message = format!("the request took longer than {} s", limits.timeout.as_secs());
            return answer::refusal(StatusCode::SERVICE_UNAVAILABLE, ApiError::Busy(message), None);
        }
    };
    state.metrics.count_errors(response.errors.iter().map(error_code));
    let Some(body) = answer::encode(&response) else {
        return answer::refusal(StatusCode::INTERNAL_SERVER_ERROR, ApiError::Repo(internal("encoding")), None);
    };
    if body.len() > limits.max_answer_bytes {
        state.metrics.count_errors([Code::QueryTooComplex.as_str()]);
        let e = limits::LimitError::Exceeded {
            limit: "answerBytes",
            max: limits.max_answer_bytes as u64,
            actual: body.len() as u64,
        };
        return answer::refusal(StatusCode::OK, ApiError::Limit(e), None);
    }
    let body = Bytes::from(body);
    if response.is_ok() {
        if introspection {
            if let Some(k) = key {
                state.introspection.insert(k, body.clone());
            }
        } else if let (Some(lookup), Some(scopes)) = (lookup, reads.scopes()) {
            state.services.responses.store(lookup, scopes, body.clone()).await;
        }
    }
    let status = unavailable_status(&response);
    let ext = json!({ "cached": false, "rateLimit": rate_limit_json(&charge) });
    answer::send(status, answer::with_extensions(&body, &ext))
}

/// A stored answer: it costs a single point.
async fn stored_answer(state: &AppState, context: &TenantContext, stored: &Bytes) -> HttpResponse {
    match state.rate_limits.charge(&context.tenant, &context.key, 1).await {
        Ok(charge) => {
            let ext = json!({ "cached": true, "rateLimit": rate_limit_json(&charge) });
            answer::send(StatusCode::OK, answer::with_extensions(stored, &ext))
        }
        Err(limited) => {
            state.metrics.count_errors([Code::RateLimited.as_str()]);
            answer::rate_limited(&limited)
        }
    }
}

/// One status for a dependency's failure, whatever step it happened in: 503 whenever
/// the answer carries `UNAVAILABLE` (with whatever data it has).
fn unavailable_status(response: &Response) -> StatusCode {
    let unavailable = response.errors.iter().any(|e| error_code(e) == Code::Unavailable.as_str());
    if unavailable { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK }
}

fn internal(what: &str) -> ottstats_domain::RepoError {
    ottstats_domain::RepoError::Internal(format!("cannot {what} an answer"))
}

/// Whether every operation asks only for `__schema`, `__type` or `__typename`: the same
/// answer for every tenant, cached once for all.
fn is_introspection(doc: &async_graphql::parser::types::ExecutableDocument) -> bool {
    use async_graphql::parser::types::Selection;
    doc.operations.iter().all(|(_, op)| {
        op.node.selection_set.node.items.iter().all(|item| match &item.node {
            Selection::Field(f) => f.node.name.node.starts_with("__"),
            _ => false,
        })
    })
}

fn error_code(error: &async_graphql::ServerError) -> &str {
    match error.extensions.as_ref().and_then(|x| x.get("code")) {
        Some(async_graphql::Value::String(code)) => code.as_str(),
        _ => Code::Internal.as_str(),
    }
}

/// What identifies a request's answer besides the tenant and the data: the query, the
/// operation, the variables and the key's scopes (a key without `pii` reads other
/// answers). The same variables in another order only make another entry.
fn request_key(request: &async_graphql::Request, scopes: Scopes) -> Option<Vec<u8>> {
    serde_json::to_vec(&(&request.query, &request.operation_name, &request.variables, scopes.to_string())).ok()
}

fn auth_failure(state: &AppState, e: AuthError) -> HttpResponse {
    let error = match e {
        AuthError::Missing => ApiError::Unauthenticated("an API key is required: send `Authorization: Bearer <key>`"),
        AuthError::Invalid => ApiError::Unauthenticated("the API key is not valid"),
        AuthError::Expired => ApiError::Unauthenticated("the API key has expired"),
        AuthError::Store(e) => ApiError::Repo(e),
    };
    let code = error.code();
    state.metrics.count_errors([code.as_str()]);
    answer::refusal(answer::status_of(code), error, None)
}

/// A panic becomes a logged `INTERNAL` error; the client sees nothing of it.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> HttpResponse {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "request handler panicked");
    answer::refusal(StatusCode::INTERNAL_SERVER_ERROR, ApiError::Repo(internal("produce")), None)
}

/// Gives the bodies of the layers' own refusals (too large, too slow) the GraphQL shape
/// and a code, like every other error.
pub async fn coded_refusals(response: HttpResponse) -> HttpResponse {
    let status = response.status();
    // Answers of the handlers have their shape already.
    if response.headers().get(axum::http::header::CONTENT_TYPE).is_some_and(|v| v == answer::CONTENT_TYPE) {
        return response;
    }
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::Input(InputError::new("body", "the request body is too large")),
        StatusCode::GATEWAY_TIMEOUT | StatusCode::REQUEST_TIMEOUT => ApiError::Busy("the request took too long".into()),
        _ => return response,
    };
    answer::refusal(status, error, None)
}
