//! The rows of one tenant's index: columns (registration instant, gender, age, place
//! code) in blocks of a few thousand rows, sorted by instant. A period is a contiguous
//! run of rows, found by binary search; an insert or a removal moves at most one block's
//! worth of memory, so a live write costs microseconds even at ten million rows.
//!
//! Blocks are shared between copies (`Arc`): a copy costs a pointer per block, and a
//! change to a copy duplicates only the block it touches. That is what lets the engine
//! publish a new version while requests still read the previous one.

use std::sync::Arc;

/// Rows per block when the index is built; a block splits in two past twice this.
pub const BLOCK_ROWS: usize = 4096;
const SPLIT_AT: usize = 2 * BLOCK_ROWS;

/// Unknown age in the age column (real ages are 0..=120).
pub const UNKNOWN_AGE: u8 = u8::MAX;

/// One row, as the columns hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// Milliseconds since the Unix epoch.
    pub ts: i64,
    /// [`ottstats_domain::gender::Gender::index`].
    pub gender: u8,
    /// Years, or [`UNKNOWN_AGE`].
    pub age: u8,
    /// A code of the tenant's [`crate::places::Places`].
    pub place: u32,
}

/// The rows of one block that fall in a range, column by column.
#[derive(Debug, Clone, Copy)]
pub struct Slice<'a> {
    pub gender: &'a [u8],
    pub age: &'a [u8],
    pub place: &'a [u32],
    /// When the range holds the whole block: its counts by gender, kept as rows come and
    /// go, so that totals and timelines need not read the rows at all.
    pub whole: Option<&'a [u32; 4]>,
}

#[derive(Debug, Default, Clone)]
struct Block {
    ts: Vec<i64>,
    gender: Vec<u8>,
    age: Vec<u8>,
    place: Vec<u32>,
    /// Rows by gender code.
    genders: [u32; 4],
}

impl Block {
    fn with_capacity(n: usize) -> Block {
        Block {
            ts: Vec::with_capacity(n),
            gender: Vec::with_capacity(n),
            age: Vec::with_capacity(n),
            place: Vec::with_capacity(n),
            genders: [0; 4],
        }
    }

    fn count_genders(&mut self) {
        self.genders = [0; 4];
        for g in &self.gender {
            self.genders[usize::from(g & 3)] += 1;
        }
    }

    fn first(&self) -> i64 {
        self.ts.first().copied().unwrap_or(i64::MIN)
    }

    fn last(&self) -> i64 {
        self.ts.last().copied().unwrap_or(i64::MIN)
    }

    fn push(&mut self, r: Row) {
        self.genders[usize::from(r.gender & 3)] += 1;
        self.ts.push(r.ts);
        self.gender.push(r.gender);
        self.age.push(r.age);
        self.place.push(r.place);
    }

    fn insert(&mut self, at: usize, r: Row) {
        if self.ts.len() == self.ts.capacity() {
            // Grow by an eighth rather than doubling: a block touched once should not
            // hold twice its memory for good.
            let more = (self.ts.len() / 8).max(16);
            self.ts.reserve_exact(more);
            self.gender.reserve_exact(more);
            self.age.reserve_exact(more);
            self.place.reserve_exact(more);
        }
        self.genders[usize::from(r.gender & 3)] += 1;
        self.ts.insert(at, r.ts);
        self.gender.insert(at, r.gender);
        self.age.insert(at, r.age);
        self.place.insert(at, r.place);
    }

    fn remove(&mut self, at: usize) {
        self.ts.remove(at);
        let g = self.gender.remove(at);
        self.genders[usize::from(g & 3)] -= 1;
        self.age.remove(at);
        self.place.remove(at);
    }

    fn split_off(&mut self, at: usize) -> Block {
        let mut tail = Block {
            ts: self.ts.split_off(at),
            gender: self.gender.split_off(at),
            age: self.age.split_off(at),
            place: self.place.split_off(at),
            genders: [0; 4],
        };
        tail.count_genders();
        self.count_genders();
        let keep = at + at / 8;
        self.ts.shrink_to(keep);
        self.gender.shrink_to(keep);
        self.age.shrink_to(keep);
        self.place.shrink_to(keep);
        tail
    }

