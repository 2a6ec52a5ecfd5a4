//! `GET /graphql/ws`: subscriptions over `graphql-transport-ws`.
//!
//! The API key comes in the `connection_init` payload (`{"Authorization": "Bearer <key>"}`,
//! as GraphiQL sends it). The key is checked here, before async-graphql sees the socket,
//! so that a refusal closes with the protocol's codes: 4403 for a missing or bad key (and
//! later, when the key is revoked), 4401 for a subscription sent before
//! `connection_init`, 4400 for anything else, 4408 when no `connection_init` comes in
//! time, 4500 when the key cannot be checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_graphql::Data;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use ottstats_domain::tenant::TenantId;

use super::AppState;
use super::auth::{AuthError, Authenticator, bearer_value};
use crate::graphql::TenantContext;

/// The one subprotocol served.
const PROTOCOL: &str = "graphql-transport-ws";
/// How long a client has to send `connection_init`.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an open socket's key is checked again without any key changing (so that
/// an expiry closes it).
const RECHECK_KEY_EVERY: Duration = Duration::from_secs(30);

pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let offered = headers.get(header::SEC_WEBSOCKET_PROTOCOL).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !offered.split(',').any(|p| p.trim() == PROTOCOL) {
        let message = format!("subscriptions speak the {PROTOCOL} subprotocol (Sec-WebSocket-Protocol: {PROTOCOL})");
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    upgrade.protocols([PROTOCOL]).on_upgrade(move |socket| serve(state, protocol, socket))
}

async fn serve(state: AppState, protocol: GraphQLProtocol, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let deadline = tokio::time::Instant::now() + INIT_TIMEOUT;
    let (first, message) = loop {
        let text = match tokio::time::timeout_at(deadline, next_text(&mut stream)).await {
            Ok(Some(text)) => text,
            Ok(None) => return,
            Err(_) => return close(&mut sink, 4408, "Connection initialisation timeout").await,
        };
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&text) else {
            return close(&mut sink, 4400, "Invalid message: not JSON").await;
        };
        // Pings are allowed at any time, even before the handshake.
        match message.get("type").and_then(|t| t.as_str()) {
            Some("connection_init") => break (text, message),
            Some("ping") => {
                if sink.send(Message::Text(r#"{"type":"pong"}"#.into())).await.is_err() {
                    return;
                }
            }
            Some("pong") => {}
            Some("subscribe") => {
                return close(&mut sink, 4401, "Unauthorized: send connection_init with the API key first").await;
            }
            _ => return close(&mut sink, 4400, "Invalid message: connection_init expected").await,
        }
    };
    let Some(key) = api_key(message.get("payload")).map(str::to_owned) else {
        let reason = "Forbidden: an API key is required: connection_init payload {\"Authorization\": \"Bearer <key>\"}";
        return close(&mut sink, 4403, reason).await;
    };
    let access = match state.auth.authenticate_key(&key).await {
        Ok(a) => a,
        Err(AuthError::Missing | AuthError::Invalid | AuthError::Expired) => {
            return close(&mut sink, 4403, "Forbidden: the API key is not valid").await;
        }
        Err(AuthError::Store(e)) => {
            tracing::error!(error = %e, "cannot check an API key for a WebSocket");
            return close(&mut sink, 4500, "Internal server error").await;
        }
    };
    let tenant_id = access.tenant.id;
    let mut data = Data::default();
    data.insert(TenantContext::new(access, &state.services));
    // async-graphql runs the handshake itself: hand it the `connection_init` read here.
    // The input ends when the key is revoked, which ends the session.
    let revoked = Arc::new(AtomicBool::new(false));
    let watch_key = {
        let (revoked, auth) = (revoked.clone(), state.auth.clone());
        async move {
            revocation(auth, key, tenant_id).await;
            revoked.store(true, Ordering::Relaxed);
        }
    };
    let replayed =
        futures_util::stream::once(async move { Ok(Message::Text(first.into())) }).chain(stream).take_until(watch_key);
    GraphQLWebSocket::new_with_pair(&mut sink, replayed, state.schema.clone(), protocol)
        .on_connection_init(move |_| async move { Ok(data) })
        .serve()
        .await;
    if revoked.load(Ordering::Relaxed) {
        close(&mut sink, 4403, "Forbidden: the API key was revoked").await;
    }
}

/// Completes when `key` no longer opens `tenant`: checked whenever any key changes (the
/// authenticator's revision moves, within a second of a change in any process) and every
/// [`RECHECK_KEY_EVERY`] (for expiry); a store failure keeps the socket open.
async fn revocation(auth: Authenticator, key: String, tenant: TenantId) {
    let mut changes = auth.changes();
    loop {
        tokio::select! {
            changed = changes.changed() => if changed.is_err() {
                // The authenticator is gone: the server is shutting down.
                return std::future::pending().await;
            },
            () = tokio::time::sleep(RECHECK_KEY_EVERY) => {}
        }
        match auth.authenticate_key(&key).await {
            Ok(access) if access.tenant.id == tenant => {}
            Ok(_) | Err(AuthError::Missing | AuthError::Invalid | AuthError::Expired) => return,
            Err(AuthError::Store(e)) => tracing::warn!(error = %e, "cannot re-check a WebSocket's API key"),
        }
    }
}

/// The next text frame; `None` when the client leaves.
async fn next_text<S>(stream: &mut S) -> Option<String>
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
