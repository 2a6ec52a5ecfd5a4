//! Pages of a table ordered by (instant, id), forward and backward, as
//! [`ottstats_domain::page`] defines them: one indexed read of `limit + 1` rows from the
//! end asked for, and one indexed row past the opposite cursor.

use ottstats_domain::RepoError;
use ottstats_domain::page::{Cursor, PageEnd, PageRequest};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use crate::error::db_err;

/// How a connection is ordered on its two columns.
#[derive(Clone, Copy)]
pub(crate) struct Order<C> {
    pub instant: C,
    pub id: C,
    /// Newest first (logins) rather than oldest first (events).
    pub descending: bool,
}

impl<C: ColumnTrait> Order<C> {
    /// Rows strictly after `c` in the connection's order (`reversed`: strictly before).
    fn past(&self, c: &Cursor, reversed: bool) -> Condition {
        let at = c.occurred_at.timestamp_millis();
        let (instant, id) = match self.descending != reversed {
            false => (self.instant.gt(at), self.id.gt(c.id.clone())),
            true => (self.instant.lt(at), self.id.lt(c.id.clone())),
        };
        Condition::any().add(instant).add(Condition::all().add(self.instant.eq(at)).add(id))
    }

    fn sorted<E: EntityTrait<Column = C>>(&self, select: Select<E>, reversed: bool) -> Select<E> {
        let order = match self.descending != reversed {
            false => sea_orm::Order::Asc,
            true => sea_orm::Order::Desc,
        };
        select.order_by(self.instant, order.clone()).order_by(self.id, order)
    }
}

/// The rows of the page, read from the end asked (so reversed for `last`), up to
/// `limit + 1`; and whether a row lies at or beyond the opposite cursor.
pub(crate) async fn read_page<E: EntityTrait>(
    db: &DatabaseConnection,
    all: Select<E>,
    order: Order<E::Column>,
    request: &PageRequest,
) -> Result<(Vec<E::Model>, bool), RepoError> {
    let mut window = all.clone();
    if let Some(after) = &request.after {
        window = window.filter(order.past(after, false));
    }
    if let Some(before) = &request.before {
        window = window.filter(order.past(before, true));
    }
    let backward = request.end == PageEnd::Last;
    let limit = u64::try_from(request.limit).unwrap_or(u64::MAX - 1).saturating_add(1);
    let rows = order.sorted(window, backward).limit(limit).all(db);
    let beyond = async {
        let Some(cursor) = request.opposite_cursor() else { return Ok(false) };
        // Not past the cursor, looking away from the page: the cursor's row or one
        // beyond it.
        let outside = order.past(cursor, backward).not();
        let row = order.sorted(all.filter(outside), !backward).limit(1).one(db).await?;
        Ok(row.is_some())
    };
    let (rows, beyond) = tokio::try_join!(rows, beyond).map_err(db_err)?;
    Ok((rows, beyond))
}
