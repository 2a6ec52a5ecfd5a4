//! What a line of an import file holds, for each kind of data, and how it is stored.

use chrono::Utc;
use ottstats_domain::DomainError;
use ottstats_domain::activity_input::{ContentDraft, LoginDraft, PlayerEventDraft};
use ottstats_domain::ingest::{self, IngestReport};
use ottstats_domain::tenant::TenantId;
use ottstats_domain::user::UserDraft;
use ottstats_persistence::Store;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A kind of data that can be imported.
pub trait Kind {
    /// A line as read: camelCase keys (snake_case accepted).
    type Record: DeserializeOwned;
    type Draft: From<Self::Record>;
    /// Whether CSV files are accepted (NDJSON always is).
    const CSV: bool;
    /// Plural name for messages.
    const NAME: &'static str;

    async fn ingest(store: &Store, tenant: TenantId, drafts: &[Self::Draft]) -> Result<IngestReport, DomainError>;
}

pub struct Users;
pub struct Events;
pub struct Logins;
pub struct Contents;

impl Kind for Users {
    type Record = UserRecord;
    type Draft = UserDraft;
    const CSV: bool = true;
    const NAME: &'static str = "users";

    async fn ingest(store: &Store, tenant: TenantId, drafts: &[UserDraft]) -> Result<IngestReport, DomainError> {
        ingest::upsert_users(store, tenant, drafts, Utc::now()).await
    }
}

impl Kind for Events {
    type Record = EventRecord;
    type Draft = PlayerEventDraft;
    const CSV: bool = false;
    const NAME: &'static str = "events";

    async fn ingest(store: &Store, tenant: TenantId, drafts: &[PlayerEventDraft]) -> Result<IngestReport, DomainError> {
        ingest::record_events(store, tenant, drafts, Utc::now()).await
    }
}

impl Kind for Logins {
    type Record = LoginRecord;
    type Draft = LoginDraft;
    const CSV: bool = false;
    const NAME: &'static str = "logins";

    async fn ingest(store: &Store, tenant: TenantId, drafts: &[LoginDraft]) -> Result<IngestReport, DomainError> {
        ingest::record_logins(store, tenant, drafts, Utc::now()).await
    }
}

impl Kind for Contents {
    type Record = ContentRecord;
    type Draft = ContentDraft;
    const CSV: bool = false;
    const NAME: &'static str = "contents";

    async fn ingest(store: &Store, tenant: TenantId, drafts: &[ContentDraft]) -> Result<IngestReport, DomainError> {
        ingest::upsert_contents(store, tenant, drafts).await
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    gender: Option<String>,
    #[serde(default, alias = "birth_date")]
    birth_date: Option<String>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(alias = "registered_at")]
    registered_at: String,
}

impl From<UserRecord> for UserDraft {
    fn from(r: UserRecord) -> Self {
        UserDraft {
            id: r.id,
            name: r.name.unwrap_or_default(),
            gender: r.gender,
            birth_date: r.birth_date,
            country: r.country,
            state: r.state,
            city: r.city,
            registered_at: r.registered_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRecord {
    id: String,
    #[serde(alias = "session_id")]
    session_id: String,
    #[serde(alias = "user_id")]
    user_id: String,
    #[serde(rename = "type", alias = "event_type")]
    event_type: String,
    #[serde(alias = "occurred_at")]
    occurred_at: String,
    #[serde(default)]
    position: Option<f64>,
    #[serde(default, alias = "content_kind")]
    content_kind: Option<String>,
    #[serde(default, alias = "content_id")]
    content_id: Option<String>,
    #[serde(default)]
    device: Option<String>,
    #[serde(default)]
    referrer: Option<String>,
    #[serde(default, alias = "bandwidth_kbps")]
    bandwidth_kbps: Option<f64>,
    #[serde(default, alias = "played_seconds")]
    played_seconds: Option<f64>,
}

impl From<EventRecord> for PlayerEventDraft {
    fn from(r: EventRecord) -> Self {
        PlayerEventDraft {
            id: r.id,
            session_id: r.session_id,
            user_id: r.user_id,
            event_type: r.event_type,
            occurred_at: r.occurred_at,
            position: r.position,
            content_kind: r.content_kind,
            content_id: r.content_id,
            device: r.device,
            referrer: r.referrer,
            bandwidth_kbps: r.bandwidth_kbps,
            played_seconds: r.played_seconds,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRecord {
    id: String,
    #[serde(alias = "user_id")]
    user_id: String,
    #[serde(alias = "occurred_at")]
    occurred_at: String,
    #[serde(default)]
    device: Option<String>,
}

impl From<LoginRecord> for LoginDraft {
    fn from(r: LoginRecord) -> Self {
        LoginDraft { id: r.id, user_id: r.user_id, occurred_at: r.occurred_at, device: r.device }
    }
}

#[derive(Debug, Deserialize)]
pub struct ContentRecord {
    id: String,
    kind: String,
    #[serde(default)]
    title: String,
}

impl From<ContentRecord> for ContentDraft {
    fn from(r: ContentRecord) -> Self {
        ContentDraft { id: r.id, kind: r.kind, title: r.title }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_accept_both_key_styles() {
        let a: UserRecord = serde_json::from_str(r#"{"id":"1","birthDate":"2000-01-01","registeredAt":"x"}"#).unwrap();
        let b: UserRecord =
            serde_json::from_str(r#"{"id":"1","birth_date":"2000-01-01","registered_at":"x"}"#).unwrap();
        assert_eq!((a.birth_date, a.registered_at), (b.birth_date, b.registered_at));
        let e: EventRecord = serde_json::from_str(
            r#"{"id":"e","sessionId":"s","user_id":"u","type":"PLAY","occurredAt":"t","playedSeconds":2.5}"#,
        )
        .unwrap();
        assert_eq!((e.event_type.as_str(), e.user_id.as_str(), e.played_seconds), ("PLAY", "u", Some(2.5)));
    }
}
