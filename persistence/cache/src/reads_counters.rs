//! What the statistics cache counts, by panel, for `/metrics`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The statistics the cache holds, one counter pair each in `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// Counts by gender (`total`, `byGender`).
    Genders,
    Timeline,
    Ages,
    Geography,
    /// A user's sessions in a period (`overview`, `details`).
    Sessions,
    Bandwidth,
    /// A user's playback quality in a period.
    Quality,
}

impl Panel {
    pub const ALL: [Panel; 7] = [
        Panel::Genders,
        Panel::Timeline,
        Panel::Ages,
        Panel::Geography,
        Panel::Sessions,
        Panel::Bandwidth,
        Panel::Quality,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Panel::Genders => "genders",
            Panel::Timeline => "timeline",
            Panel::Ages => "ages",
            Panel::Geography => "geography",
            Panel::Sessions => "sessions",
            Panel::Bandwidth => "bandwidth",
            Panel::Quality => "quality",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Hits and misses since start, by panel. A hit is an answer that did not query the
/// statistics tables: found in process, in Redis, or shared with a concurrent load.
/// Rejected entries are those found in Redis that failed their check or did not decode:
/// dropped and loaded again (so also counted as misses).
#[derive(Debug, Default)]
pub struct CacheCounters {
    pub(crate) hits: [AtomicU64; Panel::ALL.len()],
    pub(crate) misses: [AtomicU64; Panel::ALL.len()],
    pub(crate) rejected: [Arc<AtomicU64>; Panel::ALL.len()],
}

impl CacheCounters {
    pub fn hits(&self, panel: Panel) -> u64 {
        self.hits[panel.index()].load(Ordering::Relaxed)
    }

    pub fn misses(&self, panel: Panel) -> u64 {
        self.misses[panel.index()].load(Ordering::Relaxed)
    }

    pub fn rejected(&self, panel: Panel) -> u64 {
        self.rejected[panel.index()].load(Ordering::Relaxed)
    }

    pub fn total_hits(&self) -> u64 {
        Panel::ALL.iter().map(|p| self.hits(*p)).sum()
    }

    pub fn total_misses(&self) -> u64 {
        Panel::ALL.iter().map(|p| self.misses(*p)).sum()
    }

    pub fn total_rejected(&self) -> u64 {
        Panel::ALL.iter().map(|p| self.rejected(*p)).sum()
    }
}
