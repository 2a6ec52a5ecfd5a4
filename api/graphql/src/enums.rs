use async_graphql::Enum;
use ottstats_domain::gender::Gender;
use ottstats_domain::geography::GeoLevel;
use ottstats_domain::granularity::Granularity;
use ottstats_domain::playback::{ContentKind, EventType};

/// A registered user's gender; a missing one is `UNKNOWN`.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "Gender")]
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

/// What a player reported.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "PlayerEventType")]
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

impl From<PlayerEventTypeValue> for EventType {
    fn from(v: PlayerEventTypeValue) -> Self {
        match v {
            PlayerEventTypeValue::PlayerLoaded => EventType::PlayerLoaded,
            PlayerEventTypeValue::Play => EventType::Play,
            PlayerEventTypeValue::Playing => EventType::Playing,
            PlayerEventTypeValue::Seek => EventType::Seek,
            PlayerEventTypeValue::Pause => EventType::Pause,
            PlayerEventTypeValue::Buffering => EventType::Buffering,
            PlayerEventTypeValue::Ended => EventType::Ended,
            PlayerEventTypeValue::Error => EventType::Error,
        }
    }
}

impl From<EventType> for PlayerEventTypeValue {
    fn from(v: EventType) -> Self {
        match v {
            EventType::PlayerLoaded => PlayerEventTypeValue::PlayerLoaded,
            EventType::Play => PlayerEventTypeValue::Play,
            EventType::Playing => PlayerEventTypeValue::Playing,
            EventType::Seek => PlayerEventTypeValue::Seek,
            EventType::Pause => PlayerEventTypeValue::Pause,
            EventType::Buffering => PlayerEventTypeValue::Buffering,
            EventType::Ended => PlayerEventTypeValue::Ended,
            EventType::Error => PlayerEventTypeValue::Error,
        }
    }
}

/// Live signal or video on demand.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "ContentKind")]
pub enum ContentKindValue {
    /// A live signal (a channel or an event as it happens).
    Live,
    /// Video on demand (a media played from the catalogue).
    Vod,
}

impl From<ContentKind> for ContentKindValue {
    fn from(k: ContentKind) -> Self {
        match k {
            ContentKind::Live => ContentKindValue::Live,
            ContentKind::Vod => ContentKindValue::Vod,
        }
    }
}

impl From<ContentKindValue> for ContentKind {
    fn from(k: ContentKindValue) -> Self {
        match k {
            ContentKindValue::Live => ContentKind::Live,
            ContentKindValue::Vod => ContentKind::Vod,
        }
    }
}
