//! Content negotiation for `/graphql`, as the GraphQL-over-HTTP spec words it: answers
//! go as `application/graphql-response+json` to clients that ask for it and as
//! `application/json` otherwise (no `Accept`, `*/*`, or `application/json`); a browser
//! that prefers `text/html` gets GraphiQL.

use axum::http::{HeaderMap, StatusCode, header};

/// What an answer is sent as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    /// `application/graphql-response+json`: request errors get 4xx, so that a proxy or
    /// a client can tell them from an executed operation.
    GraphqlResponse,
    /// `application/json`: every well-formed GraphQL answer is 200, as clients written
    /// before the spec expect.
    Json,
}

impl Media {
    pub fn content_type(self) -> &'static str {
        match self {
            Media::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Media::Json => "application/json; charset=utf-8",
        }
    }

    /// The status of an error raised before execution began (a body, parameters or a
    /// document that cannot be run).
    pub fn request_error_status(self) -> StatusCode {
        match self {
            Media::GraphqlResponse => StatusCode::BAD_REQUEST,
            Media::Json => StatusCode::OK,
        }
    }
}

/// What the request's `Accept` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    Answer(Media),
    /// GraphiQL: `text/html` ranks above both JSON types.
    Page,
    /// Nothing this endpoint speaks (`406`).
    Nothing,
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";
const HTML: &str = "text/html";

/// Ranks the media types this endpoint speaks by the request's `Accept`: by quality,
/// then by how specifically the client named it (`a/b` before `a/*` before `*/*`), then
/// by its place in the header. A missing or empty `Accept` is `application/json`.
pub fn negotiate(headers: &HeaderMap) -> Wanted {
    let accept: String =
        headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    if accept.trim().is_empty() {
        return Wanted::Answer(Media::Json);
    }
    let ranges = parse(&accept);
    let graphql = rank(&ranges, GRAPHQL_RESPONSE);
    let json = rank(&ranges, JSON);
    let html = rank(&ranges, HTML);
    let best_json = match (graphql, json) {
        (Some(g), Some(j)) => Some(if g > j { (g, Media::GraphqlResponse) } else { (j, Media::Json) }),
        (Some(g), None) => Some((g, Media::GraphqlResponse)),
        (None, Some(j)) => Some((j, Media::Json)),
        (None, None) => None,
    };
    match (best_json, html) {
        (Some((j, _)), Some(h)) if h.quality > j.quality || (h.quality == j.quality && h.specific > j.specific) => {
            Wanted::Page
        }
        (Some((_, media)), _) => Wanted::Answer(media),
        (None, Some(_)) => Wanted::Page,
        (None, None) => Wanted::Nothing,
    }
}

/// One media range of an `Accept` header.
struct Range<'a> {
    kind: &'a str,
    subtype: &'a str,
    /// Thousandths, as HTTP's `q` has at most three decimals.
    quality: u16,
}

/// How well one media type is accepted; `None` when it is not (absent or `q=0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    quality: u16,
    specific: u8,
    /// Earlier ranges rank higher.
    earlier: std::cmp::Reverse<usize>,
}

fn parse(accept: &str) -> Vec<Range<'_>> {
    accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let (kind, subtype) = parts.next()?.trim().split_once('/')?;
            let quality = parts
                .filter_map(|p| p.trim().split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("q"))
                .and_then(|(_, q)| q.trim().parse::<f32>().ok().filter(|q| q.is_finite()))
                .map_or(1000, |q| (q.clamp(0.0, 1.0) * 1000.0).round() as u16);
            Some(Range { kind: kind.trim(), subtype: subtype.trim(), quality })
        })
        .collect()
}

fn rank(ranges: &[Range<'_>], media: &str) -> Option<Rank> {
    let (kind, subtype) = media.split_once('/')?;
    // The most specific range that matches decides the quality (RFC 9110, 12.5.1).
    let best = ranges
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let specific = match (r.kind, r.subtype) {
                (k, s) if k.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(subtype) => 2,
                (k, "*") if k.eq_ignore_ascii_case(kind) => 1,
                ("*", "*") => 0,
                _ => return None,
            };
            Some((specific, i, r.quality))
        })
        .max_by_key(|(specific, i, _)| (*specific, std::cmp::Reverse(*i)))?;
    let (specific, i, quality) = best;
    (quality > 0).then_some(Rank { quality, specific, earlier: std::cmp::Reverse(i) })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn wanted(accept: Option<&str>) -> Wanted {
        let mut headers = HeaderMap::new();
        if let Some(a) = accept {
            headers.insert(header::ACCEPT, HeaderValue::from_str(a).unwrap());
        }
        negotiate(&headers)
    }

    #[test]
    fn each_client_gets_what_it_asks_for() {
        use Media::*;
        assert_eq!(wanted(None), Wanted::Answer(Json));
        assert_eq!(wanted(Some("*/*")), Wanted::Answer(Json));
        assert_eq!(wanted(Some("application/json")), Wanted::Answer(Json));
        assert_eq!(wanted(Some("application/graphql-response+json")), Wanted::Answer(GraphqlResponse));
        // Apollo Client 4, urql, graphql-http's client.
        assert_eq!(
            wanted(Some("application/graphql-response+json, application/json;q=0.9")),
            Wanted::Answer(GraphqlResponse)
        );
        assert_eq!(wanted(Some("application/json, application/graphql-response+json;q=0.5")), Wanted::Answer(Json));
        // Both named at the same quality: the first named wins.
        assert_eq!(wanted(Some("application/json, application/graphql-response+json")), Wanted::Answer(Json));
        // GraphiQL's own fetches.
        assert_eq!(wanted(Some("application/json, multipart/mixed")), Wanted::Answer(Json));
        assert_eq!(wanted(Some("application/*")), Wanted::Answer(Json));
    }

    #[test]
    fn browsers_navigating_get_the_page() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
        assert_eq!(wanted(Some(chromium)), Wanted::Page);
        assert_eq!(wanted(Some("text/html")), Wanted::Page);
        assert_eq!(wanted(Some("text/*")), Wanted::Page);
        // JSON named as well as HTML at the same quality: JSON, the endpoint's purpose.
        assert_eq!(wanted(Some("application/json, text/html")), Wanted::Answer(Media::Json));
        assert_eq!(wanted(Some("text/html;q=0.5, application/json")), Wanted::Answer(Media::Json));
    }

    #[test]
    fn what_it_cannot_speak_is_refused() {
        assert_eq!(wanted(Some("text/plain")), Wanted::Nothing);
        assert_eq!(wanted(Some("application/json;q=0")), Wanted::Nothing);
        // `q=0` refuses one type; `*/*` still admits the other.
        assert_eq!(wanted(Some("application/json;q=0, */*")), Wanted::Answer(Media::GraphqlResponse));
        assert_eq!(wanted(Some("application/json;Q=0")), Wanted::Nothing);
        // An unreadable quality is the default, 1.
        assert_eq!(wanted(Some("application/json;q=nan")), Wanted::Answer(Media::Json));
    }
}
