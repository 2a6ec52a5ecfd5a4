//! The frame of every cache entry written to Redis. A Redis may be shared by several
//! installations and always holds every tenant's entries side by side, and anyone who can
//! write to it can copy one key's value to another or write garbage. So each value goes
//! out as
//!
//! ```text
//! format (1 byte) | tenant id (8 bytes, big-endian) | tag (32 bytes) | value
//! ```
//!
//! where the tag is HMAC-SHA256, keyed by the installation's secret (kept in its
//! database), over the format, the tenant, the full Redis key and the value. A frame read
//! back is served only when its tenant is the one asking and its tag verifies for the key
//! it was read from: an entry moved to another key, another tenant's entry, another
//! installation's entry and a corrupted one are all refused, dropped and recomputed.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hmac::{Hmac, Mac};
use ottstats_domain::tenant::TenantId;
use sha2::Sha256;

use crate::redis_link::RedisLink;

/// The frame's layout version: a later layout gets another number, so that a frame of one
/// layout is never read as another.
const FORMAT: u8 = 1;
const TAG_BYTES: usize = 32;
const HEADER_BYTES: usize = 1 + 8 + TAG_BYTES;

/// Seals and opens frames with one installation's secret.
#[derive(Clone)]
pub struct Sealer {
    /// Keyed once; each frame works on a copy.
    mac: Hmac<Sha256>,
}

/// Why a frame read from Redis was refused (logged; the value never is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// Shorter than the header: not a frame at all.
    Short,
    /// Another layout, or garbage.
    Format(u8),
    /// Written for another tenant.
    Tenant(i64),
    /// The tag does not match: tampered with, moved from another key, or written by another
    /// installation.
    Tag,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejected::Short => write!(f, "too short to be a frame"),
            Rejected::Format(v) => write!(f, "unknown frame format {v}"),
            Rejected::Tenant(t) => write!(f, "written for tenant {t}"),
            Rejected::Tag => write!(f, "integrity tag does not match"),
        }
    }
}

impl Sealer {
    /// The sealer keyed with the installation's secret (see `InstallationSecret`).
    pub fn new(secret: &[u8]) -> Sealer {
        // HMAC takes a key of any length.
        let mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        Sealer { mac }
    }

    /// The tag's MAC over everything but the tag. The key is length-prefixed, so that no
    /// (key, value) pair reads as another.
    fn mac(&self, tenant: i64, key: &str, value: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(&[FORMAT]);
        mac.update(&tenant.to_be_bytes());
        mac.update(&(key.len() as u64).to_be_bytes());
        mac.update(key.as_bytes());
        mac.update(value);
        mac
    }

    /// The frame of `value`, written by `tenant` at `key`.
    pub(crate) fn seal(&self, tenant: TenantId, key: &str, value: &[u8]) -> Vec<u8> {
        let tag = self.mac(tenant.0, key, value).finalize().into_bytes();
        let mut frame = Vec::with_capacity(HEADER_BYTES + value.len());
        frame.push(FORMAT);
        frame.extend_from_slice(&tenant.0.to_be_bytes());
        frame.extend_from_slice(&tag);
        frame.extend_from_slice(value);
        frame
    }

    /// The value of a frame read at `key` for `tenant`, without copying it; refused unless
    /// it is intact and was written there for that tenant by this installation.
    pub(crate) fn open(&self, tenant: TenantId, key: &str, frame: Bytes) -> Result<Bytes, Rejected> {
        if frame.len() < HEADER_BYTES {
            return Err(Rejected::Short);
        }
        if frame[0] != FORMAT {
            return Err(Rejected::Format(frame[0]));
        }
        let mut id = [0u8; 8];
        id.copy_from_slice(&frame[1..9]);
        let written_for = i64::from_be_bytes(id);
        if written_for != tenant.0 {
            return Err(Rejected::Tenant(written_for));
        }
        let value = frame.slice(HEADER_BYTES..);
        // Constant time: how far a guess matches must not show in how long it takes.
        self.mac(tenant.0, key, &value).verify_slice(&frame[9..HEADER_BYTES]).map_err(|_| Rejected::Tag)?;
        Ok(value)
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(..)")
    }
}

/// The value at `key` for `tenant`, opened. A frame that fails the check is never
/// returned: it is deleted (best effort: the recomputed value overwrites it anyway),
/// counted in `rejected` and logged, without its value.
pub(crate) async fn fetch(
    redis: &RedisLink,
    sealer: &Sealer,
    tenant: TenantId,
    key: &str,
    rejected: &AtomicU64,
) -> Option<Bytes> {
    let frame = redis.get(key).await?;
    match sealer.open(tenant, key, Bytes::from(frame)) {
        Ok(value) => Some(value),
        Err(why) => {
            rejected.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(key, tenant = tenant.0, reason = %why, "dropped a cache entry in Redis that fails its check");
            redis.del(key).await;
            None
        }
    }
}

