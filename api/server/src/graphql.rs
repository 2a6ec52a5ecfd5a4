//! `POST /graphql` and `GET /graphql`, as the GraphQL-over-HTTP spec says. In order,
//! each step bounding what the next may cost:
//! 0. the media type of the answer (`Accept`) and, for a POST, of the body;
//! 1. the key (before a byte of the body is read; an address presenting wrong keys
//!    again and again is refused before any lookup);
//! 2. the body, bounded in size, in time, and with every other body in memory, or the
//!    query string; its parameters, read strictly;
//! 3. the document: its text, or found by hash (persisted queries, trusted documents);
//!    parsed and measured against the limits before validation;
//! 4. the key's rate limit, charged the request's cost (a cached answer costs 1);
//! 5. the answer: cached, or run under the time limit and held to the byte cap.
//!
//! Requests with large bodies do all of this on the blocking pool: their synchronous
//! work (JSON, parsing, argument coercion of 10,000 items) would otherwise hold a
//! runtime worker for long stretches.

use std::future::Future;

use async_graphql::Response;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use ottstats_domain::InputError;
use ottstats_domain::access::{Access, Scopes};
use serde_json::json;

use super::AppState;
use super::answer::{self, rate_limit_json};
use super::auth::{AuthError, bearer};
use super::media::{self, Media, Wanted};
use super::params::Params;
use super::refusals;
use ottstats_graphql::TenantContext;
use ottstats_graphql::error::{ApiError, Code};
use ottstats_graphql::limits::{self, Measured};

/// `POST /graphql`: a JSON body (`Content-Type: application/json`) with the parameters.
pub async fn post(State(state): State<AppState>, request: Request) -> HttpResponse {
    let (parts, body) = request.into_parts();
    let media = match media::negotiate(&parts.headers) {
        Wanted::Answer(media) => media,
        // A POST is never for the page.
        Wanted::Page => Media::Json,
        Wanted::Nothing => return refusals::not_acceptable(),
    };
    if !is_json(&parts.headers) {
        // Forms and plain text are what a browser sends cross-site without a preflight.
        let error = InputError::new("Content-Type", "send the request as `Content-Type: application/json`");
        return answer::refusal(media, StatusCode::UNSUPPORTED_MEDIA_TYPE, ApiError::Input(error), None);
    }
    let access = match admit(&state, &parts, media).await {
        Ok(access) => access,
        Err(refused) => return refused,
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
            return answer::refusal(media, e.status(), error, None);
        }
    };
    let call = Call { state: state.clone(), access, media, method: Method::POST };
    let health = state.db_health.clone();
    let answered = async move {
        if body.bytes.len() <= call.state.settings.http.blocking_body_bytes {
            return call.run_body(body.bytes).await;
        }
        on_blocking_pool(call, body).await
    };
    until_db_goes(health, media, answered).await
}

/// `GET /graphql`: GraphiQL for a browser, otherwise a query (never a mutation) from the
/// query string, as Apollo's `useGETForQueries` and persisted queries send it.
pub async fn get(State(state): State<AppState>, request: Request) -> HttpResponse {
    let (parts, _) = request.into_parts();
    let media = match media::negotiate(&parts.headers) {
        Wanted::Answer(media) => media,
        Wanted::Page => return super::graphiql::page(&state, &parts.headers).into_response(),
        Wanted::Nothing => return refusals::not_acceptable(),
    };
    let access = match admit(&state, &parts, media).await {
        Ok(access) => access,
        Err(refused) => return refused,
    };
    let params = match Params::from_query_string(&parts.uri) {
        Ok(params) => params,
        Err(e) => return request_error(&state, media, ApiError::Input(e)),
    };
    let call = Call { state: state.clone(), access, media, method: Method::GET };
    until_db_goes(state.db_health.clone(), media, call.run(params)).await
}

