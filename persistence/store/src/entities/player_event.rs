use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "player_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    pub session_id: String,
    pub event_type: String,
    /// Epoch milliseconds.
    pub occurred_at: i64,
    pub position: Option<f64>,
    pub content_kind: Option<String>,
    pub content_id: Option<String>,
    pub device: Option<String>,
    pub referrer: Option<String>,
    pub bandwidth_kbps: Option<f64>,
    pub played_seconds: Option<f64>,
    /// Derived playback time of the event.
    pub playback_ms: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
