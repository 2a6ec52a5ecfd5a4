//! `POST /graphql`: authenticate, then execute with the tenant attached.

use std::any::Any;

use async_graphql::{ErrorExtensions, Response, ServerError};
use async_graphql_axum::GraphQLResponse;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use ottstats_domain::InputError;

use super::AppState;
use super::auth::AuthError;
use crate::error::{ApiError, Code};
use crate::graphql::TenantContext;

/// The key is checked before the body is parsed: an unauthenticated client cannot make
/// the server parse a large body.
pub async fn execute(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> HttpResponse {
    let tenant = match state.auth.authenticate(&headers).await {
        Ok(t) => t,
        Err(e) => {
            let response = auth_failure(e);
            let code =
                if response.status() == StatusCode::UNAUTHORIZED { Code::Unauthenticated } else { Code::Unavailable };
            state.metrics.count_errors([code.as_str()]);
            return response;
        }
    };
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            state.metrics.count_errors([Code::BadUserInput.as_str()]);
            let error =
                ApiError::Input(InputError::new("body", format!("not a GraphQL request (JSON with `query`): {e}")));
            return error_response(StatusCode::BAD_REQUEST, error.extend());
        }
    };
    let tenant_id = tenant.id;
    let context = TenantContext::new(tenant, &state.services);
    let reads = context.reads.clone();
    let responses = &state.services.responses;
    let lookup = match request_key(&request) {
        Some(key) => match responses.lookup(tenant_id, &key).await {
            Ok((_, Some(answer))) => return cached_answer(answer),
            Ok((lookup, None)) => Some(lookup),
            Err(e) => {
                // The run below reports the failure if it is not passing.
                tracing::warn!(error = %e, "cannot read data versions; running uncached");
                None
            }
        },
        None => None,
    };
    let mut response = state.schema.execute(request.data(context)).await;
    state.metrics.count_errors(response.errors.iter().map(error_code));
    if let (Some(lookup), Some(scopes)) = (lookup, reads.scopes())
        && response.is_ok()
        && response.extensions.is_empty()
    {
        match serde_json::to_string(&response) {
            Ok(body) => responses.store(lookup, scopes, marked_cached(&body)).await,
            Err(e) => tracing::error!(error = %e, "cannot encode an answer for the cache"),
        }
    }
    response.extensions.insert("cached".to_owned(), async_graphql::Value::Boolean(false));
    GraphQLResponse::from(response).into_response()
}

fn error_code(error: &ServerError) -> &str {
    match error.extensions.as_ref().and_then(|x| x.get("code")) {
        Some(async_graphql::Value::String(code)) => code.as_str(),
        _ => Code::Internal.as_str(),
    }
}

/// What identifies a request's answer besides the tenant and the data: the query, the
/// operation and the variables (the same variables in another order only make another entry).
fn request_key(request: &async_graphql::Request) -> Option<Vec<u8>> {
    serde_json::to_vec(&(&request.query, &request.operation_name, &request.variables)).ok()
}

/// What a cache hit sends: the answer (`{"data":…}`, never with errors or extensions)
/// with `"extensions":{"cached":true}`. Built once when stored, so a hit copies nothing.
fn marked_cached(body: &str) -> Bytes {
    let open = body.strip_suffix('}').unwrap_or(body);
    Bytes::from(format!("{open},\"extensions\":{{\"cached\":true}}}}"))
}

fn cached_answer(answer: Bytes) -> HttpResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/graphql-response+json")], answer).into_response()
}

fn auth_failure(e: AuthError) -> HttpResponse {
    let (status, error) = match e {
        AuthError::Missing => (
            StatusCode::UNAUTHORIZED,
            ApiError::Unauthenticated("an API key is required: send `Authorization: Bearer <key>`"),
        ),
        AuthError::Invalid => (StatusCode::UNAUTHORIZED, ApiError::Unauthenticated("the API key is not valid")),
        AuthError::Store(e) => {
            let error = ApiError::Repo(e);
            let status = if error.code() == Code::Unavailable {
                StatusCode::SERVICE_UNAVAILABLE
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            (status, error)
        }
    };
    error_response(status, error.extend())
}

fn error_response(status: StatusCode, error: async_graphql::Error) -> HttpResponse {
    // Not tied to a place in the query: no `locations`.
    let mut server_error = ServerError::new(error.message, None);
    server_error.extensions = error.extensions;
    let response = Response::from_errors(vec![server_error]);
    (status, GraphQLResponse::from(response)).into_response()
}

/// A panic becomes a logged `INTERNAL` error; the client sees nothing of it.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> HttpResponse {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "request handler panicked");
    let mut error = ServerError::new("internal error", None);
    error.extensions.get_or_insert_with(Default::default).set("code", Code::Internal.as_str());
    (StatusCode::INTERNAL_SERVER_ERROR, GraphQLResponse::from(Response::from_errors(vec![error]))).into_response()
}

/// Gives the bodies of the layers' own refusals (too large, too slow) the GraphQL shape
/// and a code, like every other error.
pub async fn coded_refusals(response: HttpResponse) -> HttpResponse {
    let (code, message) = match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => (Code::BadUserInput, "the request body is too large"),
        StatusCode::GATEWAY_TIMEOUT | StatusCode::REQUEST_TIMEOUT => (Code::Unavailable, "the request took too long"),
        _ => return response,
    };
    let status = response.status();
    let mut error = ServerError::new(message, None);
    error.extensions.get_or_insert_with(Default::default).set("code", code.as_str());
    (status, GraphQLResponse::from(Response::from_errors(vec![error]))).into_response()
}
