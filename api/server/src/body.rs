//! Request bodies, read only once the key is known, each bounded in size and time, and
//! all of them together bounded in memory: a flood of large, slow bodies waits for room
//! (then is refused) instead of taking the process's memory.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::HttpSettings;

/// Room is counted in KiB, so that the semaphore's permits fit in a `u32`.
const UNIT: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request body did not arrive within {} s", .0.as_secs_f64())]
    TooSlow(Duration),
    #[error("the server is reading too many large requests; try again shortly")]
    Busy,
    #[error("the request body could not be read")]
    Broken,
}

impl BodyError {
    pub fn status(&self) -> StatusCode {
        match self {
            BodyError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::TooSlow(_) => StatusCode::REQUEST_TIMEOUT,
            BodyError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            BodyError::Broken => StatusCode::BAD_REQUEST,
        }
    }
}

/// The memory bodies may take together, and the bounds of each
/// ([`HttpSettings::max_body_bytes`], [`HttpSettings::body_timeout`],
/// [`HttpSettings::body_room_wait`]).
#[derive(Clone)]
pub struct BodyBudget {
    room: Arc<Semaphore>,
    max_body: usize,
    timeout: Duration,
    room_wait: Duration,
}

/// A body read, and the room it holds until dropped.
pub struct ReadBody {
    pub bytes: Bytes,
    _room: OwnedSemaphorePermit,
}

impl BodyBudget {
    pub fn new(settings: &HttpSettings) -> BodyBudget {
        BodyBudget::with_bounds(
            settings.bodies_in_flight_bytes,
            settings.max_body_bytes,
            settings.body_timeout,
            settings.body_room_wait,
        )
    }

    /// A budget of `in_flight` bytes of its own, for bodies of at most `max_body` bytes
    /// each, read within `timeout`, waiting at most `room_wait` for room: the collector's,
    /// so that bodies sent with a public key never take the room of `/graphql`'s.
    pub fn with_bounds(in_flight: usize, max_body: usize, timeout: Duration, room_wait: Duration) -> BodyBudget {
        BodyBudget { room: Arc::new(Semaphore::new(in_flight / UNIT)), max_body, timeout, room_wait }
    }

    /// The room free now, in bytes (tests wait on it).
    pub fn free_bytes(&self) -> usize {
        self.room.available_permits() * UNIT
    }

    /// Reads a body: room for its declared length (or the largest body, when it declares
    /// none) is taken first and kept while the request runs.
    pub async fn read(&self, body: Body, headers: &HeaderMap) -> Result<ReadBody, BodyError> {
        self.read_at_most(body, headers, self.max_body).await
    }

    /// [`BodyBudget::read`] with a bound of its own for this body, within this budget.
    pub async fn read_at_most(&self, body: Body, headers: &HeaderMap, max: usize) -> Result<ReadBody, BodyError> {
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64) {
            return Err(BodyError::TooLarge(max));
        }
        let room = declared.map_or(max, |n| n as usize).div_ceil(UNIT).max(1);
        let permits = u32::try_from(room).unwrap_or(u32::MAX);
        let room = match tokio::time::timeout(self.room_wait, self.room.clone().acquire_many_owned(permits)).await {
            Ok(Ok(permit)) => permit,
            // A closed semaphore (never closed here) or no room in time.
            Ok(Err(_)) | Err(_) => return Err(BodyError::Busy),
        };
        let read = http_body_util::BodyExt::collect(http_body_util::Limited::new(body, max));
        let bytes = match tokio::time::timeout(self.timeout, read).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Err(BodyError::TooLarge(max)),
            Ok(Err(_)) => return Err(BodyError::Broken),
            Err(_) => return Err(BodyError::TooSlow(self.timeout)),
        };
        Ok(ReadBody { bytes, _room: room })
    }
}
