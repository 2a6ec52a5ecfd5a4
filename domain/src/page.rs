//! Pages of a connection, as the Relay cursor connection specification defines them: the
//! items between two cursors (the *window*), the first or the last few of it, and whether
//! items lie before and after the page.

use chrono::{DateTime, Utc};

/// A position in a connection ordered by (instant, id): a cursor, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub occurred_at: DateTime<Utc>,
    pub id: String,
}

/// Which end of the window a page is taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEnd {
    /// `first`: the window's first items, paging forward.
    First,
    /// `last`: the window's last items, paging backward.
    Last,
}

/// What a client asked for: the window `(after, before)` and how much of which end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<Cursor>,
    pub before: Option<Cursor>,
    pub end: PageEnd,
    pub limit: usize,
}

impl PageRequest {
    /// The first `limit` items of the whole connection.
    pub fn first(limit: usize) -> PageRequest {
        PageRequest { after: None, before: None, end: PageEnd::First, limit }
    }

    /// The cursor on the side the page is not read from, past which storage looks for one
    /// more item: `after` when paging forward, `before` when paging backward.
    pub fn opposite_cursor(&self) -> Option<&Cursor> {
        match self.end {
            PageEnd::First => self.after.as_ref(),
            PageEnd::Last => self.before.as_ref(),
        }
    }
}

/// A page, in the connection's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_previous: bool,
    pub has_next: bool,
}

impl<T> Page<T> {
    /// The page of `read`: up to `limit + 1` items of the window, read from the end asked
    /// (so in reverse order for [`PageEnd::Last`]). `beyond` says whether an item lies at
    /// or past [`PageRequest::opposite_cursor`], outside the window.
    ///
    /// Relay's `HasNextPage` with `first` (and `HasPreviousPage` with `last`) is whether
    /// the window holds more than the page; on the other side the specification lets a
    /// server say whether items exist beyond the cursor when it can tell cheaply, and one
    /// indexed row can, so a client paging forward learns it can go back, and vice versa.
    pub fn assemble(mut read: Vec<T>, beyond: bool, request: &PageRequest) -> Page<T> {
        let more = read.len() > request.limit;
        read.truncate(request.limit);
        match request.end {
            PageEnd::First => Page { items: read, has_previous: beyond, has_next: more },
            PageEnd::Last => {
                read.reverse();
                Page { items: read, has_previous: more, has_next: beyond }
            }
        }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_previous: self.has_previous,
            has_next: self.has_next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(end: PageEnd, limit: usize) -> PageRequest {
        PageRequest { after: None, before: None, end, limit }
    }

    #[test]
    fn a_forward_page_drops_the_extra_item_and_says_more_follow() {
        let p = Page::assemble(vec![1, 2, 3], false, &request(PageEnd::First, 2));
        assert_eq!(p, Page { items: vec![1, 2], has_previous: false, has_next: true });
        let p = Page::assemble(vec![1, 2], true, &request(PageEnd::First, 2));
        assert_eq!(p, Page { items: vec![1, 2], has_previous: true, has_next: false });
    }

    #[test]
    fn a_backward_page_is_read_from_the_end_and_given_in_order() {
        // The window 1..=5 read backward for last: 2 is 5, 4, 3.
        let p = Page::assemble(vec![5, 4, 3], false, &request(PageEnd::Last, 2));
        assert_eq!(p, Page { items: vec![4, 5], has_previous: true, has_next: false });
        let p = Page::assemble(vec![2, 1], true, &request(PageEnd::Last, 2));
        assert_eq!(p, Page { items: vec![1, 2], has_previous: false, has_next: true });
    }

    #[test]
    fn an_empty_page_has_nothing_either_side_unless_storage_saw_some() {
        let p: Page<i32> = Page::assemble(vec![], false, &request(PageEnd::First, 0));
        assert_eq!(p, Page { items: vec![], has_previous: false, has_next: false });
        // `first: 0` over a non-empty window: one item read means more follow.
        let p = Page::assemble(vec![7], false, &request(PageEnd::First, 0));
        assert_eq!(p, Page { items: vec![], has_previous: false, has_next: true });
    }

    #[test]
    fn the_opposite_cursor_is_the_one_not_read_from() {
        let at = |id: &str| Cursor { occurred_at: DateTime::UNIX_EPOCH, id: id.into() };
        let mut r = PageRequest { after: Some(at("a")), before: Some(at("b")), end: PageEnd::First, limit: 1 };
        assert_eq!(r.opposite_cursor(), Some(&at("a")));
        r.end = PageEnd::Last;
        assert_eq!(r.opposite_cursor(), Some(&at("b")));
    }
}
