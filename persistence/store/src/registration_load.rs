//! Reading every registration of a tenant for the index, fast and from one snapshot: the
//! version and the rows come from the same read-only transaction. PostgreSQL streams
//! them with `COPY … TO STDOUT` (text format, parsed here); SQLite streams rows.

use futures_util::StreamExt;
use ottstats_domain::RepoError;
use ottstats_domain::country::Country;
use ottstats_domain::gender::Gender;
use ottstats_domain::registration_log::{RegistrationRef, RegistrationSnapshot};
use ottstats_domain::scope::Scope;
use ottstats_domain::tenant::TenantId;
use sea_orm::DatabaseConnection;
use sea_orm::sqlx::{self, Row};

use crate::error::corrupt;

type Sink<'s> = &'s mut (dyn for<'a> FnMut(RegistrationRef<'a>) + Send);

fn sqlx_err(e: sqlx::Error) -> RepoError {
    crate::error::db_err(sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e))))
}

const VERSION_SQL: &str = "SELECT version FROM data_versions WHERE tenant_id = $1 AND scope = $2";

fn columns(tenant: TenantId) -> String {
    // The tenant id is a number this process holds, so it is written into the statement
    // (COPY takes no parameters).
    format!(
        "SELECT registered_at, gender, age, country, state, city FROM registered_users WHERE tenant_id = {}",
        tenant.0
    )
}

pub(crate) async fn postgres(
    db: &DatabaseConnection,
    tenant: TenantId,
    sink: Sink<'_>,
) -> Result<RegistrationSnapshot, RepoError> {
    let mut tx = db.get_postgres_connection_pool().begin().await.map_err(sqlx_err)?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await
        .map_err(sqlx_err)?;
    let version: Option<i64> = sqlx::query_scalar(VERSION_SQL)
        .bind(tenant.0)
        .bind(Scope::Registrations.key())
        .fetch_optional(&mut *tx)
        .await
        .map_err(sqlx_err)?;
    let mut copy = tx.copy_out_raw(&format!("COPY ({}) TO STDOUT", columns(tenant))).await.map_err(sqlx_err)?;
    let mut pending: Vec<u8> = Vec::new();
    while let Some(chunk) = copy.next().await {
        let chunk = chunk.map_err(sqlx_err)?;
        pending.extend_from_slice(&chunk);
        let Some(end) = pending.iter().rposition(|b| *b == b'\n') else { continue };
        for line in pending[..end].split(|b| *b == b'\n') {
            copy_line(line, sink)?;
        }
        pending.drain(..=end);
    }
    if !pending.is_empty() {
        copy_line(&pending, sink)?;
    }
    drop(copy);
    tx.commit().await.map_err(sqlx_err)?;
    Ok(RegistrationSnapshot { version: version.unwrap_or(0) })
}

/// One line of `COPY` text output: tab-separated, `\N` for NULL, backslash escapes.
fn copy_line(line: &[u8], sink: Sink<'_>) -> Result<(), RepoError> {
    let line = std::str::from_utf8(line).map_err(|e| corrupt("registration row", e))?;
    let mut fields = line.split('\t');
    let mut next = || fields.next().ok_or_else(|| corrupt("registration row", line));
    let (ts, gender, age, country, state, city) = (next()?, next()?, next()?, next()?, next()?, next()?);
    let null = |s: &str| s == "\\N";
    let state = (!null(state)).then(|| unescape(state));
    let city = (!null(city)).then(|| unescape(city));
    let country = if null(country) { None } else { Some(parse_country(country)?) };
    let age = if null(age) { None } else { age.parse::<i16>().map_err(|e| corrupt("age", e))?.try_into().ok() };
    sink(RegistrationRef {
        registered_at_ms: ts.parse().map_err(|e| corrupt("registration instant", e))?,
        gender: parse_gender(gender)?,
        age,
        country,
        state: state.as_deref(),
        city: city.as_deref(),
    });
    Ok(())
}

/// A stored country code, as the index and the change records read it.
pub(crate) fn parse_country(code: &str) -> Result<Country, RepoError> {
    Country::parse(code).ok_or_else(|| corrupt("country", code))
}

/// A stored gender name, likewise.
pub(crate) fn parse_gender(name: &str) -> Result<Gender, RepoError> {
    name.parse::<Gender>().map_err(|e| corrupt("gender", e))
}

/// Undoes COPY's text escapes (only backslash sequences are escaped).
fn unescape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('\\') {
        return s.into();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out.into()
}

pub(crate) async fn sqlite(
    db: &DatabaseConnection,
    tenant: TenantId,
    sink: Sink<'_>,
) -> Result<RegistrationSnapshot, RepoError> {
    // In WAL mode the first read of a transaction fixes its snapshot for the rest.
    let mut tx = db.get_sqlite_connection_pool().begin().await.map_err(sqlx_err)?;
    let version: Option<i64> = sqlx::query_scalar(VERSION_SQL)
        .bind(tenant.0)
        .bind(Scope::Registrations.key())
        .fetch_optional(&mut *tx)
        .await
        .map_err(sqlx_err)?;
    {
        let mut rows = sqlx::query(
            "SELECT registered_at, gender, age, country, state, city FROM registered_users WHERE tenant_id = $1",
        )
        .bind(tenant.0)
        .fetch(&mut *tx);
        while let Some(row) = rows.next().await {
            let row = row.map_err(sqlx_err)?;
            let get = |e: sqlx::Error| corrupt("registration row", e);
            let gender: &str = row.try_get(1).map_err(get)?;
            let age: Option<i64> = row.try_get(2).map_err(get)?;
            let country: Option<&str> = row.try_get(3).map_err(get)?;
            sink(RegistrationRef {
                registered_at_ms: row.try_get(0).map_err(get)?,
                gender: parse_gender(gender)?,
                age: age.and_then(|a| u8::try_from(a).ok()),
                country: country.map(parse_country).transpose()?,
                state: row.try_get(4).map_err(get)?,
                city: row.try_get(5).map_err(get)?,
            });
        }
    }
    tx.commit().await.map_err(sqlx_err)?;
    Ok(RegistrationSnapshot { version: version.unwrap_or(0) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_escapes_come_undone() {
        assert_eq!(unescape("Viña del Mar"), "Viña del Mar");
        assert_eq!(unescape("a\\tb\\\\c\\nd"), "a\tb\\c\nd");
    }

    #[test]
    fn copy_lines_read_nulls_and_values() {
        let mut got = Vec::new();
        let mut sink = |r: RegistrationRef<'_>| {
            got.push((
                r.registered_at_ms,
                r.gender,
                r.age,
                r.country,
                r.state.map(str::to_owned),
                r.city.map(str::to_owned),
            ))
        };
        copy_line(b"1700000000123\tFEMALE\t30\tCL\tMetropolitana\tSanti\\\\ago", &mut sink).unwrap();
        copy_line(b"5\tUNKNOWN\t\\N\t\\N\t\\N\t\\N", &mut sink).unwrap();
        assert!(copy_line(b"5\tUNKNOWN", &mut sink).is_err());
        assert_eq!(got[0].0, 1_700_000_000_123);
        assert_eq!(got[0].2, Some(30));
        assert_eq!(got[0].3, Country::parse("CL"));
        assert_eq!(got[0].5.as_deref(), Some("Santi\\ago"));
        assert_eq!(got[1], (5, Gender::Unknown, None, None, None, None));
    }
}
