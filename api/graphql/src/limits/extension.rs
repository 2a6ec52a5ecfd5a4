//! Holds every operation, over HTTP or a WebSocket, to [`Limits`] right after parsing,
//! before validation walks the document.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{ServerResult, Variables};

use super::{Limits, Measure, check};
use crate::error::ApiError;

/// The extension: [`Limits::DEFAULT`] unless the schema is built with others.
pub struct BoundedCost(pub Limits);

/// Set in a request's data when its document was measured already (the HTTP handler
/// measures it to charge its cost), so that it is not measured twice.
#[derive(Debug, Clone, Copy)]
pub struct Measured(pub Measure);

impl ExtensionFactory for BoundedCost {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(BoundedCostExtension(self.0))
    }
}

struct BoundedCostExtension(Limits);

#[async_trait::async_trait]
impl Extension for BoundedCostExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if ctx.data_opt::<Measured>().is_none() {
            check(&doc, variables, &self.0).map_err(|e| {
                // Not tied to a place in the document: no `locations`.
                let error = async_graphql::Error::from(ApiError::Limit(e));
                let mut refused = async_graphql::ServerError::new(error.message, None);
                refused.extensions = error.extensions;
                refused
            })?;
        }
        Ok(doc)
    }
}
