//! The dashboard page (`GET /` and `/dashboard`): charts of the public GraphQL API, drawn
//! in the browser. Its script is built from `api/server/dashboard/` (TypeScript, ECharts)
//! and committed gzipped, so that building the binary needs no Node; `.ci/dashboard`
//! checks that the committed bundle matches its sources.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use crate::embedded::{self, Asset, Bytes};
use crate::prefill;

const PAGE: &str = include_str!("../assets/dashboard/index.html");

static ASSETS: [Asset; 2] = [
    Asset::new(
        "dashboard.js",
        "text/javascript",
        Bytes::Gzipped(include_bytes!("../assets/dashboard/dashboard.js.gz")),
    ),
    Asset::new("dashboard.css", "text/css", Bytes::Plain(include_bytes!("../assets/dashboard/dashboard.css"))),
];

/// Only the page's own script and styles run, it talks only to its own origin, and no
/// other site may frame it (the key is typed into it). ECharts sets inline styles.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                      img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
                      frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The page, with the demo's key and featured user filled in under `serve --demo` (the
/// page opens on the last 30 days, which hold the demo's playback).
pub async fn page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let demo = prefill::for_request(&state, &headers).map(|d| serde_json::json!({ "key": d.api_key, "user": d.user }));
    // A JSON literal inside a <script type="application/json">: with `<` escaped it
    // cannot end the element.
    let literal = serde_json::Value::from(demo).to_string().replace('<', "\\u003c");
    let mut response = Html(PAGE.replace("__DEMO__", &literal)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The page's script and styles.
pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    embedded::serve(&ASSETS, &file, &headers)
}
