//! Users by the beginning of their id: a range of the primary key `(tenant_id, id)`.

use async_trait::async_trait;
use ottstats_domain::RepoError;
use ottstats_domain::tenant::TenantId;
use ottstats_domain::user_search::{IdPrefix, MatchLimit, UserSearch};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entities::registered_user::{self, Column};
use crate::error::db_err;
use crate::store::Store;

#[async_trait]
impl UserSearch for Store {
    async fn ids_with_prefix(
        &self,
        tenant: TenantId,
        prefix: &IdPrefix,
        limit: MatchLimit,
    ) -> Result<Vec<String>, RepoError> {
        // `prefix <= id < upper bound` is the ids that start with the prefix in code point
        // order, which both engines use for ids here (SQLite's BINARY, PostgreSQL's C and
        // C.UTF-8 collations); the check after the read keeps the answer exact under any
        // other collation, where the range could only miss ids, never add any.
        let mut select = registered_user::Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::TenantId.eq(tenant.0))
            .filter(Column::Id.gte(prefix.as_str()));
        if let Some(upper) = prefix.upper_bound() {
            select = select.filter(Column::Id.lt(upper));
        }
        let ids: Vec<String> = select
            .order_by_asc(Column::Id)
            .limit(limit.get() as u64)
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(db_err)?;
        Ok(ids.into_iter().filter(|id| prefix.matches(id)).collect())
    }
}
