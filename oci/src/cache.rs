//! Blobs pulled from registries, kept by digest so that a pinned driver or unikernel is
//! fetched once and then read without the network.

use crate::digest::Digest;
use anyhow::Result;
use std::path::PathBuf;

/// ukc's cache directory: `$UKC_CACHE_DIR`, else `$XDG_CACHE_HOME/ukc`, else
/// `~/.cache/ukc`; `None` when `UKC_CACHE_DIR` is set empty (caching off).
pub fn root() -> Option<PathBuf> {
    match std::env::var_os("UKC_CACHE_DIR") {
        Some(dir) if dir.is_empty() => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|d| !d.is_empty())
            .map(|d| PathBuf::from(d).join("ukc"))
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/ukc"))),
    }
}

/// Blobs by digest under `<cache>/oci/blobs/sha256/`, laid out as an OCI layout's blobs.
#[derive(Clone, Debug)]
pub struct BlobCache {
    dir: Option<PathBuf>,
}

impl BlobCache {
    /// The cache under [`root`].
    pub fn from_env() -> BlobCache {
        BlobCache { dir: root().map(|r| r.join("oci/blobs/sha256")) }
    }

    /// A cache in `dir`, or none.
    pub fn at(dir: Option<PathBuf>) -> BlobCache {
        BlobCache { dir }
    }

    /// The cached blob `digest`, if present and intact. A damaged entry is removed, so that
    /// the next pull replaces it.
    pub fn get(&self, digest: &Digest) -> Option<Vec<u8>> {
        let path = self.dir.as_ref()?.join(digest.hex());
        let bytes = std::fs::read(&path).ok()?;
        if Digest::of(&bytes) == *digest {
            Some(bytes)
        } else {
            let _ = std::fs::remove_file(&path);
            None
        }
    }

    /// Keeps `bytes`, whose digest the caller has checked, unless the cache holds them
    /// already (a damaged entry is removed by `get`, so one that is there is intact). A
    /// cache that cannot be written only costs a later download, so failures are ignored.
    pub fn put(&self, digest: &Digest, bytes: &[u8]) {
        let Some(dir) = &self.dir else { return };
        if !dir.join(digest.hex()).exists() {
            let _ = Self::write(dir, digest, bytes);
        }
    }

    fn write(dir: &PathBuf, digest: &Digest, bytes: &[u8]) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut file, bytes)?;
        file.persist(dir.join(digest.hex()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_blobs_and_drops_damaged_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::at(Some(dir.path().to_path_buf()));
        let digest = Digest::of(b"blob");
        assert_eq!(cache.get(&digest), None);
        cache.put(&digest, b"blob");
        assert_eq!(cache.get(&digest).as_deref(), Some(&b"blob"[..]));
        std::fs::write(dir.path().join(digest.hex()), b"blot").unwrap();
        assert_eq!(cache.get(&digest), None);
        assert!(!dir.path().join(digest.hex()).exists());
    }
}
