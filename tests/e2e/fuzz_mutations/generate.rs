//! Batches for the four mutations, each item generated with what the documented rules
//! say the server keeps of it (or the one field that makes it invalid), and the model of
//! what a sequence of batches stores.
//!
//! An item carries at most one bad field, so the rejection must name exactly that field
//! whatever order the server checks fields in. Only string and number fields are fuzzed:
//! a wrong enum or a missing required field is a GraphQL error for the whole request, not
//! an item of the report. Unpaired surrogates are left out: JSON (serde_json) cannot carry
//! them, so no client can send one.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

/// One item of a batch: what is sent, its id as stored (when the id itself is valid) and
/// what the server keeps of it, or the field it must be rejected for.
#[derive(Clone)]
pub struct Item<N> {
    pub json: Value,
    pub id: Option<String>,
    pub outcome: Result<N, &'static str>,
}

/// The batches of one case, sent in order to a fresh tenant.
#[derive(Clone)]
pub struct Case<N> {
    pub batches: Vec<Vec<Item<N>>>,
}

impl<N: fmt::Debug> fmt::Debug for Item<N> {
    // The item as sent (JSON), so a shrunk case can be replayed by hand.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(n) => write!(f, "{}  => valid, kept as {n:?}", self.json),
            Err(field) => write!(f, "{}  => rejected at {field}", self.json),
        }
    }
}

impl<N: fmt::Debug> fmt::Debug for Case<N> {
    // One line per item.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (b, batch) in self.batches.iter().enumerate() {
            writeln!(f, "batch {b}:")?;
            for (i, item) in batch.iter().enumerate() {
                writeln!(f, "  [{i}] {item:?}")?;
            }
        }
        Ok(())
    }
}

impl<N> Case<N> {
    /// Every stored id any item names, once, in order: the ids a re-read asks about.
    pub fn ids(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in self.batches.iter().flatten().filter_map(|i| i.id.clone()) {
            if !out.contains(&id) {
                out.push(id);
            }
        }
        out
    }
}

/// What a batch should report: (accepted, duplicates), applying it to `stored`. Upserts
/// compare each item with the state before it (a repeated id with its predecessor, the
/// last one winning); events and logins keep the first item of each id ever stored.
pub fn apply<N: Clone + PartialEq>(
    stored: &mut BTreeMap<String, N>,
    batch: &[Item<N>],
    upsert: bool,
) -> (usize, usize) {
    let (mut accepted, mut duplicates) = (0, 0);
    for item in batch {
        let (Some(id), Ok(n)) = (&item.id, &item.outcome) else { continue };
        let same = match stored.get(id) {
            Some(old) => !upsert || old == n,
            None => false,
        };
        if same {
            duplicates += 1;
        } else {
            accepted += 1;
            stored.insert(id.clone(), n.clone());
        }
    }
    (accepted, duplicates)
}

fn batches<N: Clone + fmt::Debug + 'static>(item: impl Strategy<Value = Item<N>> + 'static) -> BoxedStrategy<Case<N>> {
    prop::collection::vec(prop::collection::vec(item, 0..=10), 1..=3).prop_map(|batches| Case { batches }).boxed()
}

/// A valid item, or one with one field replaced by a bad value.
fn with_defects<N: Clone + fmt::Debug + 'static>(
    valid: impl Strategy<Value = Item<N>> + Clone + 'static,
    bad: Vec<(&'static str, Value)>,
) -> impl Strategy<Value = Item<N>> {
    let broken = (valid.clone(), select(bad)).prop_map(|(mut item, (field, value))| {
        item.json[field] = value;
        if field == "id" {
            item.id = None;
        }
        item.outcome = Err(field);
        item
    });
    prop_oneof![3 => valid, 2 => broken]
}

fn object(fields: Vec<(&str, Option<Value>)>) -> Value {
    let map: Map<String, Value> = fields.into_iter().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v))).collect();
    Value::Object(map)
}

/// (sent, kept) pairs of a text field that is always sent.
fn texts(pairs: &[(&str, &str)]) -> Vec<(Value, String)> {
    pairs.iter().map(|(sent, kept)| (json!(sent), (*kept).to_owned())).collect()
}

