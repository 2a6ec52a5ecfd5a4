//! The packed change records of the registrations log: one row of `registration_changes`
//! holds up to [`PART_RECORDS`] records of one version in a small binary payload, so a
//! batch of 10,000 users costs one row (one key, one index entry, one foreign-key check)
//! rather than 10,000.
//!
//! Format 1, little-endian, written and read only here:
//!
//! ```text
//! payload := format:u8 (= 1)  count:u32  record{count}
//! record  := flags:u8  registered_at_ms:i64  gender:u8 (index in Gender::ALL)
//!            [age:u8]  [country:2 ASCII bytes]  [state:string]  [city:string]
//! string  := length:LEB128 u32  UTF-8 bytes
//! flags   := bit 0 added, bit 1 age, bit 2 country, bit 3 state, bit 4 city (present)
//! ```
//!
//! A payload that does not read back whole (another format, cut short, trailing bytes,
//! an unknown gender or country, bad UTF-8) is an error, never a panic: the index then
//! reloads from the users themselves.

use ottstats_domain::country::Country;
use ottstats_domain::gender::Gender;
use ottstats_domain::registration_log::RegistrationFacts;

/// Records one row holds at most (a payload of a few hundred KiB).
pub(crate) const PART_RECORDS: usize = 10_000;

const FORMAT: u8 = 1;
const ADDED: u8 = 1;
const AGE: u8 = 1 << 1;
const COUNTRY: u8 = 1 << 2;
const STATE: u8 = 1 << 3;
const CITY: u8 = 1 << 4;
/// The smallest record: flags, instant and gender.
const MIN_RECORD: usize = 10;

/// Packs `records`, in order.
pub fn encode(records: &[(bool, RegistrationFacts)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + records.len() * 24);
    out.push(FORMAT);
    // A part holds at most PART_RECORDS records; the writers chunk before encoding.
    out.extend_from_slice(&u32::try_from(records.len()).unwrap_or(u32::MAX).to_le_bytes());
    for (added, f) in records {
        let flag = |on: bool, bit: u8| if on { bit } else { 0 };
        out.push(
            flag(*added, ADDED)
                | flag(f.age.is_some(), AGE)
                | flag(f.country.is_some(), COUNTRY)
                | flag(f.state.is_some(), STATE)
                | flag(f.city.is_some(), CITY),
        );
        out.extend_from_slice(&f.registered_at_ms.to_le_bytes());
        // Gender::ALL has four entries: the index fits a byte.
        out.push(f.gender.index() as u8);
        out.extend(f.age);
        if let Some(c) = f.country {
            out.extend_from_slice(c.code().as_bytes());
        }
        for s in [&f.state, &f.city].into_iter().flatten() {
            // Stored places are at most 128 characters: far below u32.
            let mut len = u32::try_from(s.len()).unwrap_or(u32::MAX);
            while len >= 0x80 {
                out.push((len as u8 & 0x7f) | 0x80);
                len >>= 7;
            }
            out.push(len as u8);
            out.extend_from_slice(s.as_bytes());
        }
    }
    out
}