/// Writes `value`, sealed, at `key` without holding up the caller.
pub(crate) fn share(redis: RedisLink, sealer: &Sealer, tenant: TenantId, key: String, value: &[u8], ttl: Duration) {
    let frame = sealer.seal(tenant, &key, value);
    tokio::spawn(async move { redis.set(&key, &frame, ttl).await });
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const OTHER: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const A: TenantId = TenantId(1);
    const B: TenantId = TenantId(2);
    const KEY: &str = "ottstats:test:response:abc";

    fn sealer(hex: &str) -> Sealer {
        let bytes: Vec<u8> =
            (0..hex.len() / 2).filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()).collect();
        Sealer::new(&bytes)
    }

    fn open(s: &Sealer, tenant: TenantId, key: &str, frame: &[u8]) -> Result<Bytes, Rejected> {
        s.open(tenant, key, Bytes::copy_from_slice(frame))
    }

    #[test]
    fn a_sealed_value_opens_as_it_was() {
        let s = sealer(SECRET);
        for value in [&b""[..], b"{\"data\":{}}", &[0u8; 5000]] {
            let frame = s.seal(A, KEY, value);
            assert_eq!(frame.len(), HEADER_BYTES + value.len());
            assert_eq!(open(&s, A, KEY, &frame).as_deref(), Ok(value));
        }
    }

    #[test]
    fn a_changed_value_is_refused() {
        let s = sealer(SECRET);
        let mut frame = s.seal(A, KEY, b"{\"total\":2}");
        let last = frame.len() - 2;
        frame[last] ^= 1;
        assert_eq!(open(&s, A, KEY, &frame), Err(Rejected::Tag));
        // A longer or shorter value under the same tag too.
        let frame = s.seal(A, KEY, b"{\"total\":2}");
        assert_eq!(open(&s, A, KEY, &[&frame[..], b" "].concat()), Err(Rejected::Tag));
        assert_eq!(open(&s, A, KEY, &frame[..frame.len() - 1]), Err(Rejected::Tag));
    }

    #[test]
    fn another_tenants_value_is_refused() {
        let s = sealer(SECRET);
        let theirs = s.seal(B, KEY, b"{\"total\":3}");
        assert_eq!(open(&s, A, KEY, &theirs), Err(Rejected::Tenant(2)));
        // Relabelled as A's, its tag gives it away.
        let mut relabelled = theirs.clone();
        relabelled[1..9].copy_from_slice(&A.0.to_be_bytes());
        assert_eq!(open(&s, A, KEY, &relabelled), Err(Rejected::Tag));
    }

    #[test]
    fn a_value_moved_to_another_key_is_refused() {
        let s = sealer(SECRET);
        let frame = s.seal(A, KEY, b"{\"total\":2}");
        assert_eq!(open(&s, A, "ottstats:test:response:abd", &frame), Err(Rejected::Tag));
        // The key is length-prefixed: moving bytes between key and value does not help.
        let frame = s.seal(A, "k1", b"v");
        assert_eq!(open(&s, A, "k", &[&frame[..HEADER_BYTES], b"1v"].concat()), Err(Rejected::Tag));
    }

    #[test]
    fn another_installations_value_is_refused() {
        let frame = sealer(OTHER).seal(A, KEY, b"{\"total\":2}");
        assert_eq!(open(&sealer(SECRET), A, KEY, &frame), Err(Rejected::Tag));
    }

    #[test]
    fn truncated_frames_and_garbage_are_refused() {
        let s = sealer(SECRET);
        let frame = s.seal(A, KEY, b"{}");
        for n in 0..HEADER_BYTES {
            assert_eq!(open(&s, A, KEY, &frame[..n]), Err(Rejected::Short), "{n} bytes");
        }
        let unframed = b"{\"data\":{\"registrations\":{\"total\":99}},\"extensions\":{\"cached\":true}}";
        assert_eq!(open(&s, A, KEY, unframed), Err(Rejected::Format(b'{')));
        let mut garbage = vec![FORMAT];
        garbage.extend_from_slice(&A.0.to_be_bytes());
        garbage.extend_from_slice(&[0xAB; 64]);
        assert_eq!(open(&s, A, KEY, &garbage), Err(Rejected::Tag));
    }

    #[test]
    fn its_debug_shows_nothing() {
        assert_eq!(format!("{:?}", sealer(SECRET)), "Sealer(..)");
    }
}
