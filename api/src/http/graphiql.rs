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
    // The key goes in as a JSON string literal, so it cannot break out of the script.
    let key = match &state.demo_key {
        Some(k) => serde_json::Value::from(k.as_ref()).to_string(),
        None => "null".to_owned(),
    };
    Html(PAGE.replace("__DEMO_KEY__", &key))
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