    fn bytes(&self) -> usize {
        self.ts.capacity() * 8 + self.gender.capacity() + self.age.capacity() + self.place.capacity() * 4
    }

    /// The rows with `from <= ts < to`, as a slice.
    fn within(&self, from: i64, to: i64) -> Slice<'_> {
        let lo = self.ts.partition_point(|t| *t < from);
        let hi = lo + self.ts[lo..].partition_point(|t| *t < to);
        let whole = (lo == 0 && hi == self.ts.len()).then_some(&self.genders);
        Slice { gender: &self.gender[lo..hi], age: &self.age[lo..hi], place: &self.place[lo..hi], whole }
    }
}

/// Every row of one tenant, sorted by instant. Blocks are never empty.
#[derive(Debug, Default, Clone)]
pub struct Rows {
    blocks: Vec<Arc<Block>>,
    len: usize,
}

impl Rows {
    /// Builds from rows in any order.
    pub fn build(mut rows: Vec<Row>) -> Rows {
        rows.sort_unstable_by_key(|r| r.ts);
        let len = rows.len();
        let blocks = rows
            .chunks(BLOCK_ROWS)
            .map(|chunk| {
                let mut b = Block::with_capacity(chunk.len());
                chunk.iter().for_each(|r| b.push(*r));
                Arc::new(b)
            })
            .collect();
        Rows { blocks, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Heap bytes held by the columns (blocks shared with another copy counted here too).
    pub fn bytes(&self) -> usize {
        self.blocks.iter().map(|b| b.bytes() + std::mem::size_of::<Block>()).sum::<usize>()
            + self.blocks.capacity() * std::mem::size_of::<Arc<Block>>()
    }

    /// Adds a row after any rows of the same instant.
    pub fn insert(&mut self, r: Row) {
        if self.blocks.is_empty() {
            self.blocks.push(Arc::new(Block::with_capacity(16)));
        }
        // The last block starting at or before the instant (the first block otherwise).
        let i = self.blocks.partition_point(|b| b.first() <= r.ts).saturating_sub(1);
        let block = Arc::make_mut(&mut self.blocks[i]);
        let at = block.ts.partition_point(|t| *t <= r.ts);
        block.insert(at, r);
        if block.ts.len() > SPLIT_AT {
            let mid = block.ts.len() / 2;
            let tail = block.split_off(mid);
            self.blocks.insert(i + 1, Arc::new(tail));
        }
        self.len += 1;
    }

    /// Removes one row equal to `r`; false when there is none.
    pub fn remove(&mut self, r: Row) -> bool {
        let mut i = self.blocks.partition_point(|b| b.last() < r.ts);
        while let Some(block) = self.blocks.get(i) {
            if block.first() > r.ts {
                break;
            }
            let lo = block.ts.partition_point(|t| *t < r.ts);
            let hi = lo + block.ts[lo..].partition_point(|t| *t <= r.ts);
            let found =
                (lo..hi).find(|&j| block.gender[j] == r.gender && block.age[j] == r.age && block.place[j] == r.place);
            if let Some(j) = found {
                let block = Arc::make_mut(&mut self.blocks[i]);
                block.remove(j);
                if block.ts.is_empty() {
                    self.blocks.remove(i);
                }
                self.len -= 1;
                return true;
            }
            i += 1;
        }
        false
    }

    /// The rows with `from <= ts < to`, block by block (possibly empty slices at the ends).
    pub fn slices(&self, from: i64, to: i64) -> impl Iterator<Item = Slice<'_>> {
        let start = self.blocks.partition_point(|b| b.last() < from);
        self.blocks[start..].iter().take_while(move |b| b.first() < to).map(move |b| b.within(from, to))
    }

    /// How many rows fall in `[from, to)`.
    pub fn count(&self, from: i64, to: i64) -> usize {
        self.slices(from, to).map(|s| s.gender.len()).sum()
    }

    /// Every row in order (for tests and checks).
    pub fn iter(&self) -> impl Iterator<Item = Row> + '_ {
        self.blocks.iter().flat_map(|b| {
            (0..b.ts.len()).map(move |j| Row { ts: b.ts[j], gender: b.gender[j], age: b.age[j], place: b.place[j] })
        })
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn row(ts: i64, gender: u8) -> Row {
        Row { ts, gender, age: 30, place: 0 }
    }

    #[test]
    fn ranges_are_half_open() {
        let rows = Rows::build(vec![row(10, 0), row(5, 1), row(20, 2), row(10, 3)]);
        assert_eq!(rows.count(5, 10), 1);
        assert_eq!(rows.count(10, 11), 2);
        assert_eq!(rows.count(0, 100), 4);
        assert_eq!(rows.count(21, 100), 0);
        assert_eq!(rows.iter().map(|r| r.ts).collect::<Vec<_>>(), [5, 10, 10, 20]);
    }

    #[test]
    fn removing_what_is_absent_changes_nothing() {
        let mut rows = Rows::build(vec![row(10, 0)]);
        assert!(!rows.remove(row(10, 1)));
        assert!(!rows.remove(row(11, 0)));
        assert!(rows.remove(row(10, 0)));
        assert!(rows.is_empty());
        assert!(!rows.remove(row(10, 0)));
        rows.insert(row(3, 0));
        assert_eq!(rows.count(0, 10), 1);
    }

    /// Random inserts and removals across many block splits agree with a sorted vector.
    #[test]
    fn agrees_with_a_sorted_vector_through_splits() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let start: Vec<Row> = (0..20_000).map(|_| row(rng.random_range(0..5_000), rng.random_range(0..4))).collect();
        let mut model = start.clone();
        let mut rows = Rows::build(start);
        for _ in 0..30_000 {
            if rng.random_bool(0.6) || model.is_empty() {
                let r = row(rng.random_range(-100..5_100), rng.random_range(0..4));
                rows.insert(r);
                model.push(r);
            } else {
                let r = model.swap_remove(rng.random_range(0..model.len()));
                assert!(rows.remove(r));
            }
        }
        // A copy taken before more changes keeps what it saw.
        let before: Vec<Row> = rows.iter().collect();
        let copy = rows.clone();
        rows.insert(row(1, 0));
        assert!(rows.remove(row(1, 0)));
        if let Some(r) = before.first() {
            assert!(rows.remove(*r));
            rows.insert(*r);
        }
        assert_eq!(copy.iter().collect::<Vec<_>>(), before);
        model.sort_by_key(|r| (r.ts, r.gender));
        let mut got: Vec<Row> = rows.iter().collect();
        got.sort_by_key(|r| (r.ts, r.gender));
        assert_eq!(got, model);
        assert_eq!(rows.len(), model.len());
        assert!(rows.iter().collect::<Vec<_>>().windows(2).all(|w| w[0].ts <= w[1].ts));
        for (from, to) in [(0, 1), (100, 2_000), (-1_000, 10_000), (4_999, 5_000)] {
            assert_eq!(rows.count(from, to), model.iter().filter(|r| r.ts >= from && r.ts < to).count());
            // Whole blocks' gender counts agree with their rows.
            let mut by_counts = [0u64; 4];
            for s in rows.slices(from, to) {
                match s.whole {
                    Some(g) => g.iter().zip(&mut by_counts).for_each(|(g, c)| *c += u64::from(*g)),
                    None => s.gender.iter().for_each(|g| by_counts[usize::from(*g)] += 1),
                }
            }
            let mut by_rows = [0u64; 4];
            model.iter().filter(|r| r.ts >= from && r.ts < to).for_each(|r| by_rows[usize::from(r.gender)] += 1);
            assert_eq!(by_counts, by_rows, "{from}..{to}");
        }
    }
}
