//! `GET /graphql/ws`: subscriptions over `graphql-transport-ws`.
//!
//! The API key comes in the `connection_init` payload (`{"Authorization": "Bearer <key>"}`,
//! as GraphiQL sends it). The key is checked here, before async-graphql sees the socket,
//! so that a refusal closes with the protocol's codes: 4403 for a missing or bad key,
//! 4401 for a subscription sent before `connection_init`, 4408 when no `connection_init`
//! comes in time.

use std::time::Duration;

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};

use super::AppState;
use super::auth::{AuthError, bearer_value};
use crate::graphql::TenantContext;

/// How long a client has to send `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn upgrade(State(state): State<AppState>, protocol: GraphQLProtocol, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(state, protocol, socket))
}

async fn serve(state: AppState, protocol: GraphQLProtocol, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let first = match tokio::time::timeout(INIT_TIMEOUT, first_text(&mut stream)).await {
        Ok(Some(text)) => text,
        Ok(None) => return,
        Err(_) => return close(&mut sink, 4408, "Connection initialisation timeout").await,
    };
    let message: serde_json::Value = match serde_json::from_str(&first) {
        Ok(m) => m,
        Err(_) => return close(&mut sink, 4400, "Invalid message: not JSON").await,
    };
    if message.get("type").and_then(|t| t.as_str()) != Some("connection_init") {
        return close(&mut sink, 4401, "Unauthorized: send connection_init with the API key first").await;
    }
    let Some(key) = api_key(message.get("payload")) else {
        let reason = "Forbidden: an API key is required: connection_init payload {\"Authorization\": \"Bearer <key>\"}";
        return close(&mut sink, 4403, reason).await;
    };
    let tenant = match state.auth.authenticate_key(key).await {
        Ok(t) => t,
        Err(AuthError::Missing | AuthError::Invalid) => {
            return close(&mut sink, 4403, "Forbidden: the API key is not valid").await;
        }
        Err(AuthError::Store(e)) => {
            tracing::error!(error = %e, "cannot check an API key for a WebSocket");
            return close(&mut sink, 1011, "internal error").await;
        }
    };
    let mut data = Data::default();
    data.insert(TenantContext::new(tenant, &state.services));
    // async-graphql runs the handshake itself: hand it the `connection_init` read here.
    let replayed = futures_util::stream::once(async move { Ok(Message::Text(first.into())) }).chain(stream);
    GraphQLWebSocket::new_with_pair(sink, replayed, state.schema.clone(), protocol)
        .on_connection_init(move |_| async move { Ok(data) })
        .serve()
        .await;
}

/// The first text frame; `None` when the client leaves first.
async fn first_text<S>(stream: &mut S) -> Option<String>
where
    S: futures_util::Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    while let Some(Ok(message)) = stream.next().await {
        match message {
            Message::Text(text) => return Some(text.to_string()),
            Message::Binary(bytes) => return String::from_utf8(bytes.to_vec()).ok(),
            Message::Close(_) => return None,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    None
}

/// The key of a `connection_init` payload: `Authorization` (any case) as `Bearer <key>`,
/// or `apiKey`.
fn api_key(payload: Option<&serde_json::Value>) -> Option<&str> {
    let payload = payload?.as_object()?;
    for (name, value) in payload {
        if name.eq_ignore_ascii_case("authorization") {
            return value.as_str().and_then(bearer_value);
        }
    }
    payload.get("apiKey").and_then(|v| v.as_str()).map(str::trim).filter(|k| !k.is_empty())
}

async fn close<S>(sink: &mut S, code: u16, reason: &str)
where
    S: futures_util::Sink<Message> + Unpin,
{
    let frame = CloseFrame { code, reason: reason.into() };
    // The client may already be gone; nothing to do then.
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_key_from_the_init_payload() {
        assert_eq!(api_key(Some(&json!({"Authorization": "Bearer ott_1_ab"}))), Some("ott_1_ab"));
        assert_eq!(api_key(Some(&json!({"authorization": "bearer ott_1_ab"}))), Some("ott_1_ab"));
        assert_eq!(api_key(Some(&json!({"apiKey": " ott_1_ab "}))), Some("ott_1_ab"));
        assert_eq!(api_key(Some(&json!({"Authorization": "ott_1_ab"}))), None);
        assert_eq!(api_key(Some(&json!({}))), None);
        assert_eq!(api_key(None), None);
    }
}
