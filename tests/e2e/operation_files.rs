//! The `.graphql` files of `operations/` (as lldap's `server/tests/queries/`): each is a
//! valid document of the real schema, each is used by a test, and together they select
//! every field reachable from `Query`; the every-field operations run without an error.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, InputValueDefinition, OperationType, Selection, SelectionSet,
    Type, TypeKind, TypeSystemDefinition, VariableDefinition,
};
use async_graphql::{Positioned, Request, ServerError, ValidationResult};
use async_graphql_value::{ConstValue, Value as DocumentValue};
use ottstats_tests::{Env, on_each_backend};
use serde_json::{Value, json};

use crate::operations;

/// Every `.graphql` file of the folder: (file name, text), by name.
fn operation_files() -> Vec<(String, String)> {
    let dir = crate::repo_path("tests/e2e/operations");
    let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap_or_else(|e| panic!("{e}")).path())
        .filter(|path| path.extension().is_some_and(|x| x == "graphql"))
        .map(|path: PathBuf| {
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
            (name, text)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no operation in {}", dir.display());
    files
}

/// What the validation hook says of a valid document: execution stops there, so that no
/// resolver runs (nor needs a tenant or the variables).
const VALID: &str = "valid (not executed)";

/// Runs async-graphql's own validation (every rule the server applies: known fields and
/// arguments, required arguments, variable types and positions, fragments, leaves) and
/// stops before execution.
struct ValidateOnly;

impl ExtensionFactory for ValidateOnly {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ValidateOnly)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for ValidateOnly {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await?;
        Err(vec![ServerError::new(VALID, None)])
    }
}

#[tokio::test]
async fn every_operation_file_is_valid_against_the_schema() {
    // The real schema with its limits and extensions (as `ottstats_graphql::sdl` builds
    // it), and no data: validation needs none.
    let schema = ottstats_graphql::schema_builder().extension(ValidateOnly).finish();
    let mut invalid = Vec::new();
    for (name, text) in operation_files() {
        let response = schema.execute(Request::new(text)).await;
        let messages: Vec<String> = response.errors.iter().map(|e| e.message.clone()).collect();
        if messages != [VALID] {
            invalid.push(format!("{name}: {messages:?}"));
        }
    }
    assert!(invalid.is_empty(), "invalid operation files:\n{}", invalid.join("\n"));
}

/// The check itself: a document with an unknown field, a missing argument or a field of
/// an object without subfields is refused, each with its validation message.
#[tokio::test]
async fn the_validation_refuses_what_the_server_refuses() {
    let schema = ottstats_graphql::schema_builder().extension(ValidateOnly).finish();
    for (text, message) in [
        ("{ registrations(period: {from: \"2026-01-01\", to: \"2026-02-01\"}) { totl } }", "Unknown field \"totl\""),
        ("{ registrations { total } }", "argument \"period\""),
        ("{ user(id: \"1\") }", "must have a selection of subfields"),
    ] {
        let response = schema.execute(Request::new(text)).await;
        let messages: Vec<&str> = response.errors.iter().map(|e| e.message.as_str()).collect();
        assert!(messages.iter().any(|m| m.contains(message)), "{text}: {messages:?}");
        assert!(!messages.contains(&VALID), "{text}");
    }
}

