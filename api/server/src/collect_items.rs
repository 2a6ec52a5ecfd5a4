//! What a collector request's body holds: a JSON array of `PlayerEventInput` objects, or
//! NDJSON (one object a line), read into the domain's drafts with the GraphQL input's
//! field names. An item that is not even an object of that shape is rejected at its
//! index (and line) here; every other goes to the domain, which validates it exactly as
//! for `recordEvents`. Then both kinds of rejections make one report, by index.

use ottstats_domain::InputError;
use ottstats_domain::activity_input::PlayerEventDraft;
use ottstats_domain::ingest::{self, IngestReport, Rejection};
use serde_json::{Map, Value};

/// How the body is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `{…}\n{…}\n` (`application/x-ndjson`): blank lines are no items.
    Ndjson,
    /// Told by the first byte that is not white space: `[` is a JSON array (`[{…}, {…}]`),
    /// anything else NDJSON. What JSON, `text/plain` (from `navigator.sendBeacon`) and
    /// unnamed bodies get.
    Sniffed,
}

/// The fields of `PlayerEventInput`, as GraphQL names them.
const FIELDS: [&str; 12] = ottstats_domain::activity_input::PLAYER_EVENT_FIELDS;

/// A body read into drafts.
#[derive(Debug, Default)]
pub struct Batch {
    /// The items that have the shape of an event, for the domain to validate and store.
    pub drafts: Vec<PlayerEventDraft>,
    /// The index in the batch of each draft.
    positions: Vec<usize>,
    /// For NDJSON, the line (from 1) of every item, by index.
    lines: Option<Vec<usize>>,
    /// Items refused for their shape, by index.
    misshapen: Vec<Rejection>,
    /// Every item of the body.
    pub items: usize,
}

/// One item of the report, as the GraphQL `IngestRejection` says it, and the item's
/// line for NDJSON.
#[derive(Debug, serde::Serialize, PartialEq)]
pub struct Rejected {
    pub index: usize,
    pub code: &'static str,
    pub argument: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// What the collector answers: the fields of the GraphQL `IngestReport`.
#[derive(Debug, serde::Serialize, PartialEq)]
pub struct Report {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: Vec<Rejected>,
}

/// Reads a body. A body that is no array or lines of JSON at all, or that holds more
/// items than a batch may, is refused whole (naming `body` or `events`).
pub fn read(bytes: &[u8], layout: Layout) -> Result<Batch, InputError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let array = match layout {
        Layout::Ndjson => false,
        Layout::Sniffed => bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'['),
    };
    if array {
        let items: Vec<Value> = serde_json::from_slice(bytes)
            .map_err(|e| InputError::new("body", format!("the body is not a JSON array of events: {e}")))?;
        ingest::check_batch_size(items.len(), "events")?;
        let mut batch = Batch { items: items.len(), ..Batch::default() };
        for (index, item) in items.iter().enumerate() {
            batch.take(index, draft(item));
        }
        return Ok(batch);
    }
    let lines: Vec<(usize, &[u8])> = bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, line)| (i + 1, line.strip_suffix(b"\r").unwrap_or(line)))
        .filter(|(_, line)| !line.iter().all(u8::is_ascii_whitespace))
        .collect();
    // Counted before any line is parsed: an oversized batch costs no parsing.
    ingest::check_batch_size(lines.len(), "events")?;
    let mut batch = Batch { items: lines.len(), lines: Some(Vec::with_capacity(lines.len())), ..Batch::default() };
    for (index, (number, line)) in lines.into_iter().enumerate() {
        let item = serde_json::from_slice::<Value>(line)
            .map_err(|e| InputError::new("event", format!("line {number} is not JSON: {e}")))
            .and_then(|value| draft(&value));
        batch.lines.get_or_insert_default().push(number);
        batch.take(index, item);
    }
    Ok(batch)
}

impl Batch {
    fn take(&mut self, index: usize, item: Result<PlayerEventDraft, InputError>) {
        match item {
            Ok(d) => {
                self.drafts.push(d);
                self.positions.push(index);
            }
            Err(e) => self.misshapen.push(Rejection::invalid(index, e)),
        }
    }

    /// The report of the whole batch: the domain's (whose indexes count drafts only)
    /// placed back at the items' indexes, with the items refused for their shape.
    pub fn report(&self, stored: IngestReport) -> Report {
        let mut rejections: Vec<Rejection> = stored
            .rejected
            .into_iter()
            .map(|r| Rejection { index: self.positions.get(r.index).copied().unwrap_or(r.index), ..r })
            .chain(self.misshapen.iter().cloned())
            .collect();
        rejections.sort_by_key(|r| r.index);
        let line = |index: usize| self.lines.as_ref().and_then(|lines| lines.get(index).copied());
        Report {
            accepted: stored.accepted,
            duplicates: stored.duplicates,
            rejected: rejections
                .into_iter()
                .map(|r| Rejected {
                    index: r.index,
                    // Every rejection is of invalid input, as in `recordEvents`.
                    code: ottstats_graphql::error::Code::BadUserInput.as_str(),
                    line: line(r.index),
                    argument: r.argument,
                    message: r.message,
                })
                .collect(),
        }
    }
}

