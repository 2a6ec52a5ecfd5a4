//! Request bodies, read only once the key is known, each bounded in size and time, and
//! all of them together bounded in memory: a flood of large, slow bodies waits for room
//! (then is refused) instead of taking the process's memory.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The largest request body: a full batch of 10,000 items fits with room to spare.
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// What all bodies being read or held at once may take.
pub const BODIES_IN_FLIGHT_BYTES: usize = 256 * 1024 * 1024;
/// How long a client may take to send its body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a body waits for room before it is refused.
const ROOM_WAIT: Duration = Duration::from_secs(5);
/// Room is counted in KiB, so that the semaphore's permits fit in a `u32`.
const UNIT: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the request body did not arrive within {} s", BODY_TIMEOUT.as_secs())]
    TooSlow,
    #[error("the server is reading too many large requests; try again shortly")]
    Busy,
    #[error("the request body could not be read")]
    Broken,
}

impl BodyError {
    pub fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::TooSlow => StatusCode::REQUEST_TIMEOUT,
            BodyError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            BodyError::Broken => StatusCode::BAD_REQUEST,
        }
    }
}

/// The memory bodies may take together.
#[derive(Clone)]
pub struct BodyBudget(Arc<Semaphore>);

/// A body read, and the room it holds until dropped.
pub struct ReadBody {
    pub bytes: Bytes,
    _room: OwnedSemaphorePermit,
}

impl BodyBudget {
    pub fn new(bytes: usize) -> BodyBudget {
        BodyBudget(Arc::new(Semaphore::new(bytes / UNIT)))
    }

    /// Reads a body: room for its declared length (or the largest body, when it declares
    /// none) is taken first and kept while the request runs.
    pub async fn read(&self, body: Body, headers: &HeaderMap) -> Result<ReadBody, BodyError> {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(BodyError::TooLarge);
        }
        let room = declared.map_or(MAX_BODY_BYTES, |n| n as usize).div_ceil(UNIT).max(1);
        let permits = u32::try_from(room).unwrap_or(u32::MAX);
        let room = match tokio::time::timeout(ROOM_WAIT, self.0.clone().acquire_many_owned(permits)).await {
            Ok(Ok(permit)) => permit,
            // A closed semaphore (never closed here) or no room in time.
            Ok(Err(_)) | Err(_) => return Err(BodyError::Busy),
        };
        let read = http_body_util::BodyExt::collect(http_body_util::Limited::new(body, MAX_BODY_BYTES));
        let bytes = match tokio::time::timeout(BODY_TIMEOUT, read).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Err(BodyError::TooLarge),
            Ok(Err(_)) => return Err(BodyError::Broken),
            Err(_) => return Err(BodyError::TooSlow),
        };
        Ok(ReadBody { bytes, _room: room })
    }
}