/// Unpacks a payload written by [`encode`]; the error says what did not read back.
pub fn decode(payload: &[u8]) -> Result<Vec<(bool, RegistrationFacts)>, String> {
    let mut r = Reader { rest: payload };
    let format = r.byte()?;
    if format != FORMAT {
        return Err(format!("unknown change payload format {format}"));
    }
    let count = u32::from_le_bytes(r.array()?) as usize;
    // A corrupt count must not allocate: every record takes MIN_RECORD bytes at least.
    let mut out = Vec::with_capacity(count.min(r.rest.len() / MIN_RECORD));
    for _ in 0..count {
        let flags = r.byte()?;
        if flags & !(ADDED | AGE | COUNTRY | STATE | CITY) != 0 {
            return Err(format!("unknown change record flags {flags:#x}"));
        }
        let registered_at_ms = i64::from_le_bytes(r.array()?);
        let g = r.byte()?;
        let gender = *Gender::ALL.get(usize::from(g)).ok_or_else(|| format!("unknown gender index {g}"))?;
        let age = if flags & AGE != 0 { Some(r.byte()?) } else { None };
        let country = if flags & COUNTRY != 0 {
            let code: [u8; 2] = r.array()?;
            let text = std::str::from_utf8(&code).map_err(|e| format!("country: {e}"))?;
            Some(Country::parse(text).filter(|c| c.code() == text).ok_or_else(|| format!("unknown country {text:?}"))?)
        } else {
            None
        };
        let state = if flags & STATE != 0 { Some(r.string()?) } else { None };
        let city = if flags & CITY != 0 { Some(r.string()?) } else { None };
        out.push((flags & ADDED != 0, RegistrationFacts { registered_at_ms, gender, age, country, state, city }));
    }
    if !r.rest.is_empty() {
        return Err(format!("{} bytes after the last change record", r.rest.len()));
    }
    Ok(out)
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        if self.rest.len() < n {
            return Err("change payload cut short".to_owned());
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn string(&mut self) -> Result<String, String> {
        let mut len: u32 = 0;
        for shift in (0..32).step_by(7) {
            let b = self.byte()?;
            len |= u32::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                let bytes = self.take(len as usize)?;
                return String::from_utf8(bytes.to_vec()).map_err(|e| format!("place: {e}"));
            }
        }
        Err("change payload: a length too long".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(
        ms: i64,
        g: Gender,
        age: Option<u8>,
        c: Option<&str>,
        s: Option<&str>,
        t: Option<&str>,
    ) -> RegistrationFacts {
        RegistrationFacts {
            registered_at_ms: ms,
            gender: g,
            age,
            country: c.map(|c| Country::parse(c).unwrap()),
            state: s.map(str::to_owned),
            city: t.map(str::to_owned),
        }
    }

    fn sample() -> Vec<(bool, RegistrationFacts)> {
        let long = "ñ".repeat(200);
        vec![
            (
                true,
                facts(1_780_000_000_123, Gender::Female, Some(0), Some("CL"), Some("Valparaíso"), Some("Viña del Mar")),
            ),
            (false, facts(-62_135_596_800_000, Gender::Male, None, None, None, None)),
            (true, facts(i64::MAX, Gender::Other, Some(255), Some("NP"), None, Some("काठमाडौं"))),
            (false, facts(i64::MIN, Gender::Unknown, Some(36), None, Some(""), Some(&long))),
            (true, facts(0, Gender::Unknown, None, Some("ES"), Some("Madrid"), None)),
        ]
    }

    #[test]
    fn every_field_round_trips() {
        let records = sample();
        assert_eq!(decode(&encode(&records)).unwrap(), records);
        for g in Gender::ALL {
            let one = vec![(true, facts(5, g, None, None, None, None))];
            assert_eq!(decode(&encode(&one)).unwrap(), one);
        }
    }

    #[test]
    fn an_empty_list_round_trips() {
        let payload = encode(&[]);
        assert_eq!(payload, [FORMAT, 0, 0, 0, 0]);
        assert!(decode(&payload).unwrap().is_empty());
    }

    #[test]
    fn a_record_is_compact() {
        let one = vec![(true, facts(5, Gender::Male, Some(30), Some("CL"), Some("Metropolitana"), Some("Santiago")))];
        assert_eq!(encode(&one).len(), 5 + 10 + 1 + 2 + 14 + 9);
    }

    #[test]
    fn a_corrupt_payload_is_an_error() {
        let payload = encode(&sample());
        // Cut short anywhere, or with a byte more.
        for n in 0..payload.len() {
            assert!(decode(&payload[..n]).is_err(), "cut at {n}");
        }
        assert!(decode(&[payload.as_slice(), &[0]].concat()).is_err());
        // Another format; a count larger than the records; unknown flags and gender.
        let mut other = payload.clone();
        other[0] = 2;
        assert!(decode(&other).unwrap_err().contains("format 2"));
        assert!(decode(&[FORMAT, 0xff, 0xff, 0xff, 0xff]).is_err());
        let one = encode(&[(true, facts(5, Gender::Male, None, None, None, None))]);
        let mut bad = one.clone();
        bad[5] |= 0x40;
        assert!(decode(&bad).unwrap_err().contains("flags"));
        let mut bad = one.clone();
        bad[14] = 4;
        assert!(decode(&bad).unwrap_err().contains("gender"));
        // A country that is not a code, a place that is not UTF-8, an endless length.
        let mut bad = encode(&[(true, facts(5, Gender::Male, None, Some("CL"), None, None))]);
        bad[15..17].copy_from_slice(b"cl");
        assert!(decode(&bad).unwrap_err().contains("country"));
        let mut bad = encode(&[(true, facts(5, Gender::Male, None, None, Some("ab"), None))]);
        bad[16] = 0xff;
        assert!(decode(&bad).unwrap_err().contains("place"));
        let mut bad = encode(&[(true, facts(5, Gender::Male, None, None, Some("ab"), None))]);
        bad.truncate(15);
        bad.extend([0xff; 6]);
        assert!(decode(&bad).is_err());
        // No byte flipped anywhere panics.
        for i in 0..payload.len() {
            for b in [0x00, 0x7f, 0x80, 0xff] {
                let mut flipped = payload.clone();
                flipped[i] = b;
                let _ = decode(&flipped);
            }
        }
    }
}