/// (sent or left out, kept) pairs of an optional field; `None` kept: stored as null.
fn optional(pairs: &[(Option<&str>, Option<&str>)]) -> Vec<(Option<Value>, Option<String>)> {
    pairs.iter().map(|(sent, kept)| (sent.map(|s| json!(s)), kept.map(str::to_owned))).collect()
}

/// Ids (trimmed, up to 128 characters, however many bytes) from a small pool, so that
/// repeats within and across batches are common; padded and bare forms are one id,
/// precomposed and combining forms two.
fn ids(prefix: &str) -> Vec<(Value, String)> {
    let p = prefix;
    let owned: Vec<(String, String)> = vec![
        (format!("{p}1"), format!("{p}1")),
        (format!(" {p}1\t"), format!("{p}1")),
        (format!("\u{3000}{p}2"), format!("{p}2")),
        (format!("{p}é"), format!("{p}é")),
        (format!("{p}e\u{301}"), format!("{p}e\u{301}")),
        (format!("\u{feff}{p}1"), format!("\u{feff}{p}1")),
        (format!("{p}😀"), format!("{p}😀")),
        ("😀".repeat(128), "😀".repeat(128)),
        (format!("{} ", "x".repeat(128)), "x".repeat(128)),
    ];
    owned.into_iter().map(|(sent, kept)| (json!(sent), kept)).collect()
}

/// Bad values of an id field: empty, blank, NUL, 129 characters.
fn bad_ids(field: &'static str) -> Vec<(&'static str, Value)> {
    ["", "  ", "\u{3000}", "a\u{0}b", &"x".repeat(129), &"😀".repeat(129)].iter().map(|s| (field, json!(s))).collect()
}

/// Bad values of an optional label (device, city…): NUL, one character too many.
fn bad_labels(field: &'static str, max: usize) -> Vec<(&'static str, Value)> {
    vec![
        (field, json!("tv\u{0}")),
        (field, json!("é".repeat(max + 1))),
        (field, json!(format!(" {} ", "y".repeat(max + 1)))),
    ]
}

/// Instants (sent, milliseconds kept): offsets, sub-millisecond digits (truncated), and
/// one an hour ahead (up to a day ahead is allowed).
fn instants(now: DateTime<Utc>) -> Vec<(Value, i64)> {
    let soon = now + Duration::hours(1);
    vec![
        (json!("2026-01-05T10:00:00Z"), 1_767_607_200_000),
        (json!("2024-02-29T23:59:59.123456+05:30"), 1_709_231_399_123),
        (json!("2023-06-01T00:00:00.999-03:00"), 1_685_588_400_999),
        (json!(" 2025-12-31T23:59:59z "), 1_767_225_599_000),
        (json!(soon.to_rfc3339_opts(SecondsFormat::Millis, true)), soon.timestamp_millis()),
    ]
}

fn bad_instants(field: &'static str, now: DateTime<Utc>) -> Vec<(&'static str, Value)> {
    let later = (now + Duration::days(3)).to_rfc3339_opts(SecondsFormat::Secs, true);
    [
        "not a time",
        "",
        "2026-02-30T10:00:00Z",
        "2026-01-05T25:00:00Z",
        "2026-01-05",
        "2026-01-05T10:00:00",
        "2026-01-05T10:00:00Z\u{0}",
        "2999-01-01T00:00:00Z",
        &later,
    ]
    .iter()
    .map(|s| (field, json!(s)))
    .collect()
}

/// What the server keeps of a user, as `users(ids)` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserKept {
    pub name: String,
    pub gender: &'static str,
    pub birth_date: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub registered_ms: i64,
}

