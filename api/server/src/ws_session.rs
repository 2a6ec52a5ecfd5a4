//! An acknowledged `graphql-transport-ws` socket: its operations, their pushes, and the
//! bounds on both. Each client message is checked by [`ws_guard`](super::ws_guard) before
//! it is acted on; async-graphql only ever sees the GraphQL request of a `subscribe`.
//!
//! Pushes are written one at a time, each within [`SocketLimits::write_timeout`]: a client
//! that does not read holds at most one push in the server (its operations are not asked
//! for the next one meanwhile), and when the write times out the socket is closed with
//! 4499 and every operation freed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::Data;
use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
use axum::extract::ws::Message;
use futures_util::stream::{AbortHandle, BoxStream, SelectAll};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use ottstats_domain::access::Access;
use serde_json::{Map, Value};
use tokio::time::Instant;

use super::AppState;
use super::answer::{limited_message, rate_limit_json};
use super::ws_fanout::{Rendered, ShareKey, Start};
use super::ws_guard::{self, ClientMessage, PONG, PingBudget, Refusal};
use super::ws_limits::OperationSlot;
use crate::rate_limit::Limited;
use ottstats_graphql::TenantContext;
use ottstats_graphql::error::{ApiError, Code};
use ottstats_graphql::limits::{self, Measured};

/// The close code of a socket whose client does not read its pushes. PROTOCOL.md does not
/// use it; the reference client (graphql-ws) gives the same code the same meaning for
/// sockets it finds frozen ("4499: Terminated"), and reconnects after it, which suits a
/// client that was only slow.
pub const SLOW_READER: u16 = 4499;

/// Why a socket's session ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The client closed the socket, or it broke.
    Left,
    /// The client broke the protocol: close with this.
    Refused(Refusal),
    /// A push could not be written in time.
    SlowReader,
    /// The future the session was run until completed.
    Stopped,
}

/// One push of an operation, or (`None`) its end.
struct Output {
    id: String,
    generation: u64,
    push: Option<Arc<Rendered>>,
}

/// An active operation. Dropping it frees its slot in the tenant's count.
struct Op {
    /// Tells this operation from an earlier one that had the same id.
    generation: u64,
    abort: AbortHandle,
    pushed: bool,
    /// What each push after the first takes from the key's bucket (the first was paid
    /// for by the `subscribe`).
    cost: u64,
    _slot: OperationSlot,
}

impl Drop for Op {
    fn drop(&mut self) {
        self.abort.abort();
    }
}

pub struct Session {
    state: AppState,
    access: Access,
    /// The API key, so that only sockets of the same key share executions.
    credential: String,
    ops: HashMap<String, Op>,
    outputs: SelectAll<BoxStream<'static, Output>>,
    generation: u64,
    pings: PingBudget,
}

impl Session {
    pub fn new(state: AppState, access: Access, credential: String, pings: PingBudget) -> Session {
        Session { state, access, credential, ops: HashMap::new(), outputs: SelectAll::new(), generation: 0, pings }
    }

    /// Serves the socket until the client leaves or breaks a rule, or `until` completes.
    /// Every operation is dropped (and its slot freed) when this returns.
    pub async fn run<Si, St>(mut self, sink: &mut Si, stream: &mut St, until: impl Future<Output = ()>) -> End
    where
        Si: Sink<Message> + Unpin,
        St: Stream<Item = Result<Message, axum::Error>> + Unpin,
    {
        let limits = self.state.socket_limits;
        tokio::pin!(until);
        loop {
            let step = tokio::select! {
                message = next_message(stream, limits.max_message) => match message {
                    None => return End::Left,
                    Some(Err(refusal)) => return End::Refused(refusal),
                    Some(Ok(text)) => self.message(&text).await,
                },
                Some(output) = self.outputs.next(), if !self.outputs.is_empty() => Ok(self.output(output).await),
                () = &mut until => return End::Stopped,
            };
            match step {
                Ok(Some(frame)) => {
                    if let Err(end) = write(sink, frame, limits.write_timeout).await {
                        return end;
                    }
                }
                Ok(None) => {}
                Err(refusal) => return End::Refused(refusal),
            }
        }
    }

