//! What the pages (GraphiQL, the dashboard) open with filled in under `serve --demo`.
//!
//! The demo's key reads personal data and writes, so a page holds it only when it was
//! asked for by a loopback name (`localhost`, `127.0.0.1`, `[::1]`). A hostile site whose
//! own name is made to point here (DNS rebinding) is then same-origin with the page but
//! gets it without the key; other origins cannot read the pages at all (see
//! [`crate::cors::pages_not_shared`]).

use std::net::IpAddr;

use axum::http::{HeaderMap, header};

use super::AppState;

/// The demo's key, featured user and period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefill {
    pub api_key: String,
    /// The user the example queries look up.
    pub user: Option<String>,
    /// Local dates `[from, to)` of the example queries' period.
    pub period: (chrono::NaiveDate, chrono::NaiveDate),
}

/// The prefill for a page asked for with `headers`: none unless its `Host` is loopback.
pub fn for_request<'a>(state: &'a AppState, headers: &HeaderMap) -> Option<&'a Prefill> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok())?;
    state.prefill.as_ref().filter(|_| is_loopback(host))
}

/// Whether a `Host` header (`name[:port]`, `[v6][:port]`) names this machine's loopback.
fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map(|(v6, _)| v6).unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.trim_end_matches('.');
    name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_names_only() {
        for host in ["localhost", "localhost:8080", "LOCALHOST.", "app.localhost:3000", "127.0.0.1", "127.1.2.3:80"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["[::1]", "[::1]:8080"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "10.0.0.5:8080",
            "0.0.0.0:8080",
            "[::2]:8080",
            "[::1",
            "",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
