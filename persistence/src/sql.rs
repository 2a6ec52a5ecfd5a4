//! A small builder for the hand-written statistics SQL: it numbers placeholders (`$1`,
//! which both SQLite and PostgreSQL accept) so fragments compose without counting.

use ottstats_domain::registration_filter::RegistrationFilter;
use sea_orm::{DbBackend, Statement, Value};

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
