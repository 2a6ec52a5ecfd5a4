//! `GET /graphql/ws`: subscriptions over `graphql-transport-ws`.
//!
//! The API key comes in the `connection_init` payload (`{"Authorization": "Bearer <key>"}`,
//! as GraphiQL sends it). Until the key is accepted a socket may send at most 16 KiB a
//! message and a few pings a second; every message is checked against the protocol
//! ([`ws_guard`](super::ws_guard)), and an acknowledged socket is served by
//! [`ws_session`](super::ws_session). Close codes: 4400 for a message the protocol does
//! not allow, 1009 for one too long, 4401 for a subscription sent before
//! `connection_init`, 4403 for a missing or bad key or an ingest key (and later, when the
//! key is revoked),
//! 4408 when no `connection_init` comes in time, 4409 for a reused operation id, 4429 for
//! a second `connection_init`, 4499 for a client that does not read its pushes, 4500
//! when the key cannot be checked.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use ottstats_domain::tenant::TenantId;
use tokio::time::Instant;

use super::AppState;
use super::auth::{AuthError, Authenticator, bearer_value};
use super::ws_guard::{self, ClientMessage, PONG, PingBudget, Refusal};
use super::ws_session::{End, SLOW_READER, Session, next_message, write};

/// The one subprotocol served.
const PROTOCOL: &str = "graphql-transport-ws";
/// How long a close frame may take to go out: a client that does not read cannot take it
/// either, and the socket is dropped then anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

pub async fn upgrade(State(state): State<AppState>, headers: HeaderMap, upgrade: WebSocketUpgrade) -> Response {
    let offered = headers.get(header::SEC_WEBSOCKET_PROTOCOL).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !offered.split(',').any(|p| p.trim() == PROTOCOL) {
        let message = format!("subscriptions speak the {PROTOCOL} subprotocol (Sec-WebSocket-Protocol: {PROTOCOL})");
        return (StatusCode::BAD_REQUEST, message).into_response();
    }
    // The transport refuses a larger frame or message while reading it, so no message
    // past the largest allowed is ever buffered whole; the smaller limit before
    // `connection_init` is checked on each message.
    let max = state.socket_limits.max_message;
    upgrade
        .max_message_size(max)
        .max_frame_size(max)
        .protocols([PROTOCOL])
        .on_upgrade(move |socket| serve(state, socket))
}

async fn serve(state: AppState, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let limits = state.socket_limits;
    let mut pings = PingBudget::new(limits.ping_burst, limits.pings_per_second, Instant::now());
    let deadline = Instant::now() + limits.init_timeout;
    let payload = loop {
        let text =
            match tokio::time::timeout_at(deadline, next_message(&mut stream, limits.max_message_before_ack)).await {
                Ok(Some(Ok(text))) => text,
                Ok(Some(Err(refusal))) => return close(&mut sink, refusal.code, &refusal.reason).await,
                Ok(None) => return,
                Err(_) => return close(&mut sink, 4408, "Connection initialisation timeout").await,
            };
        match ws_guard::read(&text, limits.max_message_before_ack) {
            Ok(ClientMessage::ConnectionInit(payload)) => break payload.map(serde_json::Value::Object),
            // Pings are allowed at any time, even before the handshake.
            Ok(ClientMessage::Ping) => {
                if pings.answer(Instant::now())
                    && write(&mut sink, PONG.to_owned(), limits.write_timeout).await.is_err()
                {
                    return;
                }
            }
            // No operation exists yet: a `complete` names an unknown id, which is ignored.
            Ok(ClientMessage::Pong | ClientMessage::Complete { .. }) => {}
            Ok(ClientMessage::Subscribe { .. }) => {
                return close(&mut sink, 4401, "Unauthorized: send connection_init with the API key first").await;
            }
            Err(refusal) => return close(&mut sink, refusal.code, &refusal.reason).await,
        }
    };
    let Some(key) = api_key(payload.as_ref()).map(str::to_owned) else {
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
    if access.grant.scopes.is_ingest_only() {
        let reason = format!("Forbidden: an ingest key may only send player events to POST {}", super::collect::PATH);
        return close(&mut sink, 4403, &reason).await;
    }
    let tenant_id = access.tenant.id;
    if write(&mut sink, r#"{"type":"connection_ack"}"#.to_owned(), limits.write_timeout).await.is_err() {
        return;
    }
    // The session ends when the key is revoked.
    let revoked = revocation(state.auth.clone(), key.clone(), tenant_id, limits.recheck_key_every);
    let session = Session::new(state.clone(), access, key, pings);
    match session.run(&mut sink, &mut stream, revoked).await {
        End::Left => {}
        End::Refused(refusal) => close(&mut sink, refusal.code, &refusal.reason).await,
        End::SlowReader => {
            let reason = format!("Slow reader: a push could not be written within {:?}", limits.write_timeout);
            close(&mut sink, SLOW_READER, &reason).await;
        }
        End::Stopped => close(&mut sink, 4403, "Forbidden: the API key was revoked").await,
    }
}

/// Completes when `key` no longer opens `tenant`: checked whenever any key changes (the
/// authenticator's revision moves, within a second of a change in any process) and every
/// `recheck_every` (for expiry); a store failure keeps the socket open.
async fn revocation(auth: Authenticator, key: String, tenant: TenantId, recheck_every: Duration) {
    let mut changes = auth.changes();
    loop {
        tokio::select! {
            changed = changes.changed() => if changed.is_err() {
                // The authenticator is gone: the server is shutting down.
                return std::future::pending().await;
            },
            () = tokio::time::sleep(recheck_every) => {}
        }
        match auth.authenticate_key(&key).await {
            Ok(access) if access.tenant.id == tenant => {}
            Ok(_) | Err(AuthError::Missing | AuthError::Invalid | AuthError::Expired) => return,
            Err(AuthError::Store(e)) => tracing::warn!(error = %e, "cannot re-check a WebSocket's API key"),
        }
    }
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
    let reason = Refusal::new(code, reason).reason_for_frame().to_owned();
    let frame = CloseFrame { code, reason: reason.into() };
    // The client may already be gone, or not reading; nothing to do then.
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        let _ = sink.send(Message::Close(Some(frame))).await;
        let _ = sink.close().await;
    })
    .await;
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
