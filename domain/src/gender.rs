use std::fmt;
use std::str::FromStr;

/// A registered user's gender as the operator reported it; missing is `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Gender {
    Female,
    Male,
    Other,
    Unknown,
}

impl Gender {
    /// Every gender, in the order statistics list them.
    pub const ALL: [Gender; 4] = [Gender::Female, Gender::Male, Gender::Other, Gender::Unknown];

    /// The stored and wire name (`FEMALE`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Female => "FEMALE",
            Gender::Male => "MALE",
            Gender::Other => "OTHER",
            Gender::Unknown => "UNKNOWN",
        }
    }

    /// Position in [`Gender::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Gender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was none of the gender names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown gender {0:?}: expected FEMALE, MALE, OTHER or UNKNOWN")]
pub struct UnknownGender(pub String);

impl FromStr for Gender {
    type Err = UnknownGender;

    /// Case-insensitive; blank text is `Unknown` (a missing gender).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() {
            return Ok(Gender::Unknown);
        }
        Gender::ALL.into_iter().find(|g| g.as_str().eq_ignore_ascii_case(t)).ok_or_else(|| UnknownGender(t.to_owned()))
    }
}

/// A count for each gender, indexed by [`Gender::index`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GenderCounts(pub [u64; 4]);

impl GenderCounts {
    pub fn add(&mut self, gender: Gender, count: u64) {
        self.0[gender.index()] += count;
    }

    pub fn get(&self, gender: Gender) -> u64 {
        self.0[gender.index()]
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_blank_as_unknown() {
        assert_eq!("female".parse::<Gender>(), Ok(Gender::Female));
        assert_eq!(" MALE ".parse::<Gender>(), Ok(Gender::Male));
        assert_eq!("".parse::<Gender>(), Ok(Gender::Unknown));
        assert!("F".parse::<Gender>().is_err());
    }

    #[test]
    fn counts_total_every_gender() {
        let mut c = GenderCounts::default();
        c.add(Gender::Male, 3);
        c.add(Gender::Unknown, 2);
        c.add(Gender::Male, 1);
        assert_eq!(c.get(Gender::Male), 4);
        assert_eq!(c.total(), 6);
    }
}
