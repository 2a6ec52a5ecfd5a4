//! Write batches: validation of every item, and what a batch reports back.

use chrono::{DateTime, Utc};

use crate::activity_input::{ContentDraft, LoginDraft, PlayerEventDraft};
use crate::activity_repository::ActivityWrites;
use crate::playback::{Content, Login, PlayerEvent};
use crate::repository::UserRepository;
use crate::tenant::TenantId;
use crate::user::{RegisteredUser, UserDraft};
use crate::{DomainError, InputError};

/// The most items one ingest batch may carry.
pub const MAX_BATCH: usize = 10_000;

/// An item refused, by its index in the batch: always invalid input (what was wrong, and
/// where in the item), which the API reports with its code for bad input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub index: usize,
    pub argument: String,
    pub message: String,
}

impl Rejection {
    pub fn invalid(index: usize, error: InputError) -> Rejection {
        Rejection { index, argument: error.argument, message: error.message }
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

/// Validates each draft of a batch (at most [`MAX_BATCH`], else an error naming
/// `argument`): the valid items, and a rejection for each invalid one by its index.
pub fn validate_batch<D, T>(
    drafts: &[D],
    argument: &str,
    validate: impl Fn(&D) -> Result<T, InputError>,
) -> Result<(Vec<T>, Vec<Rejection>), InputError> {
    check_batch_size(drafts.len(), argument)?;
    let mut valid = Vec::with_capacity(drafts.len());
    let mut rejected = Vec::new();
    for (index, draft) in drafts.iter().enumerate() {
        match validate(draft) {
            Ok(item) => valid.push(item),
            Err(e) => rejected.push(Rejection::invalid(index, e)),
        }
    }
    Ok((valid, rejected))
}

/// Validates every draft, stores the valid users in one write and reports each item.
pub async fn upsert_users(
    repo: &dyn UserRepository,
    tenant: TenantId,
    drafts: &[UserDraft],
    now: DateTime<Utc>,
) -> Result<IngestReport, DomainError> {
    let (valid, rejected) = validate_batch(drafts, "users", |d| RegisteredUser::from_draft(d, now))?;
    let outcome = repo.upsert_users(tenant, &valid).await?;
    Ok(IngestReport { accepted: outcome.written, duplicates: outcome.unchanged, rejected })
}

/// Validates and records player events; a repeated id is a duplicate, stored once.
pub async fn record_events(
    repo: &dyn ActivityWrites,
    tenant: TenantId,
    drafts: &[PlayerEventDraft],
    now: DateTime<Utc>,
) -> Result<IngestReport, DomainError> {
    let (valid, rejected) = validate_batch(drafts, "events", |d| PlayerEvent::from_draft(d, now))?;
    let outcome = repo.record_events(tenant, &valid).await?;
    Ok(IngestReport { accepted: outcome.written, duplicates: outcome.duplicates, rejected })
}

/// Validates and records logins; a repeated id is a duplicate, stored once.
pub async fn record_logins(
    repo: &dyn ActivityWrites,
    tenant: TenantId,
    drafts: &[LoginDraft],
    now: DateTime<Utc>,
) -> Result<IngestReport, DomainError> {
    let (valid, rejected) = validate_batch(drafts, "logins", |d| Login::from_draft(d, now))?;
    let outcome = repo.record_logins(tenant, &valid).await?;
    Ok(IngestReport { accepted: outcome.written, duplicates: outcome.duplicates, rejected })
}

/// Validates and upserts contents; one stored exactly as sent is a duplicate.
pub async fn upsert_contents(
    repo: &dyn ActivityWrites,
    tenant: TenantId,
    drafts: &[ContentDraft],
) -> Result<IngestReport, DomainError> {
    let (valid, rejected) = validate_batch(drafts, "contents", Content::from_draft)?;
    let outcome = repo.upsert_contents(tenant, &valid).await?;
    Ok(IngestReport { accepted: outcome.written, duplicates: outcome.duplicates, rejected })
}
