//! Files compiled into the binary (GraphiQL's, the dashboard's), so that both pages work
//! with no internet.

use std::io::Read;
use std::sync::{Arc, OnceLock};

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// How a file is kept in the binary.
pub enum Bytes {
    /// Gzipped (large bundles): sent as they are to clients that take gzip, unzipped once
    /// for the others.
    Gzipped(&'static [u8]),
    /// As written (small sources).
    Plain(&'static [u8]),
}

/// One embedded file.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: Bytes,
    /// A gzipped file's plain bytes, once a client asked for them.
    unzipped: OnceLock<Option<Arc<[u8]>>>,
}

impl Asset {
    pub const fn new(name: &'static str, content_type: &'static str, bytes: Bytes) -> Asset {
        Asset { name, content_type, bytes, unzipped: OnceLock::new() }
    }
}

/// The file of `assets` named `file`, answered as `headers` allow.
pub fn serve(assets: &'static [Asset], file: &str, headers: &HeaderMap) -> Response {
    let Some(asset) = assets.iter().find(|a| a.name == file) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let content_type = (header::CONTENT_TYPE, asset.content_type);
    let cache = (header::CACHE_CONTROL, "public, max-age=86400");
    let vary = (header::VARY, "accept-encoding");
    // A script or a style sheet is only ever run as what it is.
    let nosniff = (header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    match asset.bytes {
        Bytes::Plain(bytes) => ([content_type, cache, nosniff], bytes).into_response(),
        Bytes::Gzipped(gzipped) if accepts_gzip(headers) => {
            ([content_type, (header::CONTENT_ENCODING, "gzip"), cache, vary, nosniff], gzipped).into_response()
        }
        Bytes::Gzipped(gzipped) => match plain(asset, gzipped) {
            Some(bytes) => ([content_type, cache, vary, nosniff], axum::body::Bytes::from_owner(bytes)).into_response(),
            None => (StatusCode::INTERNAL_SERVER_ERROR, "asset unreadable").into_response(),
        },
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

/// A gzipped asset's plain bytes, unzipped once, on first demand.
fn plain(asset: &Asset, gzipped: &[u8]) -> Option<Arc<[u8]>> {
    asset
        .unzipped
        .get_or_init(|| {
            let mut out = Vec::new();
            match flate2::read::GzDecoder::new(gzipped).read_to_end(&mut out) {
                Ok(_) => Some(out.into()),
                Err(e) => {
                    tracing::error!(error = %e, asset = asset.name, "cannot unzip an embedded asset");
                    None
                }
            }
        })
        .clone()
}