#[test]
fn every_operation_file_is_used() {
    let dir = crate::repo_path("tests/e2e");
    let read = |path: &std::path::Path| std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{e}"));
    let declared = read(&dir.join("operations.rs"));
    // Every `.rs` file of the binary but `operations.rs`, where the constants are.
    let mut sources = String::new();
    let mut folders = vec![dir.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") && path != dir.join("operations.rs") {
                sources.push_str(&read(&path));
            }
        }
    }
    // What the modules name: `operations::NAME`, or `NAME` in `use crate::operations::{…}`.
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for (i, _) in sources.match_indices("operations::") {
        let rest = &sources[i + "operations::".len()..];
        let names = match rest.strip_prefix('{') {
            Some(group) => &group[..group.find('}').unwrap_or(0)],
            None => &rest[..rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len())],
        };
        used.extend(names.split(',').map(str::trim).filter(|n| !n.is_empty()));
    }
    let mut unused = Vec::new();
    for (name, _) in operation_files() {
        let include = format!("include_str!(\"operations/{name}\")");
        let constant = declared
            .lines()
            .find(|l| l.contains(&include))
            .and_then(|l| l.trim().strip_prefix("pub const "))
            .and_then(|l| l.split(':').next())
            .map(str::to_owned);
        match constant {
            None => unused.push(format!("{name}: no `pub const NAME: &str = {include};` in operations.rs")),
            Some(c) if !used.contains(c.as_str()) => {
                unused.push(format!("{name}: `operations::{c}` is used by no test"));
            }
            Some(_) => {}
        }
    }
    assert!(unused.is_empty(), "operation files no test uses:\n{}", unused.join("\n"));
}

/// The named type under lists and non-null.
fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// The type of an argument or of an input field, and whether it has a default.
struct Slot {
    ty: Type,
    default: bool,
}

fn slots(definitions: &[Positioned<InputValueDefinition>]) -> BTreeMap<String, Slot> {
    definitions
        .iter()
        .map(|d| {
            let default = d.node.default_value.as_ref().is_some_and(|v| v.node != ConstValue::Null);
            (d.node.name.node.to_string(), Slot { ty: d.node.ty.node.clone(), default })
        })
        .collect()
}

/// The fields of an object type: field → (the named type of the field, its arguments).
type ObjectFields = BTreeMap<String, (String, BTreeMap<String, Slot>)>;

/// The schema as the checks need it, read from its SDL.
struct Model {
    /// Object type → its fields.
    objects: BTreeMap<String, ObjectFields>,
    /// Input object type → its fields.
    inputs: BTreeMap<String, BTreeMap<String, Slot>>,
}

fn model() -> Model {
    let sdl = ottstats_graphql::sdl();
    let document = async_graphql::parser::parse_schema(&sdl).unwrap_or_else(|e| panic!("the SDL does not parse: {e}"));
    let mut model = Model { objects: BTreeMap::new(), inputs: BTreeMap::new() };
    for definition in document.definitions {
        let TypeSystemDefinition::Type(ty) = definition else { continue };
        let name = ty.node.name.node.to_string();
        match &ty.node.kind {
            TypeKind::Object(object) => {
                let fields = object.fields.iter().map(|f| {
                    let of = named(&f.node.ty.node).to_owned();
                    (f.node.name.node.to_string(), (of, slots(&f.node.arguments)))
                });
                model.objects.insert(name, fields.collect());
            }
            TypeKind::InputObject(input) => {
                model.inputs.insert(name, slots(&input.fields));
            }
            _ => {}
        }
    }
    model
}

/// Whether a variable of type `var` may stand where `slot` is expected (the spec's
/// `IsVariableUsageAllowed`, "Variable Usages Are Allowed").
fn allowed(var: &VariableDefinition, slot: &Slot) -> bool {
    let var_default = var.default_value.as_ref().is_some_and(|v| v.node != ConstValue::Null);
    let mut location = slot.ty.clone();
    if !location.nullable && var.var_type.node.nullable && (var_default || slot.default) {
        location.nullable = true;
    }
    compatible(&var.var_type.node, &location)
}

fn compatible(var: &Type, location: &Type) -> bool {
    if var.nullable && !location.nullable {
        return false;
    }
    match (&var.base, &location.base) {
        (BaseType::List(v), BaseType::List(l)) => compatible(v, l),
        (BaseType::Named(v), BaseType::Named(l)) => v == l,
        _ => false,
    }
}

/// What the operations of a document select (`Type.field`, for queries), and the
/// variables they use where their type is not allowed: async-graphql 7.2 does not check
/// that (its `VariableInAllowedPosition` rule never sees a variable: the visitor that
/// combines the rules does not pass `enter_input_value` on), so this does.
#[derive(Default)]
struct Walk {
    selected: BTreeSet<(String, String)>,
    misplaced: Vec<String>,
}

