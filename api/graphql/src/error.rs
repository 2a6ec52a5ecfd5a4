//! The one place where failures become GraphQL errors with a stable `extensions.code`.

use async_graphql::{Error, ErrorExtensionValues};
use ottstats_domain::{DomainError, InputError, RepoError};

use crate::limits::LimitError;

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

/// A failure on its way to a client. It has no `Display` on purpose: async-graphql turns
/// anything displayable into an error without a code, so the only way from here to a
/// GraphQL error is the conversion below (`.into()`, or [`Gql`] on a result).
#[derive(Debug)]
pub enum ApiError {
    Input(InputError),
    Repo(RepoError),
    Unauthenticated(&'static str),
    /// What `argument` names does not exist for this tenant.
    NotFound {
        argument: &'static str,
        message: String,
    },
    /// The key's bucket lacks the points the request costs.
    RateLimited(String),
    /// A bound of the server (time, room) was reached; the request may pass later.
    Busy(String),
    /// The key does not grant the scope the field needs.
    Forbidden(ottstats_domain::access::Scope),
    /// The request asks for more than one request may.
    Limit(LimitError),
    /// A document asked for by hash that this server does not know (Apollo's automatic
    /// persisted queries: the client sends the text next).
    PersistedQueryNotFound,
    /// A document that the tenant's trusted documents do not hold.
    Untrusted(String),
    /// The key may not use this endpoint at all: an ingest key anywhere but the
    /// collector, or a key without `ingest` (or `write`) at it. `scope` names what the
    /// endpoint needs, when one scope would open it.
    WrongEndpoint {
        scope: Option<ottstats_domain::access::Scope>,
        message: String,
    },
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        ApiError::Input(e)
    }
}

impl From<RepoError> for ApiError {
    fn from(e: RepoError) -> Self {
        ApiError::Repo(e)
    }
}

impl From<LimitError> for ApiError {
    fn from(e: LimitError) -> Self {
        ApiError::Limit(e)
    }
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
            ApiError::Forbidden(_) | ApiError::Untrusted(_) | ApiError::WrongEndpoint { .. } => Code::Forbidden,
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

/// The one mapping: `extensions.code` from [`ApiError::code`], the message a client may
/// see, and the extensions beside the code. Internal failures are logged here and reach
/// the client as their kind only.
impl From<ApiError> for Error {
    fn from(error: ApiError) -> Error {
        let code = error.code();
        let mut ext = ErrorExtensionValues::default();
        ext.set("code", code.as_str());
        let message = match error {
            ApiError::Input(e) => {
                ext.set("argument", e.argument.as_str());
                e.to_string()
            }
            ApiError::Unauthenticated(message) => message.to_owned(),
            ApiError::NotFound { argument, message } => {
                ext.set("argument", argument);
                message
            }
            ApiError::RateLimited(message) | ApiError::Busy(message) | ApiError::Untrusted(message) => message,
            ApiError::WrongEndpoint { scope, message } => {
                if let Some(scope) = scope {
                    ext.set("scope", scope.name());
                }
                message
            }
            ApiError::Forbidden(scope) => {
                ext.set("scope", scope.name());
                format!("the API key does not grant the `{}` scope this field needs", scope.name())
            }
            ApiError::Limit(e) => {
                match &e {
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
                e.to_string()
            }
            ApiError::PersistedQueryNotFound => "PersistedQueryNotFound".to_owned(),
            ApiError::Repo(RepoError::Crowded(why)) => why,
            ApiError::Repo(e) => {
                // Details stay in the log; the client learns only the kind of failure.
                tracing::error!(error = %e, code = code.as_str(), "request failed");
                match code {
                    Code::Unavailable => "a dependency is unavailable; try again shortly",
                    _ => "internal error",
                }
                .to_owned()
            }
        };
        let mut error = Error::new(message);
        error.extensions = Some(ext);
        error
    }
}

/// What resolvers return.
pub type GqlResult<T> = Result<T, Error>;

/// How resolvers and handlers turn a failing result into a GraphQL one, through the one
/// mapping above: `.gql()` as is, `.gql_at("period")` with an input error's argument
/// placed under that argument (`from` → `period.from`).
pub trait Gql<T> {
    fn gql(self) -> GqlResult<T>;
    fn gql_at(self, argument: &str) -> GqlResult<T>;
}

impl<T, E: Into<ApiError>> Gql<T> for Result<T, E> {
    fn gql(self) -> GqlResult<T> {
        self.map_err(|e| e.into().into())
    }

    fn gql_at(self, argument: &str) -> GqlResult<T> {
        self.map_err(|e| e.into().within(argument).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(error: &Error, name: &str) -> Option<String> {
        match error.extensions.as_ref()?.get(name)? {
            async_graphql::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    #[test]
    fn an_input_error_is_placed_under_its_argument() {
        let e = Err::<(), _>(InputError::new("from", "not a date")).gql_at("period").unwrap_err();
        assert_eq!(e.message, "period.from: not a date");
        assert_eq!(ext(&e, "code").as_deref(), Some("BAD_USER_INPUT"));
        assert_eq!(ext(&e, "argument").as_deref(), Some("period.from"));
        let e = Err::<(), _>(DomainError::Input(InputError::new("to", "early"))).gql().unwrap_err();
        assert_eq!(ext(&e, "argument").as_deref(), Some("to"));
    }

    #[test]
    fn store_failures_say_only_their_kind() {
        let e = Err::<(), _>(RepoError::Internal("row 7 is corrupt".into())).gql_at("period").unwrap_err();
        assert_eq!((e.message.as_str(), ext(&e, "code").as_deref()), ("internal error", Some("INTERNAL")));
        let e = Err::<(), _>(RepoError::Conflict("deadlock".into())).gql().unwrap_err();
        assert_eq!(ext(&e, "code").as_deref(), Some("UNAVAILABLE"));
        assert!(!e.message.contains("deadlock"));
        let e = Err::<(), _>(RepoError::Crowded("too many at once".into())).gql().unwrap_err();
        assert_eq!((e.message.as_str(), ext(&e, "code").as_deref()), ("too many at once", Some("RATE_LIMITED")));
    }

    #[test]
    fn every_error_has_the_code_of_its_kind() {
        let scope = ottstats_domain::access::Scope::Pii;
        let e = Error::from(ApiError::Forbidden(scope));
        assert_eq!(ext(&e, "code").as_deref(), Some("FORBIDDEN"));
        assert_eq!(ext(&e, "scope").as_deref(), Some(scope.name()));
        let e = Error::from(ApiError::NotFound { argument: "id", message: "no such user".into() });
        assert_eq!((ext(&e, "code").as_deref(), ext(&e, "argument").as_deref()), (Some("NOT_FOUND"), Some("id")));
        let e = Error::from(ApiError::PersistedQueryNotFound);
        assert_eq!(
            (e.message.as_str(), ext(&e, "code").as_deref()),
            ("PersistedQueryNotFound", Some("PERSISTED_QUERY_NOT_FOUND"))
        );
    }
}