pub fn users(now: DateTime<Utc>) -> BoxedStrategy<Case<UserKept>> {
    let names = texts(&[
        ("Ana", "Ana"),
        ("  Zoë  ", "Zoë"),
        ("🎬 n\u{308}o\u{301}", "🎬 n\u{308}o\u{301}"),
        ("a\u{1}b\u{7f}", "a\u{1}b\u{7f}"),
        ("名前", "名前"),
        (&"😀".repeat(256), &"😀".repeat(256)),
    ]);
    let genders: Vec<(Option<Value>, &'static str)> = vec![
        (None, "UNKNOWN"),
        (Some(json!("UNKNOWN")), "UNKNOWN"),
        (Some(json!("FEMALE")), "FEMALE"),
        (Some(json!("MALE")), "MALE"),
        (Some(json!("OTHER")), "OTHER"),
    ];
    let births = optional(&[
        (None, None),
        (Some("2000-02-29"), Some("2000-02-29")),
        (Some(" 1990-12-31 "), Some("1990-12-31")),
        (Some("  "), None),
    ]);
    let countries = optional(&[(None, None), (Some("CL"), Some("CL")), (Some(" us "), Some("US")), (Some(""), None)]);
    let states =
        optional(&[(None, None), (Some(" Ñuñoa "), Some("Ñuñoa")), (Some(&"s".repeat(128)), Some(&"s".repeat(128)))]);
    let cities = optional(&[(None, None), (Some("São Paulo"), Some("São Paulo")), (Some(" "), None)]);
    let valid = (
        select(ids("u")),
        select(names),
        select(genders),
        select(births),
        select(countries),
        select(states),
        select(cities),
        select(instants(now)),
    )
        .prop_map(|(id, name, gender, birth, country, state, city, at)| Item {
            json: object(vec![
                ("id", Some(id.0)),
                ("name", Some(name.0)),
                ("gender", gender.0),
                ("birthDate", birth.0),
                ("country", country.0),
                ("state", state.0),
                ("city", city.0),
                ("registeredAt", Some(at.0)),
            ]),
            id: Some(id.1),
            outcome: Ok(UserKept {
                name: name.1,
                gender: gender.1,
                birth_date: birth.1,
                country: country.1,
                state: state.1,
                city: city.1,
                registered_ms: at.1,
            }),
        });
    let mut bad = bad_ids("id");
    bad.extend([
        ("name", json!("A\u{0}na")),
        ("name", json!("n".repeat(257))),
        ("name", json!("")),
        ("name", json!(" \t ")),
    ]);
    bad.extend(["2026-02-30", "01/02/2000", "2999-01-01", "2000-01-01\u{0}"].map(|d| ("birthDate", json!(d))));
    bad.extend(["XX", "CHL", "C", "C\u{0}"].map(|c| ("country", json!(c))));
    bad.extend(bad_labels("state", 128));
    bad.extend(bad_labels("city", 128));
    bad.extend(bad_instants("registeredAt", now));
    batches(with_defects(valid, bad))
}

/// Events and logins keep the user of the first one stored with their id.
#[derive(Debug, Clone, PartialEq)]
pub struct Owner {
    pub user: String,
    pub at_ms: i64,
}

/// The users events and logins name; the tests register them first.
pub const USERS: [&str; 3] = ["u1", "u2", "é"];

fn owners() -> Vec<(Value, String)> {
    texts(&[("u1", "u1"), (" u1 ", "u1"), ("u2", "u2"), ("é", "é")])
}

