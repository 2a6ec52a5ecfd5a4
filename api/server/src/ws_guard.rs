//! Checks every client message of `graphql-transport-ws` before anything acts on it, as
//! <https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md> says: a message of
//! an unknown type or format closes the socket with 4400, and so on. No IO here: the
//! socket loops (`ws.rs`, `ws_session.rs`) read, ask, and act.

use serde_json::{Map, Value};
use tokio::time::Instant;

/// Why the server closes a socket: a close code and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: u16,
    pub reason: String,
}

impl Refusal {
    pub fn new(code: u16, reason: impl Into<String>) -> Refusal {
        Refusal { code, reason: reason.into() }
    }

    /// 4400, the protocol's "invalid message".
    fn invalid(why: impl std::fmt::Display) -> Refusal {
        Refusal::new(4400, format!("Invalid message: {why}"))
    }

    /// A message longer than the socket takes now. 1009 ("Message Too Big", RFC 6455)
    /// rather than 4400: it says exactly what is wrong, it is what the transport itself
    /// answers for a frame over its own limit (so both limits read the same to a client),
    /// and the reference client treats it as fatal, so it does not retry the same message.
    pub fn too_big(limit: usize) -> Refusal {
        Refusal::new(1009, format!("Message too big: at most {limit} bytes at this point"))
    }

    /// The reason as a close frame can carry it: at most 123 bytes (RFC 6455, 5.5), cut at
    /// a character boundary (a client-chosen id can make it longer).
    pub fn reason_for_frame(&self) -> &str {
        const MAX: usize = 123;
        if self.reason.len() <= MAX {
            return &self.reason;
        }
        let mut end = MAX;
        while !self.reason.is_char_boundary(end) {
            end -= 1;
        }
        &self.reason[..end]
    }
}

/// A client message that passed the protocol's checks.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    /// The payload: an object, or none (absent or null).
    ConnectionInit(Option<Map<String, Value>>),
    Ping,
    Pong,
    /// An operation: its id and payload (`query` a string; `operationName`, `variables`,
    /// `extensions` of the right type when present).
    Subscribe {
        id: String,
        payload: Map<String, Value>,
    },
    Complete {
        id: String,
    },
}

/// Reads one text message of at most `max_bytes` bytes.
pub fn read(text: &str, max_bytes: usize) -> Result<ClientMessage, Refusal> {
    if text.len() > max_bytes {
        return Err(Refusal::too_big(max_bytes));
    }
    let Ok(Value::Object(mut message)) = serde_json::from_str::<Value>(text) else {
        return Err(Refusal::invalid("not a JSON object"));
    };
    let kind = match message.get("type") {
        Some(Value::String(kind)) => kind.clone(),
        Some(_) => return Err(Refusal::invalid("`type` is not a string")),
        None => return Err(Refusal::invalid("no `type`")),
    };
    match kind.as_str() {
        "connection_init" => Ok(ClientMessage::ConnectionInit(optional_object(&mut message, "payload", &kind)?)),
        "ping" => optional_object(&mut message, "payload", &kind).map(|_| ClientMessage::Ping),
        "pong" => optional_object(&mut message, "payload", &kind).map(|_| ClientMessage::Pong),
        "subscribe" => {
            let id = operation_id(&message, &kind)?;
            let Some(Value::Object(payload)) = message.remove("payload") else {
                return Err(Refusal::invalid("`subscribe` needs a `payload` object"));
            };
            // A persisted query may come by its hash alone.
            let by_hash = payload.get("extensions").and_then(|e| e.get("persistedQuery")).is_some();
            match payload.get("query") {
                Some(Value::String(_)) => {}
                None | Some(Value::Null) if by_hash => {}
                _ => return Err(Refusal::invalid("the `subscribe` payload needs a `query` string")),
            }
            for (field, want_object) in [("operationName", false), ("variables", true), ("extensions", true)] {
                match payload.get(field) {
                    None | Some(Value::Null) => {}
                    Some(Value::Object(_)) if want_object => {}
                    Some(Value::String(_)) if !want_object => {}
                    Some(_) => {
                        let kind = if want_object { "an object" } else { "a string" };
                        return Err(Refusal::invalid(format!("`{field}` must be {kind} or null")));
                    }
                }
            }
            Ok(ClientMessage::Subscribe { id, payload })
        }
        "complete" => Ok(ClientMessage::Complete { id: operation_id(&message, &kind)? }),
        "connection_ack" | "next" | "error" => Err(Refusal::invalid(format!("`{kind}` is sent by servers only"))),
        _ => Err(Refusal::invalid("unknown `type`")),
    }
}

/// The `field` of a message: an object, or none when absent or null.
fn optional_object(
    message: &mut Map<String, Value>,
    field: &str,
    kind: &str,
) -> Result<Option<Map<String, Value>>, Refusal> {
    match message.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(object)) => Ok(Some(object)),
        Some(_) => Err(Refusal::invalid(format!("the `{kind}` payload must be an object or null"))),
    }
}

