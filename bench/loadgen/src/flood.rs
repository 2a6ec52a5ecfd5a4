//! `flood`: the two floods of issue 9 against `/graphql/ws`. First `--sockets` sockets each
//! send one ping of `--ping-bytes` bytes before `connection_init` (how many are
//! answered, how many closed, and what the server's memory did); then one authenticated
//! socket sends `--subscriptions` subscriptions (how many are served, how many refused).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::client::Api;
use crate::same::{hwm_mb, opt, rss_mb};
use crate::{Common, Outcome};

const SUBSCRIPTION: &str = "subscription($p: PeriodInput!) { liveRegistrations(period: $p) { total } }";

pub struct Options {
    pub sockets: usize,
    pub ping_bytes: usize,
    pub subscriptions: usize,
    pub server_pid: Option<u32>,
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(url: &str) -> Result<Socket, String> {
    let mut request = url.into_client_request().map_err(|e| format!("bad URL {url}: {e}"))?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    // The client's own limits must not be what stops the flood.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(None)
        .max_frame_size(None);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(request, Some(config), false)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    Ok(ws)
}

/// What the server did with one message: `pong`, `close <code>`, or `nothing`.
async fn answer(ws: &mut Socket, wait: Duration) -> String {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Err(_) => return "nothing".into(),
            Ok(None) => return "ended".into(),
            Ok(Some(Err(_))) => return "broken".into(),
            Ok(Some(Ok(Message::Close(f)))) => return format!("close {}", f.map_or(1005, |f| u16::from(f.code))),
            Ok(Some(Ok(Message::Text(t)))) if t.as_str().contains("pong") => return "pong".into(),
            Ok(Some(Ok(_))) => {}
        }
    }
}

pub async fn run(common: &Common, o: Options) -> Result<Outcome, String> {
    let api = Api::new(common, 1)?;
    let rss_before = rss_mb(o.server_pid);
    let ping = json!({ "type": "ping", "payload": { "pad": "x".repeat(o.ping_bytes) } }).to_string();
    let floods: Vec<_> = (0..o.sockets)
        .map(|_| {
            let (url, ping) = (api.ws_url.clone(), ping.clone());
            tokio::spawn(async move {
                let mut ws = open(&url).await?;
                // A send may fail when the server closes mid-message: its answer still says why.
                let _ = ws.send(Message::text(ping)).await;
                Ok::<String, String>(answer(&mut ws, Duration::from_secs(10)).await)
            })
        })
        .collect();
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for flood in floods {
        let outcome = match flood.await {
            Ok(Ok(a)) => a,
            Ok(Err(e)) => e,
            Err(e) => format!("task: {e}"),
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    let rss_after = rss_mb(o.server_pid);
    let peak = hwm_mb(o.server_pid);
    println!(
        "pings of {} bytes before connection_init on {} sockets: {outcomes:?}; server RSS {} MB before, {} MB after, peak {} MB",
        o.ping_bytes,
        o.sockets,
        opt(rss_before),
        opt(rss_after),
        opt(peak)
    );

    let mut ws = open(&api.ws_url).await?;
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", api.key) } });
    ws.send(Message::text(init.to_string())).await.map_err(|e| format!("send: {e}"))?;
    if !matches!(ws.next().await, Some(Ok(Message::Text(t))) if t.as_str().contains("connection_ack")) {
        return Err("no connection_ack".into());
    }
    let period = json!({ "from": api.from, "to": api.to, "timeZone": api.time_zone });
    for i in 0..o.subscriptions {
        let payload = json!({ "query": SUBSCRIPTION, "variables": { "p": period } });
        let message = json!({ "id": format!("s{i}"), "type": "subscribe", "payload": payload });
        ws.send(Message::text(message.to_string())).await.map_err(|e| format!("send: {e}"))?;
    }
    let (mut served, mut refused, mut other) = (std::collections::BTreeSet::new(), 0usize, 0usize);
    let mut closed = None;
    while let Ok(Some(frame)) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
        match frame {
            Ok(Message::Text(t)) => {
                let m: Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                match m["type"].as_str() {
                    Some("next") => {
                        served.insert(m["id"].as_str().unwrap_or_default().to_owned());
                    }
                    Some("error") if m["payload"][0]["extensions"]["code"] == "RATE_LIMITED" => refused += 1,
                    _ => other += 1,
                }
            }
            Ok(Message::Close(f)) => {
                closed = Some(f.map_or(1005, |f| u16::from(f.code)));
                break;
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    println!(
        "{} subscriptions on one socket: {} served, {refused} refused RATE_LIMITED, {other} other frames, closed {closed:?}",
        o.subscriptions,
        served.len()
    );
    let _ = ws.close(None).await;
    let bench = format!(
        "mode=flood sockets={} ping_bytes={} pongs={} closes={} rss_before_mb={} rss_after_mb={} rss_peak_mb={} \
         subscriptions={} served={} refused={refused}",
        o.sockets,
        o.ping_bytes,
        outcomes.get("pong").copied().unwrap_or(0),
        outcomes.iter().filter(|(k, _)| k.starts_with("close")).map(|(_, v)| v).sum::<usize>(),
        opt(rss_before),
        opt(rss_after),
        opt(peak),
        o.subscriptions,
        served.len()
    );
    Ok(Outcome { errors: 0, bench })
}
