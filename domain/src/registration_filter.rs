//! Which registrations a statistic counts.

use crate::InputError;
use crate::age::MAX_AGE;
use crate::country::Country;
use crate::gender::Gender;

/// A filter parsed from the caller's `RegistrationFilter`; `None` means "no restriction".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct RegistrationFilter {
    /// Sorted and without repeats, so equal filters compare (and cache) equal.
    pub genders: Option<Vec<Gender>>,
    pub countries: Option<Vec<Country>>,
    /// Ages are inclusive bounds; either one leaves out registrations of unknown age.
    pub min_age: Option<u8>,
    pub max_age: Option<u8>,
}

impl RegistrationFilter {
    /// Validates the raw filter; errors name `genders`, `countries[i]`, `minAge`, `maxAge`.
    pub fn parse(
        genders: Option<Vec<Gender>>,
        countries: Option<&[String]>,
        min_age: Option<i32>,
        max_age: Option<i32>,
    ) -> Result<RegistrationFilter, InputError> {
        let genders = match genders {
            Some(g) if g.is_empty() => return Err(empty("genders")),
            Some(mut g) => {
                g.sort();
                g.dedup();
                Some(g)
            }
            None => None,
        };
        let countries = match countries {
            Some([]) => return Err(empty("countries")),
            Some(list) => {
                let mut parsed = list
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Country::parse_arg(c, &format!("countries[{i}]")))
                    .collect::<Result<Vec<_>, _>>()?;
                parsed.sort_by_key(|c| c.code());
                parsed.dedup();
                Some(parsed)
            }
            None => None,
        };
        let age = |v: Option<i32>, arg: &str| {
            v.map(|v| {
                u8::try_from(v)
                    .ok()
                    .filter(|v| *v <= MAX_AGE)
                    .ok_or_else(|| InputError::new(arg, format!("{v} is not an age in 0..={MAX_AGE}")))
            })
            .transpose()
        };
        let min_age = age(min_age, "minAge")?;
        let max_age = age(max_age, "maxAge")?;
        if let (Some(min), Some(max)) = (min_age, max_age)
            && max < min
        {
            return Err(InputError::new("maxAge", "must not be below minAge"));
        }
        Ok(RegistrationFilter { genders, countries, min_age, max_age })
    }
}

fn empty(arg: &str) -> InputError {
    InputError::new(arg, "must not be empty; leave it out to include everything")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_lists() {
        let f = RegistrationFilter::parse(
            Some(vec![Gender::Male, Gender::Female, Gender::Male]),
            Some(&["es".into(), "CL".into(), "ES".into()]),
            Some(18),
            None,
        )
        .unwrap();
        assert_eq!(f.genders, Some(vec![Gender::Female, Gender::Male]));
        let codes: Vec<&str> = f.countries.unwrap().iter().map(|c| c.code()).collect();
        assert_eq!(codes, ["CL", "ES"]);
        assert_eq!(f.min_age, Some(18));
    }

    #[test]
    fn bad_values_name_their_argument() {
        let arg = |r: Result<RegistrationFilter, InputError>| r.unwrap_err().argument;
        assert_eq!(arg(RegistrationFilter::parse(Some(vec![]), None, None, None)), "genders");
        assert_eq!(arg(RegistrationFilter::parse(None, Some(&["CL".into(), "XX".into()]), None, None)), "countries[1]");
        assert_eq!(arg(RegistrationFilter::parse(None, Some(&[]), None, None)), "countries");
        assert_eq!(arg(RegistrationFilter::parse(None, None, Some(-1), None)), "minAge");
        assert_eq!(arg(RegistrationFilter::parse(None, None, None, Some(200))), "maxAge");
        assert_eq!(arg(RegistrationFilter::parse(None, None, Some(40), Some(30))), "maxAge");
    }
}
