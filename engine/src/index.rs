//! One tenant's registrations index: the rows, the place dictionary and the version of
//! the data they hold; answers every registration panel exactly as the SQL path does.

use std::sync::Arc;

use ottstats_domain::country::Country;
use ottstats_domain::gender::{Gender, GenderCounts};
use ottstats_domain::geography::{GeoCount, GeoLevel, GeoPlace};
use ottstats_domain::granularity::Bucket;
use ottstats_domain::period::Period;
use ottstats_domain::registration_filter::RegistrationFilter;
use ottstats_domain::registration_log::{RegistrationChange, RegistrationRef};

use crate::filter::RowTest;
use crate::places::Places;
use crate::rows::{Row, Rows, Slice, UNKNOWN_AGE};

/// A change that does not fit the index: a removal of something it does not hold. The
/// index is then no longer trusted and must be reloaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("change record at version {version} does not match the index")]
pub struct Inconsistent {
    pub version: i64,
}

/// Collects rows as they are read, in any order.
#[derive(Default)]
pub struct IndexBuilder {
    rows: Vec<Row>,
    places: Places,
}

impl IndexBuilder {
    pub fn push(&mut self, r: RegistrationRef<'_>) {
        if let Some(place) = self.places.intern(r.country, r.state, r.city) {
            self.rows.push(Row { ts: r.registered_at_ms, gender: gender_code(r.gender), age: age_code(r.age), place });
        }
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Roughly what the finished index will hold, in bytes.
    pub fn bytes_estimate(&self) -> usize {
        self.rows.len() * 14 + self.places.bytes()
    }

    pub fn finish(self, version: i64) -> RegistrationIndex {
        RegistrationIndex { version, rows: Rows::build(self.rows), places: Arc::new(self.places) }
    }
}

fn gender_code(g: Gender) -> u8 {
    g.index() as u8
}

fn age_code(age: Option<u8>) -> u8 {
    age.filter(|a| *a != UNKNOWN_AGE).unwrap_or(UNKNOWN_AGE)
}

/// The registrations of one tenant at one version. A clone is cheap (it shares blocks
/// and the dictionary), and changing it leaves the original as it was.
#[derive(Debug, Default, Clone)]
pub struct RegistrationIndex {
    version: i64,
    rows: Rows,
    places: Arc<Places>,
}

impl RegistrationIndex {
    /// The version of the data the index holds.
    pub fn version(&self) -> i64 {
        self.version
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// How many rows fall in `[from, to)` (binary searches only).
    pub fn rows_between(&self, from: i64, to: i64) -> usize {
        self.rows.count(from, to)
    }

    /// Heap bytes: columns and dictionary.
    pub fn bytes(&self) -> usize {
        self.rows.bytes() + self.places.bytes()
    }

    /// Applies change records (in version order) and moves to the last record's version.
    /// On error the index is left half-changed: drop it.
    pub fn apply(&mut self, changes: &[RegistrationChange]) -> Result<(), Inconsistent> {
        for c in changes {
            let f = &c.facts;
            let (country, state, city) = (f.country, f.state.as_deref(), f.city.as_deref());
            let place = match self.places.code(country, state, city) {
                Some(code) => Some(code),
                // Only a new place copies the (shared) dictionary.
                None if c.added => Arc::make_mut(&mut self.places).intern(country, state, city),
                None => None,
            };
            let Some(place) = place else { return Err(Inconsistent { version: c.version }) };
            let row = Row { ts: f.registered_at_ms, gender: gender_code(f.gender), age: age_code(f.age), place };
            if c.added {
                self.rows.insert(row);
            } else if !self.rows.remove(row) {
                return Err(Inconsistent { version: c.version });
            }
        }
        self.version = self.version.max(changes.last().map_or(i64::MIN, |c| c.version));
        Ok(())
    }

    /// Calls `f(gender, age, place)` for every row in `[from, to)` passing `test`.
    #[inline]
    fn scan(&self, from: i64, to: i64, test: &RowTest, mut f: impl FnMut(u8, u8, u32)) {
        for s in self.rows.slices(from, to) {
            let Slice { gender, age, place, .. } = s;
            let rows = gender.iter().zip(age).zip(place);
            if test.open {
                rows.for_each(|((g, a), p)| f(*g, *a, *p));
            } else {
                rows.filter(|((g, a), p)| test.pass(**g, **a, **p)).for_each(|((g, a), p)| f(*g, *a, *p));
            }
        }
    }

    fn genders_in(&self, from: i64, to: i64, test: &RowTest) -> GenderCounts {
        let mut c = [0u64; 4];
        if let Some(allowed) = test.genders_only() {
            // The commonest questions: whole blocks from their counts, the two ends from
            // one column.
            for s in self.rows.slices(from, to) {
                match s.whole {
                    Some(whole) => {
                        for (g, n) in whole.iter().enumerate() {
                            if allowed[g] {
                                c[g] += u64::from(*n);
                            }
                        }
                    }
                    None => s
                        .gender
                        .iter()
                        .filter(|g| allowed[usize::from(**g & 3)])
                        .for_each(|g| c[usize::from(g & 3)] += 1),
                }
            }
        } else {
            self.scan(from, to, test, |g, _, _| c[usize::from(g & 3)] += 1);
        }
        GenderCounts(c)
    }

    pub fn count_by_gender(&self, period: &Period, filter: &RegistrationFilter) -> GenderCounts {
        let (from, to) = millis(period);
        self.genders_in(from, to, &RowTest::new(filter, &self.places))
    }

    /// One entry per bucket, in the buckets' order.
    pub fn count_by_bucket(&self, buckets: &[Bucket], filter: &RegistrationFilter) -> Vec<GenderCounts> {
        let test = RowTest::new(filter, &self.places);
        buckets.iter().map(|b| self.genders_in(b.start.timestamp_millis(), b.end.timestamp_millis(), &test)).collect()
    }

    /// Counts per age at registration (`None`: unknown), zero counts left out.
    pub fn count_by_age(&self, period: &Period, filter: &RegistrationFilter) -> Vec<(Option<u8>, u64)> {
        let (from, to) = millis(period);
        let mut per_age = [0u64; 256];
        self.scan(from, to, &RowTest::new(filter, &self.places), |_, a, _| per_age[usize::from(a)] += 1);
        per_age
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(a, n)| ((a != usize::from(UNKNOWN_AGE)).then_some(a as u8), *n))
            .collect()
    }