pub fn events(now: DateTime<Utc>) -> BoxedStrategy<Case<Owner>> {
    let numbers = |values: &[f64]| -> Vec<Option<Value>> {
        let mut v: Vec<Option<Value>> = values.iter().map(|x| Some(json!(x))).collect();
        v.insert(0, None);
        v
    };
    let kinds = vec![None, Some(json!("LIVE")), Some(json!("VOD"))];
    let types = ["PLAYER_LOADED", "PLAY", "PLAYING", "SEEK", "PAUSE", "BUFFERING", "ENDED", "ERROR"].map(|t| json!(t));
    // Labels are not part of what the model checks: any of these is valid.
    let labels = vec![None, Some(json!("Smart TV")), Some(json!(" 📺 ")), Some(json!(""))];
    let sessions = texts(&[("s1", "s1"), (" s2 ", "s2"), ("😀", "😀")]);
    let valid = (
        (select(ids("e")), select(sessions), select(owners()), select(types.to_vec()), select(instants(now))),
        (select(numbers(&[0.0, -0.0, 12.5, 1e15])), select(kinds), select(labels.clone()), select(labels.clone())),
        (select(numbers(&[0.0, 4000.0, 1_000_000.0])), select(numbers(&[0.0, 10.0, 1000.0])), select(labels)),
    )
        .prop_map(
            |(
                (id, session, user, kind, at),
                (position, content_kind, content, device),
                (bandwidth, played, referrer),
            )| {
                Item {
                    json: object(vec![
                        ("id", Some(id.0)),
                        ("sessionId", Some(session.0)),
                        ("userId", Some(user.0)),
                        ("type", Some(kind)),
                        ("occurredAt", Some(at.0)),
                        ("position", position),
                        ("contentKind", content_kind),
                        ("contentId", content),
                        ("device", device),
                        ("referrer", referrer),
                        ("bandwidthKbps", bandwidth),
                        ("playedSeconds", played),
                    ]),
                    id: Some(id.1),
                    outcome: Ok(Owner { user: user.1, at_ms: at.1 }),
                }
            },
        );
    let mut bad = bad_ids("id");
    bad.extend(bad_ids("sessionId"));
    bad.extend(bad_ids("userId"));
    bad.extend(bad_instants("occurredAt", now));
    bad.extend([-1.0, -0.001].map(|x| ("position", json!(x))));
    bad.extend([-1.0, 1_000_000.5, 1e12, 1e300].map(|x| ("bandwidthKbps", json!(x))));
    bad.push(("playedSeconds", json!(-0.5)));
    bad.extend(bad_labels("contentId", 128));
    bad.extend(bad_labels("device", 128));
    bad.extend(bad_labels("referrer", 128));
    batches(with_defects(valid, bad))
}

pub fn logins(now: DateTime<Utc>) -> BoxedStrategy<Case<Owner>> {
    let devices = vec![None, Some(json!(" Android ")), Some(json!("📱")), Some(json!("  "))];
    let valid = (select(ids("l")), select(owners()), select(instants(now)), select(devices)).prop_map(
        |(id, user, at, device)| Item {
            json: object(vec![
                ("id", Some(id.0)),
                ("userId", Some(user.0)),
                ("occurredAt", Some(at.0)),
                ("device", device),
            ]),
            id: Some(id.1),
            outcome: Ok(Owner { user: user.1, at_ms: at.1 }),
        },
    );
    let mut bad = bad_ids("id");
    bad.extend(bad_ids("userId"));
    bad.extend(bad_instants("occurredAt", now));
    bad.extend(bad_labels("device", 128));
    batches(with_defects(valid, bad))
}

/// What the server keeps of a content: (kind, title).
pub type ContentKept = (&'static str, String);

pub fn contents() -> BoxedStrategy<Case<ContentKept>> {
    let titles = texts(&[
        ("News", "News"),
        ("  Padded\t", "Padded"),
        (&"😀".repeat(512), &"😀".repeat(512)),
        (&"e\u{301}".repeat(256), &"e\u{301}".repeat(256)),
        (&format!("{} ", "t".repeat(512)), &"t".repeat(512)),
    ]);
    let kinds: Vec<(Value, &'static str)> = vec![(json!("LIVE"), "LIVE"), (json!("VOD"), "VOD")];
    let valid = (select(ids("c")), select(kinds), select(titles)).prop_map(|(id, kind, title)| Item {
        json: object(vec![("id", Some(id.0)), ("kind", Some(kind.0)), ("title", Some(title.0))]),
        id: Some(id.1),
        outcome: Ok((kind.1, title.1)),
    });
    let mut bad = bad_ids("id");
    bad.extend([
        ("title", json!("")),
        ("title", json!("\u{3000}")),
        ("title", json!("T\u{0}")),
        ("title", json!("t".repeat(513))),
        ("title", json!("😀".repeat(513))),
    ]);
    batches(with_defects(valid, bad))
}