impl Walk {
    fn document(&mut self, model: &Model, document: &ExecutableDocument) {
        let operations: Vec<_> = match &document.operations {
            DocumentOperations::Single(op) => vec![op],
            DocumentOperations::Multiple(ops) => ops.values().collect(),
        };
        for op in operations {
            let vars: BTreeMap<&str, &VariableDefinition> =
                op.node.variable_definitions.iter().map(|v| (v.node.name.node.as_str(), &v.node)).collect();
            let (root, record) = match op.node.ty {
                OperationType::Query => ("Query", true),
                OperationType::Mutation => ("Mutation", false),
                OperationType::Subscription => ("Subscription", false),
            };
            let mut context = Context { model, document, vars, record, fragments: Vec::new() };
            self.selection_set(&mut context, root, &op.node.selection_set.node);
        }
    }

    fn selection_set<'a>(&mut self, cx: &mut Context<'a>, on: &str, set: &'a SelectionSet) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let name = field.name.node.as_str();
                    let Some((of, args)) = cx.model.objects.get(on).and_then(|fields| fields.get(name)) else {
                        continue; // `__typename`, introspection (or unknown: the validation says so)
                    };
                    if cx.record {
                        self.selected.insert((on.to_owned(), name.to_owned()));
                    }
                    for (arg, value) in &field.arguments {
                        if let Some(slot) = args.get(arg.node.as_str()) {
                            self.value(cx, &value.node, slot, &format!("{on}.{name}({arg})", arg = arg.node));
                        }
                    }
                    self.selection_set(cx, of, &field.selection_set.node);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    let Some(fragment) = cx.document.fragments.get(name) else { continue };
                    if cx.fragments.contains(&name.as_str()) {
                        continue; // a cycle: the validation refuses it
                    }
                    cx.fragments.push(name.as_str());
                    self.selection_set(
                        cx,
                        fragment.node.type_condition.node.on.node.as_str(),
                        &fragment.node.selection_set.node,
                    );
                    cx.fragments.pop();
                }
                Selection::InlineFragment(inline) => {
                    let on = inline.node.type_condition.as_ref().map_or(on, |c| c.node.on.node.as_str());
                    self.selection_set(cx, on, &inline.node.selection_set.node);
                }
            }
        }
    }

    /// Checks the variables in `value`, sent where `slot` is expected.
    fn value(&mut self, cx: &Context<'_>, value: &DocumentValue, slot: &Slot, at: &str) {
        match value {
            DocumentValue::Variable(var) => {
                if let Some(definition) = cx.vars.get(var.as_str()).filter(|d| !allowed(d, slot)) {
                    self.misplaced
                        .push(format!("${var} of type {} where {at} expects {}", definition.var_type.node, slot.ty));
                }
            }
            DocumentValue::List(items) => {
                if let BaseType::List(inner) = &slot.ty.base {
                    let inner = Slot { ty: (**inner).clone(), default: false };
                    for item in items {
                        self.value(cx, item, &inner, at);
                    }
                }
            }
            DocumentValue::Object(fields) => {
                let Some(input) = cx.model.inputs.get(named(&slot.ty)) else { return };
                for (name, field_value) in fields {
                    if let Some(field) = input.get(name.as_str()) {
                        self.value(cx, field_value, field, &format!("{at}.{name}"));
                    }
                }
            }
            _ => {
                // A single value for a list is coerced to a list of one.
                if let BaseType::List(inner) = &slot.ty.base {
                    self.value(cx, value, &Slot { ty: (**inner).clone(), default: false }, at);
                }
            }
        }
    }
}

/// Where the walk of one operation is.
struct Context<'a> {
    model: &'a Model,
    document: &'a ExecutableDocument,
    vars: BTreeMap<&'a str, &'a VariableDefinition>,
    /// Whether the selected fields count (those of queries).
    record: bool,
    /// The fragments being walked, to stop at a cycle.
    fragments: Vec<&'a str>,
}

/// Every operation file, parsed and walked.
fn walked(model: &Model) -> Vec<(String, Walk)> {
    operation_files()
        .into_iter()
        .map(|(name, text)| {
            let document =
                async_graphql::parser::parse_query(&text).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
            let mut walk = Walk::default();
            walk.document(model, &document);
            (name, walk)
        })
        .collect()
}

