//! What a write batch reports back.

use crate::InputError;

/// The most items one ingest batch may carry.
pub const MAX_BATCH: usize = 10_000;

/// An item refused, by its index in the batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub index: usize,
    pub code: &'static str,
    pub argument: String,
    pub message: String,
}

impl Rejection {
    pub fn invalid(index: usize, error: InputError) -> Rejection {
        Rejection { index, code: "BAD_USER_INPUT", argument: error.argument, message: error.message }
    }
}

/// The outcome of a batch: every item is accepted, a duplicate, or rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Items written (new, or changing what was stored).
    pub accepted: usize,
    /// Items already stored exactly as sent: nothing was written for them.
    pub duplicates: usize,
    pub rejected: Vec<Rejection>,
}

/// Refuses a batch larger than [`MAX_BATCH`], naming `argument`.
pub fn check_batch_size(len: usize, argument: &str) -> Result<(), InputError> {
    if len > MAX_BATCH {
        return Err(InputError::new(
            argument,
            format!("a batch holds at most {MAX_BATCH} items, this one {len}; split it"),
        ));
    }
    Ok(())
}

/// Validates every draft, stores the valid users in one write and reports each item.
pub async fn upsert_users(
    repo: &dyn crate::repository::UserRepository,
    tenant: crate::tenant::TenantId,
    drafts: &[crate::user::UserDraft],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<IngestReport, crate::DomainError> {
    check_batch_size(drafts.len(), "users")?;
    let mut valid = Vec::with_capacity(drafts.len());
    let mut rejected = Vec::new();
    for (index, draft) in drafts.iter().enumerate() {
        match crate::user::RegisteredUser::from_draft(draft, now) {
            Ok(user) => valid.push(user),
            Err(e) => rejected.push(Rejection::invalid(index, e)),
        }
    }
    let outcome = repo.upsert_users(tenant, &valid).await?;
    Ok(IngestReport { accepted: outcome.written, duplicates: outcome.unchanged, rejected })
}
