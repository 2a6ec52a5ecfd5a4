//! The schema's enums; each converts to and from its domain enum (async-graphql's
//! `remote`, which derives both `From`s).

use async_graphql::Enum;

/// A registered user's gender; a missing one is `UNKNOWN`.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Gender", remote = "ottstats_domain::gender::Gender")]
pub enum GenderValue {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Another gender, as the operator recorded it.
    Other,
    /// Not given.
    Unknown,
}

/// Bucket width, aligned to the calendar of the period's time zone.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Granularity", remote = "ottstats_domain::granularity::Granularity")]
pub enum GranularityValue {
    /// One hour of local time (a DST change makes one of a day's hours absent or twice).
    Hour,
    /// One local calendar day, from midnight to midnight (23 or 25 hours on DST days).
    Day,
    /// One calendar week; weeks start on Monday.
    Week,
    /// One calendar month.
    Month,
    /// One calendar year.
    Year,
}

/// How finely geography is broken down.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "GeoLevel", remote = "ottstats_domain::geography::GeoLevel")]
pub enum GeoLevelValue {
    /// Every country.
    Country,
    /// The states of the tenant's home country; everything abroad as one "Other" row.
    State,
    /// The cities of the home country grouped by state; everything abroad as "Other".
    City,
}

/// What a player reported.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "PlayerEventType", remote = "ottstats_domain::playback::EventType")]
pub enum PlayerEventTypeValue {
    /// The player was loaded, before any playback.
    PlayerLoaded,
    /// The viewer asked to play: a playback start.
    Play,
    /// A heartbeat while playing; carries the playback time.
    Playing,
    /// The viewer moved to another position.
    Seek,
    /// The viewer paused.
    Pause,
    /// Playback stalled, waiting for data.
    Buffering,
    /// The content played to its end.
    Ended,
    /// The player failed.
    Error,
}

/// Live signal or video on demand.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "ContentKind", remote = "ottstats_domain::playback::ContentKind")]
pub enum ContentKindValue {
    /// A live signal (a channel or an event as it happens).
    Live,
    /// Video on demand (a media played from the catalogue).
    Vod,
}

/// Which earlier period a figure is compared with.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "PeriodShift", remote = "ottstats_domain::period_shift::PeriodShift")]
pub enum PeriodShiftValue {
    /// The period just before, ending where this one starts: as many local calendar days
    /// when both bounds are local midnights, otherwise the same duration.
    PreviousPeriod,
    /// Each bound one year back on the local calendar, the wall clock kept (29 February
    /// becomes 28 February).
    PreviousYear,
}
