//! A registered user, validated from what an operator sends.

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};

use crate::InputError;
use crate::age::age_on;
use crate::country::Country;
use crate::gender::Gender;
use crate::text::RequiredText;

pub const MAX_ID_CHARS: usize = 128;
pub const MAX_NAME_CHARS: usize = 256;
pub const MAX_PLACE_CHARS: usize = 128;

/// A user as sent, before validation (GraphQL `UserInput`, a CSV or NDJSON line).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserDraft {
    pub id: String,
    pub name: String,
    pub gender: Option<String>,
    pub birth_date: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub city: Option<String>,
    pub registered_at: String,
}

/// A registered user as stored: trimmed, checked, with its age at registration derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredUser {
    pub id: String,
    pub name: String,
    pub gender: Gender,
    pub birth_date: Option<NaiveDate>,
    /// Whole years at the UTC date of registration; `None` when unknown or implausible.
    pub age: Option<u8>,
    pub country: Option<Country>,
    pub state: Option<String>,
    pub city: Option<String>,
    /// Kept to the millisecond, the precision of the store.
    pub registered_at: DateTime<Utc>,
}

impl RegisteredUser {
    /// Validates a draft as of `now`; errors name the field (`id`, `birthDate`, …).
    pub fn from_draft(draft: &UserDraft, now: DateTime<Utc>) -> Result<RegisteredUser, InputError> {
        let id = validate_id(&draft.id, "id")?;
        let name = RequiredText::parse(&draft.name, "name", MAX_NAME_CHARS)?.into_string();
        let gender = match draft.gender.as_deref() {
            None => Gender::Unknown,
            Some(g) => g.parse::<Gender>().map_err(|e| InputError::new("gender", e.to_string()))?,
        };
        let registered_at = parse_instant_strict(&draft.registered_at, "registeredAt")?;
        if registered_at > now + Duration::days(1) {
            return Err(InputError::new("registeredAt", "is more than a day in the future"));
        }
        let birth_date = match non_blank(&draft.birth_date) {
            None => None,
            Some(text) => {
                let d = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map_err(|_| InputError::new("birthDate", format!("{text:?} is not a date (YYYY-MM-DD)")))?;
                if d > now.date_naive() {
                    return Err(InputError::new("birthDate", "is in the future"));
                }
                Some(d)
            }
        };
        let country = non_blank(&draft.country).map(|c| Country::parse_arg(c, "country")).transpose()?;
        Ok(RegisteredUser {
            id,
            name,
            gender,
            age: birth_date.and_then(|b| age_on(b, registered_at.date_naive())),
            birth_date,
            country,
            state: place(&draft.state, "state")?,
            city: place(&draft.city, "city")?,
            registered_at,
        })
    }
}

/// Text from a client as the stores can keep it: PostgreSQL cannot store a NUL
/// character, so one is bad input naming its field rather than a failed batch.
pub fn storable(text: &str, argument: &str) -> Result<(), InputError> {
    match text.find('\0') {
        Some(at) => Err(InputError::new(argument, format!("contains a NUL character (at byte {at})"))),
        None => Ok(()),
    }
}

/// An id of 1..=128 characters after trimming.
pub fn validate_id(id: &str, argument: &str) -> Result<String, InputError> {
    storable(id, argument)?;
    let t = id.trim();
    let n = t.chars().count();
    if n == 0 || n > MAX_ID_CHARS {
        return Err(InputError::new(argument, format!("must be 1 to {MAX_ID_CHARS} characters")));
    }
    Ok(t.to_owned())
}

/// An RFC 3339 instant with an explicit offset, truncated to the millisecond.
pub fn parse_instant_strict(text: &str, argument: &str) -> Result<DateTime<Utc>, InputError> {
    let t = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|_| InputError::new(argument, format!("{text:?} is not an RFC 3339 instant (2026-03-01T08:00:00Z)")))?
        .with_timezone(&Utc);
    t.duration_trunc(Duration::milliseconds(1)).map_err(|_| InputError::new(argument, "is out of range"))
}

fn non_blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn place(s: &Option<String>, argument: &str) -> Result<Option<String>, InputError> {
    if let Some(text) = s {
        storable(text, argument)?;
    }
    match non_blank(s) {
        Some(p) if p.chars().count() > MAX_PLACE_CHARS => {
            Err(InputError::new(argument, format!("is longer than {MAX_PLACE_CHARS} characters")))
        }
        p => Ok(p.map(str::to_owned)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-06-01T12:00:00Z".parse().unwrap()
    }

    fn draft() -> UserDraft {
        UserDraft {
            id: " u1 ".into(),
            name: "Ana".into(),
            gender: Some("female".into()),
            birth_date: Some("2000-02-29".into()),
            country: Some(" cl".into()),
            state: Some("  Metropolitana ".into()),
            city: Some("   ".into()),
            registered_at: "2026-02-28T23:30:00.123456-03:00".into(),
        }
    }

    #[test]
    fn normalises_and_derives_age_at_the_utc_date() {
        let u = RegisteredUser::from_draft(&draft(), now()).unwrap();
        assert_eq!(u.id, "u1");
        assert_eq!(u.gender, Gender::Female);
        assert_eq!(u.country.map(|c| c.code()), Some("CL"));
        assert_eq!(u.state.as_deref(), Some("Metropolitana"));
        assert_eq!(u.city, None);
        // 2026-03-01 in UTC: a 29 February birthday has been reached.
        assert_eq!(u.age, Some(26));
        assert_eq!(u.registered_at.to_rfc3339(), "2026-03-01T02:30:00.123+00:00");
    }

    #[test]
    fn each_bad_field_is_named() {
        let check = |f: fn(&mut UserDraft), arg: &str| {
            let mut d = draft();
            f(&mut d);
            assert_eq!(RegisteredUser::from_draft(&d, now()).unwrap_err().argument, arg);
        };
        check(|d| d.id = "".into(), "id");
        check(|d| d.id = "x".repeat(129), "id");
        check(|d| d.gender = Some("robot".into()), "gender");
        check(|d| d.birth_date = Some("2030-01-01".into()), "birthDate");
        check(|d| d.birth_date = Some("01/02/2000".into()), "birthDate");
        check(|d| d.country = Some("XX".into()), "country");
        check(|d| d.registered_at = "2026-03-01".into(), "registeredAt");
        check(|d| d.registered_at = "2026-06-03T00:00:00Z".into(), "registeredAt");
        check(|d| d.state = Some("s".repeat(129)), "state");
        check(|d| d.id = "u\u{0}1".into(), "id");
        check(|d| d.name = "A\u{0}na".into(), "name");
        check(|d| d.name = "".into(), "name");
        check(|d| d.name = " \t ".into(), "name");
        check(|d| d.city = Some("\u{0}".into()), "city");
    }

    #[test]
    fn missing_optional_fields_are_fine() {
        let d = UserDraft {
            id: "u".into(),
            name: "U".into(),
            registered_at: "2026-01-01T00:00:00Z".into(),
            ..Default::default()
        };
        let u = RegisteredUser::from_draft(&d, now()).unwrap();
        assert_eq!((u.gender, u.age, u.country), (Gender::Unknown, None, None));
    }
}
