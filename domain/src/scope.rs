//! Data scopes: the parts of a tenant's data that change independently. Every read
//! depends on some scopes and every write changes some; a data version is kept per scope,
//! bumped by each write in its own transaction, so that whatever was computed from a scope
//! (a cached panel, a whole answer, a live push) can tell when it became stale.
//!
//! A scope's [`Scope::key`] is stored in the database (`data_versions.scope`) and sent
//! between processes (change notices), so it is part of the format: never change one.

use std::fmt;

use async_trait::async_trait;

use crate::RepoError;
use crate::tenant::TenantId;

/// A part of one tenant's data with a version of its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Registration statistics: who registered when, where, of which gender and age.
    Registrations,
    /// Contents: the titles and kinds that activity details show.
    Contents,
    /// One user's activity: their player events and logins.
    Activity(String),
    /// One user's profile: name, gender, birth date, place.
    User(String),
}

impl Scope {
    /// The stable text of the scope, as stored and as sent to other processes.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// The scope whose [`Scope::key`] is `key`; `None` for text that is not one.
    pub fn parse(key: &str) -> Option<Scope> {
        match key {
            "registrations" => Some(Scope::Registrations),
            "contents" => Some(Scope::Contents),
            _ => match key.split_once(':') {
                Some(("activity", user)) => Some(Scope::Activity(user.to_owned())),
                Some(("user", user)) => Some(Scope::User(user.to_owned())),
                _ => None,
            },
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Registrations => f.write_str("registrations"),
            Scope::Contents => f.write_str("contents"),
            Scope::Activity(user) => write!(f, "activity:{user}"),
            Scope::User(user) => write!(f, "user:{user}"),
        }
    }
}

/// The current data versions of scopes, read after the call began.
#[async_trait]
pub trait DataVersions: Send + Sync {
    /// The versions of `scopes` of `tenant`, in the order given (0 for a scope never
    /// written).
    async fn versions(&self, tenant: TenantId, scopes: &[Scope]) -> Result<Vec<i64>, RepoError>;
}

/// Where committed writes are announced: the scopes each one bumped.
pub trait ChangeSink: Send + Sync + fmt::Debug {
    /// Never waits: a notice is a hint that may be lost, never the truth.
    fn announce(&self, tenant: TenantId, scopes: &[Scope]);
}

/// Announces nothing (a store nobody subscribes to).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNotices;

impl ChangeSink for NoNotices {
    fn announce(&self, _tenant: TenantId, _scopes: &[Scope]) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_stored_texts_and_read_back() {
        let cases = [
            (Scope::Registrations, "registrations"),
            (Scope::Contents, "contents"),
            (Scope::Activity("u:1".into()), "activity:u:1"),
            (Scope::User("u1".into()), "user:u1"),
        ];
        for (scope, key) in cases {
            assert_eq!(scope.key(), key);
            assert_eq!(Scope::parse(key), Some(scope));
        }
        assert_eq!(Scope::parse("registration"), None);
        assert_eq!(Scope::parse("session:u1"), None);
    }
}
