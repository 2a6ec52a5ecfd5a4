//! Finding users by the beginning of their id (the dashboard's search box).

use async_trait::async_trait;

use crate::tenant::TenantId;
use crate::user::validate_id;
use crate::{InputError, RepoError};

/// The most ids one search returns.
pub const MAX_MATCHES: usize = 50;

/// The beginning of a user id: trimmed, 1 to 128 characters, storable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPrefix(String);

impl IdPrefix {
    pub fn parse(text: &str, argument: &str) -> Result<IdPrefix, InputError> {
        validate_id(text, argument).map(IdPrefix)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The least string above every string that starts with the prefix, in code point
    /// order (byte order of UTF-8, as the ids are compared): the prefix with its last
    /// character that can grow grown by one. `None` when none can (every string from the
    /// prefix on starts with it).
    pub fn upper_bound(&self) -> Option<String> {
        let mut chars: Vec<char> = self.0.chars().collect();
        while let Some(last) = chars.pop() {
            let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
            if let Some(next) = next {
                chars.push(next);
                return Some(chars.into_iter().collect());
            }
        }
        None
    }

    /// Whether `id` starts with the prefix.
    pub fn matches(&self, id: &str) -> bool {
        id.starts_with(&self.0)
    }
}

/// How many matches a search returns: 1 to [`MAX_MATCHES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchLimit(usize);

impl MatchLimit {
    pub fn parse(first: i32, argument: &str) -> Result<MatchLimit, InputError> {
        match usize::try_from(first) {
            Ok(n) if (1..=MAX_MATCHES).contains(&n) => Ok(MatchLimit(n)),
            _ => Err(InputError::new(argument, format!("must be 1 to {MAX_MATCHES}, got {first}"))),
        }
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// The ids of a tenant's users that start with a prefix.
#[async_trait]
pub trait UserSearch: Send + Sync {
    /// At most `limit` ids starting with `prefix`, in ascending order.
    async fn ids_with_prefix(
        &self,
        tenant: TenantId,
        prefix: &IdPrefix,
        limit: MatchLimit,
    ) -> Result<Vec<String>, RepoError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(text: &str) -> IdPrefix {
        IdPrefix::parse(text, "idPrefix").unwrap_or_else(|e| panic!("{text:?}: {e:?}"))
    }

    #[test]
    fn the_upper_bound_is_the_prefix_grown_at_its_end() {
        assert_eq!(prefix("u00").upper_bound().as_deref(), Some("u01"));
        assert_eq!(prefix("ab9").upper_bound().as_deref(), Some("ab:"));
        // ñ is U+00F1; U+00F2 is ò.
        assert_eq!(prefix("añ").upper_bound().as_deref(), Some("aò"));
        // U+D7FF is followed by U+E000: surrogates are no characters.
        assert_eq!(prefix("a\u{D7FF}").upper_bound().as_deref(), Some("a\u{E000}"));
        // The last character cannot grow: the one before it does.
        assert_eq!(prefix("a\u{10FFFF}").upper_bound().as_deref(), Some("b"));
        assert_eq!(prefix("\u{10FFFF}").upper_bound(), None);
    }

    #[test]
    fn every_id_with_the_prefix_is_below_the_bound_and_no_other_is_between() {
        let p = prefix("u1");
        let bound = p.upper_bound().unwrap_or_default();
        for id in ["u1", "u10", "u1\u{10FFFF}", "u19999"] {
            assert!(p.matches(id) && id >= p.as_str() && id < bound.as_str(), "{id}");
        }
        for id in ["u2", "u0", "u", "v1"] {
            let in_range = id >= p.as_str() && id < bound.as_str();
            assert!(!p.matches(id) && !in_range, "{id}");
        }
    }

    #[test]
    fn prefixes_and_limits_are_parsed_at_the_edge() {
        assert_eq!(prefix("  u00 ").as_str(), "u00");
        for bad in ["", "   ", "a\0b"] {
            let e = IdPrefix::parse(bad, "idPrefix").err().map(|e| e.argument);
            assert_eq!(e.as_deref(), Some("idPrefix"), "{bad:?}");
        }
        assert!(IdPrefix::parse(&"x".repeat(129), "idPrefix").is_err());
        assert_eq!(MatchLimit::parse(10, "first").map(MatchLimit::get), Ok(10));
        for bad in [0, -1, 51, i32::MAX] {
            assert_eq!(MatchLimit::parse(bad, "first").err().map(|e| e.argument).as_deref(), Some("first"), "{bad}");
        }
    }
}