    /// Counts by place as `level` groups them relative to `home` (the same groups the
    /// SQL path returns; rows may repeat a place, folding adds them up).
    pub fn count_by_place(
        &self,
        period: &Period,
        filter: &RegistrationFilter,
        level: GeoLevel,
        home: Country,
    ) -> Vec<GeoCount> {
        let (from, to) = millis(period);
        let mut per_place = vec![0u64; self.places.len()];
        self.scan(from, to, &RowTest::new(filter, &self.places), |_, _, p| {
            if let Some(n) = per_place.get_mut(p as usize) {
                *n += 1;
            }
        });
        per_place
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .filter_map(|(code, n)| {
                let p = self.places.get(code as u32)?;
                let place = match p.country {
                    None => GeoPlace::NoCountry,
                    Some(c) if c == home => {
                        let name = |s: &Option<std::sync::Arc<str>>| s.as_deref().map(str::to_owned);
                        match level {
                            GeoLevel::Country => GeoPlace::Home { state: None, city: None },
                            GeoLevel::State => GeoPlace::Home { state: name(&p.state), city: None },
                            GeoLevel::City => GeoPlace::Home { state: name(&p.state), city: name(&p.city) },
                        }
                    }
                    Some(c) => GeoPlace::Abroad(Some(c)),
                };
                Some(GeoCount { place, count: *n })
            })
            .collect()
    }
}

fn millis(p: &Period) -> (i64, i64) {
    (p.from().timestamp_millis(), p.to().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use ottstats_domain::registration_log::RegistrationFacts;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn facts(rng: &mut ChaCha8Rng) -> RegistrationFacts {
        let countries = [Country::parse("CL"), Country::parse("AR"), None];
        RegistrationFacts {
            registered_at_ms: rng.random_range(0..20 * 86_400_000),
            gender: Gender::ALL[rng.random_range(0..4)],
            age: if rng.random_bool(0.1) { None } else { Some(rng.random_range(0..=120)) },
            country: countries[rng.random_range(0..3)],
            state: rng.random_bool(0.5).then(|| "Metropolitana".to_owned()),
            city: None,
        }
    }

    fn counted(all: &[RegistrationFacts], from: i64, to: i64, f: &RegistrationFilter) -> GenderCounts {
        let mut c = GenderCounts::default();
        for x in all.iter().filter(|x| x.registered_at_ms >= from && x.registered_at_ms < to) {
            let gender_ok = f.genders.as_ref().is_none_or(|g| g.contains(&x.gender));
            let country_ok = f.countries.as_ref().is_none_or(|cs| x.country.is_some_and(|c| cs.contains(&c)));
            let age_ok = (f.min_age.is_none() && f.max_age.is_none())
                || x.age.is_some_and(|a| f.min_age.is_none_or(|m| a >= m) && f.max_age.is_none_or(|m| a <= m));
            if gender_ok && country_ok && age_ok {
                c.add(x.gender, 1);
            }
        }
        c
    }

    /// Whole blocks answer from their kept counts, the ends from the rows: across many
    /// blocks, after removals and inserts, with and without filters, both agree with a
    /// count of the facts themselves.
    #[test]
    fn counts_agree_with_the_facts_across_whole_and_partial_blocks() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut all: Vec<RegistrationFacts> = (0..40_000).map(|_| facts(&mut rng)).collect();
        let mut b = IndexBuilder::default();
        all.iter().for_each(|f| b.push(f.as_ref()));
        let mut index = b.finish(1);
        let mut changes = Vec::new();
        for v in 2..400 {
            let i = rng.random_range(0..all.len());
            changes.push(RegistrationChange { version: v, added: false, facts: all.swap_remove(i) });
            let f = facts(&mut rng);
            all.push(f.clone());
            changes.push(RegistrationChange { version: v, added: true, facts: f });
        }
        index.apply(&changes).unwrap();
        assert_eq!(index.version(), 399);
        let filters = [
            RegistrationFilter::default(),
            RegistrationFilter::parse(Some(vec![Gender::Male, Gender::Other]), None, None, None).unwrap(),
            RegistrationFilter::parse(None, Some(&["CL".to_owned()]), Some(18), None).unwrap(),
        ];
        let tz = chrono_tz::UTC;
        for _ in 0..60 {
            let from = rng.random_range(-86_400_000..20 * 86_400_000);
            let to = from + rng.random_range(1..15 * 86_400_000);
            let period = Period::new(
                DateTime::from_timestamp_millis(from).unwrap(),
                DateTime::from_timestamp_millis(to).unwrap(),
                tz,
            )
            .unwrap();
            for f in &filters {
                assert_eq!(index.count_by_gender(&period, f), counted(&all, from, to, f), "{from}..{to} {f:?}");
                let buckets =
                    ottstats_domain::granularity::buckets(&period, ottstats_domain::granularity::Granularity::Day)
                        .unwrap();
                let per_bucket = index.count_by_bucket(&buckets, f);
                for (b, got) in buckets.iter().zip(per_bucket) {
                    let want = counted(&all, b.start.timestamp_millis(), b.end.timestamp_millis(), f);
                    assert_eq!(got, want);
                }
            }
        }
    }
}