#[test]
fn every_variable_of_the_operation_files_fits_where_it_is_used() {
    let model = model();
    let misplaced: Vec<String> = walked(&model)
        .into_iter()
        .flat_map(|(name, walk)| walk.misplaced.into_iter().map(move |m| format!("{name}: {m}")))
        .collect();
    assert!(misplaced.is_empty(), "variables of the wrong type:\n{}", misplaced.join("\n"));
    // The check itself sees a misplaced variable, through fragments, lists and input objects.
    for (text, expected) in [
        (
            "query($p: Int!) { registrations(period: $p) { total } }",
            "$p of type Int! where Query.registrations(period) expects PeriodInput!",
        ),
        (
            "query($f: String) { registrations(period: {from: $f, to: \"x\"}) { total } }",
            "$f of type String where Query.registrations(period).from expects String!",
        ),
        (
            "query($g: [String!]) { ...F } fragment F on Query { registrations(period: {from: \"a\", to: \"b\"}, filter: {genders: $g}) { total } }",
            "$g of type [String!] where Query.registrations(filter).genders expects [Gender!]",
        ),
        (
            "query($g: Granularity) { registrations(period: {from: \"a\", to: \"b\"}) { timeline(granularity: $g) { peak { total } } } }",
            "",
        ),
    ] {
        let document = async_graphql::parser::parse_query(text).unwrap_or_else(|e| panic!("{e}"));
        let mut walk = Walk::default();
        walk.document(&model, &document);
        let expected: Vec<&str> = [expected].into_iter().filter(|e| !e.is_empty()).collect();
        assert_eq!(walk.misplaced, expected, "{text}");
    }
}

#[test]
fn every_query_field_is_covered() {
    let model = model();
    // Every field of every object type reachable from `Query`.
    let mut reachable = BTreeSet::new();
    let mut queue = vec!["Query".to_owned()];
    let mut seen = BTreeSet::new();
    while let Some(ty) = queue.pop() {
        if !seen.insert(ty.clone()) {
            continue;
        }
        for (field, (of, _)) in model.objects.get(&ty).unwrap_or_else(|| panic!("no object type {ty}")) {
            reachable.insert((ty.clone(), field.clone()));
            if model.objects.contains_key(of) {
                queue.push(of.clone());
            }
        }
    }
    assert!(reachable.len() > 100, "only {} fields reachable from Query", reachable.len());
    // Every field the queries of the folder select.
    let covered: BTreeSet<(String, String)> = walked(&model).into_iter().flat_map(|(_, walk)| walk.selected).collect();
    let missing: Vec<String> = reachable.difference(&covered).map(|(ty, field)| format!("{ty}.{field}")).collect();
    assert!(
        missing.is_empty(),
        "fields reachable from Query that no operation of tests/e2e/operations selects \
         (add them to every_field.graphql): {missing:?}"
    );
}

const PERIOD: &str = r#"{"from": "2026-01-01", "to": "2026-02-01"}"#;

