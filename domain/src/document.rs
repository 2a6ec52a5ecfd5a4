//! GraphQL documents known by their hash: Apollo's automatic persisted queries, and
//! trusted documents registered ahead for clients that ship fixed operations.

use std::fmt;

use crate::InputError;

/// The SHA-256 of a document's text, as clients send it: 64 hexadecimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentHash(pub [u8; 32]);

impl DocumentHash {
    /// Reads 64 hexadecimal digits (either case).
    pub fn parse(text: &str, argument: &str) -> Result<DocumentHash, InputError> {
        let bad = || InputError::new(argument, format!("`{text}` is not a SHA-256 hash (64 hexadecimal digits)"));
        // `from_str_radix` would take a sign: only digits pass.
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(DocumentHash(bytes))
    }
}

/// Lower-case hexadecimal, as stored and as printed.
impl fmt::Display for DocumentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_and_bad_ones_name_the_argument() {
        let text = "ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38";
        let hash = DocumentHash::parse(text, "h").unwrap();
        assert_eq!(hash.to_string(), text);
        assert_eq!(DocumentHash::parse(&text.to_uppercase(), "h").unwrap(), hash);
        let signed = "+a".repeat(32);
        for bad in ["", "abc", &text[1..], &format!("{}zz", &text[2..]), &format!("é{}", &text[2..]), &signed] {
            assert_eq!(
                DocumentHash::parse(bad, "extensions.persistedQuery.sha256Hash").unwrap_err().argument,
                "extensions.persistedQuery.sha256Hash"
            );
        }
    }
}
