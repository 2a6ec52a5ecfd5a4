//! The size of a document once its fragments are expanded, in time linear in the
//! document: every fragment is measured once and its measure reused at every spread, so
//! a fragment that spreads the one before it twice, thirty levels deep, costs thirty
//! measures instead of a billion visits.

use std::collections::HashMap;

use async_graphql::Variables;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql_value::{ConstValue, Value};

use super::{LimitError, Limits};

/// What a selection set expands to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    /// Selections (fields, spreads, inline fragments) after expansion.
    pub selections: u64,
    /// Fields after expansion.
    pub fields: u64,
    /// Aliased fields after expansion.
    pub aliases: u64,
    /// The deepest nesting of fields.
    pub depth: u64,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.selections = self.selections.saturating_add(other.selections);
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.depth = self.depth.max(other.depth);
    }
}

/// The largest of the document's operations (every one is measured, so that a small
/// selected operation cannot smuggle a large unselected one past the limits).
pub fn measure(doc: &ExecutableDocument) -> Result<Size, LimitError> {
    let mut fragments = Fragments { doc, measured: HashMap::new() };
    let mut largest = Size::default();
    for (_, op) in doc.operations.iter() {
        let size = fragments.selection_set(&op.node.selection_set.node)?;
        largest = Size {
            selections: largest.selections.max(size.selections),
            fields: largest.fields.max(size.fields),
            aliases: largest.aliases.max(size.aliases),
            depth: largest.depth.max(size.depth),
        };
    }
    Ok(largest)
}

/// Each fragment's size, measured once; `None` while it is being measured (a cycle).
struct Fragments<'a> {
    doc: &'a ExecutableDocument,
    measured: HashMap<&'a str, Option<Size>>,
}

impl<'a> Fragments<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> Result<Size, LimitError> {
        let mut size = Size::default();
        for item in &set.items {
            size.selections = size.selections.saturating_add(1);
            match &item.node {
                Selection::Field(field) => {
                    let children = self.selection_set(&field.node.selection_set.node)?;
                    let own = Size {
                        selections: children.selections,
                        fields: children.fields.saturating_add(1),
                        aliases: children.aliases.saturating_add(u64::from(field.node.alias.is_some())),
                        depth: children.depth.saturating_add(1),
                    };
                    size.add(own);
                }
                Selection::InlineFragment(inline) => size.add(self.selection_set(&inline.node.selection_set.node)?),
                Selection::FragmentSpread(spread) => size.add(self.fragment(spread.node.fragment_name.node.as_str())?),
            }
        }
        Ok(size)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Size, LimitError> {
        match self.measured.get(name) {
            Some(Some(size)) => return Ok(*size),
            Some(None) => return Err(LimitError::FragmentCycle(name.to_owned())),
            None => {}
        }
        // An unknown fragment is validation's to report; it adds nothing here.
        let Some(definition) = self.doc.fragments.get(name) else {
            return Ok(Size::default());
        };
        self.measured.insert(name, None);
        let size = self.selection_set(&definition.node.selection_set.node)?;
        self.measured.insert(name, Some(size));
        Ok(size)
    }
}

/// Every list written in the document's arguments and in the variables is at most
/// `limits.max_list` long; otherwise the longest one, named by its argument or variable.
pub fn check_lists(doc: &ExecutableDocument, variables: &Variables, limits: &Limits) -> Result<(), LimitError> {
    let mut longest = Longest::default();
    for (_, op) in doc.operations.iter() {
        lists_in_set(&op.node.selection_set.node, &mut longest);
        for definition in &op.node.variable_definitions {
            if let Some(default) = &definition.node.default_value {
                longest.offer(const_list(&default.node), definition.node.name.node.as_str());
            }
        }
    }
    for definition in doc.fragments.values() {
        lists_in_set(&definition.node.selection_set.node, &mut longest);
    }
    for (name, value) in variables.iter() {
        longest.offer(const_list(value), name.as_str());
    }
    if longest.len > limits.max_list {
        return Err(LimitError::ListTooLong {
            argument: longest.name,
            max: limits.max_list as u64,
            actual: longest.len as u64,
        });
    }
    Ok(())
}

/// The longest list seen, and the argument or variable holding it.
#[derive(Default)]
struct Longest {
    len: usize,
    name: String,
}

impl Longest {
    fn offer(&mut self, len: usize, name: &str) {
        if len > self.len {
            self.len = len;
            self.name = name.to_owned();
        }
    }
}

