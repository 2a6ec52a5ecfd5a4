//! What a line of an import file holds, for each kind of data, and how it is stored.

use chrono::Utc;
use ottstats_domain::DomainError;
use ottstats_domain::activity_input::{ContentDraft, LoginDraft, PlayerEventDraft};
use ottstats_domain::ingest::{self, IngestReport};
use ottstats_domain::tenant::TenantId;
use ottstats_domain::user::UserDraft;
use ottstats_store::Store;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::header::Column;

/// A kind of data that can be imported.
pub trait Kind {
    /// A line as read: camelCase keys (snake_case accepted).
    type Record: DeserializeOwned;
    type Draft: From<Self::Record> + Send + 'static;
    /// Whether CSV files are accepted (NDJSON always is).
    const CSV: bool;
    /// Plural name for messages.
    const NAME: &'static str;
    /// The fields of a line, in the documented order (the CSV header is checked
    /// against them; see `docs/import.md`).
    const COLUMNS: &'static [Column];
    /// Batches stored at once. Events and logins are inserted once each by id, so their
    /// batches may commit in any order.
    const IN_FLIGHT: usize;
    /// The id of a draft whose later line must win over an earlier one (users, contents):
    /// a batch then starts beside the ones in flight only when it shares no id with them.
    fn ordered_id(_draft: &Self::Draft) -> Option<&str> {
        None
    }

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
    const IN_FLIGHT: usize = 2;
    const COLUMNS: &'static [Column] = &[
        Column::required("id"),
        Column::required("name"),
        Column::optional("gender"),
        Column::optional("birthDate").alias("birth_date"),
        Column::optional("country"),
        Column::optional("state"),
        Column::optional("city"),
        Column::required("registeredAt").alias("registered_at"),
    ];

    fn ordered_id(draft: &UserDraft) -> Option<&str> {
        Some(&draft.id)
    }

    async fn ingest(store: &Store, tenant: TenantId, drafts: &[UserDraft]) -> Result<IngestReport, DomainError> {
        ingest::upsert_users(store, tenant, drafts, Utc::now()).await
    }
}

impl Kind for Events {
    type Record = EventRecord;
    type Draft = PlayerEventDraft;
    const CSV: bool = false;
    const NAME: &'static str = "events";
    const IN_FLIGHT: usize = 2;
    const COLUMNS: &'static [Column] = &[
        Column::required("id"),
        Column::required("sessionId").alias("session_id"),
        Column::required("userId").alias("user_id"),
        Column::required("type").alias("event_type"),
        Column::required("occurredAt").alias("occurred_at"),
        Column::optional("position"),
        Column::optional("contentKind").alias("content_kind"),
        Column::optional("contentId").alias("content_id"),
        Column::optional("device"),
        Column::optional("referrer"),
        Column::optional("bandwidthKbps").alias("bandwidth_kbps"),
        Column::optional("playedSeconds").alias("played_seconds"),
    ];

    async fn ingest(store: &Store, tenant: TenantId, drafts: &[PlayerEventDraft]) -> Result<IngestReport, DomainError> {
        ingest::record_events(store, tenant, drafts, Utc::now()).await
    }
}

impl Kind for Logins {
    type Record = LoginRecord;
    type Draft = LoginDraft;
    const CSV: bool = false;
    const NAME: &'static str = "logins";
    const IN_FLIGHT: usize = 2;
    const COLUMNS: &'static [Column] = &[
        Column::required("id"),
        Column::required("userId").alias("user_id"),
        Column::required("occurredAt").alias("occurred_at"),
        Column::optional("device"),
    ];

    async fn ingest(store: &Store, tenant: TenantId, drafts: &[LoginDraft]) -> Result<IngestReport, DomainError> {
        ingest::record_logins(store, tenant, drafts, Utc::now()).await
    }
}

impl Kind for Contents {
    type Record = ContentRecord;
    type Draft = ContentDraft;
    const CSV: bool = false;
    const NAME: &'static str = "contents";
    const IN_FLIGHT: usize = 2;
    const COLUMNS: &'static [Column] = &[Column::required("id"), Column::required("kind"), Column::required("title")];

    fn ordered_id(draft: &ContentDraft) -> Option<&str> {
        Some(&draft.id)
    }

    async fn ingest(store: &Store, tenant: TenantId, drafts: &[ContentDraft]) -> Result<IngestReport, DomainError> {
        ingest::upsert_contents(store, tenant, drafts).await
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
#[serde(deny_unknown_fields)]
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

    /// A line holding every column of `K` (under its name, or under its alias): what
    /// `docs/import.md` lists is exactly what a line may hold.
    fn every_column<K: Kind>(aliases: bool) -> serde_json::Value {
        let numbers = ["position", "bandwidthKbps", "playedSeconds"];
        let line: serde_json::Map<String, serde_json::Value> = K::COLUMNS
            .iter()
            .map(|c| {
                let value = if numbers.contains(&c.name) { serde_json::json!(1.5) } else { serde_json::json!("x") };
                let key = if aliases { c.alias.unwrap_or(c.name) } else { c.name };
                (key.to_owned(), value)
            })
            .collect();
        serde_json::Value::Object(line)
    }

    fn fits<K: Kind>() {
        for aliases in [false, true] {
            let line = every_column::<K>(aliases);
            if let Err(e) = serde_json::from_value::<K::Record>(line.clone()) {
                panic!("{} {line}: {e}", K::NAME);
            }
        }
        let mut line = every_column::<K>(false);
        line["fullname"] = serde_json::json!("x");
        let e = serde_json::from_value::<K::Record>(line).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.starts_with("unknown field `fullname`, expected one of `id`"), "{}: {e}", K::NAME);
    }

    #[test]
    fn the_columns_are_the_fields_of_a_line_and_no_other_is_read() {
        fits::<Users>();
        fits::<Events>();
        fits::<Logins>();
        fits::<Contents>();
    }

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
