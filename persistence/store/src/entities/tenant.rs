use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub home_country: String,
    /// IANA time zone name.
    pub time_zone: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Rate-limit points a minute for each of its keys; the server's default when null.
    pub rate_limit: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
