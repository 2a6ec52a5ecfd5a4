//! A `graphql-transport-ws` client for tests: a real WebSocket speaking the protocol's
//! messages, as GraphiQL's client does.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What a server sent a subscription, or how the socket ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A `next` message's payload (`data`, maybe `errors`).
    Next(Value),
    /// An `error` message's payload (the errors of a refused subscription).
    Error(Value),
    Complete,
    /// The server closed the socket with this code and reason.
    Closed(u16, String),
}

pub struct WsClient {
    socket: Socket,
}

impl WsClient {
    /// Opens a socket to `url` (`ws://host:port/graphql/ws`) with the protocol's subprotocol.
    pub async fn open(url: &str) -> WsClient {
        let mut request = url.into_client_request().unwrap_or_else(|e| panic!("bad URL {url}: {e}"));
        request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
        let (socket, _) =
            tokio_tungstenite::connect_async(request).await.unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
        WsClient { socket }
    }

    /// Opens a socket and sends `connection_init` with `payload`; `Ok` on
    /// `connection_ack`, `Err` with the close code and reason when refused.
    pub async fn connect(url: &str, payload: Value) -> Result<WsClient, (u16, String)> {
        let mut client = WsClient::open(url).await;
        client.send(json!({ "type": "connection_init", "payload": payload })).await;
        loop {
            match client.receive(Duration::from_secs(10)).await {
                Some(Received::Message(m)) if m["type"] == "connection_ack" => return Ok(client),
                Some(Received::Message(_)) => {}
                Some(Received::Closed(code, reason)) => return Err((code, reason)),
                None => panic!("no connection_ack nor close within 10 s"),
            }
        }
    }

    /// Connects with `Authorization: Bearer <key>` in the payload, as GraphiQL does.
    pub async fn connect_with_key(url: &str, key: &str) -> WsClient {
        WsClient::connect(url, json!({ "Authorization": format!("Bearer {key}") }))
            .await
            .unwrap_or_else(|(code, reason)| panic!("refused: {code} {reason}"))
    }

    pub async fn send(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    /// Sends a text frame as it is (it need not be JSON, nor a message of the protocol).
    pub async fn send_text(&mut self, text: &str) {
        self.socket.send(Message::text(text)).await.unwrap_or_else(|e| panic!("send: {e}"));
    }

    /// Sends a text frame; `false` when the server has closed the socket already (it may
    /// close while a large frame is still being sent).
    pub async fn try_send_text(&mut self, text: &str) -> bool {
        self.socket.send(Message::text(text)).await.is_ok()
    }

    /// Waits for the `pong` of a ping; `false` when none (nor anything else) comes within
    /// `wait`.
    pub async fn pong(&mut self, wait: Duration) -> bool {
        matches!(self.receive(wait).await, Some(Received::Message(m)) if m["type"] == "pong")
    }

    /// Starts subscription `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let payload = json!({ "query": query, "variables": variables });
        self.send(json!({ "id": id, "type": "subscribe", "payload": payload })).await;
    }

    /// The next event of any subscription, or `None` when nothing comes within `wait`.
    pub async fn next_event(&mut self, wait: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.receive(left).await? {
                Received::Closed(code, reason) => return Some(Event::Closed(code, reason)),
                Received::Message(m) => match m["type"].as_str() {
                    Some("next") => return Some(Event::Next(m["payload"].clone())),
                    Some("error") => return Some(Event::Error(m["payload"].clone())),
                    Some("complete") => return Some(Event::Complete),
                    Some("ping") => self.send(json!({ "type": "pong" })).await,
                    _ => {}
                },
            }
        }
    }

    /// The `data` of the next `next` message; panics on anything else or after `wait`.
    pub async fn next_data(&mut self, wait: Duration) -> Value {
        match self.next_event(wait).await {
            Some(Event::Next(payload)) => {
                assert!(payload.get("errors").is_none(), "errors in a pushed answer: {payload:#}");
                payload["data"].clone()
            }
            other => panic!("expected a pushed answer within {wait:?}, got {other:?}"),
        }
    }

    async fn receive(&mut self, wait: Duration) -> Option<Received> {
        loop {
            let frame = match tokio::time::timeout(wait, self.socket.next()).await {
                Err(_) => return None,
                Ok(None) => return Some(Received::Closed(1006, "closed without a close frame".into())),
                Ok(Some(Err(e))) => return Some(Received::Closed(1006, format!("socket error: {e}"))),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => {
                    let value = serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("not JSON: {e}: {text}"));
                    return Some(Received::Message(value));
                }
                Message::Close(frame) => {
                    let (code, reason) = frame.map_or((1005, String::new()), |f| (f.code.into(), f.reason.to_string()));
                    return Some(Received::Closed(code, reason));
                }
                _ => {}
            }
        }
    }
}

enum Received {
    Message(Value),
    Closed(u16, String),
}
