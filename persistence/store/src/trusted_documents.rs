//! Trusted documents: registered once, by the SHA-256 of their text, never changed (a
//! hash names one text), so every process may remember them for good.

use async_trait::async_trait;
use chrono::Utc;
use ottstats_domain::RepoError;
use ottstats_domain::document::DocumentHash;
use ottstats_domain::repository::TrustedDocuments;
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};

use crate::error::db_err;
use crate::store::Store;

fn table() -> Alias {
    Alias::new("trusted_documents")
}

#[async_trait]
impl TrustedDocuments for Store {
    async fn add_document(&self, hash: DocumentHash, text: &str) -> Result<bool, RepoError> {
        let insert = Query::insert()
            .into_table(table())
            .columns([Alias::new("hash"), Alias::new("document"), Alias::new("added_at")])
            .values_panic([hash.to_string().into(), text.into(), Utc::now().timestamp_millis().into()])
            .on_conflict(OnConflict::column(Alias::new("hash")).do_nothing().to_owned())
            .to_owned();
        let done = self.connection().execute(&insert).await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn document(&self, hash: DocumentHash) -> Result<Option<String>, RepoError> {
        let select = Query::select()
            .column(Alias::new("document"))
            .from(table())
            .and_where(Expr::col(Alias::new("hash")).eq(hash.to_string()))
            .to_owned();
        let row = self.connection().query_one(&select).await.map_err(db_err)?;
        row.map(|r| r.try_get::<String>("", "document").map_err(db_err)).transpose()
    }
}
