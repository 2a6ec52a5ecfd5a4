//! Connections are bounded: the key is checked before the body is read, a request's
//! headers must arrive in time (and idle connections close), and past the cap only
//! health checks are served.

use std::time::Duration;

use ottstats_server::AppState;
use ottstats_server::listener::ConnectionLimits;
use ottstats_tests::{Env, TestServer, on_each_backend};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn connect(server: &TestServer) -> TcpStream {
    let addr = server.base_url.trim_start_matches("http://");
    TcpStream::connect(addr).await.unwrap_or_else(|e| panic!("connect: {e}"))
}

/// Everything the server sends until it closes, or `None` if it is still open after `wait`.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(wait, stream.read_to_end(&mut out)).await;
    read.ok().map(|_| String::from_utf8_lossy(&out).into_owned())
}

async fn the_key_is_checked_before_the_body_is_read(env: Env) {
    let server = env.serve(None).await;
    let mut stream = connect(&server).await;
    // 31 MiB announced, nothing sent: the refusal comes without waiting for the body.
    let head =
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 32505856\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await.expect("no answer").unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("UNAUTHENTICATED"), "{answer}");
}

async fn slow_headers_and_idle_connections_are_closed(env: Env) {
    let limits = ConnectionLimits { header_timeout: Duration::from_millis(500), ..ConnectionLimits::default() };
    let server = TestServer::start_with(AppState::new(env.services.clone(), None), limits).await;
    // Half a request line, then nothing.
    let mut half = connect(&server).await;
    half.write_all(b"GET /heal").await.unwrap();
    assert!(
        read_until_closed(&mut half, Duration::from_secs(5)).await.is_some(),
        "a half-sent request holds the connection"
    );
    // A keep-alive connection that goes quiet after a request.
    let mut idle = connect(&server).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let answer = read_until_closed(&mut idle, Duration::from_secs(5)).await.expect("an idle connection stays open");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

async fn past_the_cap_only_health_checks_are_served(env: Env) {
    let (_, key) = env.tenant("Acme", "CL", chrono_tz::UTC).await;
    let limits = ConnectionLimits {
        max: 4,
        headroom: 2,
        header_timeout: Duration::from_secs(30),
        ..ConnectionLimits::default()
    };
    let server = TestServer::start_with(AppState::new(env.services.clone(), None), limits).await;
    // Two idle connections fill the working part.
    let _idle = [connect(&server).await, connect(&server).await];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let request = |path: &str, key: &str| {
        format!("GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n")
    };
    let mut third = connect(&server).await;
    third.write_all(request("/healthz", &key).as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut third, Duration::from_secs(5)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let mut fourth = connect(&server).await;
    fourth.write_all(request("/graphql?query=%7B__typename%7D", &key).as_bytes()).await.unwrap();
    let answer = read_until_closed(&mut fourth, Duration::from_secs(5)).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 503") && answer.contains("UNAVAILABLE"), "{answer}");
    // Past the cap itself, connections close at once.
    let _held = [connect(&server).await, connect(&server).await];
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut fifth = connect(&server).await;
    let _ = fifth.write_all(request("/healthz", &key).as_bytes()).await;
    let answer = read_until_closed(&mut fifth, Duration::from_secs(5)).await.expect("closed");
    assert_eq!(answer, "");
}

on_each_backend!(
    the_key_is_checked_before_the_body_is_read,
    slow_headers_and_idle_connections_are_closed,
    past_the_cap_only_health_checks_are_served,
);
