//! What every Relay connection here shares: the `first/after/last/before` arguments read
//! into a domain [`PageRequest`], opaque cursors, and `PageInfo`.

use async_graphql::SimpleObject;
use chrono::DateTime;
use ottstats_domain::InputError;
use ottstats_domain::page::{Cursor, PageEnd, PageRequest};

use crate::error::{ApiError, GqlResult};

/// The largest page, with `first` or with `last`.
pub const MAX_PAGE: i32 = 1_000;
/// The page when neither `first` nor `last` is given.
pub const DEFAULT_PAGE: i32 = 100;

/// Where a page stands in its connection (the Relay cursor connection specification).
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct PageInfo {
    /// Whether items follow this page: with `first`, whether more lie before `before`
    /// (or the end); with `last`, whether any lie at or after `before`.
    pub has_next_page: bool,
    /// Whether items precede this page: with `last`, whether more lie after `after` (or
    /// the start); with `first`, whether any lie at or before `after`.
    pub has_previous_page: bool,
    /// The first edge's cursor: pass it as `before` for the page before; null on an
    /// empty page.
    pub start_cursor: Option<String>,
    /// The last edge's cursor: pass it as `after` for the next page; null on an empty
    /// page.
    pub end_cursor: Option<String>,
}

/// A connection's arguments as sent.
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

fn bad(argument: &str, message: &str) -> async_graphql::Error {
    ApiError::Input(InputError::new(argument, message)).into()
}

fn size(n: i32, argument: &str) -> GqlResult<usize> {
    match usize::try_from(n) {
        Ok(n) if n <= MAX_PAGE as usize => Ok(n),
        _ => Err(bad(argument, &format!("must be 0 to {MAX_PAGE}"))),
    }
}

impl PageArgs {
    /// The page asked for, cursors read by `kind`: the `first` 100 when neither `first`
    /// nor `last` is given.
    pub fn parse(self, kind: CursorKind) -> GqlResult<PageRequest> {
        let (end, limit) = match (self.first, self.last) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "last",
                    "cannot be given with `first`: page forward with `first` and `after`, or backward with `last` and `before`",
                ));
            }
            (Some(first), None) => (PageEnd::First, size(first, "first")?),
            (None, Some(last)) => (PageEnd::Last, size(last, "last")?),
            (None, None) => (PageEnd::First, DEFAULT_PAGE as usize),
        };
        let cursor = |text: Option<String>, argument: &str| match text {
            Some(t) => kind.decode(&t).map(Some).ok_or_else(|| bad(argument, "is not a cursor of this connection")),
            None => Ok(None),
        };
        Ok(PageRequest { after: cursor(self.after, "after")?, before: cursor(self.before, "before")?, end, limit })
    }
}

/// Which connection a cursor belongs to: cursors of one are refused by another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CursorKind {
    /// `<epoch ms>:<event id>`, as event cursors always were.
    Event,
    /// `l:<epoch ms>:<login id>`.
    Login,
}

impl CursorKind {
    fn prefix(self) -> &'static str {
        match self {
            CursorKind::Event => "",
            CursorKind::Login => "l:",
        }
    }

    /// Cursors are opaque to clients: hex of the text above.
    pub fn encode(self, at: DateTime<chrono::Utc>, id: &str) -> String {
        let raw = format!("{}{}:{id}", self.prefix(), at.timestamp_millis());
        raw.bytes().map(|b| format!("{b:02x}")).collect()
    }

    pub fn decode(self, cursor: &str) -> Option<Cursor> {
        if !cursor.len().is_multiple_of(2) {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..cursor.len())
            .step_by(2)
            .map(|i| cursor.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect();
        let raw = String::from_utf8(bytes?).ok()?;
        let (ms, id) = raw.strip_prefix(self.prefix())?.split_once(':')?;
        let occurred_at = DateTime::from_timestamp_millis(ms.parse().ok()?)?;
        Some(Cursor { occurred_at, id: id.to_owned() })
    }
}

/// `PageInfo` of a page whose edges have these cursors.
pub fn page_info(cursors: &[String], has_previous_page: bool, has_next_page: bool) -> PageInfo {
    PageInfo {
        has_next_page,
        has_previous_page,
        start_cursor: cursors.first().cloned(),
        end_cursor: cursors.last().cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(first: Option<i32>, last: Option<i32>) -> PageArgs {
        PageArgs { first, after: None, last, before: None }
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let at = DateTime::from_timestamp_millis(1_767_225_600_123).unwrap();
        let c = CursorKind::Event.decode(&CursorKind::Event.encode(at, "e:1/ü")).unwrap();
        assert_eq!((c.occurred_at, c.id.as_str()), (at, "e:1/ü"));
        let c = CursorKind::Login.decode(&CursorKind::Login.encode(at, "l:7")).unwrap();
        assert_eq!((c.occurred_at, c.id.as_str()), (at, "l:7"));
        for garbage in ["zz", "abc", "", "3a"] {
            assert_eq!(CursorKind::Event.decode(garbage), None, "{garbage}");
        }
    }

    #[test]
    fn a_cursor_of_one_connection_is_refused_by_the_other() {
        let at = DateTime::from_timestamp_millis(5).unwrap();
        assert_eq!(CursorKind::Event.decode(&CursorKind::Login.encode(at, "x")), None);
        assert_eq!(CursorKind::Login.decode(&CursorKind::Event.encode(at, "x")), None);
    }

    #[test]
    fn first_and_last_are_bounded_and_exclusive() {
        let forward = args(Some(3), None).parse(CursorKind::Event).unwrap();
        assert_eq!((forward.end, forward.limit), (PageEnd::First, 3));
        let backward = args(None, Some(1_000)).parse(CursorKind::Event).unwrap();
        assert_eq!((backward.end, backward.limit), (PageEnd::Last, 1_000));
        let neither = args(None, None).parse(CursorKind::Event).unwrap();
        assert_eq!((neither.end, neither.limit), (PageEnd::First, 100));
        for (a, name) in
            [(args(Some(1_001), None), "first"), (args(None, Some(-1)), "last"), (args(Some(1), Some(1)), "last")]
        {
            let e = a.parse(CursorKind::Event).unwrap_err();
            let argument = e.extensions.as_ref().and_then(|x| x.get("argument")).cloned();
            assert_eq!(argument, Some(async_graphql::Value::from(name)), "{:?}", e.message);
        }
    }
}