/// Steps 1 (after the media type): the database is there, the address is not blocked,
/// the key is good, and it is no ingest key (which may only send to the collector).
async fn admit(state: &AppState, parts: &Parts, media: Media) -> Result<Access, HttpResponse> {
    if state.db_health.state() == super::db_health::DbState::Down {
        state.metrics.count_errors([Code::Unavailable.as_str()]);
        return Err(refusals::unavailable(media, "the database is unavailable; try again shortly"));
    }
    let access = match open(state, parts, bearer(&parts.headers)).await {
        Ok(access) => access,
        Err(Shut::Blocked(wait)) => {
            state.metrics.count_errors([Code::RateLimited.as_str()]);
            return Err(blocked(media, wait));
        }
        Err(Shut::Key(e)) => return Err(refusals::auth_failure(state, media, e)),
    };
    if access.grant.scopes.is_ingest_only() {
        // Refused whole, before anything runs: such a key may sit in a web page, so it
        // must not learn even what a field-level refusal would tell.
        state.metrics.count_errors([Code::Forbidden.as_str()]);
        let message = format!("an ingest key may only send player events to POST {}", super::collect::PATH);
        let error = ApiError::WrongEndpoint { scope: None, message };
        return Err(answer::refusal(media, StatusCode::FORBIDDEN, error, None));
    }
    Ok(access)
}

/// Why a key opened nothing.
pub(crate) enum Shut {
    /// The address presented too many wrong keys: refused for this long, without a lookup.
    Blocked(std::time::Duration),
    Key(AuthError),
}

/// The access `key` gives, unless its address is blocked for wrong keys (a key this
/// process knows good is served even then: clients behind one NAT share an address).
/// Every failure but the store's counts against the address.
pub(crate) async fn open(state: &AppState, parts: &Parts, key: Option<&str>) -> Result<Access, Shut> {
    let peer = super::listener::peer(&parts.extensions).ip();
    if let Some(wait) = state.auth_failures.blocked_for(peer)
        && !key.is_some_and(|k| state.auth.proven_key(k))
    {
        return Err(Shut::Blocked(wait));
    }
    let found = match key {
        Some(key) => state.auth.authenticate_key(key).await,
        None => Err(AuthError::Missing),
    };
    found.map_err(|e| {
        if !matches!(e, AuthError::Store(_)) {
            state.auth_failures.failed(peer);
        }
        Shut::Key(e)
    })
}

/// HTTP 429 for an address blocked for its wrong keys, with `Retry-After`.
pub(crate) fn blocked(media: Media, wait: std::time::Duration) -> HttpResponse {
    let message = format!("too many requests with wrong keys from this address; retry in {} s", wait.as_secs() + 1);
    let mut response = answer::refusal(media, StatusCode::TOO_MANY_REQUESTS, ApiError::RateLimited(message), None);
    if let Ok(v) = (wait.as_secs() + 1).to_string().parse() {
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
    }
    response
}