fn lists_in_set(set: &SelectionSet, longest: &mut Longest) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                for (name, value) in &field.node.arguments {
                    longest.offer(value_list(&value.node), name.node.as_str());
                }
                lists_in_set(&field.node.selection_set.node, longest);
            }
            Selection::InlineFragment(inline) => lists_in_set(&inline.node.selection_set.node, longest),
            // Fragments are walked once, from their definitions.
            Selection::FragmentSpread(_) => {}
        }
    }
}

/// The longest list in a written value.
fn value_list(value: &Value) -> usize {
    match value {
        Value::List(items) => items.iter().map(value_list).max().unwrap_or(0).max(items.len()),
        Value::Object(fields) => fields.values().map(value_list).max().unwrap_or(0),
        _ => 0,
    }
}

/// The longest list in a variable's value.
fn const_list(value: &ConstValue) -> usize {
    match value {
        ConstValue::List(items) => items.iter().map(const_list).max().unwrap_or(0).max(items.len()),
        ConstValue::Object(fields) => fields.values().map(const_list).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn size(query: &str) -> Size {
        measure(&parse_query(query).unwrap()).unwrap()
    }

    /// `fragment F{i} { ...F{i-1} ...F{i-1} }`: 2^levels fields once expanded.
    fn bomb(levels: usize) -> String {
        let mut q = String::from("query { registrations(period: {from: \"2026-01-01\", to: \"2026-02-01\"}) { ...F");
        q.push_str(&levels.to_string());
        q.push_str(" } }\nfragment F0 on RegistrationStats { total }\n");
        for i in 1..=levels {
            q.push_str(&format!("fragment F{i} on RegistrationStats {{ ...F{p} ...F{p} }}\n", p = i - 1));
        }
        q
    }

    #[test]
    fn counts_fields_aliases_and_depth_of_a_plain_query() {
        let s =
            size("{ a: user(id: \"1\") { name activity(period: {from: \"x\", to: \"y\"}) { overview { streams } } } }");
        assert_eq!((s.fields, s.aliases, s.depth), (5, 1, 4));
    }

    #[test]
    fn expands_fragments_by_their_measure() {
        let s = size("{ user(id: \"1\") { ...U ...U } } fragment U on User { name b: gender }");
        // user + 2 × (name + gender)
        assert_eq!((s.fields, s.aliases, s.depth), (5, 2, 2));
        let s = size("{ user(id: \"1\") { ... on User { name } } }");
        assert_eq!(s.fields, 2);
    }

    #[test]
    fn measures_a_fragment_bomb_without_expanding_it() {
        let s = size(&bomb(29));
        assert_eq!(s.fields, 1 + (1 << 29));
        let s = size(&bomb(70));
        assert_eq!(s.fields, u64::MAX, "saturates instead of overflowing");
    }

    #[test]
    fn a_fragment_cycle_is_refused() {
        let doc = parse_query("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }").unwrap();
        assert!(matches!(measure(&doc), Err(LimitError::FragmentCycle(_))));
    }

    #[test]
    fn the_largest_operation_counts() {
        let s = size("query A { x } query B { x y z }");
        assert_eq!(s.fields, 3);
    }

    #[test]
    fn lists_are_bounded_in_arguments_defaults_and_variables() {
        let limits = Limits { max_list: 3, ..Limits::DEFAULT };
        let ok = parse_query("{ users(ids: [\"1\", \"2\", \"3\"]) { id } }").unwrap();
        assert!(check_lists(&ok, &Variables::default(), &limits).is_ok());
        let long = parse_query("{ users(ids: [\"1\", \"2\", \"3\", \"4\"]) { id } }").unwrap();
        assert!(check_lists(&long, &Variables::default(), &limits).is_err());
        let nested = parse_query("{ x(a: {b: [[1, 2, 3, 4]]}) }").unwrap();
        assert!(check_lists(&nested, &Variables::default(), &limits).is_err());
        let default = parse_query("query ($ids: [ID!] = [1, 2, 3, 4]) { users(ids: $ids) { id } }").unwrap();
        assert!(check_lists(&default, &Variables::default(), &limits).is_err());
        let in_fragment = parse_query("{ ...F } fragment F on Query { users(ids: [1, 2, 3, 4]) { id } }").unwrap();
        assert!(check_lists(&in_fragment, &Variables::default(), &limits).is_err());
        let vars = Variables::from_json(serde_json::json!({"these": ["1", "2", "3", "4"]}));
        let query = parse_query("query ($these: [ID!]!) { users(ids: $these) { id } }").unwrap();
        let refused = LimitError::ListTooLong { argument: "these".into(), max: 3, actual: 4 };
        assert_eq!(check_lists(&query, &vars, &limits), Err(refused));
    }
}
