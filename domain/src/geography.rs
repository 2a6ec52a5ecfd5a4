//! Geography breakdown: countries, or the states and cities of the tenant's home country
//! with everything abroad folded into one "Other" row.

use std::collections::HashMap;

use crate::country::Country;
use crate::share::percentage;

pub const UNKNOWN: &str = "Unknown";
pub const OTHER: &str = "Other";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum GeoLevel {
    Country,
    State,
    City,
}

/// Where a group of registrations lives, relative to the tenant's home country.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum GeoPlace {
    /// No country given.
    NoCountry,
    /// A country other than home (at STATE/CITY levels the store may leave it `None`,
    /// since all of abroad folds into one row).
    Abroad(Option<Country>),
    /// The home country, with the state and city when given (trimmed, non-empty).
    Home { state: Option<String>, city: Option<String> },
}

/// A count as the store groups it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GeoCount {
    pub place: GeoPlace,
    pub count: u64,
}

/// One row of the geography breakdown.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoShare {
    pub label: String,
    /// ISO alpha-2 code on COUNTRY rows of a known country.
    pub code: Option<String>,
    /// The state's label on CITY rows of the home country.
    pub parent: Option<String>,
    pub count: u64,
    pub percentage: f64,
    pub is_other: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RowKey {
    label: String,
    code: Option<String>,
    parent: Option<String>,
    is_other: bool,
}

/// Folds store counts into rows for `level`, sorted by count (highest first), then label,
/// then parent. At STATE level a home registration without a state and one without a
/// country share the single "Unknown" row; at CITY level they differ by `parent`.
pub fn fold_geography(level: GeoLevel, home: Country, counts: &[GeoCount]) -> Vec<GeoShare> {
    let mut rows: HashMap<RowKey, u64> = HashMap::new();
    for c in counts {
        *rows.entry(row_key(level, home, &c.place)).or_default() += c.count;
    }
    let total: u64 = rows.values().sum();
    let mut out: Vec<GeoShare> = rows
        .into_iter()
        .map(|(k, count)| GeoShare {
            label: k.label,
            code: k.code,
            parent: k.parent,
            count,
            percentage: percentage(count, total),
            is_other: k.is_other,
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.label.cmp(&b.label))
            .then_with(|| a.parent.cmp(&b.parent))
            .then_with(|| a.is_other.cmp(&b.is_other))
    });
    out
}

fn row_key(level: GeoLevel, home: Country, place: &GeoPlace) -> RowKey {
    let unknown = |parent: Option<String>| RowKey { label: UNKNOWN.into(), code: None, parent, is_other: false };
    let label_or_unknown = |s: &Option<String>| s.clone().unwrap_or_else(|| UNKNOWN.into());
    match (level, place) {
        (_, GeoPlace::NoCountry) => unknown(None),
        (GeoLevel::Country, GeoPlace::Abroad(Some(c))) => country_row(*c),
        (GeoLevel::Country, GeoPlace::Abroad(None)) => {
            RowKey { label: OTHER.into(), code: None, parent: None, is_other: true }
        }
        (GeoLevel::Country, GeoPlace::Home { .. }) => country_row(home),
        (_, GeoPlace::Abroad(_)) => RowKey { label: OTHER.into(), code: None, parent: None, is_other: true },
        (GeoLevel::State, GeoPlace::Home { state, .. }) => match state {
            Some(s) => RowKey { label: s.clone(), code: None, parent: None, is_other: false },
            None => unknown(None),
        },
        (GeoLevel::City, GeoPlace::Home { state, city }) => {
            RowKey { label: label_or_unknown(city), code: None, parent: Some(label_or_unknown(state)), is_other: false }
        }
    }
}

fn country_row(c: Country) -> RowKey {
    RowKey { label: c.name().into(), code: Some(c.code().into()), parent: None, is_other: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cl() -> Country {
        Country::parse("CL").unwrap()
    }

    fn home(state: Option<&str>, city: Option<&str>, count: u64) -> GeoCount {
        GeoCount { place: GeoPlace::Home { state: state.map(Into::into), city: city.map(Into::into) }, count }
    }

    fn abroad(code: &str, count: u64) -> GeoCount {
        GeoCount { place: GeoPlace::Abroad(Country::parse(code)), count }
    }

    fn sample() -> Vec<GeoCount> {
        vec![
            home(Some("Metropolitana"), Some("Santiago"), 3),
            home(Some("Metropolitana"), Some("Puente Alto"), 1),
            home(Some("Valparaíso"), Some("Viña del Mar"), 2),
            home(Some("Valparaíso"), None, 1),
            home(None, None, 1),
            abroad("AR", 2),
            abroad("ES", 1),
            GeoCount { place: GeoPlace::NoCountry, count: 1 },
        ]
    }

    fn summary(rows: &[GeoShare]) -> Vec<(String, Option<String>, u64, bool)> {
        rows.iter().map(|r| (r.label.clone(), r.parent.clone(), r.count, r.is_other)).collect()
    }

    #[test]
    fn country_level_lists_every_country_by_name() {
        let rows = fold_geography(GeoLevel::Country, cl(), &sample());
        let s: Vec<(String, Option<String>, u64)> =
            rows.iter().map(|r| (r.label.clone(), r.code.clone(), r.count)).collect();
        assert_eq!(
            s,
            vec![
                ("Chile".into(), Some("CL".into()), 8),
                ("Argentina".into(), Some("AR".into()), 2),
                ("Spain".into(), Some("ES".into()), 1),
                ("Unknown".into(), None, 1),
            ]
        );
        assert!((rows.iter().map(|r| r.percentage).sum::<f64>() - 100.0).abs() < 1e-9);
        assert!((rows[0].percentage - 100.0 * 8.0 / 12.0).abs() < 1e-9);
    }

    #[test]
    fn state_level_folds_abroad_into_other_and_unknowns_together() {
        let rows = fold_geography(GeoLevel::State, cl(), &sample());
        assert_eq!(
            summary(&rows),
            vec![
                ("Metropolitana".into(), None, 4, false),
                ("Other".into(), None, 3, true),
                ("Valparaíso".into(), None, 3, false),
                ("Unknown".into(), None, 2, false),
            ]
        );
    }

    #[test]
    fn city_level_names_the_state_as_parent() {
        let rows = fold_geography(GeoLevel::City, cl(), &sample());
        assert_eq!(
            summary(&rows),
            vec![
                ("Other".into(), None, 3, true),
                ("Santiago".into(), Some("Metropolitana".into()), 3, false),
                ("Viña del Mar".into(), Some("Valparaíso".into()), 2, false),
                ("Puente Alto".into(), Some("Metropolitana".into()), 1, false),
                ("Unknown".into(), None, 1, false),
                ("Unknown".into(), Some("Unknown".into()), 1, false),
                ("Unknown".into(), Some("Valparaíso".into()), 1, false),
            ]
        );
    }

    #[test]
    fn empty_counts_give_no_rows() {
        assert!(fold_geography(GeoLevel::City, cl(), &[]).is_empty());
    }
}
