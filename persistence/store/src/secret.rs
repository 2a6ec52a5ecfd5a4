//! The installation's secret (32 random bytes kept in its database, see the
//! `installation` migrations): what derived keys are made of and what the cache seals
//! its Redis entries with. Its `Debug` shows nothing of it.

use std::fmt;

use hmac::{Hmac, Mac};
use ottstats_domain::RepoError;
use sha2::Sha256;

/// The secret's size: the HMAC-SHA256 block is larger, but 32 random bytes are its
/// full strength.
const SECRET_BYTES: usize = 32;

/// One installation's secret.
#[derive(Clone)]
pub struct InstallationSecret {
    bytes: [u8; SECRET_BYTES],
    /// Keyed once; each derivation works on a copy.
    mac: Hmac<Sha256>,
}

impl InstallationSecret {
    /// The secret stored as hex in the installation row.
    pub(crate) fn from_hex(hex: &str) -> Result<InstallationSecret, RepoError> {
        // The error never quotes the value: it is the secret.
        let invalid =
            || RepoError::Internal(format!("stored installation secret is invalid: not {SECRET_BYTES} hex bytes"));
        if hex.len() != SECRET_BYTES * 2 || !hex.is_ascii() {
            return Err(invalid());
        }
        let mut bytes = [0u8; SECRET_BYTES];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| invalid())?;
        }
        let mac = Hmac::<Sha256>::new_from_slice(&bytes).map_err(|_| invalid())?;
        Ok(InstallationSecret { bytes, mac })
    }

    /// The raw bytes, for the cache's sealer (keyed with them).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// 32 bytes only this installation can compute from `label`: what the demo key is
    /// made of. The leading 0 keeps these inputs apart from every sealed cache frame's
    /// (which start with their format number, never 0), so no derived value is ever a
    /// valid tag.
    pub(crate) fn derive(&self, label: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(&[0]);
        mac.update(label);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for InstallationSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InstallationSecret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_32_hex_bytes_are_a_secret_and_errors_never_quote_it() {
        let good = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        assert_eq!(InstallationSecret::from_hex(good).map(|s| s.bytes()[1]).ok(), Some(0x11));
        let bad = [String::new(), "00".into(), good[..62].into(), format!("{good}00"), good.replace('0', "g")];
        for bad in bad.iter().map(String::as_str).chain(["é".repeat(32).as_str()]) {
            let e = InstallationSecret::from_hex(bad).err().map(|e| e.to_string());
            let e = e.unwrap_or_else(|| panic!("{bad:?} was accepted"));
            assert!(e.contains("not 32 hex bytes"), "{e}");
            assert!(bad.is_empty() || !e.contains(bad), "the error quotes the secret: {e}");
        }
        let secret = InstallationSecret::from_hex(good).expect("a good secret");
        assert_eq!(format!("{secret:?}"), "InstallationSecret(..)");
        assert_ne!(secret.derive(b"a"), secret.derive(b"b"));
    }
}
