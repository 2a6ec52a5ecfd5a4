//! What an API key may do: its scopes, its expiry, and the grant a request carries.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::error::InputError;
use crate::tenant::Tenant;

/// One thing a key may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Statistics: every query and subscription.
    Read,
    /// Names and birth dates of users; without it they read as null.
    Pii,
    /// Mutations.
    Write,
    /// The player collector, and nothing else.
    Ingest,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Pii, Scope::Write, Scope::Ingest];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Pii => "pii",
            Scope::Write => "write",
            Scope::Ingest => "ingest",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Scopes(u8);

impl Scopes {
    pub const NONE: Scopes = Scopes(0);
    /// What `tenant create` prints: everything but the collector.
    pub const DEFAULT: Scopes = Scopes(0b0111);

    pub fn of(scopes: &[Scope]) -> Scopes {
        Scopes(scopes.iter().fold(0, |bits, s| bits | s.bit()))
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether these scopes open the player collector alone (`ingest`, nothing that reads
    /// or writes through GraphQL): such a key may be put in a web page, so it sees no
    /// other endpoint.
    pub fn is_ingest_only(self) -> bool {
        self.contains(Scope::Ingest) && !self.contains(Scope::Read) && !self.contains(Scope::Write)
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// Scopes named by `read`, `pii`, `write` and `ingest`, separated by commas or spaces
    /// (any case). At least one; `pii` only beside `read` (names are read through statistics).
    pub fn parse(text: &str) -> Result<Scopes, InputError> {
        let mut bits = 0;
        for word in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty()) {
            let Some(scope) = Scope::ALL.into_iter().find(|s| s.name().eq_ignore_ascii_case(word)) else {
                return Err(InputError::new(
                    "scopes",
                    format!("unknown scope {word:?}: use read, pii, write or ingest"),
                ));
            };
            bits |= scope.bit();
        }
        let scopes = Scopes(bits);
        if scopes == Scopes::NONE {
            return Err(InputError::new("scopes", "name at least one of read, pii, write and ingest"));
        }
        if scopes.contains(Scope::Pii) && !scopes.contains(Scope::Read) {
            return Err(InputError::new("scopes", "pii widens read: give read with it"));
        }
        Ok(scopes)
    }
}

/// `read pii write`: the canonical spelling, also how scopes are stored.
impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::name).collect();
        f.write_str(&names.join(" "))
    }
}

/// A key's public id (`k` and 12 hex digits of its hash): safe to show, log and type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    pub fn parse(text: &str) -> Result<KeyId, InputError> {
        let text = text.trim();
        let valid = text.len() == 13
            && text.starts_with('k')
            && text[1..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid {
            return Err(InputError::new(
                "key",
                format!("{text:?} is not a key id (`k` and 12 hex digits, as `key list` shows)"),
            ));
        }
        Ok(KeyId(text.to_owned()))
    }

    /// The id of the key whose SHA-256 (lower-case hex) is `hash`.
    pub fn of_hash(hash: &str) -> KeyId {
        KeyId(format!("k{}", hash.get(..12).unwrap_or(hash)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a presented key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGrant {
    pub key: KeyId,
    pub scopes: Scopes,
    pub expires_at: Option<DateTime<Utc>>,
}

impl KeyGrant {
    /// Whether the key still opens its tenant at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

/// A request's authority: the tenant its key opens, and what the key grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub tenant: Tenant,
    pub grant: KeyGrant,
}

impl Access {
    pub fn allows(&self, scope: Scope) -> bool {
        self.grant.scopes.contains(scope)
    }
}

/// A key as `key list` shows it (never the key itself: only its hash is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub id: KeyId,
    pub name: String,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a new key is to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub name: String,
    pub scopes: Scopes,
    pub expires_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_in_any_order_and_case_and_print_canonically() {
        let s = Scopes::parse("Write, read  pii").unwrap();
        assert_eq!(s.to_string(), "read pii write");
        assert_eq!(s, Scopes::DEFAULT);
        assert!(s.contains(Scope::Pii) && !s.contains(Scope::Ingest));
        assert_eq!(Scopes::parse("ingest").unwrap().to_string(), "ingest");
        assert_eq!(Scopes::parse(&Scopes::DEFAULT.to_string()).unwrap(), Scopes::DEFAULT);
        assert!(Scopes::parse("ingest").unwrap().is_ingest_only());
        assert!(!Scopes::parse("ingest read").unwrap().is_ingest_only());
        assert!(!Scopes::parse("ingest write").unwrap().is_ingest_only());
        assert!(!Scopes::DEFAULT.is_ingest_only());
    }

    #[test]
    fn bad_scopes_name_the_argument() {
        assert_eq!(Scopes::parse("read admin").unwrap_err().argument, "scopes");
        assert!(Scopes::parse(" , ").is_err());
        assert!(Scopes::parse("pii").is_err(), "pii alone reads nothing");
    }

    #[test]
    fn key_ids_are_k_and_twelve_hex_digits() {
        let id = KeyId::of_hash("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(id.as_str(), "kba7816bf8f01");
        assert_eq!(KeyId::parse(" kba7816bf8f01 ").unwrap(), id);
        assert!(KeyId::parse("kBA7816BF8F01").is_err());
        assert!(KeyId::parse("kba7816bf8f0").is_err());
        assert!(KeyId::parse("ott_1_abc").is_err());
    }

    #[test]
    fn a_grant_lives_until_its_expiry() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let grant = KeyGrant { key: KeyId::of_hash("00"), scopes: Scopes::DEFAULT, expires_at: Some(at) };
        assert!(grant.is_live(at - chrono::Duration::seconds(1)));
        assert!(!grant.is_live(at));
        assert!(KeyGrant { expires_at: None, ..grant }.is_live(at));
    }
}
