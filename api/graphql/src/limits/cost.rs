//! What an answer will hold, estimated from the document before anything runs: every
//! field counts once per row of the lists around it, a series counts its buckets (from
//! the period and granularity asked), a page its page size. Lists whose length only the
//! data knows count a documented estimate.

use async_graphql::Variables;
use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql_value::{ConstValue, Value};
use chrono::NaiveDate;
use ottstats_domain::granularity::MAX_BUCKETS;

/// Rows counted for `byGeography`: about the number of countries.
pub const GEOGRAPHY_ROWS: u64 = 250;
/// Rows counted for `devices`, `referrers`, `medias` and `liveSignals`.
pub const SPLIT_ROWS: u64 = 50;
/// Rows counted for an `events` or `logins` page without `first` or `last`.
const DEFAULT_PAGE: u64 = 100;

/// The estimated size of the costliest operation's answer.
pub fn estimate(doc: &ExecutableDocument, variables: &Variables) -> u64 {
    let mut most = 0;
    for (_, op) in doc.operations.iter() {
        let walk = Walk { doc, variables, defaults: &op.node.variable_definitions };
        most = most.max(walk.set(&op.node.selection_set.node, Scope::default()));
    }
    most
}

/// What the fields around a selection decided.
#[derive(Debug, Clone, Copy, Default)]
struct Scope {
    /// Days of the nearest period, at least 1; `None` outside one (or when unreadable).
    days: Option<u64>,
    /// Buckets of the nearest series.
    buckets: u64,
    /// Size of the nearest page.
    page: u64,
}

struct Walk<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    defaults: &'a [async_graphql::Positioned<async_graphql::parser::types::VariableDefinition>],
}

impl Walk<'_> {
    /// The walk follows the expansion; [`super::size::measure`] has bounded it first.
    fn set(&self, set: &SelectionSet, scope: Scope) -> u64 {
        let mut cost: u64 = 0;
        for item in &set.items {
            let add = match &item.node {
                Selection::Field(field) => self.field(&field.node, scope),
                Selection::InlineFragment(inline) => self.set(&inline.node.selection_set.node, scope),
                Selection::FragmentSpread(spread) => match self.doc.fragments.get(&spread.node.fragment_name.node) {
                    Some(definition) => self.set(&definition.node.selection_set.node, scope),
                    None => 0,
                },
            };
            cost = cost.saturating_add(add);
        }
        cost
    }

    fn field(&self, field: &Field, mut scope: Scope) -> u64 {
        if let Some(period) = self.arg(field, "period") {
            scope.days = self.period_days(period);
        }
        let rows = match field.name.node.as_str() {
            "timeline" => {
                scope.buckets = buckets(scope.days, self.enum_arg(field, "granularity").unwrap_or("DAY"));
                1
            }
            "bandwidth" => {
                scope.buckets = buckets(scope.days, self.enum_arg(field, "granularity").unwrap_or("HOUR"));
                1
            }
            "buckets" | "points" => scope.buckets,
            "events" => {
                scope.page = self.page(field);
                1
            }
            "logins" => {
                scope.page = self.page(field);
                1
            }
            "nodes" | "edges" => scope.page.max(1),
            "byGender" => 4,
            // The ranges asked, or the seven default ones, and "Unknown".
            "byAge" => self.list_len(field, "ranges").unwrap_or(7) + 1,
            "byGeography" => GEOGRAPHY_ROWS,
            "devices" | "referrers" | "medias" | "liveSignals" => SPLIT_ROWS,
            // `eraseUsers` is a transaction per id.
            "users" | "eraseUsers" => self.list_len(field, "ids").unwrap_or(1),
            "usersByIdPrefix" => self.page(field).min(50),
            _ => 1,
        };
        let children = self.set(&field.selection_set.node, scope);
        rows.saturating_mul(children.saturating_add(1))
    }

    /// An argument as written, its variables resolved as they are read (nothing is copied:
    /// a long string sent as a variable is looked at, never cloned per visit).
    fn arg<'v>(&'v self, field: &'v Field, name: &str) -> Option<Arg<'v>> {
        let value = &field.get_argument(name)?.node;
        Some(self.resolve(value))
    }

    fn resolve<'v>(&'v self, value: &'v Value) -> Arg<'v> {
        match value {
            Value::Variable(name) => Arg::Sent(self.variable(name.as_str())),
            other => Arg::Written(other),
        }
    }

    fn variable(&self, name: &str) -> &ConstValue {
        static NULL: ConstValue = ConstValue::Null;
        if let Some(value) = self.variables.get(name) {
            return value;
        }
        let definition = self.defaults.iter().find(|d| d.node.name.node == name);
        definition.and_then(|d| d.node.default_value()).unwrap_or(&NULL)
    }

    fn enum_arg(&self, field: &Field, name: &str) -> Option<&'static str> {
        let text = match self.arg(field, name)? {
            Arg::Written(Value::Enum(e)) | Arg::Sent(ConstValue::Enum(e)) => e.as_str(),
            Arg::Sent(ConstValue::String(s)) => s.as_str(),
            _ => return None,
        };
        ["HOUR", "DAY", "WEEK", "MONTH", "YEAR"].into_iter().find(|g| *g == text)
    }

    /// A page's size: `first` or `last`, the larger when both are sent (a request the
    /// resolver refuses, but the estimate runs first).
    fn page(&self, field: &Field) -> u64 {
        let size = |name: &str| match self.arg(field, name) {
            Some(Arg::Written(Value::Number(n)) | Arg::Sent(ConstValue::Number(n))) => {
                Some(n.as_u64().unwrap_or(0).min(1_000))
            }
            _ => None,
        };
        match (size("first"), size("last")) {
            (None, None) => DEFAULT_PAGE,
            (first, last) => first.unwrap_or(0).max(last.unwrap_or(0)),
        }
    }

    fn list_len(&self, field: &Field, name: &str) -> Option<u64> {
        match self.arg(field, name)? {
            Arg::Written(Value::List(items)) => Some(items.len() as u64),
            Arg::Sent(ConstValue::List(items)) => Some(items.len() as u64),
            Arg::Written(Value::Null) | Arg::Sent(ConstValue::Null) => None,
            // A single value stands for a list of one.
            _ => Some(1),
        }
    }

    /// Whole days a period touches (`from` and `to` read by their date), at least 1.
    fn period_days(&self, period: Arg<'_>) -> Option<u64> {
        let date = |name: &str| {
            let text = match period {
                Arg::Written(Value::Object(fields)) => match self.resolve(fields.get(name)?) {
                    Arg::Written(Value::String(s)) | Arg::Sent(ConstValue::String(s)) => s.as_str(),
                    _ => return None,
                },
                Arg::Sent(ConstValue::Object(fields)) => match fields.get(name)? {
                    ConstValue::String(s) => s.as_str(),
                    _ => return None,
                },
                _ => return None,
            };
            NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()
        };
        let (from, to) = (date("from")?, date("to")?);
        Some((to - from).num_days().max(0) as u64 + 1)
    }
}

