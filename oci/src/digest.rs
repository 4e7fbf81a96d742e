//! Content digests: every blob is named by the SHA-256 of its bytes, and every blob read
//! from anywhere is checked against its name before it is used.

use anyhow::{Result, bail};
use sha2::{Digest as _, Sha256};
use std::fmt;

/// A `sha256:<64 lowercase hex>` content digest.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest(String);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        let hash = Sha256::digest(bytes);
        Digest(format!("sha256:{}", hash.iter().map(|b| format!("{b:02x}")).collect::<String>()))
    }

    /// Parses a digest; only SHA-256 is accepted, as the OCI specs require of registries.
    pub fn parse(text: &str) -> Result<Digest> {
        let Some(hex) = text.strip_prefix("sha256:") else {
            bail!("digest {text:?} is not a sha256 digest (expected sha256:<64 hex digits>)");
        };
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            bail!("digest {text:?} is malformed (expected sha256:<64 lowercase hex digits>)");
        }
        Ok(Digest(text.to_string()))
    }

    /// The 64 hex digits, as blob file names use them.
    pub fn hex(&self) -> &str {
        &self.0["sha256:".len()..]
    }

    /// The digest as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks that `bytes` are the content this digest names; `what` says where they came
    /// from, for the message.
    pub fn verify(&self, bytes: &[u8], what: &str) -> Result<()> {
        let actual = Digest::of(bytes);
        if actual != *self {
            bail!(
                "{what}: the content does not match its digest (expected {self}, got {actual}); \
                 it was damaged or tampered with, and is not used"
            );
        }
        Ok(())
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_content_by_its_sha256() {
        // printf '' | sha256sum
        let empty = Digest::of(b"");
        assert_eq!(empty.as_str(), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(Digest::parse(empty.as_str()).unwrap(), empty);
        assert!(empty.verify(b"", "blob").is_ok());
        let err = empty.verify(b"x", "blob").unwrap_err().to_string();
        assert!(err.contains("does not match its digest"), "{err}");
    }

    #[test]
    fn refuses_other_algorithms_and_malformed_hex() {
        for bad in ["sha512:00", "sha256:XYZ", "e3b0", &format!("sha256:{}", "A".repeat(64))] {
            assert!(Digest::parse(bad).is_err(), "{bad}");
        }
    }
}
