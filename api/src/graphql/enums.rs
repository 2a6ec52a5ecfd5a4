use async_graphql::Enum;
use ottstats_domain::gender::Gender;
use ottstats_domain::geography::GeoLevel;
use ottstats_domain::granularity::Granularity;

/// A registered user's gender; a missing one is `UNKNOWN`.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Gender")]
pub enum GenderValue {
    Female,
    Male,
    Other,
    Unknown,
}

impl From<Gender> for GenderValue {
    fn from(g: Gender) -> Self {
        match g {
            Gender::Female => GenderValue::Female,
            Gender::Male => GenderValue::Male,
            Gender::Other => GenderValue::Other,
            Gender::Unknown => GenderValue::Unknown,
        }
    }
}

impl From<GenderValue> for Gender {
    fn from(g: GenderValue) -> Self {
        match g {
            GenderValue::Female => Gender::Female,
            GenderValue::Male => Gender::Male,
            GenderValue::Other => Gender::Other,
            GenderValue::Unknown => Gender::Unknown,
        }
    }
}

/// Bucket width, aligned to the calendar of the period's time zone.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Granularity")]
pub enum GranularityValue {
    Hour,
    Day,
    /// Weeks start on Monday.
    Week,
    Month,
    Year,
}

impl From<GranularityValue> for Granularity {
    fn from(g: GranularityValue) -> Self {
        match g {
            GranularityValue::Hour => Granularity::Hour,
            GranularityValue::Day => Granularity::Day,
            GranularityValue::Week => Granularity::Week,
            GranularityValue::Month => Granularity::Month,
            GranularityValue::Year => Granularity::Year,
        }
    }
}

/// How finely geography is broken down.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "GeoLevel")]
pub enum GeoLevelValue {
    /// Every country.
    Country,
    /// The states of the tenant's home country; everything abroad as one "Other" row.
    State,
    /// The cities of the home country grouped by state; everything abroad as "Other".
    City,
}

impl From<GeoLevelValue> for GeoLevel {
    fn from(g: GeoLevelValue) -> Self {
        match g {
            GeoLevelValue::Country => GeoLevel::Country,
            GeoLevelValue::State => GeoLevel::State,
            GeoLevelValue::City => GeoLevel::City,
        }
    }
}