    /// Acts on one client message; the frame to send back, if any.
    async fn message(&mut self, text: &str) -> Result<Option<String>, Refusal> {
        match ws_guard::read(text, self.state.socket_limits.max_message)? {
            ClientMessage::ConnectionInit(_) => Err(Refusal::new(4429, "Too many initialisation requests")),
            ClientMessage::Ping => Ok(self.pings.answer(Instant::now()).then(|| PONG.to_owned())),
            ClientMessage::Pong => Ok(None),
            ClientMessage::Subscribe { id, payload } => self.subscribe(id, payload).await,
            // An unknown id (completed already, or never used) is ignored, as the protocol
            // allows; a known one stops at once, with no `complete` sent back.
            ClientMessage::Complete { id } => {
                self.ops.remove(&id);
                Ok(None)
            }
        }
    }

    async fn subscribe(&mut self, id: String, mut payload: Map<String, Value>) -> Result<Option<String>, Refusal> {
        if self.ops.contains_key(&id) {
            return Err(Refusal::new(4409, format!("Subscriber for {id} already exists")));
        }
        // Null is absent (the guard let only these through as null).
        payload.retain(|_, v| !v.is_null());
        // A document by hash (persisted queries), or only trusted ones: as over HTTP.
        if payload.contains_key("extensions") || self.state.documents.trusted_only() {
            let params = super::params::Params {
                query: payload.get("query").and_then(Value::as_str).map(str::to_owned),
                extensions: payload.get("extensions").and_then(Value::as_object).cloned().unwrap_or_default(),
                ..Default::default()
            };
            match self.state.documents.resolve(&self.access, &params).await {
                Ok(found) => {
                    // Over the socket a persisted query is remembered as soon as it is
                    // resolved: a socket's operations are capped and charged below.
                    if let Some(hash) = found.learnt {
                        self.state.documents.remember(self.access.tenant.id, hash, &found.text).await;
                    }
                    payload.insert("query".into(), Value::from(found.text));
                }
                Err(e) => return Ok(Some(error_frame(&id, e.into()))),
            }
        }
        let payload = Value::Object(payload);
        let mut request: async_graphql::Request = serde_json::from_value(payload.clone())
            .map_err(|e| Refusal::new(4400, format!("Invalid message: not a GraphQL request: {e}")))?;
        // The caps refuse this one operation with an `error` frame coded RATE_LIMITED (the
        // cap's refusal, as for any other limit on use); the socket and its other
        // operations go on.
        let limits = self.state.socket_limits;
        if self.ops.len() >= limits.operations_per_socket {
            self.state.operations.count_refusal();
            let why = format!(
                "too many operations on this socket: at most {} at once; complete one first",
                limits.operations_per_socket
            );
            return Ok(Some(error_frame(&id, ApiError::RateLimited(why).into())));
        }
        let Some(slot) = self.state.operations.acquire(self.access.tenant.id, limits.operations_per_tenant) else {
            self.state.operations.count_refusal();
            let why = format!(
                "too many operations for this tenant: at most {} at once across its sockets",
                limits.operations_per_tenant
            );
            return Ok(Some(error_frame(&id, ApiError::RateLimited(why).into())));
        };
        // Charged as an HTTP request is, before it runs: its cost, from the key's bucket.
        // A document over the limits is not charged; its execution refuses it with a code.
        let variables = std::mem::take(&mut request.variables);
        let measure = match request.parsed_query() {
            Ok(doc) => limits::check(doc, &variables, &self.state.services.limits).ok(),
            Err(_) => None,
        };
        request.variables = variables;
        if let Some(measure) = measure {
            request.data.insert(Measured(measure));
        }
        let cost = measure.map_or(1, |m| m.cost);
        if let Err(limited) = self.state.rate_limits.charge(&self.access.tenant, &self.access.grant.key, cost).await {
            self.state.metrics.count_errors([Code::RateLimited.as_str()]);
            return Ok(Some(rate_limited(&id, &limited)));
        }
        let shareable = is_single_field_subscription(&mut request);
        let start: Start = {
            let (schema, services, access) =
                (self.state.schema.clone(), self.state.services.clone(), self.access.clone());
            Box::new(move |stamp| {
                let mut data = Data::default();
                data.insert(TenantContext::new(access, &services));
                if let Some(stamp) = stamp {
                    data.insert(stamp);
                }
                schema.execute_stream_with_session_data(request, Arc::new(data))
            })
        };
        let fanout = &self.state.fanout;
        let pushes = if shareable {
            let key = ShareKey {
                tenant: self.access.tenant.id,
                credential: self.credential.clone(),
                request: payload.to_string(),
            };
            fanout.join(key, start)
        } else {
            fanout.own(start)
        };
        self.generation += 1;
        let generation = self.generation;
        let (pushes, abort) = futures_util::stream::abortable(pushes);
        let push_id = id.clone();
        let end = Output { id: id.clone(), generation, push: None };
        let outputs = pushes
            .map(move |push| Output { id: push_id.clone(), generation, push: Some(push) })
            .chain(futures_util::stream::once(async move { end }));
        self.outputs.push(outputs.boxed());
        self.ops.insert(id, Op { generation, abort, pushed: false, cost, _slot: slot });
        Ok(None)
    }