/// The `id` of an operation message: a non-empty string.
fn operation_id(message: &Map<String, Value>, kind: &str) -> Result<String, Refusal> {
    match message.get("id") {
        Some(Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        _ => Err(Refusal::invalid(format!("`{kind}` needs an `id` (a non-empty string)"))),
    }
}

/// How many pings a socket still gets answered: a token bucket of `burst` tokens,
/// refilled at `per_second`. The protocol asks for a pong to every ping, but answering a
/// flood would let one client keep the server writing; the pong carries no payload, so
/// what it costs is bounded whatever the ping carried.
#[derive(Debug)]
pub struct PingBudget {
    tokens: f64,
    burst: f64,
    per_second: f64,
    at: Instant,
}

impl PingBudget {
    pub fn new(burst: u32, per_second: u32, now: Instant) -> PingBudget {
        let burst = f64::from(burst);
        PingBudget { tokens: burst, burst, per_second: f64::from(per_second), at: now }
    }

    /// Whether a ping received at `now` is answered.
    pub fn answer(&mut self, now: Instant) -> bool {
        let refill = now.saturating_duration_since(self.at).as_secs_f64() * self.per_second;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What a pong says: nothing but its type, whatever the ping carried.
pub const PONG: &str = r#"{"type":"pong"}"#;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn code(text: &str) -> u16 {
        match read(text, 1024) {
            Ok(m) => panic!("{text} was accepted as {m:?}"),
            Err(r) => r.code,
        }
    }

    #[test]
    fn accepts_the_protocols_messages() {
        let init = read(r#"{"type":"connection_init","payload":{"Authorization":"Bearer k"}}"#, 1024);
        assert!(matches!(init, Ok(ClientMessage::ConnectionInit(Some(_)))));
        assert_eq!(read(r#"{"type":"connection_init","payload":null}"#, 1024), Ok(ClientMessage::ConnectionInit(None)));
        assert_eq!(read(r#"{"type":"ping"}"#, 1024), Ok(ClientMessage::Ping));
        assert_eq!(read(r#"{"type":"pong","payload":{"t":1}}"#, 1024), Ok(ClientMessage::Pong));
        let subscribe =
            r#"{"id":"1","type":"subscribe","payload":{"query":"{a}","variables":null,"operationName":"A"}}"#;
        assert!(matches!(read(subscribe, 1024), Ok(ClientMessage::Subscribe { id, .. }) if id == "1"));
        assert_eq!(read(r#"{"id":"1","type":"complete"}"#, 1024), Ok(ClientMessage::Complete { id: "1".into() }));
    }

    #[test]
    fn refuses_what_the_protocol_does_not_specify_with_4400() {
        for text in [
            "not json",
            "[1]",
            r#"{"payload":{}}"#,
            r#"{"type":7}"#,
            r#"{"type":"hello"}"#,
            r#"{"type":"next","id":"1","payload":{}}"#,
            r#"{"type":"connection_ack"}"#,
            r#"{"type":"ping","payload":"x"}"#,
            r#"{"type":"connection_init","payload":[1]}"#,
            r#"{"type":"subscribe","payload":{"query":"{a}"}}"#,
            r#"{"type":"subscribe","id":"","payload":{"query":"{a}"}}"#,
            r#"{"type":"subscribe","id":1,"payload":{"query":"{a}"}}"#,
            r#"{"type":"subscribe","id":"1"}"#,
            r#"{"type":"subscribe","id":"1","payload":{"query":1}}"#,
            r#"{"type":"subscribe","id":"1","payload":{"query":"{a}","variables":[1]}}"#,
            r#"{"type":"subscribe","id":"1","payload":{"query":"{a}","operationName":{}}}"#,
            r#"{"type":"subscribe","id":"1","payload":{"query":"{a}","extensions":"x"}}"#,
            r#"{"type":"complete"}"#,
            r#"{"type":"complete","id":null}"#,
        ] {
            assert_eq!(code(text), 4400, "{text}");
        }
    }

    #[test]
    fn refuses_a_message_over_the_limit_with_1009() {
        let ping = format!(r#"{{"type":"ping","payload":{{"pad":"{}"}}}}"#, "x".repeat(2000));
        assert_eq!(code(&ping), 1009);
        assert!(read(&ping, 4096).is_ok());
    }

    #[test]
    fn close_reasons_fit_a_close_frame() {
        let refusal = Refusal::new(4409, format!("Subscriber for {} already exists", "é".repeat(200)));
        let reason = refusal.reason_for_frame();
        assert!(reason.len() <= 123 && reason.starts_with("Subscriber for é"));
        assert_eq!(Refusal::new(4400, "short").reason_for_frame(), "short");
    }

    #[test]
    fn answers_a_burst_of_pings_then_a_few_a_second() {
        let start = Instant::now();
        let mut budget = PingBudget::new(5, 2, start);
        assert_eq!((0..100).filter(|_| budget.answer(start)).count(), 5);
        let later = start + Duration::from_secs(1);
        assert_eq!((0..100).filter(|_| budget.answer(later)).count(), 2);
        let much_later = later + Duration::from_secs(60);
        assert_eq!((0..100).filter(|_| budget.answer(much_later)).count(), 5);
    }
}
