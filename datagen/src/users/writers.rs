//! The import formats: CSV and NDJSON.

use std::io::{self, BufWriter, Write};

use ottstats_domain::user::UserDraft;
use serde::Serialize;

/// The CSV columns, in order.
pub(super) const CSV_HEADER: [&str; 8] =
    ["id", "name", "gender", "birthDate", "country", "state", "city", "registeredAt"];

/// Writes drafts as CSV with the header `id,name,gender,birthDate,country,state,city,
/// registeredAt`; a missing value is an empty cell.
pub fn write_csv<W: Write>(out: W, users: impl Iterator<Item = UserDraft>) -> io::Result<()> {
    let mut writer = csv::WriterBuilder::new().from_writer(out);
    writer.write_record(CSV_HEADER)?;
    for u in users {
        writer.write_record([
            u.id.as_str(),
            u.name.as_str(),
            u.gender.as_deref().unwrap_or(""),
            u.birth_date.as_deref().unwrap_or(""),
            u.country.as_deref().unwrap_or(""),
            u.state.as_deref().unwrap_or(""),
            u.city.as_deref().unwrap_or(""),
            u.registered_at.as_str(),
        ])?;
    }
    writer.flush()
}

/// One NDJSON line.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonUser<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gender: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<&'a str>,
    registered_at: &'a str,
}

/// Writes drafts as NDJSON: one object a line with the keys `id`, `name`, `gender`,
/// `birthDate`, `country`, `state`, `city` and `registeredAt`; a missing value is left out.
pub fn write_ndjson<W: Write>(out: W, users: impl Iterator<Item = UserDraft>) -> io::Result<()> {
    let mut out = BufWriter::new(out);
    for u in users {
        let line = JsonUser {
            id: &u.id,
            name: &u.name,
            gender: u.gender.as_deref(),
            birth_date: u.birth_date.as_deref(),
            country: u.country.as_deref(),
            state: u.state.as_deref(),
            city: u.city.as_deref(),
            registered_at: &u.registered_at,
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
