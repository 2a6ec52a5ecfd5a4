//! Custom scalars: named types for the strings codegen and clients should tell apart,
//! serialized exactly as the plain strings they replace, so answers stay byte for byte
//! what they were.
//!
//! As inputs they take any string. A scalar that fails to parse fails validation, and so
//! the whole request; but the contract wants a bad item of a batch reported by its index
//! while the others land, and a bad argument named in `extensions.argument`. So the text
//! is read where it always was, by the domain, in the resolvers.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

macro_rules! string_scalar {
    ($(#[$doc:meta])* $rust:ident, $name:literal, $url:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $rust(pub String);

        $(#[$doc])*
        #[Scalar(name = $name, specified_by_url = $url)]
        impl ScalarType for $rust {
            fn parse(value: Value) -> InputValueResult<Self> {
                match value {
                    Value::String(s) => Ok($rust(s)),
                    other => Err(InputValueError::expected_type(other)),
                }
            }

            fn is_valid(value: &Value) -> bool {
                matches!(value, Value::String(_))
            }

            fn to_value(&self) -> Value {
                Value::String(self.0.clone())
            }
        }

        impl From<String> for $rust {
            fn from(s: String) -> Self {
                $rust(s)
            }
        }

        impl From<&str> for $rust {
            fn from(s: &str) -> Self {
                $rust(s.to_owned())
            }
        }
    };
}

string_scalar!(
    /// An instant, RFC 3339 with an offset: `2026-03-01T08:00:00-03:00`. Answers give
    /// the offset of the period's time zone (UTC, `Z`, where none applies).
    DateTimeScalar,
    "DateTime",
    "https://www.rfc-editor.org/rfc/rfc3339"
);

string_scalar!(
    /// A calendar date, `YYYY-MM-DD` (RFC 3339 `full-date`): `2026-03-01`.
    DateScalar,
    "Date",
    "https://www.rfc-editor.org/rfc/rfc3339#section-5.6"
);

string_scalar!(
    /// A time zone of the IANA database, by name: `America/Santiago`, `UTC`.
    TimeZoneScalar,
    "TimeZone",
    "https://www.iana.org/time-zones"
);

string_scalar!(
    /// A country, by its ISO 3166-1 alpha-2 code: `CL`, `FR`.
    CountryCodeScalar,
    "CountryCode",
    "https://www.iso.org/iso-3166-country-codes.html"
);

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::InputType;

    #[test]
    fn any_string_is_taken_as_sent_and_given_back_as_a_string() {
        // Unparsable as a date, yet taken: the resolver names the argument that is wrong.
        let d = <DateScalar as InputType>::parse(Some(Value::String("tomorrow".into()))).unwrap();
        assert_eq!(d, DateScalar("tomorrow".into()));
        assert_eq!(InputType::to_value(&d), Value::String("tomorrow".into()));
    }

    #[test]
    fn other_values_are_refused() {
        assert!(<TimeZoneScalar as InputType>::parse(Some(Value::Number(3.into()))).is_err());
        assert!(<CountryCodeScalar as InputType>::parse(Some(Value::Boolean(true))).is_err());
    }
}
