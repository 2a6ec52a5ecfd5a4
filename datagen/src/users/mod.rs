//! A deterministic generator of realistic registered users, for demos, imports and
//! benchmarks.
//!
//! [`UserGenerator`] is an endless iterator of [`UserDraft`]s (take as many as needed):
//! the same seed and arguments always give the same users, byte for byte. What it
//! produces looks like what an OTT operator in Chile sends:
//!
//! - ids `u0000001`, `u0000002`, … in order, so they are unique and stable;
//! - Spanish / Latin American names (Portuguese for Brazil, English for most of the US)
//!   consistent with the gender, with names in fashion for the younger users;
//! - gender FEMALE 48 %, MALE 47 %, OTHER 2 %, missing 3 %;
//! - ages at registration mostly 18–65 peaking at 25–40, 5 % under 18, 3 % over 65 and
//!   6 % without a birth date;
//! - registrations that grow over the period, peak on weekends and in the evening (home
//!   local time) and jump 3–5× on a few campaign days;
//! - 80 % in the home country (for Chile with region and commune weighted by population),
//!   15 % abroad and 5 % without a country;
//! - under 2 % of messy but valid values: lower-case codes, padded places.
//!
//! [`write_csv`] and [`write_ndjson`] write drafts in the import formats.

mod calendar;
mod names;
mod places;
#[cfg(test)]
mod tests;
mod writers;

use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, Utc};
use ottstats_domain::country::Country;
use ottstats_domain::gender::Gender;
use ottstats_domain::user::UserDraft;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub(crate) use calendar::utc_offset_hours;
pub use writers::{write_csv, write_ndjson};

use crate::weighted::Weighted;
use calendar::Calendar;
use names::NameBook;
use places::Places;

/// The home code used when the one given is not an ISO 3166-1 alpha-2 code.
const FALLBACK_HOME: &str = "CL";

/// Users with each gender (the rest have none).
const SHARE_FEMALE: f64 = 0.48;
const SHARE_MALE: f64 = 0.47;
const SHARE_OTHER: f64 = 0.02;

/// Users without a birth date, under 18 and over 65 (the rest are 18–65).
const SHARE_NO_BIRTH_DATE: f64 = 0.06;
const SHARE_UNDER_18: f64 = 0.05;
const SHARE_OVER_65: f64 = 0.03;

/// Messy but valid input; together well under 2 % of the users.
const MESSY_COUNTRY_CASE: f64 = 0.005;
const MESSY_PLACE_SPACES: f64 = 0.006;
const MESSY_GENDER_CASE: f64 = 0.003;

/// An endless, deterministic stream of realistic [`UserDraft`]s registered in
/// `[start, end)`; see the [module documentation](self) for what they look like.
///
/// It keeps no user: memory is constant in the number generated (and proportional to
/// the number of days in the period).
#[derive(Debug, Clone)]
pub struct UserGenerator {
    rng: ChaCha8Rng,
    next_id: u64,
    /// Upper-case ISO code of the home country.
    home: &'static str,
    places: Places,
    calendar: Option<Calendar>,
    names: NameBook,
    main_ages: Weighted,
    minor_ages: Weighted,
    senior_ages: Weighted,
}

impl UserGenerator {
    /// A generator of users registered in `[start, end)`, most of them in `home`.
    ///
    /// `home` is an ISO 3166-1 alpha-2 code in any case; an unknown code falls back to
    /// `CL`. Chilean users get a region and commune; users of any other home get the
    /// country only. When `[start, end)` holds no whole second the generator is empty.
    pub fn new(seed: u64, home: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        let home = Country::parse(home).map_or(FALLBACK_HOME, Country::code);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let calendar = Calendar::new(&mut rng, home, start, end);

        let main_ages = Weighted::new((18..=65).map(main_age_weight));
        let minor_ages = Weighted::new([0.4, 0.6, 0.9, 1.2, 1.5]); // 13..=17
        let senior_ages = Weighted::new((66..=90).scan(1.0, |w, _| {
            let current = *w;
            *w *= 0.88;
            Some(current)
        }));

        UserGenerator {
            rng,
            next_id: 1,
            home,
            places: Places::new(home),
            calendar,
            names: NameBook::new(),
            main_ages,
            minor_ages,
            senior_ages,
        }
    }

    fn gender(&mut self) -> Option<Gender> {
        let u = self.rng.random::<f64>();
        if u < SHARE_FEMALE {
            Some(Gender::Female)
        } else if u < SHARE_FEMALE + SHARE_MALE {
            Some(Gender::Male)
        } else if u < SHARE_FEMALE + SHARE_MALE + SHARE_OTHER {
            Some(Gender::Other)
        } else {
            None
        }
    }

