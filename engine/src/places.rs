//! The place dictionary: each distinct (country, state, city) of a tenant's
//! registrations gets a small code, so a row holds four bytes instead of three strings.

use std::collections::HashMap;
use std::sync::Arc;

use ottstats_domain::country::Country;

/// A place as the panels see it: values trimmed, blanks absent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Place {
    pub country: Option<Country>,
    pub state: Option<Arc<str>>,
    pub city: Option<Arc<str>>,
}

/// Interns places; codes are dense, from 0, and never reused while the index lives.
#[derive(Debug, Default, Clone)]
pub struct Places {
    entries: Vec<Place>,
    codes: HashMap<Place, u32>,
    /// Interned strings, so that a city named in many states is stored once.
    names: HashMap<Arc<str>, ()>,
    string_bytes: usize,
}

/// Trimmed, `None` when blank.
fn clean(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl Places {
    /// The code of a place, interning it when new. `None` when the dictionary is full
    /// (over four billion places: never, in practice).
    pub fn intern(&mut self, country: Option<Country>, state: Option<&str>, city: Option<&str>) -> Option<u32> {
        let (state, city) = (clean(state), clean(city));
        if let Some(code) = self.find(country, state, city) {
            return Some(code);
        }
        let code = u32::try_from(self.entries.len()).ok()?;
        let state = state.map(|s| self.name(s));
        let city = city.map(|s| self.name(s));
        let place = Place { country, state, city };
        self.entries.push(place.clone());
        self.codes.insert(place, code);
        Some(code)
    }

    /// The code of a place already interned.
    pub fn code(&self, country: Option<Country>, state: Option<&str>, city: Option<&str>) -> Option<u32> {
        self.find(country, clean(state), clean(city))
    }

    fn find(&self, country: Option<Country>, state: Option<&str>, city: Option<&str>) -> Option<u32> {
        // Keys hold `Arc<str>`; a look-up builds one only on the slow path of a new
        // place, so probe with a borrowed key built from the interned names when present.
        let state = match state {
            Some(s) => Some(self.names.get_key_value(s)?.0.clone()),
            None => None,
        };
        let city = match city {
            Some(c) => Some(self.names.get_key_value(c)?.0.clone()),
            None => None,
        };
        self.codes.get(&Place { country, state, city }).copied()
    }

    fn name(&mut self, s: &str) -> Arc<str> {
        if let Some((name, ())) = self.names.get_key_value(s) {
            return name.clone();
        }
        let name: Arc<str> = Arc::from(s);
        self.string_bytes += s.len() + 16;
        self.names.insert(name.clone(), ());
        name
    }

    pub fn get(&self, code: u32) -> Option<&Place> {
        self.entries.get(code as usize)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, &Place)> {
        self.entries.iter().enumerate().map(|(i, p)| (i as u32, p))
    }

    /// Roughly the heap bytes held: entries, both hash tables and the strings.
    pub fn bytes(&self) -> usize {
        let place = std::mem::size_of::<Place>();
        self.entries.capacity() * place
            + self.codes.capacity() * (place + 4 + 1)
            + self.names.capacity() * (16 + 1)
            + self.string_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_places_share_a_code_after_trimming() {
        let cl = Country::parse("CL");
        let mut p = Places::default();
        let a = p.intern(cl, Some("Metropolitana"), Some("Santiago")).unwrap();
        let b = p.intern(cl, Some(" Metropolitana "), Some("Santiago\t")).unwrap();
        let c = p.intern(cl, Some("Metropolitana"), None).unwrap();
        let d = p.intern(cl, Some("Metropolitana"), Some("  ")).unwrap();
        let e = p.intern(None, None, None).unwrap();
        assert_eq!(a, b);
        assert_eq!(c, d);
        assert_ne!(a, c);
        assert_eq!(p.len(), 3);
        assert_eq!(p.code(cl, Some("Metropolitana"), Some("Santiago")), Some(a));
        assert_eq!(p.code(cl, Some("Valparaíso"), None), None);
        assert_eq!(p.get(e).unwrap().country, None);
        assert_eq!(p.get(a).unwrap().city.as_deref(), Some("Santiago"));
    }
}