/// An answer, unless the database goes away first.
async fn until_db_goes(
    health: super::db_health::DbHealth,
    media: Media,
    answered: impl Future<Output = HttpResponse>,
) -> HttpResponse {
    tokio::select! {
        response = answered => response,
        () = health.went_down() => refusals::unavailable(media, "the database went away; try again shortly"),
    }
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

fn request_error(state: &AppState, media: Media, error: ApiError) -> HttpResponse {
    state.metrics.count_errors([error.code().as_str()]);
    answer::request_error(media, error)
}

/// One request on its way, once its key is known.
struct Call {
    state: AppState,
    access: Access,
    media: Media,
    method: Method,
}

/// Runs a large request on the blocking pool, a few at a time.
async fn on_blocking_pool(call: Call, body: super::body::ReadBody) -> HttpResponse {
    let media = call.media;
    let Ok(_turn) = call.state.heavy.clone().acquire_owned().await else {
        return answer::refusal(media, StatusCode::SERVICE_UNAVAILABLE, ApiError::Busy("shutting down".into()), None);
    };
    let runtime = tokio::runtime::Handle::current();
    let bytes = body.bytes.clone();
    let worker = tokio::task::spawn_blocking(move || runtime.block_on(call.run_body(bytes)));
    let outcome = worker.await;
    drop(body);
    outcome.unwrap_or_else(|e| refusals::panic_response(Box::new(e.to_string())))
}

impl Call {
    async fn run_body(self, body: Bytes) -> HttpResponse {
        match Params::from_json(&body) {
            Ok(params) => self.run(params).await,
            // A body that is not a JSON object is no GraphQL request at all: 400 whatever
            // the media type (the spec's newer audits ask it of `application/json` too).
            Err(e) if e.argument == "body" => {
                self.state.metrics.count_errors([Code::BadUserInput.as_str()]);
                answer::refusal(self.media, StatusCode::BAD_REQUEST, ApiError::Input(e), None)
            }
            Err(e) => request_error(&self.state, self.media, ApiError::Input(e)),
        }
    }

    /// Steps 3 to 5.
    async fn run(self, params: Params) -> HttpResponse {
        let Call { state, access, media, method } = self;
        let limits = state.services.limits;
        let (query, learnt) = match state.documents.resolve(&access, &params).await {
            Ok(found) => (found.text, found.learnt),
            Err(ApiError::PersistedQueryNotFound) => {
                // A lookup costs a point, so that guessing hashes is not free.
                if let Err(limited) = state.rate_limits.charge(&access.tenant, &access.grant.key, 1).await {
                    state.metrics.count_errors([Code::RateLimited.as_str()]);
                    return answer::rate_limited(media, &limited);
                }
                return request_error(&state, media, ApiError::PersistedQueryNotFound);
            }
            Err(e) => return request_error(&state, media, e),
        };
        let mut request = async_graphql::Request::new(query).variables(params.variables);
        if let Some(name) = params.operation_name {
            request = request.operation_name(name);
        }
        // A document that does not parse is left to the schema, which says why.
        // Parsed once here (the schema reuses the document); the variables step aside while
        // the document is borrowed.
        let variables = std::mem::take(&mut request.variables);
        let operation = request.operation_name.clone();
        let measured = match request.parsed_query() {
            Ok(doc) if method == Method::GET && !is_query(doc, operation.as_deref()) => {
                return refusals::not_a_query_over_get(&state, media);
            }
            Ok(doc) => match limits::check(doc, &variables, &limits) {
                Ok(measure) => Some((measure, is_introspection(doc), is_query(doc, operation.as_deref()))),
                Err(e) => return request_error(&state, media, ApiError::Limit(e)),
            },
            Err(_) => None,
        };
        request.variables = variables;
        let tenant_id = access.tenant.id;
        let context = TenantContext::new(access, &state.services);
        // Only a query's answer is ever stored: what a mutation answers is not a read.
        let key =
            if measured.is_some_and(|(_, _, query)| query) { request_key(&request, context.scopes) } else { None };
        let introspection = measured.is_some_and(|(_, i, _)| i);

        // A stored answer, when there is one, costs a single point.
        let lookup = if introspection {
            if let Some(stored) = key.as_ref().and_then(|k| state.introspection.get(k)) {
                return stored_answer(&state, &context, media, &stored).await;
            }
            None
        } else {
            match &key {
                Some(k) => match state.services.responses.lookup(tenant_id, k).await {
                    Ok((_, Some(stored))) => return stored_answer(&state, &context, media, &stored).await,
                    Ok((lookup, None)) => Some(lookup),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read data versions; running uncached");
                        None
                    }
                },
                None => None,
            }
        };
        let cost = measured.map_or(1, |(m, _, _)| m.cost);
        let charge = match state.rate_limits.charge(&context.tenant, &context.key, cost).await {
            Ok(charge) => charge,
            Err(limited) => {
                state.metrics.count_errors([Code::RateLimited.as_str()]);
                return answer::rate_limited(media, &limited);
            }
        };
        // Remembered only once it parsed, passed the limits and was paid for.
        if let (Some(learnt), Some(_)) = (learnt, measured) {
            state.documents.remember(tenant_id, learnt, &request.query).await;
        }
        let reads = context.reads().clone();
        let mut request = request.data(context);
        if let Some((measure, _, _)) = measured {
            request = request.data(Measured(measure));
        }
        let response = match tokio::time::timeout(limits.timeout, state.schema.execute(request)).await {
            Ok(response) => response,
            Err(_) => {
                state.metrics.count_errors([Code::Unavailable.as_str()]);
                let message = format!("the request took longer than {} s", limits.timeout.as_secs());
                return refusals::unavailable(media, &message);
            }
        };
        state.metrics.count_errors(response.errors.iter().map(error_code));
        let Some(body) = answer::encode(&response) else {
            let error = ApiError::Repo(refusals::internal("encode"));
            return answer::refusal(media, StatusCode::INTERNAL_SERVER_ERROR, error, None);
        };
        if body.len() > limits.max_answer_bytes {
            state.metrics.count_errors([Code::QueryTooComplex.as_str()]);
            let e = limits::LimitError::Exceeded {
                limit: "answerBytes",
                max: limits.max_answer_bytes as u64,
                actual: body.len() as u64,
            };
            // No `data`: a 4xx under graphql-response+json, as for a request error.
            return answer::refusal(media, media.request_error_status(), ApiError::Limit(e), None);
        }
        let body = Bytes::from(body);
        if response.is_ok() {
            if introspection {
                if let Some(k) = key {
                    state.introspection.insert(k, body.clone());
                }
            } else if let Some(lookup) = lookup {
                let scopes = reads.scopes();
                state.services.responses.store(lookup, scopes, body.clone()).await;
            }
        }
        let status = if answer::is_request_error(&response) {
            media.request_error_status()
        } else {
            unavailable_status(&response, media)
        };
        let ext = json!({ "cached": false, "rateLimit": rate_limit_json(&charge) });
        answer::send(media, status, answer::with_extensions(&body, &ext))
    }
}

