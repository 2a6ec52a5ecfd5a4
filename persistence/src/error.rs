use ottstats_domain::RepoError;
use sea_orm::DbErr;

/// Connection trouble is `Unavailable` (worth retrying), anything else `Internal`.
pub(crate) fn db_err(e: DbErr) -> RepoError {
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => RepoError::Unavailable(e.to_string()),
        other => RepoError::Internal(other.to_string()),
    }
}

/// A stored row that does not read back as a domain value: corruption or a bug.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> RepoError {
    RepoError::Internal(format!("stored {what} is invalid: {detail}"))
}
