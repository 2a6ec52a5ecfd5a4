//! GraphiQL, with its assets compiled into the binary.

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::{Html, Response};

use super::AppState;
use crate::embedded::{self, Asset, Bytes::Gzipped};
use crate::prefill;

const PAGE: &str = include_str!("../assets/graphiql/index.html");

static ASSETS: [Asset; 5] = [
    Asset::new("graphiql.min.js", JS, Gzipped(include_bytes!("../assets/graphiql/graphiql.min.js.gz"))),
    Asset::new("graphiql.min.css", "text/css", Gzipped(include_bytes!("../assets/graphiql/graphiql.min.css.gz"))),
    Asset::new("react.production.min.js", JS, Gzipped(include_bytes!("../assets/graphiql/react.production.min.js.gz"))),
    Asset::new(
        "react-dom.production.min.js",
        JS,
        Gzipped(include_bytes!("../assets/graphiql/react-dom.production.min.js.gz")),
    ),
    Asset::new("graphql-ws.min.js", JS, Gzipped(include_bytes!("../assets/graphiql/graphql-ws.min.js.gz"))),
];
const JS: &str = "text/javascript";

/// The page, for a browser (`GET /graphql` with `Accept: text/html`).
pub fn page(state: &AppState, headers: &HeaderMap) -> Html<String> {
    // Values go in as JSON literals with `<` escaped, so they cannot end the script.
    let literal = |v: Option<&str>| serde_json::Value::from(v).to_string().replace('<', "\\u003c");
    let demo = prefill::for_request(state, headers);
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
    embedded::serve(&ASSETS, &file, &headers)
}
