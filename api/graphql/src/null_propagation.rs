//! Completes every answer as the GraphQL spec's "Handling Execution Errors" says.
//!
//! async-graphql 7.2 resolves an object's fields concurrently and, when one fails,
//! records the error and *leaves the key out*: a non-null field's error never turns its
//! parent into `null`, an object whose every field failed becomes `null` itself, and the
//! keys come in the order the fields finished. Typed clients (Apollo with `errorPolicy:
//! 'all'`, codegen, Relay) then meet `undefined` where the schema promises a value.
//!
//! This extension rebuilds each answer (`completion`) from the document, the schema and
//! the data it was given: keys in the order of the spec's CollectFields (fragments, aliases, `@skip` and
//! `@include` included), a field left out by an error becomes `null`, and a `null` in a
//! non-null position propagates to the nearest nullable ancestor (`data` itself when there
//! is none). It runs for every operation, over HTTP and over `/graphql/ws`, whatever the
//! error's cause: an argument, a limit, storage.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest, NextSubscribe,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Response, ServerResult, Variables};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

pub use super::completion::{complete_response, selected};

pub struct SpecNulls;

impl ExtensionFactory for SpecNulls {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SpecNullsExtension(Arc::default(), Arc::default()))
    }
}

/// The document, variables and operation of the request, kept from parsing until its
/// answers.
type Parsed = Arc<Mutex<Option<(ExecutableDocument, Variables, Option<String>)>>>;

struct SpecNullsExtension(Parsed, Arc<Mutex<Option<String>>>);

#[async_trait::async_trait]
impl Extension for SpecNullsExtension {
    /// Gives absent variables their defaults before async-graphql reads them: it decides
    /// `@skip`/`@include` on the variables sent alone, so a default would be ignored there
    /// (and seen here), against the spec's CoerceVariableValues.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: async_graphql::Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        let name = request.operation_name.clone();
        let mut variables = std::mem::take(&mut request.variables);
        if let Ok(doc) = request.parsed_query()
            && let Some(operation) = selected(doc, name.as_deref())
        {
            for definition in &operation.node.variable_definitions {
                let d = &definition.node;
                if let Some(default) = &d.default_value
                    && !variables.contains_key(&d.name.node)
                {
                    variables.insert(d.name.node.clone(), default.node.clone());
                }
            }
        }
        request.variables = variables;
        if let Ok(mut operation) = self.1.lock() {
            *operation = name;
        }
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let operation = self.1.lock().ok().and_then(|o| o.clone());
        if let Ok(mut parsed) = self.0.lock() {
            *parsed = Some((doc.clone(), variables.clone(), operation));
        }
        Ok(doc)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        // Taken: a query or mutation over a socket passes `subscribe` too, complete already.
        let parsed = self.0.lock().ok().and_then(|mut p| p.take());
        if let Some((doc, variables, _)) = parsed {
            complete_response(&mut response, &doc, operation_name, &variables, &ctx.schema_env.registry);
        }
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let parsed = self.0.clone();
        let registry = ctx.schema_env.clone();
        next.run(ctx, stream)
            .map(move |mut response| {
                if let Ok(guard) = parsed.lock()
                    && let Some((doc, variables, operation)) = guard.as_ref()
                {
                    complete_response(&mut response, doc, operation.as_deref(), variables, &registry.registry);
                }
                response
            })
            .boxed()
    }
}
