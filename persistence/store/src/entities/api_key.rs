use sea_orm::entity::prelude::*;

/// An API key, stored only as the SHA-256 of the key.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i64,
    /// Lower-case hex SHA-256 of the whole key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_hash: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// `k` and the first 12 hex digits of the hash: the id `key list` shows.
    pub key_id: String,
    pub name: String,
    /// Canonical: `read pii write` (see `Scopes`'s `Display`).
    pub scopes: String,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