/// An item as a draft, when it has the shape of a `PlayerEventInput`: an object of its
/// fields only, each of its JSON type (`null` is an optional field left out). The values
/// themselves (a type, an instant, a range) are the domain's to judge.
fn draft(item: &Value) -> Result<PlayerEventDraft, InputError> {
    let Value::Object(fields) = item else {
        return Err(InputError::new(
            "event",
            "is not a JSON object: each event is {\"id\": …, \"sessionId\": …, \"userId\": …, \"type\": …, \"occurredAt\": …}",
        ));
    };
    if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(InputError::new(
            unknown.as_str(),
            format!("is not a field of PlayerEventInput (its fields: {})", FIELDS.join(", ")),
        ));
    }
    let required = |name: &str, found: Option<String>| found.ok_or_else(|| InputError::new(name, "is required"));
    Ok(PlayerEventDraft {
        id: required("id", id(fields, "id")?)?,
        session_id: required("sessionId", id(fields, "sessionId")?)?,
        user_id: required("userId", id(fields, "userId")?)?,
        event_type: required("type", text(fields, "type")?)?,
        occurred_at: required("occurredAt", text(fields, "occurredAt")?)?,
        position: number(fields, "position")?,
        content_kind: text(fields, "contentKind")?,
        content_id: id(fields, "contentId")?,
        device: text(fields, "device")?,
        referrer: text(fields, "referrer")?,
        bandwidth_kbps: number(fields, "bandwidthKbps")?,
        played_seconds: number(fields, "playedSeconds")?,
    })
}

/// An `ID`: a string, or an integer read as its digits (as GraphQL's `ID` input takes it).
fn id(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, InputError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Some(_) => Err(InputError::new(name, "must be a string or an integer (an ID)")),
    }
}

fn text(fields: &Map<String, Value>, name: &str) -> Result<Option<String>, InputError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(InputError::new(name, "must be a string")),
    }
}

fn number(fields: &Map<String, Value>, name: &str) -> Result<Option<f64>, InputError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(_) => Err(InputError::new(name, "must be a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str =
        r#"{"id":"e1","sessionId":"s1","userId":"u1","type":"PLAY","occurredAt":"2026-01-01T00:00:00Z"}"#;

    fn arguments(batch: &Batch) -> Vec<(usize, &str)> {
        batch.misshapen.iter().map(|r| (r.index, r.argument.as_str())).collect()
    }

    #[test]
    fn an_array_and_ndjson_give_the_same_drafts() {
        let array = read(format!("[{EVENT}, {EVENT}]").as_bytes(), Layout::Sniffed).unwrap();
        let lines = read(format!("\n{EVENT}\r\n\n  \n{EVENT}").as_bytes(), Layout::Sniffed).unwrap();
        assert_eq!((array.items, lines.items), (2, 2));
        assert_eq!(array.drafts, lines.drafts);
        assert_eq!((array.lines, lines.lines), (None, Some(vec![2, 5])));
        let d = &array.drafts[0];
        assert_eq!((d.id.as_str(), d.event_type.as_str(), d.position), ("e1", "PLAY", None));
    }

    #[test]
    fn misshapen_items_are_refused_by_index_and_field() {
        let body = format!(
            r#"[{EVENT}, 7, {{"id":1,"sessionId":"s","userId":"u","type":"PLAY","occurredAt":"x","extra":1}},
                {{"id":"e","sessionId":"s","type":"PLAY","occurredAt":"x"}}, {{"id":"e","sessionId":"s","userId":"u","type":"PLAY","occurredAt":"x","position":"3"}},
                {{"id":2,"sessionId":"s","userId":"u","type":"PLAY","occurredAt":"x","device":null}}]"#
        );
        let batch = read(body.as_bytes(), Layout::Sniffed).unwrap();
        assert_eq!(arguments(&batch), [(1, "event"), (2, "extra"), (3, "userId"), (4, "position")]);
        assert_eq!(batch.positions, [0, 5]);
        assert_eq!((batch.drafts[1].id.as_str(), batch.drafts[1].device.as_deref()), ("2", None));
    }

    #[test]
    fn a_line_that_is_not_json_is_one_rejected_item() {
        let batch = read(format!("{EVENT}\n{{\"id\": \n{EVENT}\n").as_bytes(), Layout::Ndjson).unwrap();
        assert_eq!(arguments(&batch), [(1, "event")]);
        assert!(batch.misshapen[0].message.starts_with("line 2 is not JSON"), "{:?}", batch.misshapen);
        // The domain's rejections (of drafts) go back to the items' indexes and lines.
        let stored = IngestReport {
            accepted: 1,
            duplicates: 0,
            rejected: vec![Rejection { index: 1, argument: "type".into(), message: "bad".into() }],
        };
        let report = batch.report(stored);
        let at: Vec<(usize, Option<usize>, &str)> =
            report.rejected.iter().map(|r| (r.index, r.line, r.argument.as_str())).collect();
        assert_eq!(at, [(1, Some(2), "event"), (2, Some(3), "type")]);
    }

    #[test]
    fn bodies_that_are_no_batch_are_refused_whole() {
        assert_eq!(read(b"[1, 2", Layout::Sniffed).unwrap_err().argument, "body");
        assert_eq!(read(b" [{}] x", Layout::Sniffed).unwrap_err().argument, "body");
        let many = "{}\n".repeat(ingest::MAX_BATCH + 1);
        assert_eq!(read(many.as_bytes(), Layout::Ndjson).unwrap_err().argument, "events");
        let empty = read(b"  \n", Layout::Sniffed).unwrap();
        assert_eq!((empty.items, empty.drafts.len()), (0, 0));
    }
}
