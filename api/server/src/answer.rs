//! Answers as bytes: encoded once, held to the byte cap, cached without extensions, and
//! sent with this request's extensions (`cached`, `rateLimit`) spliced in, as the media
//! type the client negotiated.

use async_graphql::{Response, ServerError};
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response as HttpResponse};
use serde_json::json;

use super::media::Media;
use crate::rate_limit::{Charge, Limited};
use ottstats_graphql::error::{ApiError, Code};

/// Marks a response whose body has the GraphQL shape already, so that the layers' own
/// refusals (too large, too slow) can be told from it.
#[derive(Clone, Copy)]
pub struct Answered;

/// `extensions.rateLimit`, as GitHub's API words it.
pub fn rate_limit_json(charge: &Charge) -> serde_json::Value {
    json!({
        "limit": charge.limit,
        "cost": charge.cost,
        "remaining": charge.remaining,
        "resetAt": charge.reset_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

/// Whether the errors were raised before execution began (the document did not parse or
/// validate, or a limit refused it): no `data` at all, and no error has a path.
pub fn is_request_error(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// `{"data":…,"errors":…}` without extensions (and without `data` for a request error,
/// as the GraphQL spec says); `None` when it cannot be encoded.
pub fn encode(response: &Response) -> Option<Vec<u8>> {
    #[derive(serde::Serialize)]
    struct Plain<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<&'a async_graphql::Value>,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        errors: &'a [ServerError],
    }
    let data = (!is_request_error(response)).then_some(&response.data);
    match serde_json::to_vec(&Plain { data, errors: &response.errors }) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            tracing::error!(error = %e, "cannot encode an answer");
            None
        }
    }
}

/// `body` (an encoded answer without extensions) with `extensions` added.
pub fn with_extensions(body: &[u8], extensions: &serde_json::Value) -> Bytes {
    let open = body.strip_suffix(b"}").unwrap_or(body);
    let extensions = serde_json::to_vec(extensions).unwrap_or_else(|_| b"{}".to_vec());
    let mut out = Vec::with_capacity(open.len() + extensions.len() + 16);
    out.extend_from_slice(open);
    // `{}` (nothing but extensions) takes no comma.
    if open.len() > 1 {
        out.push(b',');
    }
    out.extend_from_slice(b"\"extensions\":");
    out.extend_from_slice(&extensions);
    out.push(b'}');
    Bytes::from(out)
}

pub fn send(media: Media, status: StatusCode, body: Bytes) -> HttpResponse {
    let mut response = (status, [(header::CONTENT_TYPE, media.content_type())], body).into_response();
    // The media type (and, on a GET, the page or an answer) follows `Accept`.
    response.headers_mut().append(header::VARY, HeaderValue::from_static("accept"));
    response.extensions_mut().insert(Answered);
    response
}

/// An error raised before execution (the body, its parameters or the document): `200`
/// as `application/json`, `400` as `application/graphql-response+json`.
pub fn request_error(media: Media, error: ApiError) -> HttpResponse {
    refusal(media, media.request_error_status(), error, None)
}

/// An error not tied to a place in the query (no `locations`), with extensions beside it.
pub fn refusal(
    media: Media,
    status: StatusCode,
    error: ApiError,
    extensions: Option<serde_json::Value>,
) -> HttpResponse {
    let error = async_graphql::Error::from(error);
    let mut server_error = ServerError::new(error.message, None);
    server_error.extensions = error.extensions;
    let body = encode(&Response::from_errors(vec![server_error])).unwrap_or_default();
    let body = match extensions {
        Some(ext) => with_extensions(&body, &ext),
        None => Bytes::from(body),
    };
    send(media, status, body)
}

/// HTTP 429 with `Retry-After`, `RATE_LIMITED` and `extensions.rateLimit`.
pub fn rate_limited(media: Media, limited: &Limited) -> HttpResponse {
    let (message, retry) = limited_message(limited);
    let ext = json!({ "rateLimit": rate_limit_json(&limited.charge) });
    let mut response = refusal(media, StatusCode::TOO_MANY_REQUESTS, ApiError::RateLimited(message), Some(ext));
    if let Ok(value) = HeaderValue::from_str(&retry.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A rate limit refusal's message, and the whole seconds to wait before trying again.
pub fn limited_message(limited: &Limited) -> (String, u64) {
    match limited.retry_after {
        Some(wait) => {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            (
                format!("rate limit exceeded: this request costs {} points; retry in {seconds} s", limited.charge.cost),
                seconds,
            )
        }
        None => (
            format!(
                "this request costs {} points, more than the key's whole limit of {} a minute: ask for less",
                limited.charge.cost, limited.charge.limit
            ),
            60,
        ),
    }
}

/// The status of a refusal by code.
pub fn status_of(code: Code) -> StatusCode {
    match code {
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::Forbidden => StatusCode::FORBIDDEN,
        Code::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        Code::BadUserInput | Code::NotFound | Code::QueryTooComplex | Code::PersistedQueryNotFound => StatusCode::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extensions_are_spliced_into_any_answer() {
        let ext = json!({"cached": true});
        assert_eq!(
            &with_extensions(br#"{"data":{"a":1}}"#, &ext)[..],
            br#"{"data":{"a":1},"extensions":{"cached":true}}"#
        );
        assert_eq!(&with_extensions(b"{}", &ext)[..], br#"{"extensions":{"cached":true}}"#);
    }
}