    /// A birth date giving a plausible age on `registered` (the UTC date), or none.
    fn birth_date(&mut self, registered: NaiveDate) -> Option<NaiveDate> {
        let u = self.rng.random::<f64>();
        let age = if u < SHARE_NO_BIRTH_DATE {
            return None;
        } else if u < SHARE_NO_BIRTH_DATE + SHARE_UNDER_18 {
            13 + self.minor_ages.sample(&mut self.rng)
        } else if u < SHARE_NO_BIRTH_DATE + SHARE_UNDER_18 + SHARE_OVER_65 {
            66 + self.senior_ages.sample(&mut self.rng)
        } else {
            18 + self.main_ages.sample(&mut self.rng)
        };
        let age = i32::try_from(age).ok()?;
        // The birth dates with exactly `age` years on `registered` are those after the
        // anniversary `age + 1` years back, up to the one `age` years back.
        let latest = anniversary(registered, registered.year() - age)?;
        let before = anniversary(registered, registered.year() - age - 1)?;
        let span = (latest - before).num_days();
        if span <= 0 {
            return Some(latest);
        }
        latest.checked_sub_signed(Duration::days(self.rng.random_range(0..span)))
    }
}

impl Iterator for UserGenerator {
    type Item = UserDraft;

    fn next(&mut self) -> Option<UserDraft> {
        let calendar = self.calendar.as_ref()?;
        let seconds = calendar.sample(&mut self.rng);
        let registered_at = DateTime::<Utc>::from_timestamp(seconds, 0)?;

        let gender = self.gender();
        let birth_date = self.birth_date(registered_at.date_naive());
        let (country, state, city) = self.places.pick(&mut self.rng);
        let culture_country = country.unwrap_or(self.home);
        let name = self.names.pick(&mut self.rng, gender, birth_date.map(|b| b.year()), culture_country);

        let mut gender = gender.map(|g| g.as_str().to_owned());
        let mut country = country.map(str::to_owned);
        let mut state = state.map(str::to_owned);
        let mut city = city.map(str::to_owned);
        if self.rng.random_bool(MESSY_GENDER_CASE) {
            gender = gender.map(|g| g.to_lowercase());
        }
        if country.is_some() && self.rng.random_bool(MESSY_COUNTRY_CASE) {
            country = country.map(|c| c.to_lowercase());
        }
        if (state.is_some() || city.is_some()) && self.rng.random_bool(MESSY_PLACE_SPACES) {
            let pad: fn(String) -> String = match self.rng.random_range(0..4) {
                0 => |s| format!(" {s}"),
                1 => |s| format!("{s} "),
                2 => |s| format!("  {s}  "),
                _ => |s| format!("{s}  "),
            };
            if city.is_some() && (state.is_none() || self.rng.random_bool(0.5)) {
                city = city.map(pad);
            } else {
                state = state.map(pad);
            }
        }

        let id = format!("u{:07}", self.next_id);
        self.next_id += 1;
        Some(UserDraft {
            id,
            name,
            gender,
            birth_date: birth_date.map(|b| b.format("%Y-%m-%d").to_string()),
            country,
            state,
            city,
            registered_at: registered_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.calendar.is_some() { (usize::MAX, None) } else { (0, Some(0)) }
    }
}

/// The relative number of users registering at `age` (18..=65): rising through the
/// early twenties, a broad peak at 25–40, then a slow decline.
fn main_age_weight(age: u32) -> f64 {
    let a = f64::from(age);
    match age {
        0..=24 => 0.45 + (a - 18.0) * 0.085,
        25..=40 => {
            let x = (a - 32.5) / 7.5;
            1.0 + 0.15 * (1.0 - x * x)
        }
        _ => (0.95 - (a - 41.0) * 0.033).max(0.05),
    }
}

/// `on`'s month and day in `year`; 28 February for a 29 February in a common year.
fn anniversary(on: NaiveDate, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, on.month(), on.day()).or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
}

/// The ids and registration instants of the first `count` users the generator makes
/// from `seed` (what the activity generator needs of its viewers).
pub fn generated_users(
    seed: u64,
    home: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    count: usize,
) -> Vec<(String, DateTime<Utc>)> {
    UserGenerator::new(seed, home, from, to)
        .take(count)
        .filter_map(|u| {
            let at = DateTime::parse_from_rfc3339(&u.registered_at).ok()?.with_timezone(&Utc);
            Some((u.id, at))
        })
        .collect()
}
