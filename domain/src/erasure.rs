//! Erasing users (DESIGN.md, "Erasure"): each user's profile, player events, sessions and
//! logins go, one transaction per user.

use crate::repository::UserRepository;
use crate::tenant::TenantId;
use crate::user::validate_id;
use crate::{DomainError, InputError};

/// Ids one call erases at most: each is a transaction of its own.
pub const MAX_ERASURE_IDS: usize = 1_000;

/// The ids to erase, checked and without repeats, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureIds(Vec<String>);

impl ErasureIds {
    /// Errors name `argument` and, for a bad id, its index (`ids.3`).
    pub fn parse(ids: &[String], argument: &str) -> Result<ErasureIds, InputError> {
        if ids.len() > MAX_ERASURE_IDS {
            return Err(InputError::new(
                argument,
                format!("erase at most {MAX_ERASURE_IDS} users a call, not {}; split the list", ids.len()),
            ));
        }
        let mut out: Vec<String> = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let id = validate_id(id, &format!("{argument}.{i}"))?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
        Ok(ErasureIds(out))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// What an erasure did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErasureReport {
    /// Users of whom something was erased.
    pub erased: usize,
    /// Ids of which nothing was stored (never, or erased already), in the order given.
    pub not_found: Vec<String>,
}

/// Erases each user in turn. A failure stops the call: the users before it are erased
/// (each in its own transaction) and erasing again finishes the rest.
pub async fn erase_users(
    repo: &dyn UserRepository,
    tenant: TenantId,
    ids: &ErasureIds,
) -> Result<ErasureReport, DomainError> {
    let mut report = ErasureReport::default();
    for id in ids.as_slice() {
        if repo.erase_user(tenant, id).await? {
            report.erased += 1;
        } else {
            report.not_found.push(id.clone());
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ids_are_trimmed_and_repeats_dropped_in_order() {
        let parsed = ErasureIds::parse(&ids(&["u2", " u1 ", "u2", "u1"]), "ids").unwrap();
        assert_eq!(parsed.as_slice(), ["u2", "u1"]);
        assert!(ErasureIds::parse(&[], "ids").unwrap().as_slice().is_empty());
    }

    #[test]
    fn a_bad_id_is_named_by_its_index() {
        let e = ErasureIds::parse(&ids(&["u1", "  "]), "ids").unwrap_err();
        assert_eq!(e.argument, "ids.1");
        let many: Vec<String> = (0..=MAX_ERASURE_IDS).map(|i| format!("u{i}")).collect();
        assert_eq!(ErasureIds::parse(&many, "ids").unwrap_err().argument, "ids");
    }
}
