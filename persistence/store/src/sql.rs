//! A small builder for the hand-written statistics SQL: it numbers placeholders (`$1`,
//! which both SQLite and PostgreSQL accept) so fragments compose without counting.

use ottstats_domain::granularity::Bucket;
use ottstats_domain::registration_filter::RegistrationFilter;
use sea_orm::{DbBackend, Statement, Value};

use crate::connect::Backend;

pub(crate) struct Sql {
    text: String,
    values: Vec<Value>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql { text: text.to_owned(), values: Vec::new() }
    }

    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Value>) -> &mut Sql {
        self.values.push(value.into());
        self.text.push('$');
        self.text.push_str(&self.values.len().to_string());
        self
    }

    /// Appends `$a, $b, …` bound to `values`.
    pub fn bind_list<V: Into<Value>>(&mut self, values: impl IntoIterator<Item = V>) -> &mut Sql {
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v);
        }
        self
    }

    /// `AND …` clauses restricting registrations (aliased `u`) to the filter.
    pub fn registration_filter(&mut self, filter: &RegistrationFilter) -> &mut Sql {
        if let Some(genders) = &filter.genders {
            self.push(" AND u.gender IN (").bind_list(genders.iter().map(|g| g.as_str())).push(")");
        }
        if let Some(countries) = &filter.countries {
            self.push(" AND u.country IN (").bind_list(countries.iter().map(|c| c.code())).push(")");
        }
        if let Some(min) = filter.min_age {
            self.push(" AND u.age >= ").bind(i16::from(min));
        }
        if let Some(max) = filter.max_age {
            self.push(" AND u.age <= ").bind(i16::from(max));
        }
        self
    }

    pub fn statement(self, backend: DbBackend) -> Statement {
        Statement::from_sql_and_values(backend, self.text, self.values)
    }
}

/// The pieces that number rows by bucket of a millisecond column: `with` goes before
/// `SELECT`, `index` is the bucket's 0-based number (a BIGINT), `join` follows the table.
/// The caller still restricts the column to `[first start, last end)`.
pub(crate) struct BucketSql {
    pub with: String,
    pub index: String,
    pub join: String,
}

/// The bucket bounds are numbers this process computed, so they are written into the
/// statement rather than bound: thousands of parameters would be slower.
pub(crate) fn bucket_sql(backend: Backend, buckets: &[Bucket], column: &str) -> BucketSql {
    match backend {
        // One pass; width_bucket finds each row's bucket by binary search (1-based).
        Backend::Postgres => {
            let starts: Vec<String> = buckets.iter().map(|b| b.start.timestamp_millis().to_string()).collect();
            BucketSql {
                with: String::new(),
                index: format!("(width_bucket({column}, ARRAY[{}]::bigint[]) - 1)::bigint", starts.join(",")),
                join: String::new(),
            }
        }
        // SQLite has no width_bucket: join a table of bounds, one index range per bucket.
        Backend::Sqlite => {
            let bounds: Vec<String> = buckets
                .iter()
                .enumerate()
                .map(|(i, b)| format!("({i}, {}, {})", b.start.timestamp_millis(), b.end.timestamp_millis()))
                .collect();
            BucketSql {
                with: format!("WITH b(idx, lo, hi) AS (VALUES {}) ", bounds.join(",")),
                index: "b.idx".to_owned(),
                join: format!(" JOIN b ON {column} >= b.lo AND {column} < b.hi"),
            }
        }
    }
}
