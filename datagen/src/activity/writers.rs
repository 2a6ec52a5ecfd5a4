//! The import format of activity: NDJSON with the GraphQL inputs' camelCase keys.

use std::io::{self, BufWriter, Write};

use ottstats_domain::activity_input::{ContentDraft, LoginDraft, PlayerEventDraft};
use serde::{Serialize, Serializer};

/// The keys of an event line, in order (`type` is the draft's `event_type`).
#[cfg(test)]
pub(super) const EVENT_KEYS: [&str; 12] = ottstats_domain::activity_input::PLAYER_EVENT_FIELDS;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonEvent<'a> {
    id: &'a str,
    session_id: &'a str,
    user_id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    occurred_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    position: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    referrer: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    bandwidth_kbps: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    played_seconds: Option<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonLogin<'a> {
    id: &'a str,
    user_id: &'a str,
    occurred_at: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonContent<'a> {
    id: &'a str,
    kind: &'a str,
    title: &'a str,
}

/// A whole number without a fraction (`5230`, not `5230.0`); others as they are.
fn number<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match *value {
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => s.serialize_i64(x as i64),
        Some(x) => s.serialize_f64(x),
        None => s.serialize_none(),
    }
}

/// Writes one object and a newline.
fn line<W: Write>(out: &mut W, object: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *out, object)?;
    out.write_all(b"\n")
}

/// Writes player events as NDJSON, one object a line with the keys `id`, `sessionId`,
/// `userId`, `type`, `occurredAt`, `position`, `contentKind`, `contentId`, `device`,
/// `referrer`, `bandwidthKbps` and `playedSeconds`; a missing value is left out.
pub fn write_events_ndjson<W: Write>(out: W, events: impl Iterator<Item = PlayerEventDraft>) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    for e in events {
        let object = JsonEvent {
            id: &e.id,
            session_id: &e.session_id,
            user_id: &e.user_id,
            event_type: &e.event_type,
            occurred_at: &e.occurred_at,
            position: e.position,
            content_kind: e.content_kind.as_deref(),
            content_id: e.content_id.as_deref(),
            device: e.device.as_deref(),
            referrer: e.referrer.as_deref(),
            bandwidth_kbps: e.bandwidth_kbps,
            played_seconds: e.played_seconds,
        };
        line(&mut out, &object)?;
    }
    out.flush()
}

/// Writes logins as NDJSON: `id`, `userId`, `occurredAt` and `device` (left out when
/// missing).
pub fn write_logins_ndjson<W: Write>(out: W, logins: impl Iterator<Item = LoginDraft>) -> io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, out);
    for l in logins {
        line(
            &mut out,
            &JsonLogin { id: &l.id, user_id: &l.user_id, occurred_at: &l.occurred_at, device: l.device.as_deref() },
        )?;
    }
    out.flush()
}

/// Writes contents as NDJSON: `id`, `kind` and `title`.
pub fn write_contents_ndjson<W: Write>(out: W, contents: impl Iterator<Item = ContentDraft>) -> io::Result<()> {
    let mut out = BufWriter::new(out);
    for c in contents {
        line(&mut out, &JsonContent { id: &c.id, kind: &c.kind, title: &c.title })?;
    }
    out.flush()
}
