//! The one place where failures become GraphQL errors with a stable `extensions.code`.

use async_graphql::{Error, ErrorExtensions};
use ottstats_domain::{DomainError, InputError, RepoError};

/// Every code a client can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    BadUserInput,
    Unauthenticated,
    Forbidden,
    NotFound,
    QueryTooComplex,
    RateLimited,
    PersistedQueryNotFound,
    Unavailable,
    Internal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadUserInput => "BAD_USER_INPUT",
            Code::Unauthenticated => "UNAUTHENTICATED",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NOT_FOUND",
            Code::QueryTooComplex => "QUERY_TOO_COMPLEX",
            Code::RateLimited => "RATE_LIMITED",
            Code::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Code::Unavailable => "UNAVAILABLE",
            Code::Internal => "INTERNAL",
        }
    }
}

/// A failure on its way to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// What `argument` names does not exist for this tenant.
    #[error("{message}")]
    NotFound { argument: &'static str, message: String },
    /// The key's bucket lacks the points the request costs.
    #[error("{0}")]
    RateLimited(String),
    /// A bound of the server (time, room) was reached; the request may pass later.
    #[error("{0}")]
    Busy(String),
    /// The key does not grant the scope the field needs.
    #[error("the API key does not grant the `{}` scope this field needs", .0.name())]
    Forbidden(ottstats_domain::access::Scope),
    /// The request asks for more than one request may.
    #[error(transparent)]
    Limit(#[from] crate::limits::LimitError),
    /// A document asked for by hash that this server does not know (Apollo's automatic
    /// persisted queries: the client sends the text next).
    #[error("PersistedQueryNotFound")]
    PersistedQueryNotFound,
    /// A document that the tenant's trusted documents do not hold.
    #[error("{0}")]
    Untrusted(String),
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Input(e) => ApiError::Input(e),
            DomainError::Repo(e) => ApiError::Repo(e),
        }
    }
}

impl ApiError {
    /// The same error with its argument placed under `parent` (`from` → `period.from`).
    pub fn within(self, parent: &str) -> ApiError {
        match self {
            ApiError::Input(e) => ApiError::Input(e.within(parent)),
            other => other,
        }
    }

    pub fn code(&self) -> Code {
        match self {
            ApiError::Input(_) => Code::BadUserInput,
            ApiError::Unauthenticated(_) => Code::Unauthenticated,
            ApiError::NotFound { .. } => Code::NotFound,
            ApiError::Limit(_) => Code::QueryTooComplex,
            ApiError::Forbidden(_) | ApiError::Untrusted(_) => Code::Forbidden,
            ApiError::PersistedQueryNotFound => Code::PersistedQueryNotFound,
            ApiError::RateLimited(_) => Code::RateLimited,
            ApiError::Busy(_) => Code::Unavailable,
            // A conflict that outlasted the store's own retries.
            ApiError::Repo(RepoError::Unavailable(_) | RepoError::Conflict(_)) => Code::Unavailable,
            // A tenant past its share of statistics queries (a limit on use).
            ApiError::Repo(RepoError::Crowded(_)) => Code::RateLimited,
            ApiError::Repo(RepoError::Internal(_)) => Code::Internal,
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> Error {
        match self {
            ApiError::Input(e) => Error::new(e.to_string()).extend_with(|_, ext| {
                ext.set("code", Code::BadUserInput.as_str());
                ext.set("argument", e.argument.as_str());
            }),
            ApiError::Unauthenticated(msg) => {
                Error::new(*msg).extend_with(|_, ext| ext.set("code", Code::Unauthenticated.as_str()))
            }
            ApiError::NotFound { argument, message } => Error::new(message.as_str()).extend_with(|_, ext| {
                ext.set("code", Code::NotFound.as_str());
                ext.set("argument", *argument);
            }),
            ApiError::PersistedQueryNotFound => Error::new(self.to_string())
                .extend_with(|_, ext| ext.set("code", Code::PersistedQueryNotFound.as_str())),
            ApiError::RateLimited(msg) | ApiError::Busy(msg) | ApiError::Untrusted(msg) => {
                let code = self.code();
                Error::new(msg.as_str()).extend_with(|_, ext| ext.set("code", code.as_str()))
            }
            ApiError::Forbidden(scope) => Error::new(self.to_string()).extend_with(|_, ext| {
                ext.set("code", Code::Forbidden.as_str());
                ext.set("scope", scope.name());
            }),
            ApiError::Limit(e) => Error::new(e.to_string()).extend_with(|_, ext| {
                ext.set("code", Code::QueryTooComplex.as_str());
                use crate::limits::LimitError;
                match e {
                    LimitError::Exceeded { limit, max, actual } => {
                        ext.set("limit", *limit);
                        ext.set("max", *max);
                        ext.set("actual", *actual);
                    }
                    LimitError::ListTooLong { argument, max, actual } => {
                        ext.set("limit", "listLength");
                        ext.set("argument", argument.as_str());
                        ext.set("max", *max);
                        ext.set("actual", *actual);
                    }
                    LimitError::FragmentCycle(_) => {}
                }
            }),
            ApiError::Repo(RepoError::Crowded(why)) => {
                Error::new(why.as_str()).extend_with(|_, ext| ext.set("code", Code::RateLimited.as_str()))
            }
            ApiError::Repo(e) => {
                // Details stay in the log; the client learns only the kind of failure.
                let code = self.code();
                tracing::error!(error = %e, code = code.as_str(), "request failed");
                let message = match code {
                    Code::Unavailable => "a dependency is unavailable; try again shortly",
                    _ => "internal error",
                };
                Error::new(message).extend_with(|_, ext| ext.set("code", code.as_str()))
            }
        }
    }
}

/// Shorthand for resolvers: domain failures as GraphQL errors.
pub type GqlResult<T> = Result<T, Error>;

/// Maps a domain result into a GraphQL one, naming input errors under `argument`.
pub fn arg<T>(result: Result<T, InputError>, argument: &str) -> GqlResult<T> {
    result.map_err(|e| ApiError::Input(e.within(argument)).extend())
}

/// Maps a use-case result into a GraphQL one.
pub fn domain<T>(result: Result<T, DomainError>) -> GqlResult<T> {
    result.map_err(|e| ApiError::from(e).extend())
}
