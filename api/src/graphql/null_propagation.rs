//! Completes every answer as the GraphQL spec's "Handling Execution Errors" says.
//!
//! async-graphql 7.2 resolves an object's fields concurrently and, when one fails,
//! records the error and *leaves the key out*: a non-null field's error never turns its
//! parent into `null`, an object whose every field failed becomes `null` itself, and the
//! keys come in the order the fields finished. Typed clients (Apollo with `errorPolicy:
//! 'all'`, codegen, Relay) then meet `undefined` where the schema promises a value.
//!
//! This extension rebuilds each answer from the document, the schema and the data it was
//! given: keys in the order of the spec's CollectFields (fragments, aliases, `@skip` and
//! `@include` included), a field left out by an error becomes `null`, and a `null` in a
//! non-null position propagates to the nearest nullable ancestor (`data` itself when there
//! is none). It runs for every operation, over HTTP and over `/graphql/ws`, whatever the
//! error's cause: an argument, a limit, storage.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextSubscribe,
};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Directive, ExecutableDocument, Field, OperationType, Selection, SelectionSet};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{Name, PathSegment, Positioned, Response, ServerError, ServerResult, Value, Variables};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

pub struct SpecNulls;

impl ExtensionFactory for SpecNulls {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SpecNullsExtension(Arc::default()))
    }
}

/// The document and variables of the request, kept from parsing until its answers.
type Parsed = Arc<Mutex<Option<(ExecutableDocument, Variables)>>>;

struct SpecNullsExtension(Parsed);

#[async_trait::async_trait]
impl Extension for SpecNullsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if let Ok(mut parsed) = self.0.lock() {
            *parsed = Some((doc.clone(), variables.clone()));
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
        if let Some((doc, variables)) = parsed {
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
                    && let Some((doc, variables)) = guard.as_ref()
                {
                    complete_response(&mut response, doc, None, variables, &registry.registry);
                }
                response
            })
            .boxed()
    }
}

/// Completes `response.data` in place; answers that cannot be matched to the document
/// (no such operation) are left as they are.
pub fn complete_response(
    response: &mut Response,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    registry: &Registry,
) {
    let operation = match operation_name {
        Some(name) => doc.operations.iter().find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
        None => doc.operations.iter().next(),
    };
    let Some((_, operation)) = operation else { return };
    let root = match operation.node.ty {
        OperationType::Query => Some(registry.query_type.as_str()),
        OperationType::Mutation => registry.mutation_type.as_deref(),
        OperationType::Subscription => registry.subscription_type.as_deref(),
    };
    let Some(root) = root else { return };
    let defaults: Vec<(Name, Value)> = operation
        .node
        .variable_definitions
        .iter()
        .filter_map(|d| d.node.default_value.as_ref().map(|v| (d.node.name.node.clone(), v.node.clone())))
        .collect();
    let completer = Completer { doc, variables, defaults: &defaults, registry, errors: &response.errors };
    let data = std::mem::take(&mut response.data);
    let mut path = Vec::new();
    let sets = [&operation.node.selection_set.node];
    response.data = completer.named(data, root, &sets, &mut path).unwrap_or(Value::Null);
}

/// A `null` in a non-null position, on its way to the nearest nullable ancestor.
struct Propagate;

struct Completer<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    defaults: &'a [(Name, Value)],
    registry: &'a Registry,
    errors: &'a [ServerError],
}

