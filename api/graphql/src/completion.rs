//! The completion of one answer, as the GraphQL spec's "Handling Execution Errors" and
//! CollectFields say (see `null_propagation` for why and when it runs): keys in the
//! document's order, a field left out by an error is `null`, and a `null` in a non-null
//! position makes its parent `null`, up to the nearest nullable field or `data`.

use std::cell::OnceCell;
use std::rc::Rc;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{
    Directive, ExecutableDocument, Field, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{Name, PathSegment, Positioned, Response, ServerError, Value, Variables};

/// Completes `response.data` in place; answers that cannot be matched to the document
/// (no such operation) are left as they are.
pub fn complete_response(
    response: &mut Response,
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    registry: &Registry,
) {
    let Some(operation) = selected(doc, operation_name) else { return };
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
    let sets = vec![&operation.node.selection_set.node];
    let Some(mut plan) = completer.plan(root, &sets) else { return };
    // A subscription's push carries the one root field whose stream it came from.
    if operation.node.ty == OperationType::Subscription
        && let (Some(plan), Value::Object(fields)) = (Rc::get_mut(&mut plan), &response.data)
    {
        plan.fields.retain(|f| fields.contains_key(f.key));
    }
    let mut data = std::mem::take(&mut response.data);
    let mut path = Vec::new();
    let completed = match &mut data {
        Value::Object(fields) => completer.object(fields, &plan, &mut path),
        // Every root field failed: async-graphql answered `null`.
        Value::Null if !response.errors.is_empty() && response.errors.iter().any(|e| !e.path.is_empty()) => {
            data = Value::Object(IndexMap::new());
            match &mut data {
                Value::Object(fields) => completer.object(fields, &plan, &mut path),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    };
    response.data = if completed.is_ok() { data } else { Value::Null };
}

/// The operation a request runs: the one named, or the only one (`None` when the
/// request is ambiguous, which validation refuses).
pub fn selected<'d>(doc: &'d ExecutableDocument, name: Option<&str>) -> Option<&'d Positioned<OperationDefinition>> {
    match name {
        Some(name) => doc.operations.iter().find(|(n, _)| n.is_some_and(|n| n.as_str() == name)).map(|(_, op)| op),
        None => {
            let mut operations = doc.operations.iter();
            let (_, only) = operations.next()?;
            operations.next().is_none().then_some(only)
        }
    }
}

/// A `null` in a non-null position, on its way to the nearest nullable ancestor.
struct Propagate;

/// A step of the path to a value, borrowed from the document.
#[derive(Clone, Copy)]
enum Step<'a> {
    Field(&'a str),
    Index(usize),
}

/// How one object type's fields are answered for one selection: computed once per
/// (type, selection) and shared by every object of a list.
struct Plan<'a> {
    type_name: &'a str,
    fields: Vec<FieldPlan<'a>>,
}

struct FieldPlan<'a> {
    key: &'a Name,
    kind: FieldKind<'a>,
}

enum FieldKind<'a> {
    Typename,
    /// A field of the schema: its type (`[AgeShare!]!`), the object type it holds if any,
    /// the selection sets of every field of this key, and their plan once needed.
    Typed {
        ty: &'a str,
        object: Option<&'a str>,
        sets: Vec<&'a SelectionSet>,
        plan: OnceCell<Option<Rc<Plan<'a>>>>,
    },
    /// Not in the registry (introspection's own fields): kept as answered.
    Unknown,
}

struct Completer<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    defaults: &'a [(Name, Value)],
    registry: &'a Registry,
    errors: &'a [ServerError],
}