    /// The frame for one output of an operation; nothing for an operation the client
    /// completed already.
    async fn output(&mut self, output: Output) -> Option<String> {
        let op = self.ops.get_mut(&output.id).filter(|op| op.generation == output.generation)?;
        let id = serde_json::to_string(&output.id).unwrap_or_else(|_| "\"\"".to_owned());
        let Some(push) = output.push else {
            self.ops.remove(&output.id);
            return Some(format!(r#"{{"id":{id},"type":"complete"}}"#));
        };
        self.state.metrics.count_errors(push.codes.iter().map(String::as_str));
        let (first, cost) = (!op.pushed, op.cost);
        op.pushed = true;
        match &push.request_error {
            // An operation refused before it ran (parse, validation, limits) gets `error`,
            // which ends it: no `complete` follows.
            Some(errors) if first => {
                self.ops.remove(&output.id);
                return Some(format!(r#"{{"id":{id},"type":"error","payload":{errors}}}"#));
            }
            _ => {}
        }
        // The first push was paid for by the `subscribe`. Each later one renders the
        // question again, so it is charged as a new request. An empty bucket ends the
        // operation with `RATE_LIMITED`: the client subscribes again once its points are
        // back, and its first push is then the whole, current answer.
        if !first {
            let charged = self.state.rate_limits.charge(&self.access.tenant, &self.access.grant.key, cost).await;
            if let Err(limited) = charged {
                self.ops.remove(&output.id);
                self.state.metrics.count_errors([Code::RateLimited.as_str()]);
                return Some(rate_limited(&output.id, &limited));
            }
        }
        Some(format!(r#"{{"id":{id},"type":"next","payload":{}}}"#, push.payload))
    }
}

/// An `error` frame ending operation `id` with `error` (an [`ApiError`], coded as over
/// HTTP).
fn error_frame(id: &str, error: async_graphql::Error) -> String {
    let payload = serde_json::json!([{ "message": error.message, "extensions": error.extensions }]);
    serde_json::json!({ "id": id, "type": "error", "payload": payload }).to_string()
}

/// An `error` frame ending operation `id` because the key's bucket lacks its cost: coded
/// `RATE_LIMITED`, with `rateLimit` and `retryAfter` (seconds) in its extensions.
fn rate_limited(id: &str, limited: &Limited) -> String {
    let (message, retry_after) = limited_message(limited);
    let mut error = async_graphql::Error::from(ApiError::RateLimited(message));
    let extensions = error.extensions.get_or_insert_with(Default::default);
    extensions.set("retryAfter", retry_after);
    if let Ok(rate_limit) = async_graphql::Value::from_json(rate_limit_json(&limited.charge)) {
        extensions.set("rateLimit", rate_limit);
    }
    error_frame(id, error)
}

/// Whether a request is a subscription of exactly one field, so that one execution can
/// serve every socket asking it (one watch, one stamp per push).
fn is_single_field_subscription(request: &mut async_graphql::Request) -> bool {
    let name = request.operation_name.clone();
    let Ok(document) = request.parsed_query() else {
        return false;
    };
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(op), None) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.iter().find(|(n, _)| n.as_str() == name) {
            Some((_, op)) => op,
            None => return false,
        },
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => match ops.values().next() {
            Some(op) => op,
            None => return false,
        },
        _ => return false,
    };
    let op = &operation.node;
    op.ty == OperationType::Subscription
        && matches!(op.selection_set.node.items.as_slice(), [item] if matches!(item.node, Selection::Field(_)))
}

/// The next text message, at most `max_bytes` long; `None` when the client leaves.
pub async fn next_message<S>(stream: &mut S, max_bytes: usize) -> Option<Result<String, Refusal>>
where
    S: Stream<Item = Result<Message, axum::Error>> + Unpin,
{
    loop {
        match stream.next().await? {
            Ok(Message::Text(text)) => return Some(Ok(text.as_str().to_owned())),
            Ok(Message::Binary(bytes)) => {
                let text = String::from_utf8(bytes.to_vec())
                    .map_err(|_| Refusal::new(4400, "Invalid message: a binary message that is not UTF-8"));
                return Some(text);
            }
            Ok(Message::Close(_)) => return None,
            // Answered by the WebSocket layer itself (payloads of at most 125 bytes).
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Err(e) => {
                // The transport refuses a message over `max_message_size` while reading it,
                // and says so only in its error's text (its type is not re-exported).
                let text = e.to_string();
                if text.contains("Message too long") || text.contains("Space limit exceeded") {
                    return Some(Err(Refusal::too_big(max_bytes)));
                }
                tracing::debug!(error = %text, "WebSocket read failed");
                return None;
            }
        }
    }
}

/// Writes one frame, or fails with [`End::SlowReader`] when it cannot be written within
/// `timeout` (the client does not read, so its TCP window stays shut).
pub async fn write<Si>(sink: &mut Si, frame: String, timeout: Duration) -> Result<(), End>
where
    Si: Sink<Message> + Unpin,
{
    match tokio::time::timeout(timeout, sink.send(Message::Text(frame.into()))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::Left),
        Err(_) => Err(End::SlowReader),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A socket whose client never reads: nothing can ever be written.
    struct Stuck;

    impl Sink<Message> for Stuck {
        type Error = axum::Error;

        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }

        fn start_send(self: Pin<&mut Self>, _: Message) -> Result<(), Self::Error> {
            Ok(())
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_push_the_client_does_not_read_ends_the_session_as_a_slow_reader() {
        let started = std::time::Instant::now();
        let written = write(&mut Stuck, "{}".into(), Duration::from_millis(50)).await;
        assert_eq!(written, Err(End::SlowReader));
        assert!(started.elapsed() < Duration::from_secs(2));
        let mut fine = futures_util::sink::drain().sink_map_err(|_| axum::Error::new("never"));
        assert_eq!(write(&mut fine, "{}".into(), Duration::from_millis(50)).await, Ok(()));
    }

    #[test]
    fn only_single_field_subscriptions_are_shared() {
        let shared = |query: &str, name: Option<&str>| {
            let mut request = async_graphql::Request::new(query);
            request.operation_name = name.map(str::to_owned);
            is_single_field_subscription(&mut request)
        };
        assert!(shared("subscription { a }", None));
        assert!(shared("subscription S { a(x: 1) { b } }", None));
        assert!(shared("subscription S { a } query Q { b }", Some("S")));
        assert!(!shared("subscription S { a } query Q { b }", Some("Q")));
        assert!(!shared("subscription S { a } query Q { b }", None));
        assert!(!shared("subscription { a b }", None));
        assert!(!shared("subscription { ...F } fragment F on Subscription { a }", None));
        assert!(!shared("query { a }", None));
        assert!(!shared("mutation { a }", None));
        assert!(!shared("subscription {", None));
    }

    #[test]
    fn null_fields_of_a_subscribe_payload_read_as_absent() {
        let mut payload = Map::new();
        payload.insert("query".into(), Value::from("{ a }"));
        for field in ["variables", "extensions", "operationName"] {
            payload.insert(field.into(), Value::Null);
        }
        payload.retain(|_, v| !v.is_null());
        let request: Result<async_graphql::Request, _> = serde_json::from_value(Value::Object(payload));
        assert!(request.is_ok());
    }
}
