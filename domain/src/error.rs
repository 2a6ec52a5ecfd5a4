use thiserror::Error;

/// Bad input from a caller, naming the argument (as a path such as `period.from`) that
/// was wrong so that a client can point at it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{argument}: {message}")]
pub struct InputError {
    pub argument: String,
    pub message: String,
}

impl InputError {
    pub fn new(argument: impl Into<String>, message: impl Into<String>) -> Self {
        Self { argument: argument.into(), message: message.into() }
    }

    /// The same error, its argument placed under `parent` (`from` → `period.from`).
    pub fn within(self, parent: &str) -> Self {
        Self { argument: format!("{parent}.{}", self.argument), message: self.message }
    }
}

/// A failure of a store behind a repository trait.
#[derive(Debug, Clone, Error)]
pub enum RepoError {
    /// The store could not be reached or timed out; the request may succeed later.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Concurrent writers conflicted (a deadlock or a serialization failure): the write
    /// was rolled back whole, and trying it again may succeed.
    #[error("write conflict: {0}")]
    Conflict(String),
    /// The tenant has as many queries of this kind under way as it may: refused at once
    /// so that other tenants keep their turns; retrying shortly may succeed.
    #[error("too busy: {0}")]
    Crowded(String),
    /// Anything else: a bug or a corrupt row. Logged, never shown to clients.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// Everything a use case can fail with.
#[derive(Debug, Error)]
pub enum DomainError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Repo(#[from] RepoError),
}