/// Two users, one of whom watched a VOD and a live signal after logging in.
async fn seeded(env: &Env) -> ottstats_domain::tenant::Tenant {
    let (tenant, _) = env.tenant("Acme", "CL", chrono_tz::America::Santiago).await;
    let users = json!([
        {"id": "u1", "name": "Ana", "gender": "FEMALE", "birthDate": "1990-05-01", "country": "CL",
         "state": "Biobío", "city": "Concepción", "registeredAt": "2026-01-10T12:00:00Z"},
        {"id": "u2", "name": "Bruno", "gender": "MALE", "country": "AR", "registeredAt": "2026-01-11T12:00:00Z"}
    ]);
    let report = env.data(&tenant, operations::UPSERT_USERS, json!({"u": users})).await;
    assert_eq!(report["upsertUsers"]["accepted"], 2);
    let contents =
        json!({"c": [{"id": "m1", "kind": "VOD", "title": "Film"}, {"id": "tv", "kind": "LIVE", "title": "News"}]});
    env.data(&tenant, "mutation($c: [ContentInput!]!) { upsertContents(contents: $c) { accepted } }", contents).await;
    let logins =
        json!({"l": [{"id": "l1", "userId": "u1", "occurredAt": "2026-01-12T19:59:00Z", "device": "Smart TV"}]});
    env.data(&tenant, "mutation($l: [LoginInput!]!) { recordLogins(logins: $l) { accepted } }", logins).await;
    let event = |id: &str, session: &str, content: &str, kind: &str, ty: &str, at: &str, played: Option<f64>| {
        json!({"id": id, "sessionId": session, "userId": "u1", "type": ty, "occurredAt": at, "contentId": content,
               "contentKind": kind, "device": "Smart TV", "referrer": "home", "position": 0.0,
               "bandwidthKbps": 4000.0, "playedSeconds": played})
    };
    let events = json!({"e": [
        event("e1", "s1", "m1", "VOD", "PLAY", "2026-01-12T20:00:00Z", None),
        event("e2", "s1", "m1", "VOD", "PLAYING", "2026-01-12T20:00:30Z", Some(30.0)),
        event("e3", "s2", "tv", "LIVE", "PLAY", "2026-01-13T20:00:00Z", None),
        event("e4", "s2", "tv", "LIVE", "PLAYING", "2026-01-13T20:01:00Z", Some(60.0)),
    ]});
    let recorded = env.data(&tenant, operations::RECORD_EVENTS, events).await;
    assert_eq!(recorded["recordEvents"]["accepted"], 4);
    tenant
}

/// The every-field operations run, within the limits, without an error, and find what
/// was written.
async fn every_field_operations_run_without_errors(env: Env) {
    let tenant = seeded(&env).await;
    let period: Value = serde_json::from_str(PERIOD).unwrap_or_else(|e| panic!("{e}"));
    let run = |operation: &'static str, variables: Value| {
        let (env, tenant) = (&env, &tenant);
        async move {
            let response = env.run_named(Some(tenant), operations::EVERY_FIELD, operation, variables).await;
            assert!(response.get("errors").is_none(), "{operation}: {response:#}");
            response["data"].clone()
        }
    };
    let registrations = run(
        "EveryRegistrationField",
        json!({"period": period, "level": "CITY", "granularity": "WEEK",
               "filter": {"genders": ["FEMALE", "MALE"]}, "ranges": [{"minAge": 18, "maxAge": 64}, {"minAge": 65}]}),
    )
    .await;
    assert_eq!(registrations["registrations"]["total"], 2, "{registrations:#}");
    assert_eq!(registrations["registrations"]["timeline"]["peak"]["total"], 2, "{registrations:#}");
    let user = run(
        "EveryUserField",
        json!({"id": "u1", "ids": ["u2", "nobody", "u1"], "period": period, "granularity": "DAY", "eventsFirst": 3,
               "loginsLast": 1}),
    )
    .await;
    let activity = &user["user"]["activity"];
    assert_eq!(activity["overview"]["streams"], 2, "{user:#}");
    assert_eq!(activity["events"]["totalCount"], 4, "{user:#}");
    assert_eq!(activity["events"]["pageInfo"]["hasNextPage"], true, "{user:#}");
    assert_eq!(activity["details"]["medias"][0]["content"]["title"], "Film", "{user:#}");
    assert_eq!(activity["details"]["logins"]["nodes"][0]["device"], "Smart TV", "{user:#}");
    // `users` in the order asked, null where there is no such user.
    let mut profile = user["user"].clone();
    if let Some(fields) = profile.as_object_mut() {
        fields.remove("activity");
    }
    assert_eq!(user["users"][2], profile, "{user:#}");
    assert_eq!((&user["users"][0]["id"], &user["users"][1]), (&json!("u2"), &Value::Null), "{user:#}");
    let limits = run("EveryLimit", Value::Null).await;
    assert_eq!(limits["limits"]["maxDepth"], 20);
}

on_each_backend!(every_field_operations_run_without_errors);
