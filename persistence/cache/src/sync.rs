//! Locks held for a few instructions, never across an await.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, also after a holder panicked: every value guarded this way stays whole
/// between statements.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
