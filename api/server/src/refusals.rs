//! Refusals that are not a GraphQL answer of the schema's: a bad key, a missing
//! dependency, a method or media type the endpoint does not take, a panic, and the
//! layers' own (too large, too slow), each in the GraphQL shape with a code.

use std::any::Any;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response as HttpResponse;
use ottstats_domain::InputError;

use super::AppState;
use super::answer::{self, Answered};
use super::auth::AuthError;
use super::media::{self, Media, Wanted};
use ottstats_graphql::error::ApiError;

pub fn internal(what: &str) -> ottstats_domain::RepoError {
    ottstats_domain::RepoError::Internal(format!("cannot {what} an answer"))
}

/// `503` with `Retry-After: 1` and `UNAVAILABLE`.
pub fn unavailable(media: Media, message: &str) -> HttpResponse {
    let error = ApiError::Busy(message.to_string());
    let mut response = answer::refusal(media, StatusCode::SERVICE_UNAVAILABLE, error, None);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// `406`: the client accepts none of the media types the endpoint speaks; said in
/// `application/json`, which every client reads.
pub fn not_acceptable() -> HttpResponse {
    let error = InputError::new(
        "Accept",
        "answers are `application/graphql-response+json` or `application/json`: accept one of them",
    );
    answer::refusal(Media::Json, StatusCode::NOT_ACCEPTABLE, ApiError::Input(error), None)
}

/// `405` with `Allow: POST`: a GET may only read.
pub fn not_a_query_over_get(state: &AppState, media: Media) -> HttpResponse {
    let error = InputError::new("query", "only queries run over GET: send mutations and subscriptions with POST");
    state.metrics.count_errors([ottstats_graphql::error::Code::BadUserInput.as_str()]);
    let mut response = answer::refusal(media, StatusCode::METHOD_NOT_ALLOWED, ApiError::Input(error), None);
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

pub fn auth_failure(state: &AppState, media: Media, e: AuthError) -> HttpResponse {
    let error = match e {
        AuthError::Missing => ApiError::Unauthenticated("an API key is required: send `Authorization: Bearer <key>`"),
        AuthError::Invalid => ApiError::Unauthenticated("the API key is not valid"),
        AuthError::Expired => ApiError::Unauthenticated("the API key has expired"),
        AuthError::Store(e) => ApiError::Repo(e),
    };
    let code = error.code();
    state.metrics.count_errors([code.as_str()]);
    let mut response = answer::refusal(media, answer::status_of(code), error, None);
    if code == ottstats_graphql::error::Code::Unauthenticated {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// A panic becomes a logged `INTERNAL` error; the client sees nothing of it.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> HttpResponse {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "request handler panicked");
    answer::refusal(Media::Json, StatusCode::INTERNAL_SERVER_ERROR, ApiError::Repo(internal("produce")), None)
}

/// Gives the bodies of the layers' own refusals (too large, too slow, a method the
/// route does not take) the GraphQL shape and a code, like every other error, in the
/// media type the request accepts.
pub async fn coded_refusals(request: Request, next: Next) -> HttpResponse {
    let media = match media::negotiate(request.headers()) {
        Wanted::Answer(media) => media,
        Wanted::Page | Wanted::Nothing => Media::Json,
    };
    let response = next.run(request).await;
    // Answers of the handlers have their shape already.
    if response.extensions().get::<Answered>().is_some() {
        return response;
    }
    let status = response.status();
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::Input(InputError::new("body", "the request body is too large")),
        StatusCode::GATEWAY_TIMEOUT | StatusCode::REQUEST_TIMEOUT => ApiError::Busy("the request took too long".into()),
        StatusCode::METHOD_NOT_ALLOWED => {
            ApiError::Input(InputError::new("method", "this path does not take that method"))
        }
        _ => return response,
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut refusal = answer::refusal(media, status, error, None);
    if let Some(allow) = allow {
        refusal.headers_mut().insert(header::ALLOW, allow);
    }
    refusal
}