impl Completer<'_> {
    /// A value of type `ty` (`[AgeShare!]!`, `Int`, …) selected by `sets`.
    fn value(
        &self,
        value: Value,
        ty: &str,
        sets: &[&SelectionSet],
        path: &mut Vec<PathSegment>,
    ) -> Result<Value, Propagate> {
        match ty.strip_suffix('!') {
            Some(inner) => match self.nullable(value, inner, sets, path)? {
                Value::Null => Err(Propagate),
                value => Ok(value),
            },
            None => Ok(self.nullable(value, ty, sets, path).unwrap_or(Value::Null)),
        }
    }

    /// A value of a type without its outer `!`.
    fn nullable(
        &self,
        value: Value,
        ty: &str,
        sets: &[&SelectionSet],
        path: &mut Vec<PathSegment>,
    ) -> Result<Value, Propagate> {
        if let Some(item) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            return match value {
                Value::List(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for (i, v) in items.into_iter().enumerate() {
                        path.push(PathSegment::Index(i));
                        let done = self.value(v, item, sets, path);
                        path.pop();
                        out.push(done?);
                    }
                    Ok(Value::List(out))
                }
                other => Ok(other),
            };
        }
        self.named(value, ty, sets, path)
    }

    /// A value of a named type: objects are rebuilt field by field, leaves kept.
    fn named(
        &self,
        value: Value,
        ty: &str,
        sets: &[&SelectionSet],
        path: &mut Vec<PathSegment>,
    ) -> Result<Value, Propagate> {
        let Some(meta @ MetaType::Object { .. }) = self.registry.types.get(ty) else { return Ok(value) };
        let fields = match value {
            Value::Object(fields) => fields,
            // async-graphql answers `null` for an object whose every field failed.
            Value::Null if self.error_below(path) => IndexMap::new(),
            other => return Ok(other),
        };
        self.object(fields, ty, meta, sets, path)
    }

    fn object(
        &self,
        mut fields: IndexMap<Name, Value>,
        ty: &str,
        meta: &MetaType,
        sets: &[&SelectionSet],
        path: &mut Vec<PathSegment>,
    ) -> Result<Value, Propagate> {
        let mut collected: IndexMap<&Name, Vec<&Positioned<Field>>> = IndexMap::new();
        let mut visited = Vec::new();
        for set in sets {
            self.collect(ty, set, &mut collected, &mut visited);
        }
        let mut out = IndexMap::with_capacity(collected.len());
        for (key, same_key) in collected {
            let field = &same_key[0].node;
            let value = fields.shift_remove(key);
            let completed = if field.name.node == "__typename" {
                value.unwrap_or_else(|| Value::String(ty.to_string()))
            } else {
                match meta.field_by_name(&field.name.node) {
                    Some(def) => {
                        let sub: Vec<&SelectionSet> = same_key.iter().map(|f| &f.node.selection_set.node).collect();
                        path.push(PathSegment::Field(key.to_string()));
                        let done = self.value(value.unwrap_or(Value::Null), &def.ty, &sub, path);
                        path.pop();
                        done?
                    }
                    // Not in the registry (introspection's own fields): as answered.
                    None => match value {
                        Some(value) => value,
                        None => continue,
                    },
                }
            };
            out.insert(key.clone(), completed);
        }
        // Whatever the document does not explain stays, after what it does.
        out.extend(fields);
        Ok(Value::Object(out))
    }

    /// The spec's CollectFields: fields by response key, in document order.
    fn collect<'d>(
        &'d self,
        ty: &str,
        set: &'d SelectionSet,
        out: &mut IndexMap<&'d Name, Vec<&'d Positioned<Field>>>,
        visited: &mut Vec<&'d str>,
    ) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    if self.included(&field.node.directives) {
                        out.entry(&field.node.response_key().node).or_default().push(field);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if !self.included(&spread.node.directives) || visited.contains(&name) {
                        continue;
                    }
                    visited.push(name);
                    if let Some(fragment) = self.doc.fragments.get(&spread.node.fragment_name.node)
                        && self.applies(&fragment.node.type_condition.node.on.node, ty)
                    {
                        self.collect(ty, &fragment.node.selection_set.node, out, visited);
                    }
                }
                Selection::InlineFragment(inline) => {
                    let applies = inline.node.type_condition.as_ref().is_none_or(|c| self.applies(&c.node.on.node, ty));
                    if self.included(&inline.node.directives) && applies {
                        self.collect(ty, &inline.node.selection_set.node, out, visited);
                    }
                }
            }
        }
    }

    fn applies(&self, condition: &str, ty: &str) -> bool {
        condition == ty || self.registry.types.get(condition).is_some_and(|t| t.is_possible_type(ty))
    }

    /// `@skip(if:)` and `@include(if:)`, with literals or variables.
    fn included(&self, directives: &[Positioned<Directive>]) -> bool {
        directives.iter().all(|d| {
            let flag = || {
                let Some(argument) = d.node.get_argument("if") else { return false };
                let value = argument.node.clone().into_const_with(|name| {
                    self.variables.get(&name).or_else(|| self.default(&name)).cloned().ok_or(())
                });
                matches!(value, Ok(Value::Boolean(true)))
            };
            match d.node.name.node.as_str() {
                "skip" => !flag(),
                "include" => flag(),
                _ => true,
            }
        })
    }

    fn default(&self, name: &Name) -> Option<&Value> {
        self.defaults.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Whether an error was raised under `path` (so its object was answered, then lost).
    fn error_below(&self, path: &[PathSegment]) -> bool {
        self.errors.iter().any(|e| e.path.len() > path.len() && e.path.starts_with(path))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use async_graphql::{EmptySubscription, Object, Schema, SimpleObject};

    use super::*;

    #[derive(SimpleObject, Clone)]
    struct Bucket {
        start: String,
        total: i32,
        by_gender: Vec<Count>,
    }

    #[derive(SimpleObject, Clone)]
    struct Count {
        gender: String,
        count: i32,
    }

    struct Q;

    #[Object]
    impl Q {
        async fn buckets(&self, n: usize) -> Vec<Bucket> {
            let counts = ["FEMALE", "MALE", "OTHER", "UNKNOWN"].map(|g| Count { gender: g.into(), count: 7 }).to_vec();
            (0..n)
                .map(|i| Bucket { start: format!("2026-01-01T{i:05}"), total: 28, by_gender: counts.clone() })
                .collect()
        }
    }

    /// What completing answers costs: the same query executed with and without the
    /// extension, beside encoding the answer (which every answer pays), on a year of
    /// hourly buckets split by gender. Not a timed assertion: it prints.
    ///   cargo test --release -p ottstats-api -- --ignored completion_cost --nocapture
    #[tokio::test]
    #[ignore]
    async fn completion_cost() {
        let plain = Schema::build(Q, async_graphql::EmptyMutation, EmptySubscription).finish();
        let complete = Schema::build(Q, async_graphql::EmptyMutation, EmptySubscription).extension(SpecNulls).finish();
        let query = "{ buckets(n: 8760) { start total byGender { gender count } } }";
        let rounds = 30;
        let mut runs = Vec::new();
        for schema in [&plain, &complete, &plain, &complete] {
            let t = Instant::now();
            for _ in 0..rounds {
                std::hint::black_box(schema.execute(query).await);
            }
            runs.push(t.elapsed() / rounds);
        }
        let response = plain.execute(query).await;
        let t = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(serde_json::to_vec(&response).unwrap());
        }
        let encode = t.elapsed() / rounds;
        let bytes = serde_json::to_vec(&response).unwrap().len();
        let (without, with) = (runs[2], runs[3]);
        println!(
            "answer of {bytes} bytes: execute {without:?} without completion, {with:?} with (x{:.2}); encode {encode:?}",
            with.as_secs_f64() / without.as_secs_f64()
        );
    }
}
