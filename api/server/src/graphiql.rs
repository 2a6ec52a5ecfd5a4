//! GraphiQL, with its assets compiled into the binary.

use std::io::Read;
use std::sync::{Arc, OnceLock};

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;

const PAGE: &str = include_str!("../assets/graphiql/index.html");

/// (name, content type, gzip bytes)
const ASSETS: [(&str, &str, &[u8]); 5] = [
    ("graphiql.min.js", "text/javascript", include_bytes!("../assets/graphiql/graphiql.min.js.gz")),
    ("graphiql.min.css", "text/css", include_bytes!("../assets/graphiql/graphiql.min.css.gz")),
    ("react.production.min.js", "text/javascript", include_bytes!("../assets/graphiql/react.production.min.js.gz")),
    (
        "react-dom.production.min.js",
        "text/javascript",
        include_bytes!("../assets/graphiql/react-dom.production.min.js.gz"),
    ),
    ("graphql-ws.min.js", "text/javascript", include_bytes!("../assets/graphiql/graphql-ws.min.js.gz")),
];

/// What GraphiQL opens with filled in (the demo's, with `serve --demo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefill {
    pub api_key: String,
    /// The user the example queries look up.
    pub user: Option<String>,
    /// Local dates `[from, to)` of the example queries' period.
    pub period: (chrono::NaiveDate, chrono::NaiveDate),
}

/// The page, for a browser (`GET /graphql` with `Accept: text/html`).
pub fn page(state: &AppState) -> Html<String> {
    // Values go in as JSON literals with `<` escaped, so they cannot end the script.
    let literal = |v: Option<&str>| serde_json::Value::from(v).to_string().replace('<', "\\u003c");
    let demo = state.prefill.as_ref();
    Html(
        PAGE.replace("__DEMO_KEY__", &literal(demo.map(|d| d.api_key.as_str())))
            .replace("__DEMO_USER__", &literal(demo.and_then(|d| d.user.as_deref())))
            .replace("__DEMO_FROM__", &literal(demo.map(|d| d.period.0.to_string()).as_deref()))
            .replace("__DEMO_TO__", &literal(demo.map(|d| d.period.1.to_string()).as_deref())),
    )
}

/// An asset, gzipped as stored when the client accepts gzip, plain otherwise (then the
/// compression layer offers brotli where it is accepted).
pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(index) = ASSETS.iter().position(|(name, _, _)| *name == file) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let (_, content_type, gzipped) = ASSETS[index];
    let cache = (header::CACHE_CONTROL, "public, max-age=86400");
    let vary = (header::VARY, "accept-encoding");
    if accepts_gzip(&headers) {
        let encoding = (header::CONTENT_ENCODING, "gzip");
        return ([(header::CONTENT_TYPE, content_type), encoding, cache, vary], gzipped).into_response();
    }
    match plain(index, gzipped) {
        Some(bytes) => {
            ([(header::CONTENT_TYPE, content_type), cache, vary], axum::body::Bytes::from_owner(bytes)).into_response()
        }
        None => (StatusCode::INTERNAL_SERVER_ERROR, "asset unreadable").into_response(),
    }
}

/// Whether `Accept-Encoding` admits gzip: named, or by `*` unless named with `q=0`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let codings: Vec<(String, bool)> = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.trim().split_once('=').is_some_and(|(n, q)| {
                    n.trim().eq_ignore_ascii_case("q") && q.trim().parse::<f32>().is_ok_and(|q| q == 0.0)
                })
            });
            (name, !refused)
        })
        .collect();
    match codings.iter().find(|(name, _)| name == "gzip") {
        Some((_, accepted)) => *accepted,
        None => codings.iter().any(|(name, accepted)| name == "*" && *accepted),
    }
}

/// An asset's plain bytes, unzipped once, on first demand.
fn plain(index: usize, gzipped: &[u8]) -> Option<Arc<[u8]>> {
    static PLAIN: [OnceLock<Option<Arc<[u8]>>>; ASSETS.len()] = [const { OnceLock::new() }; ASSETS.len()];
    PLAIN
        .get(index)?
        .get_or_init(|| {
            let mut out = Vec::new();
            match flate2::read::GzDecoder::new(gzipped).read_to_end(&mut out) {
                Ok(_) => Some(out.into()),
                Err(e) => {
                    tracing::error!(error = %e, "cannot unzip a GraphiQL asset");
                    None
                }
            }
        })
        .clone()
}
