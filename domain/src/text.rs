//! Free text a client must send (a user's name, a content's title), parsed once where it
//! enters, for GraphQL and the CLI's import alike.

use std::fmt;

use crate::InputError;

/// Required text: no NUL character (PostgreSQL cannot store one), trimmed, not empty, at
/// most a given number of characters. A name of `""` or of spaces only is not a name, so
/// it is refused naming its field rather than stored blank.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequiredText(String);

impl RequiredText {
    /// Parses `text`; errors name `argument` and say what was wrong.
    pub fn parse(text: &str, argument: &str, max_chars: usize) -> Result<RequiredText, InputError> {
        crate::user::storable(text, argument)?;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            let what = if text.is_empty() { "is empty" } else { "is only white space" };
            return Err(InputError::new(argument, format!("{what}: it is required")));
        }
        if trimmed.chars().count() > max_chars {
            return Err(InputError::new(argument, format!("is longer than {max_chars} characters")));
        }
        Ok(RequiredText(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for RequiredText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_trimmed_text() {
        let t = RequiredText::parse("  Zoë \t", "name", 3).unwrap();
        assert_eq!(t.as_str(), "Zoë");
        // Three characters however many bytes; the padding does not count.
        assert_eq!(RequiredText::parse(" 😀😀😀 ", "name", 3).unwrap().into_string(), "😀😀😀");
    }

    #[test]
    fn refuses_blank_long_and_nul_text_naming_the_argument() {
        for (text, message) in [
            ("", "is empty: it is required"),
            ("   ", "is only white space: it is required"),
            ("\t\n\u{3000}", "is only white space: it is required"),
            ("abcd", "is longer than 3 characters"),
            ("a\u{0}b", "contains a NUL character (at byte 1)"),
        ] {
            let e = RequiredText::parse(text, "title", 3).unwrap_err();
            assert_eq!((e.argument.as_str(), e.message.as_str()), ("title", message), "{text:?}");
        }
    }
}
