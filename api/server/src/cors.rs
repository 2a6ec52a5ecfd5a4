//! CORS: which web pages may call the API from their own origin.
//!
//! The default lets any origin send the `Authorization` header: a key is a bearer token,
//! never a cookie, so no page can use a visitor's credentials without holding the key
//! itself, and credentials (cookies) are never allowed. `OTTSTATS_CORS_ORIGINS` narrows
//! it to a list. Preflights are cached by the browser for a day by default (Chromium caps
//! this at two hours; `http.cors_max_age` in the settings).

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

/// The origins allowed to call: any, or a list of `scheme://host[:port]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigins {
    #[default]
    Any,
    List(Vec<HeaderValue>),
}

impl CorsOrigins {
    /// A comma-separated list of origins; empty or `*` for any.
    pub fn parse(text: &str) -> Result<CorsOrigins, String> {
        let items: Vec<&str> = text.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if items.is_empty() || items == ["*"] {
            return Ok(CorsOrigins::Any);
        }
        items
            .into_iter()
            .map(|origin| {
                let (scheme, rest) = origin.split_once("://").ok_or_else(|| bad(origin))?;
                let well_formed = matches!(scheme, "http" | "https")
                    && !rest.is_empty()
                    && !rest.contains(['/', '?', '#', '*', ' ', '@']);
                // Browsers leave the default port out of an origin: one written with it
                // would never match.
                let default_port =
                    (scheme == "https" && rest.ends_with(":443")) || (scheme == "http" && rest.ends_with(":80"));
                if !well_formed || default_port {
                    return Err(bad(origin));
                }
                // Browsers send origins in lower case.
                HeaderValue::from_str(&origin.to_ascii_lowercase()).map_err(|_| bad(origin))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(CorsOrigins::List)
    }

    /// The layer answering preflights, which browsers may reuse for `max_age`.
    pub fn layer(&self, max_age: Duration) -> CorsLayer {
        let origins = match self {
            CorsOrigins::Any => AllowOrigin::any(),
            CorsOrigins::List(list) => AllowOrigin::list(list.iter().cloned()),
        };
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([Method::GET, Method::POST])
            // Any header a page asks for (Apollo's client-name headers, tracing headers):
            // without credentials, only the key a page holds opens anything.
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
            .max_age(max_age)
    }
}

/// In a settings file: the same comma-separated text as `OTTSTATS_CORS_ORIGINS`, or a
/// list of origins.
impl<'de> serde::Deserialize<'de> for CorsOrigins {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Origins;

        impl<'de> serde::de::Visitor<'de> for Origins {
            type Value = CorsOrigins;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("origins: \"*\", \"https://a.example,https://b.example\" or a list of them")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<CorsOrigins, E> {
                CorsOrigins::parse(text).map_err(E::custom)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<CorsOrigins, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    if item.contains(',') {
                        return Err(serde::de::Error::custom(format!("`{item}`: one origin per item")));
                    }
                    items.push(item);
                }
                CorsOrigins::parse(&items.join(",")).map_err(serde::de::Error::custom)
            }
        }

        deserializer.deserialize_any(Origins)
    }
}

fn bad(origin: &str) -> String {
    format!(
        "`{origin}` is not an origin: write `https://app.example.com` or `http://localhost:3000` (no path, no default port)"
    )
}

/// Pages (GraphiQL, the dashboard) are not shared with other origins, whatever the API's
/// CORS allows: under `serve --demo` they hold a key that reads personal data and
/// writes, and no other site needs to read a page. Their responses lose the CORS headers
/// the layer inside added; the API's answers keep them.
pub async fn pages_not_shared(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    if html {
        let headers = response.headers_mut();
        for name in [
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
        ] {
            headers.remove(name);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_read_strictly() {
        assert_eq!(CorsOrigins::parse("").unwrap(), CorsOrigins::Any);
        assert_eq!(CorsOrigins::parse(" * ").unwrap(), CorsOrigins::Any);
        assert_eq!(
            CorsOrigins::parse("https://App.example.com, http://localhost:3000").unwrap(),
            CorsOrigins::List(vec![
                HeaderValue::from_static("https://app.example.com"),
                HeaderValue::from_static("http://localhost:3000")
            ])
        );
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "ftp://x",
            "https://*.example.com",
            "https://",
            "https://x.com:443",
        ] {
            assert!(CorsOrigins::parse(bad).unwrap_err().contains(bad), "{bad}");
        }
    }
}