impl<'a> Completer<'a> {
    fn plan(&self, type_name: &'a str, sets: &[&'a SelectionSet]) -> Option<Rc<Plan<'a>>> {
        let meta @ MetaType::Object { .. } = self.registry.types.get(type_name)? else { return None };
        let mut collected: IndexMap<&'a Name, Vec<&'a Positioned<Field>>> = IndexMap::new();
        let mut visited = Vec::new();
        for set in sets {
            self.collect(type_name, set, &mut collected, &mut visited);
        }
        let fields = collected
            .into_iter()
            .map(|(key, same_key)| {
                let name = same_key[0].node.name.node.as_str();
                let kind = if name == "__typename" {
                    FieldKind::Typename
                } else {
                    match meta.field_by_name(name) {
                        Some(def) => {
                            let named = def.ty.trim_matches(|c| c == '[' || c == ']' || c == '!');
                            let object = match self.registry.types.get_key_value(named) {
                                Some((n, MetaType::Object { .. })) => Some(n.as_str()),
                                _ => None,
                            };
                            let sets = same_key.iter().map(|f| &f.node.selection_set.node).collect();
                            FieldKind::Typed { ty: &def.ty, object, sets, plan: OnceCell::new() }
                        }
                        None => FieldKind::Unknown,
                    }
                };
                FieldPlan { key, kind }
            })
            .collect();
        Some(Rc::new(Plan { type_name, fields }))
    }

    /// Completes a value of type `ty` (`[AgeShare!]!`, `Int`, …) in place.
    fn value(
        &self,
        value: &mut Value,
        ty: &'a str,
        field: &FieldPlan<'a>,
        path: &mut Vec<Step<'a>>,
    ) -> Result<(), Propagate> {
        match ty.strip_suffix('!') {
            Some(inner) => {
                self.nullable(value, inner, true, field, path)?;
                if matches!(value, Value::Null) { Err(Propagate) } else { Ok(()) }
            }
            None => {
                if self.nullable(value, ty, false, field, path).is_err() {
                    *value = Value::Null;
                }
                Ok(())
            }
        }
    }

    /// A value of a type without its outer `!`.
    fn nullable(
        &self,
        value: &mut Value,
        ty: &'a str,
        non_null: bool,
        field: &FieldPlan<'a>,
        path: &mut Vec<Step<'a>>,
    ) -> Result<(), Propagate> {
        if let Some(item) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            if let Value::List(items) = value {
                for (i, v) in items.iter_mut().enumerate() {
                    path.push(Step::Index(i));
                    let done = self.value(v, item, field, path);
                    path.pop();
                    done?;
                }
            }
            return Ok(());
        }
        let FieldKind::Typed { object: Some(object), sets, plan, .. } = &field.kind else { return Ok(()) };
        let Some(plan) = plan.get_or_init(|| self.plan(object, sets)) else { return Ok(()) };
        match value {
            Value::Object(fields) => self.object(fields, plan, path),
            // async-graphql answers `null` for an object whose every field failed, and for
            // one whose every field was skipped (where the spec answers `{}`).
            Value::Null if self.error_below(path) || (non_null && plan.fields.is_empty()) => {
                let mut fields = IndexMap::new();
                let done = self.object(&mut fields, plan, path);
                *value = Value::Object(fields);
                done
            }
            _ => Ok(()),
        }
    }

    /// Completes an object's fields in place, in the plan's order.
    fn object(
        &self,
        fields: &mut IndexMap<Name, Value>,
        plan: &Plan<'a>,
        path: &mut Vec<Step<'a>>,
    ) -> Result<(), Propagate> {
        let in_order = fields.len() == plan.fields.len() && fields.keys().zip(&plan.fields).all(|(k, f)| k == f.key);
        if !in_order {
            let mut answered = std::mem::take(fields);
            for f in &plan.fields {
                let value = match (answered.swap_remove(f.key), &f.kind) {
                    (Some(value), _) => value,
                    (None, FieldKind::Typename) => Value::String(plan.type_name.to_owned()),
                    (None, FieldKind::Unknown) => continue,
                    // Left out by an error: null, to be completed below.
                    (None, FieldKind::Typed { .. }) => Value::Null,
                };
                fields.insert(f.key.clone(), value);
            }
            // Whatever the document does not explain stays, after what it does.
            fields.extend(answered);
        }
        for (value, f) in fields.values_mut().zip(&plan.fields) {
            let FieldKind::Typed { ty, .. } = &f.kind else { continue };
            path.push(Step::Field(f.key.as_str()));
            let done = self.value(value, ty, f, path);
            path.pop();
            done?;
        }
        Ok(())
    }

    /// The spec's CollectFields: fields by response key, in document order.
    fn collect(
        &self,
        ty: &str,
        set: &'a SelectionSet,
        out: &mut IndexMap<&'a Name, Vec<&'a Positioned<Field>>>,
        visited: &mut Vec<&'a str>,
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
    fn error_below(&self, path: &[Step<'_>]) -> bool {
        self.errors.iter().any(|e| {
            e.path.len() > path.len()
                && e.path.iter().zip(path).all(|(a, b)| match (a, b) {
                    (PathSegment::Field(a), Step::Field(b)) => a == b,
                    (PathSegment::Index(a), Step::Index(b)) => a == b,
                    _ => false,
                })
        })
    }
}
