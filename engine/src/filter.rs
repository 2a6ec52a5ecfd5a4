//! A registration filter compiled for the columns: look-up tables indexed by gender,
//! age and place code, so testing a row is three loads and no branches on the filter.

use ottstats_domain::gender::Gender;
use ottstats_domain::registration_filter::RegistrationFilter;

use crate::places::Places;
use crate::rows::UNKNOWN_AGE;

/// Which rows a filter lets through.
pub struct RowTest {
    /// No restriction at all: the scans skip the tests.
    pub open: bool,
    genders: [bool; 4],
    ages: [bool; 256],
    /// By place code; `None` when countries are not restricted.
    places: Option<Vec<bool>>,
}

impl RowTest {
    pub fn new(filter: &RegistrationFilter, places: &Places) -> RowTest {
        let mut genders = [true; 4];
        if let Some(allowed) = &filter.genders {
            for g in Gender::ALL {
                genders[g.index()] = allowed.contains(&g);
            }
        }
        let mut ages = [true; 256];
        if filter.min_age.is_some() || filter.max_age.is_some() {
            let (min, max) = (filter.min_age.unwrap_or(0), filter.max_age.unwrap_or(u8::MAX - 1));
            for (age, ok) in ages.iter_mut().enumerate() {
                // An age filter leaves out unknown ages, as SQL's comparisons with NULL do.
                *ok = age != usize::from(UNKNOWN_AGE) && (usize::from(min)..=usize::from(max)).contains(&age);
            }
        }
        let places = filter
            .countries
            .as_ref()
            .map(|countries| places.iter().map(|(_, p)| p.country.is_some_and(|c| countries.contains(&c))).collect());
        let open = filter.genders.is_none()
            && filter.countries.is_none()
            && filter.min_age.is_none()
            && filter.max_age.is_none();
        RowTest { open, genders, ages, places }
    }

    /// When only genders are restricted (or nothing is): which genders pass.
    pub fn genders_only(&self) -> Option<[bool; 4]> {
        (self.places.is_none() && self.ages.iter().all(|ok| *ok)).then_some(self.genders)
    }

    #[inline]
    pub fn pass(&self, gender: u8, age: u8, place: u32) -> bool {
        self.genders[usize::from(gender & 3)]
            && self.ages[usize::from(age)]
            && self.places.as_ref().is_none_or(|p| p.get(place as usize).copied().unwrap_or(false))
    }
}
