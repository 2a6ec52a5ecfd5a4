//! What one request may ask for, checked on the parsed document before validation and
//! execution, in time linear in the document: its size once fragments are expanded, its
//! depth, its aliases, every list it sends, and what its answer will hold (its *cost*).
//! The same limits are readable by clients in `limits { … }` and in the README.

mod cost;
mod extension;
mod object;
mod size;

use std::time::Duration;

use async_graphql::Variables;
use async_graphql::parser::types::ExecutableDocument;

pub use cost::{GEOGRAPHY_ROWS, SPLIT_ROWS};
pub use extension::{BoundedCost, Measured};
pub use object::LimitsObject;
pub use size::Size;

/// The limits every request is held to: the `[limits]` section of the settings, which
/// clients read in `limits { … }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Fields once fragments are expanded.
    pub max_fields: u64,
    /// Nesting of fields: room for GraphiQL's introspection query (its type references
    /// nest `ofType` nine levels), far below what a recursive attack needs.
    pub max_depth: u64,
    /// Aliased fields once fragments are expanded.
    pub max_aliases: u64,
    /// Items of any one list sent, as an argument or in the variables: a full batch.
    pub max_list: usize,
    /// What an answer may hold, in [`cost`] units (about one per value in the answer).
    pub max_cost: u64,
    /// Bytes of an answer; a larger one is refused instead of sent.
    #[serde(with = "ottstats_domain::units::bytes")]
    pub max_answer_bytes: usize,
    /// All the work of one request.
    #[serde(with = "ottstats_domain::units::duration")]
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl Limits {
    pub const DEFAULT: Limits = Limits {
        max_fields: 2_000,
        max_depth: 20,
        max_aliases: 100,
        max_list: 10_000,
        // A year of HOUR buckets split by gender fits; 190 aliases of 20-year DAY
        // timelines (over 20 million) do not.
        max_cost: 200_000,
        max_answer_bytes: 16 * 1024 * 1024,
        timeout: Duration::from_secs(30),
    };
}

/// Why a request was refused before it ran.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("{}", exceeded_message(limit, *max, *actual))]
    Exceeded { limit: &'static str, max: u64, actual: u64 },
    #[error("`{argument}` holds {actual} items; at most {max} are allowed in any list")]
    ListTooLong { argument: String, max: u64, actual: u64 },
    #[error("fragment `{0}` spreads itself")]
    FragmentCycle(String),
}

fn exceeded_message(limit: &str, max: u64, actual: u64) -> String {
    match limit {
        "fields" => {
            format!("the query selects {actual} fields once its fragments are expanded; at most {max} are allowed")
        }
        "selections" => {
            format!("the query holds {actual} selections once its fragments are expanded; at most {max} are allowed")
        }
        "depth" => format!("the query nests {actual} levels deep; at most {max} are allowed"),
        "aliases" => format!("the query uses {actual} aliases; at most {max} are allowed"),
        "cost" => format!(
            "the answer would hold about {actual} values (each field once per row of the lists around it, \
             series by their buckets); at most {max} are allowed: ask for a shorter period, a coarser \
             granularity or fewer fields"
        ),
        "answerBytes" => format!("the answer would take {actual} bytes; at most {max} are allowed"),
        _ => format!("{limit}: {actual} exceeds {max}"),
    }
}

/// What a document was measured at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    pub size: Size,
    pub cost: u64,
}

/// Measures a parsed document against `limits`: sizes first (memoised, linear), then the
/// cost, whose walk of the expansion the sizes have bounded.
pub fn check(doc: &ExecutableDocument, variables: &Variables, limits: &Limits) -> Result<Measure, LimitError> {
    let size = size::measure(doc)?;
    let bounds = [
        ("fields", size.fields, limits.max_fields),
        // Spreads and inline fragments are walked too: bounded by a few per field.
        ("selections", size.selections, limits.max_fields.saturating_mul(4)),
        ("depth", size.depth, limits.max_depth),
        ("aliases", size.aliases, limits.max_aliases),
    ];
    for (limit, actual, max) in bounds {
        if actual > max {
            return Err(LimitError::Exceeded { limit, max, actual });
        }
    }
    size::check_lists(doc, variables, limits)?;
    let cost = cost::estimate(doc, variables);
    if cost > limits.max_cost {
        return Err(LimitError::Exceeded { limit: "cost", max: limits.max_cost, actual: cost });
    }
    Ok(Measure { size, cost })
}
