//! Accepting connections, with the bounds axum's own `serve` lacks: a header timeout
//! that also closes idle keep-alive connections (a half-sent request line holds nothing
//! for good), a cap on open connections, and headroom above the cap's working part in
//! which only `/healthz` and `/readyz` are served, so that probes answer while clients
//! fill every other slot.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How connections are bounded: the `[connections]` section of the settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectionLimits {
    /// Connections open at once, headroom included; more are closed at once. By default
    /// 4,096, or the process's open-file limit less 256 when that is lower.
    pub max: usize,
    /// The last slots below `max`, kept for health checks.
    pub headroom: usize,
    /// How long a client may take to send a request's headers, and how long a
    /// keep-alive connection may sit idle.
    #[serde(with = "ottstats_domain::units::duration")]
    pub header_timeout: Duration,
    /// How long requests in flight may finish after a shutdown is asked.
    #[serde(with = "ottstats_domain::units::duration")]
    pub drain: Duration,
    /// HTTP/2 streams one connection may have open at once.
    pub http2_max_streams: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max: default_max(),
            headroom: 32,
            header_timeout: Duration::from_secs(15),
            drain: Duration::from_secs(10),
            http2_max_streams: 64,
        }
    }
}

/// 4,096, or less when the process may open fewer files (keeping 256 for the database,
/// Redis and files).
pub fn default_max() -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits").ok().and_then(|limits| {
        let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
        line.split_whitespace().nth(3)?.parse::<usize>().ok()
    });
    soft.map_or(4_096, |n| n.saturating_sub(256).clamp(64, 4_096))
}

/// Counts open connections; what it counts is released when the guard drops.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets requests in flight
/// finish for `limits.drain`. Connections in the headroom get `health` instead.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    health: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.http2_max_streams)
        .keep_alive_interval(Some(limits.header_timeout))
        .keep_alive_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let open = Arc::new(AtomicUsize::new(0));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, or a connection reset before it was taken:
                // wait a little instead of spinning, and go on.
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let in_use = open.fetch_add(1, Ordering::Relaxed);
        let guard = Open(open.clone());
        if in_use >= limits.max {
            tracing::debug!(%peer, "connection refused: too many open");
            drop(stream);
            continue;
        }
        let router = if in_use >= limits.max.saturating_sub(limits.headroom) { &health } else { &app };
        let service = router.clone().map_request(move |mut request: axum::extract::Request<_>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let _ = stream.set_nodelay(true);
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _guard = guard;
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.drain) => tracing::warn!("requests still running after the drain; closing them"),
    }
}

/// The peer of a request served by [`serve`]; unspecified when served otherwise.
pub fn peer(request_extensions: &axum::http::Extensions) -> SocketAddr {
    request_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |ConnectInfo(addr)| *addr)
}
