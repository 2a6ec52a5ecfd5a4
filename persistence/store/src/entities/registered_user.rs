use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "registered_users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    /// `FEMALE`, `MALE`, `OTHER` or `UNKNOWN`.
    pub gender: String,
    pub birth_date: Option<Date>,
    /// Whole years at registration, derived on write; null when unknown.
    pub age: Option<i16>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    /// Epoch milliseconds.
    pub registered_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