/// An argument's value: as written in the document, or as sent in the variables.
#[derive(Clone, Copy)]
enum Arg<'a> {
    Written(&'a Value),
    Sent(&'a ConstValue),
}

/// Buckets of a series over `days`, rounded up and then some (partial buckets at both
/// ends, a DST day of 25 hours), never more than a series may hold.
fn buckets(days: Option<u64>, granularity: &str) -> u64 {
    let Some(days) = days else { return 1 };
    let n = match granularity {
        "HOUR" => days.saturating_mul(24).saturating_add(1),
        "DAY" => days.saturating_add(1),
        "WEEK" => days / 7 + 2,
        "MONTH" => days / 28 + 2,
        _ => days / 365 + 2,
    };
    n.min(MAX_BUCKETS as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::parse_query;

    fn cost(query: &str, variables: serde_json::Value) -> u64 {
        estimate(&parse_query(query).unwrap(), &Variables::from_json(variables))
    }

    #[test]
    fn plain_fields_cost_one_each() {
        assert_eq!(cost("{ user(id: \"1\") { name gender } }", serde_json::json!({})), 3);
    }

    #[test]
    fn a_timeline_costs_its_buckets_times_their_fields() {
        // 2026-01-01 to 2026-02-01 touches 32 days: 33 DAY buckets of (start, total) cost
        // 33 × 3; `timeline` and `registrations` one each.
        let q = "{ registrations(period: {from: \"2026-01-01\", to: \"2026-02-01\"}) { timeline { buckets { start total } } } }";
        assert_eq!(cost(q, serde_json::json!({})), 2 + 33 * 3);
        // The same by variables, and HOUR costs 24 times as much or so.
        let v = "query ($p: PeriodInput!, $g: Granularity!) { registrations(period: $p) { timeline(granularity: $g) { buckets { start total } } } }";
        let by_day = cost(v, serde_json::json!({"p": {"from": "2026-01-01", "to": "2026-02-01"}, "g": "DAY"}));
        let by_hour = cost(v, serde_json::json!({"p": {"from": "2026-01-01", "to": "2026-02-01"}, "g": "HOUR"}));
        assert_eq!(by_day, cost(q, serde_json::json!({})));
        assert_eq!(by_hour, 2 + (32 * 24 + 1) * 3);
    }

    #[test]
    fn an_erasure_costs_a_row_per_id() {
        let q = "mutation { eraseUsers(ids: [\"a\", \"b\", \"c\"]) { erased notFound } }";
        assert_eq!(cost(q, serde_json::json!({})), 3 * 3);
    }

    #[test]
    fn an_earlier_period_costs_what_its_fields_cost_at_every_level() {
        // `previous` keeps the period's length: its timeline costs as many buckets, and
        // each nested level adds its own.
        let timeline = "timeline { buckets { start total } }";
        let q = |fields: &str| {
            format!("{{ registrations(period: {{from: \"2026-01-01\", to: \"2026-02-01\"}}) {{ {fields} }} }}")
        };
        let one = cost(&q(timeline), serde_json::json!({}));
        let nested = format!("{timeline} previous {{ {timeline} previous(shift: PREVIOUS_YEAR) {{ {timeline} }} }}");
        assert_eq!(cost(&q(&nested), serde_json::json!({})), one + 2 * (one - 1) + 2);
    }

    #[test]
    fn aliases_of_long_series_add_up() {
        let one = "t0: timeline { buckets { start end total byGender { gender count } } }";
        let many: String = (0..190).map(|i| one.replace("t0", &format!("t{i}"))).collect::<Vec<_>>().join(" ");
        let q = format!("{{ registrations(period: {{from: \"2006-01-01\", to: \"2026-01-01\"}}) {{ {many} }} }}");
        assert!(cost(&q, serde_json::json!({})) > 20_000_000);
    }

    #[test]
    fn pages_cost_their_size() {
        let q = "{ user(id: \"1\") { activity(period: {from: \"2026-01-01\", to: \"2026-01-02\"}) { events(first: 500) { nodes { id } } } } }";
        assert_eq!(cost(q, serde_json::json!({})), 1 + 1 + 1 + 500 * 2);
        let default = "{ user(id: \"1\") { activity(period: {from: \"2026-01-01\", to: \"2026-01-02\"}) { events { nodes { id } } } } }";
        assert_eq!(cost(default, serde_json::json!({})), 3 + 100 * 2);
    }

    #[test]
    fn last_counts_like_first() {
        let q = "query ($n: Int) { user(id: \"1\") { activity(period: {from: \"2026-01-01\", to: \"2026-01-02\"}) { events(last: $n) { edges { cursor node { id } } } } } }";
        // user, activity, events; then 300 edges of (cursor, node of (id)): 300 × (1 + 1 + 2).
        assert_eq!(cost(q, serde_json::json!({"n": 300})), 3 + 300 * 4);
        let both = "{ user(id: \"1\") { activity(period: {from: \"2026-01-01\", to: \"2026-01-02\"}) { events(first: 2, last: 700) { nodes { id } } } } }";
        assert_eq!(cost(both, serde_json::json!({})), 3 + 700 * 2);
    }

    #[test]
    fn logins_pages_cost_their_size() {
        let q = "{ user(id: \"1\") { activity(period: {from: \"2026-01-01\", to: \"2026-01-02\"}) { details { logins(last: 40) { totalCount nodes { occurredAt device } } } } } }";
        // user, activity, details, logins, totalCount; 40 nodes of two fields: 40 × 3.
        assert_eq!(cost(q, serde_json::json!({})), 5 + 40 * 3);
        let default = "{ user(id: \"1\") { activity(period: {from: \"2026-01-01\", to: \"2026-01-02\"}) { details { logins { nodes { device } } } } } }";
        assert_eq!(cost(default, serde_json::json!({})), 4 + 100 * 2);
    }

    #[test]
    fn unreadable_periods_cost_one_bucket() {
        let q = "{ registrations(period: {from: \"soon\", to: \"later\"}) { timeline { buckets { total } } } }";
        assert_eq!(cost(q, serde_json::json!({})), 1 + 1 + 2);
    }
}
