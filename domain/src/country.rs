use std::fmt;

use isocountry::CountryCode;

use crate::InputError;

/// An ISO 3166-1 alpha-2 country, checked against the ISO list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub struct Country(CountryCode);

impl From<Country> for &'static str {
    fn from(c: Country) -> &'static str {
        c.code()
    }
}

impl TryFrom<String> for Country {
    type Error = String;

    fn try_from(code: String) -> Result<Country, String> {
        Country::parse(&code).ok_or_else(|| format!("not an ISO 3166-1 alpha-2 code: {code:?}"))
    }
}

impl Country {
    /// Parses a code, ignoring case and surrounding white space.
    pub fn parse(text: &str) -> Option<Country> {
        let t = text.trim();
        if t.len() != 2 {
            return None;
        }
        CountryCode::for_alpha2_caseless(t).ok().map(Country)
    }

    /// Parses a code or names `argument` in the error.
    pub fn parse_arg(text: &str, argument: &str) -> Result<Country, InputError> {
        Country::parse(text)
            .ok_or_else(|| InputError::new(argument, format!("{text:?} is not an ISO 3166-1 alpha-2 country code")))
    }

    /// The upper-case two-letter code (`CL`).
    pub fn code(self) -> &'static str {
        self.0.alpha2()
    }

    /// The English short name (`Chile`).
    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_codes_in_any_case() {
        let cl = Country::parse(" cl ").map(Country::code);
        assert_eq!(cl, Some("CL"));
        assert_eq!(Country::parse("ES").map(Country::name), Some("Spain"));
    }

    #[test]
    fn rejects_unknown_and_malformed_codes() {
        assert_eq!(Country::parse("XX"), None);
        assert_eq!(Country::parse("CHL"), None);
        assert_eq!(Country::parse(""), None);
        let err = Country::parse_arg("ZZ", "users[0].country").unwrap_err();
        assert_eq!(err.argument, "users[0].country");
    }
}