/// Whether the operation the request names is a query (a GET may run nothing else). An
/// operation that is not there is left to validation, which says so.
fn is_query(doc: &async_graphql::parser::types::ExecutableDocument, name: Option<&str>) -> bool {
    use async_graphql::parser::types::OperationType;
    ottstats_graphql::null_propagation::selected(doc, name).is_none_or(|op| op.node.ty == OperationType::Query)
}

/// A stored answer: it costs a single point.
async fn stored_answer(state: &AppState, context: &TenantContext, media: Media, stored: &Bytes) -> HttpResponse {
    match state.rate_limits.charge(&context.tenant, &context.key, 1).await {
        Ok(charge) => {
            let ext = json!({ "cached": true, "rateLimit": rate_limit_json(&charge) });
            answer::send(media, StatusCode::OK, answer::with_extensions(stored, &ext))
        }
        Err(limited) => {
            state.metrics.count_errors([Code::RateLimited.as_str()]);
            answer::rate_limited(media, &limited)
        }
    }
}

/// One status for a dependency's failure, whatever step it happened in: 503 when the
/// answer carries `UNAVAILABLE`, except that graphql-response+json keeps 200 for an
/// answer with data (the spec's MUST: non-null `data` is 2xx).
fn unavailable_status(response: &Response, media: Media) -> StatusCode {
    let unavailable = response.errors.iter().any(|e| error_code(e) == Code::Unavailable.as_str());
    let has_data = response.data != async_graphql::Value::Null;
    if unavailable && !(media == Media::GraphqlResponse && has_data) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
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

pub(super) fn error_code(error: &async_graphql::ServerError) -> &str {
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
