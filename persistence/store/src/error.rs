use ottstats_domain::RepoError;
use sea_orm::{DbErr, RuntimeErr};

/// Trouble reaching or using the database (worth retrying) is `Unavailable`, anything
/// else `Internal`.
pub(crate) fn db_err(e: DbErr) -> RepoError {
    let conflict = match &e {
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => is_conflict(s),
        _ => false,
    };
    if conflict {
        return RepoError::Conflict(e.to_string());
    }
    let transient = match &e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => is_transient(s),
        _ => false,
    };
    if transient { RepoError::Unavailable(e.to_string()) } else { RepoError::Internal(e.to_string()) }
}

/// A dropped connection, a closed pool, a server going away or overloaded (SQLSTATE
/// classes 08, 53, 57P), or a busy SQLite file.
fn is_transient(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match e {
        Error::Io(_) | Error::Tls(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed => true,
        Error::Database(db) => db.code().is_some_and(|code| transient_code(code.as_ref())),
        _ => false,
    }
}

/// PostgreSQL's serialization failure (40001) and deadlock (40P01): the transaction was
/// rolled back whole.
fn is_conflict(e: &sea_orm::sqlx::Error) -> bool {
    matches!(e, sea_orm::sqlx::Error::Database(db) if db.code().is_some_and(|c| c == "40001" || c == "40P01"))
}

/// PostgreSQL reports a five-character SQLSTATE (25006: a read-only transaction, as on
/// a standby; class 53 includes a full disk); SQLite a number whose low byte is the
/// primary code (5 SQLITE_BUSY, 6 SQLITE_LOCKED, 8 SQLITE_READONLY, 10 SQLITE_IOERR,
/// 13 SQLITE_FULL, 14 SQLITE_CANTOPEN). The storage, not the request, is at fault.
fn transient_code(code: &str) -> bool {
    if code.len() == 5 {
        return code.starts_with("08") || code.starts_with("53") || code.starts_with("57P") || code == "25006";
    }
    code.parse::<u32>().is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
}

/// A stored row that does not read back as a domain value: corruption or a bug.
pub(crate) fn corrupt(what: &str, detail: impl std::fmt::Display) -> RepoError {
    RepoError::Internal(format!("stored {what} is invalid: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_trouble_is_unavailable() {
        let io = sea_orm::sqlx::Error::Io(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"));
        let e = db_err(DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(io))));
        assert!(matches!(e, RepoError::Unavailable(_)));
        let e = db_err(DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(sea_orm::sqlx::Error::PoolTimedOut))));
        assert!(matches!(e, RepoError::Unavailable(_)));
        let e = db_err(DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(sea_orm::sqlx::Error::RowNotFound))));
        assert!(matches!(e, RepoError::Internal(_)));
        assert!(matches!(db_err(DbErr::Custom("x".into())), RepoError::Internal(_)));
        assert!(["08006", "53300", "57P01", "5", "517", "6"].iter().all(|c| transient_code(c)));
        assert!(["23505", "42P01", "19", "2067"].iter().all(|c| !transient_code(c)));
    }
}
