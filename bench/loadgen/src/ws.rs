//! One live subscriber over `graphql-transport-ws`: `connection_init` with the key,
//! `liveRegistrations` for its period, then every push's total, answering pings.

use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const SUBSCRIPTION: &str = "subscription($period: PeriodInput!) { liveRegistrations(period: $period) \
     { total timeline(granularity: DAY) { peak { start total } } byGender { gender count } } }";

pub enum Event {
    /// A `next` of subscriber `sub` showing `total`, received at `at`.
    Total {
        sub: usize,
        at: Instant,
        total: i64,
    },
    Failed {
        sub: usize,
        why: String,
    },
}

/// One socket: `connection_init` with the key, one subscription, then every `next`'s
/// total to `events` until `stop` (answering pings); a failure ends it.
pub async fn subscriber(
    sub: usize,
    (url, key): (String, String),
    period: Value,
    events: mpsc::UnboundedSender<Event>,
    mut stop: watch::Receiver<bool>,
) {
    if let Err(why) = subscribe(sub, &url, &key, period, &events, &mut stop).await {
        let _ = events.send(Event::Failed { sub, why });
    }
}

async fn subscribe(
    sub: usize,
    url: &str,
    key: &str,
    period: Value,
    events: &mpsc::UnboundedSender<Event>,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), String> {
    let mut request = url.into_client_request().map_err(|e| format!("bad URL {url}: {e}"))?;
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.map_err(|e| format!("connect: {e}"))?;
    let send = |v: Value| Message::text(v.to_string());
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {key}") } });
    ws.send(send(init)).await.map_err(|e| format!("send: {e}"))?;
    let mut acked = false;
    loop {
        let message = tokio::select! {
            m = ws.next() => m,
            _ = stop.changed() => {
                let _ = ws.send(send(json!({ "id": "1", "type": "complete" }))).await;
                let _ = ws.close(None).await;
                return Ok(());
            }
        };
        let text = match message {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(frame))) => {
                return Err(frame.map_or("closed".to_owned(), |f| format!("closed {} {}", u16::from(f.code), f.reason)));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("socket: {e}")),
            None => return Err("the socket ended".into()),
        };
        let at = Instant::now();
        let m: Value = serde_json::from_str(text.as_str()).map_err(|e| format!("not JSON: {e}"))?;
        match m["type"].as_str().unwrap_or("") {
            "connection_ack" if !acked => {
                acked = true;
                let payload = json!({ "query": SUBSCRIPTION, "variables": { "period": period } });
                ws.send(send(json!({ "id": "1", "type": "subscribe", "payload": payload })))
                    .await
                    .map_err(|e| format!("send: {e}"))?;
            }
            "ping" => ws.send(send(json!({ "type": "pong" }))).await.map_err(|e| format!("send: {e}"))?,
            "next" => {
                if let Some(errors) = m["payload"].get("errors") {
                    return Err(format!("errors in a push: {errors}"));
                }
                let total = m["payload"]["data"]["liveRegistrations"]["total"]
                    .as_i64()
                    .ok_or_else(|| format!("a push without liveRegistrations.total: {m}"))?;
                let _ = events.send(Event::Total { sub, at, total });
            }
            "error" => return Err(format!("subscription refused: {}", m["payload"])),
            "complete" => return Err("the server completed the subscription".into()),
            _ => {}
        }
    }
}
