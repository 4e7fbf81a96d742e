//! `ukc.lock`: the digest each registry reference resolved to, so that every later compose,
//! on any machine, links the same bytes.

use crate::digest::Digest;
use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The lock file's name, in the directory `ukc compose` runs in unless `--lock` says
/// otherwise.
pub const DEFAULT_LOCK: &str = "ukc.lock";

const VERSION: u64 = 1;

/// The pinned references of one lock file.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    pins: BTreeMap<String, Digest>,
    changed: bool,
}

impl Lock {
    /// Reads the lock at `path`; a missing file is an empty lock.
    pub fn load(path: &Path) -> Result<Lock> {
        match std::fs::read(path) {
            Ok(text) => Lock::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Lock { path: path.to_path_buf(), pins: BTreeMap::new(), changed: false })
            }
            Err(e) => Err(anyhow!("cannot read {}: {e}", path.display())),
        }
    }

    /// Reads a lock's text, as if from the file `path`.
    pub fn parse(path: &Path, text: &[u8]) -> Result<Lock> {
        let mut lock = Lock { path: path.to_path_buf(), pins: BTreeMap::new(), changed: false };
        let shown = path.display();
        let value: Value = serde_json::from_slice(text).with_context(|| format!("{shown}: not a ukc lock file"))?;
        if value.get("version").and_then(Value::as_u64) != Some(VERSION) {
            bail!("{shown}: a lock file of another version than {VERSION}; was it written by a newer ukc?");
        }
        let entries = value.get("packages").and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, entry) in entries.iter().enumerate() {
            let field = |name: &str| {
                entry.get(name).and_then(Value::as_str).ok_or_else(|| anyhow!("{shown}: packages[{i}] has no {name:?}"))
            };
            let digest = Digest::parse(field("digest")?).with_context(|| format!("{shown}: packages[{i}]"))?;
            lock.pins.insert(field("reference")?.to_string(), digest);
        }
        Ok(lock)
    }

    /// The digest `reference` is pinned to.
    pub fn pinned(&self, reference: &str) -> Option<&Digest> {
        self.pins.get(reference)
    }

    /// Pins `reference` to `digest`.
    pub fn pin(&mut self, reference: &str, digest: Digest) {
        if self.pins.get(reference) != Some(&digest) {
            self.pins.insert(reference.to_string(), digest);
            self.changed = true;
        }
    }

    /// Whether a pin was added or moved since the lock was read.
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Where the lock lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the lock when it changed: entries sorted by reference, one per line.
    pub fn save(&self) -> Result<()> {
        if !self.changed {
            return Ok(());
        }
        let packages: Vec<Value> =
            self.pins.iter().map(|(r, d)| json!({"reference": r, "digest": d.as_str()})).collect();
        let mut text = serde_json::to_string_pretty(&json!({"version": VERSION, "packages": packages}))?;
        text.push('\n');
        crate::write_file(&self.path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_survive_a_save_and_only_changes_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ukc.lock");
        let mut lock = Lock::load(&path).unwrap();
        assert!(lock.pinned("oci://h/r:1").is_none());
        lock.pin("oci://h/r:1", Digest::of(b"m"));
        assert!(lock.changed());
        lock.save().unwrap();
        let mut again = Lock::load(&path).unwrap();
        assert_eq!(again.pinned("oci://h/r:1"), Some(&Digest::of(b"m")));
        again.pin("oci://h/r:1", Digest::of(b"m"));
        assert!(!again.changed());
        std::fs::write(&path, r#"{"version": 1, "packages": [{"reference": "x", "digest": "md5:00"}]}"#).unwrap();
        assert!(Lock::load(&path).unwrap_err().to_string().contains("packages[0]"));
    }
}
