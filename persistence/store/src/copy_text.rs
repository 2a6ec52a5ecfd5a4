//! Rows in PostgreSQL's `COPY … FROM STDIN` text format: columns separated by tabs, rows
//! by newlines, `\N` for NULL, and backslash escapes for the characters that would break
//! the format. Text is the format chosen over binary: it needs no per-type encoders and
//! PostgreSQL parses it about as fast for these narrow rows.

use std::io::Write;

/// A buffer of rows for one `COPY`.
#[derive(Default)]
pub(crate) struct CopyRows {
    buf: Vec<u8>,
    /// No separator before the first column of a row.
    at_row_start: bool,
    rows: usize,
}

impl CopyRows {
    pub fn with_capacity(bytes: usize) -> CopyRows {
        CopyRows { buf: Vec::with_capacity(bytes), at_row_start: true, rows: 0 }
    }

    fn separate(&mut self) {
        if !self.at_row_start {
            self.buf.push(b'\t');
        }
        self.at_row_start = false;
    }

    /// A text column.
    pub fn text(&mut self, value: &str) -> &mut CopyRows {
        self.separate();
        for &b in value.as_bytes() {
            match b {
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                _ => self.buf.push(b),
            }
        }
        self
    }

    pub fn null(&mut self) -> &mut CopyRows {
        self.separate();
        self.buf.extend_from_slice(b"\\N");
        self
    }

    pub fn opt_text(&mut self, value: Option<&str>) -> &mut CopyRows {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    /// A number or another value whose `Display` form PostgreSQL reads back exactly and
    /// that holds none of the characters the format escapes (integers, dates, booleans).
    pub fn plain(&mut self, value: impl std::fmt::Display) -> &mut CopyRows {
        self.separate();
        // Straight into the buffer: no string a value (writing to a Vec cannot fail).
        let _ = write!(self.buf, "{value}");
        self
    }

    pub fn opt_plain(&mut self, value: Option<impl std::fmt::Display>) -> &mut CopyRows {
        match value {
            Some(v) => self.plain(v),
            None => self.null(),
        }
    }

    /// A double precision column: Rust's shortest round-trip form, which PostgreSQL reads
    /// back to the same value (infinities and NaN never reach here: inputs are finite).
    pub fn opt_float(&mut self, value: Option<f64>) -> &mut CopyRows {
        match value {
            Some(v) if v.is_finite() => self.plain(v),
            Some(v) => self.text(if v.is_nan() {
                "NaN"
            } else if v > 0.0 {
                "Infinity"
            } else {
                "-Infinity"
            }),
            None => self.null(),
        }
    }

    /// A date as PostgreSQL reads it: ISO, with years before 1 written `BC` (chrono's year
    /// 0 is 1 BC, year -1 is 2 BC), which PostgreSQL's input refuses as `0000-…`/`-0001-…`.
    pub fn opt_date(&mut self, value: Option<chrono::NaiveDate>) -> &mut CopyRows {
        use chrono::Datelike;
        match value {
            Some(d) if d.year() <= 0 => {
                self.plain(format_args!("{:04}-{:02}-{:02} BC", 1 - d.year(), d.month(), d.day()))
            }
            Some(d) => self.plain(d.format("%Y-%m-%d")),
            None => self.null(),
        }
    }

    pub fn end_row(&mut self) {
        self.buf.push(b'\n');
        self.at_row_start = true;
        self.rows += 1;
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_the_format_needs_and_marks_nulls() {
        let mut rows = CopyRows::with_capacity(64);
        rows.plain(7).text("a\tb\\c\nd\re").null().opt_float(Some(0.1)).end_row();
        rows.opt_text(Some("ñandú")).opt_plain(None::<i64>).opt_float(Some(f64::NAN)).end_row();
        let date = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d);
        rows.opt_date(date(1990, 2, 28)).opt_date(date(0, 1, 1)).opt_date(date(-1, 6, 1)).opt_date(None).end_row();
        assert_eq!(rows.rows(), 3);
        assert_eq!(
            String::from_utf8(rows.into_bytes()).unwrap(),
            "7\ta\\tb\\\\c\\nd\\re\t\\N\t0.1\nñandú\t\\N\tNaN\n1990-02-28\t0001-01-01 BC\t0002-06-01 BC\t\\N\n"
        );
    }
}
