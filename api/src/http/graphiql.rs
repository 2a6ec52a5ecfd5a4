//! GraphiQL, with its assets compiled into the binary.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::AppState;

const PAGE: &str = include_str!("../../assets/graphiql/index.html");

/// (name, content type, gzip bytes)
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("graphiql.min.js", "text/javascript", include_bytes!("../../assets/graphiql/graphiql.min.js.gz")),
    ("graphiql.min.css", "text/css", include_bytes!("../../assets/graphiql/graphiql.min.css.gz")),
    ("react.production.min.js", "text/javascript", include_bytes!("../../assets/graphiql/react.production.min.js.gz")),
    (
        "react-dom.production.min.js",
        "text/javascript",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js.gz"),
    ),
    ("graphql-ws.min.js", "text/javascript", include_bytes!("../../assets/graphiql/graphql-ws.min.js.gz")),
];

pub async fn page(State(state): State<AppState>) -> Html<String> {
    // Values go in as JSON literals with `<` escaped, so they cannot end the script.
    let literal = |v: Option<&str>| serde_json::Value::from(v).to_string().replace('<', "\\u003c");
    let demo = state.demo.as_ref();
    Html(
        PAGE.replace("__DEMO_KEY__", &literal(demo.map(|d| d.api_key.as_str())))
            .replace("__DEMO_USER__", &literal(demo.and_then(|d| d.featured_user.as_deref()))),
    )
}

pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CONTENT_ENCODING, "gzip"),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
