//! The CSV header, checked before any row is read: a column the importer does not know
//! (`fullname` for `name`) would otherwise be skipped silently and a required one read as
//! empty on every row, so the whole file is refused, naming what is wrong.

use std::fmt::Write as _;

/// A column an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The documented name (camelCase, as in GraphQL).
    pub name: &'static str,
    /// The snake_case spelling also accepted, if it differs.
    pub alias: Option<&'static str>,
    /// A header without it is refused.
    pub required: bool,
}

impl Column {
    pub const fn required(name: &'static str) -> Column {
        Column { name, alias: None, required: true }
    }

    pub const fn optional(name: &'static str) -> Column {
        Column { name, alias: None, required: false }
    }

    pub const fn alias(self, alias: &'static str) -> Column {
        Column { alias: Some(alias), ..self }
    }

    fn answers_to(&self, header: &str) -> bool {
        self.name == header || self.alias == Some(header)
    }
}

/// Checks a header line (its fields already trimmed) against the columns of an import:
/// every field must be a column, none may appear twice (under either spelling), and
/// every required column must be there. The error names every fault at once.
pub fn check(headers: &[&str], columns: &[Column]) -> Result<(), String> {
    let mut faults = Vec::new();
    let mut seen = vec![false; columns.len()];
    for header in headers {
        match columns.iter().position(|c| c.answers_to(header)) {
            None => faults.push(format!("unknown column {header:?}")),
            Some(i) if seen[i] => faults.push(format!("column {:?} appears twice", columns[i].name)),
            Some(i) => seen[i] = true,
        }
    }
    let missing: Vec<&str> =
        columns.iter().zip(&seen).filter(|(c, seen)| c.required && !**seen).map(|(c, _)| c.name).collect();
    if !missing.is_empty() {
        faults.push(format!("missing: {}", missing.join(",")));
    }
    if faults.is_empty() {
        return Ok(());
    }
    let expected: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let required: Vec<&str> = columns.iter().filter(|c| c.required).map(|c| c.name).collect();
    let mut message = format!(
        "the CSV header does not fit: {}; expected columns: {} (required: {})",
        faults.join("; "),
        expected.join(","),
        required.join(",")
    );
    let aliases: Vec<String> = columns.iter().filter_map(|c| c.alias.map(|a| format!("{a} for {}", c.name))).collect();
    if !aliases.is_empty() {
        let _ = write!(message, "; also accepted: {}", aliases.join(", "));
    }
    Err(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        Column::required("id"),
        Column::required("name"),
        Column::optional("birthDate").alias("birth_date"),
        Column::required("registeredAt").alias("registered_at"),
    ];

    #[test]
    fn any_order_and_either_spelling_fit() {
        assert_eq!(check(&["registered_at", "name", "id"], COLUMNS), Ok(()));
        assert_eq!(check(&["id", "name", "birthDate", "registeredAt"], COLUMNS), Ok(()));
    }

    #[test]
    fn every_fault_is_named_with_what_is_expected() {
        let e = check(&["id", "fullname", "registeredAt", "nickname"], COLUMNS).unwrap_err();
        assert_eq!(
            e,
            "the CSV header does not fit: unknown column \"fullname\"; unknown column \"nickname\"; missing: name; \
             expected columns: id,name,birthDate,registeredAt (required: id,name,registeredAt); \
             also accepted: birth_date for birthDate, registered_at for registeredAt"
        );
    }

    #[test]
    fn a_column_twice_is_refused_under_either_spelling() {
        let e = check(&["id", "name", "registeredAt", "registered_at"], COLUMNS).unwrap_err();
        assert!(e.starts_with("the CSV header does not fit: column \"registeredAt\" appears twice; expected"), "{e}");
        let e = check(&[], COLUMNS).unwrap_err();
        assert!(e.starts_with("the CSV header does not fit: missing: id,name,registeredAt;"), "{e}");
    }
}
