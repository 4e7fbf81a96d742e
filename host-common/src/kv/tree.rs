//! A store's tree on a directory: what both faces of a kv store (`ro`, `rw`) read, with
//! one error type that each maps to its interface's.
//!
//! Names starting with [`RESERVED`] are the read-write store's temporary files: never
//! listed, and not valid in a key, so that a crash between writing one and renaming it
//! into place shows nothing.

use cap_std::fs::{Dir, Metadata};
use sha2::{Digest, Sha256};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::time::UNIX_EPOCH;
use ukc_hvt_abi::kv_key;

/// The prefix of the names a read-write store writes before renaming them into place.
pub use ukc_hvt_abi::kv_key::RESERVED_PREFIX as RESERVED;

/// What a key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A file.
    Value,
    /// A directory.
    Dictionary,
}

/// Why an operation on the tree failed, as the kv interfaces say it (both name an error
/// by what the key names: `dictionary-expected` when it names a dictionary where a value
/// was expected).
#[derive(Debug, PartialEq, Eq)]
pub enum Error {
    /// The key names nothing.
    NotFound(String),
    /// The key names a dictionary where a value was expected.
    DictionaryExpected(String),
    /// The key, or a dictionary on its way, names a value where a dictionary was expected.
    ValueExpected(String),
    /// The key breaks the key rule, or leads outside the store.
    InvalidKey(String),
    /// A rename would move a dictionary into itself or replace a dictionary.
    InvalidRename(String),
    /// The file system is full.
    NoSpace(String),
    /// The file system failed.
    Io(String),
}

/// The relative path for `key`: `.` for the root.
pub fn path_of(key: &str) -> Result<String, Error> {
    let invalid = || Error::InvalidKey(format!("{key}: {}", kv_key::RULE));
    let segments = kv_key::segments(key).ok_or_else(invalid)?;
    if segments.iter().any(|s| s.starts_with(RESERVED)) {
        return Err(Error::InvalidKey(format!("{key}: names starting with {RESERVED} are the store's own")));
    }
    Ok(if segments.is_empty() { ".".into() } else { segments.join("/") })
}

/// Maps an I/O error on `key` to the kv error a guest sees.
pub fn io_error(key: &str, e: std::io::Error) -> Error {
    match e.kind() {
        ErrorKind::NotFound => Error::NotFound(key.to_string()),
        ErrorKind::PermissionDenied => Error::InvalidKey(format!("{key}: leads outside the store or is not readable")),
        ErrorKind::IsADirectory => Error::DictionaryExpected(key.to_string()),
        ErrorKind::NotADirectory => Error::ValueExpected(key.to_string()),
        ErrorKind::StorageFull => Error::NoSpace(format!("{key}: {e}")),
        _ => Error::Io(format!("{key}: {e}")),
    }
}

/// What `metadata` is in the store: files are values, directories dictionaries, and
/// anything else is not part of it.
pub fn kind_of(metadata: &Metadata) -> Option<Kind> {
    if metadata.is_dir() {
        Some(Kind::Dictionary)
    } else if metadata.is_file() {
        Some(Kind::Value)
    } else {
        None
    }
}

/// The path and metadata of the value (not dictionary) at `key`.
fn value_metadata(dir: &Dir, key: &str) -> Result<(String, Metadata), Error> {
    let path = path_of(key)?;
    let metadata = dir.metadata(&path).map_err(|e| io_error(key, e))?;
    match kind_of(&metadata) {
        Some(Kind::Value) => Ok((path, metadata)),
        Some(Kind::Dictionary) => Err(Error::DictionaryExpected(key.to_string())),
        None => Err(Error::NotFound(key.to_string())),
    }
}

/// What `key` names, or `None`.
pub fn exists(dir: &Dir, key: &str) -> Result<Option<Kind>, Error> {
    let path = path_of(key)?;
    match dir.metadata(&path) {
        Ok(metadata) => Ok(kind_of(&metadata)),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => Ok(None),
        Err(e) => Err(io_error(key, e)),
    }
}

/// The whole value at `key`.
pub fn get(dir: &Dir, key: &str) -> Result<Vec<u8>, Error> {
    let (path, _) = value_metadata(dir, key)?;
    dir.read(&path).map_err(|e| io_error(key, e))
}

/// Up to `len` bytes of the value at `key` from `offset`.
pub fn get_partial(dir: &Dir, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
    let (path, metadata) = value_metadata(dir, key)?;
    let len = len.min(metadata.len().saturating_sub(offset));
    let mut data = vec![0; usize::try_from(len).map_err(|_| Error::Io(format!("{key}: range too large")))?];
    let mut file = dir.open(&path).map_err(|e| io_error(key, e))?;
    file.seek(SeekFrom::Start(offset)).map_err(|e| io_error(key, e))?;
    file.read_exact(&mut data).map_err(|e| io_error(key, e))?;
    Ok(data)
}

/// The members of the dictionary at `key`, sorted by name. Links to dictionaries resolve
/// for lookups but are not listed, so that a walk of the store ends whatever loops links
/// make; dangling links, special files and the store's own names are not part of it.
pub fn list(dir: &Dir, key: &str) -> Result<Vec<(String, Kind)>, Error> {
    let path = path_of(key)?;
    let entries = dir.read_dir(&path).map_err(|e| io_error(key, e))?;
    let mut members = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(key, e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with(RESERVED) {
            continue;
        }
        let child = if path == "." { name.clone() } else { format!("{path}/{name}") };
        let Some(kind) = dir.metadata(&child).ok().as_ref().and_then(kind_of) else {
            continue;
        };
        let link = entry.file_type().is_ok_and(|t| t.is_symlink());
        if !(link && kind == Kind::Dictionary) {
            members.push((name, kind));
        }
    }
    members.sort();
    Ok(members)
}

/// The length of the value at `key`.
pub fn size(dir: &Dir, key: &str) -> Result<u64, Error> {
    value_metadata(dir, key).map(|(_, metadata)| metadata.len())
}

/// When what `key` names last changed, in nanoseconds since the epoch.
pub fn last_modified(dir: &Dir, key: &str) -> Result<u64, Error> {
    let path = path_of(key)?;
    let metadata = dir.metadata(&path).map_err(|e| io_error(key, e))?;
    let modified = metadata.modified().map_err(|e| io_error(key, e))?.into_std();
    let since_epoch = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
    Ok(u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX))
}

/// The SHA-256 of the value at `key`, or of a dictionary's members (each one's name, kind
/// and digest, in order), so that equal trees have equal digests.
pub fn digest(dir: &Dir, key: &str) -> Result<Vec<u8>, Error> {
    let mut hasher = Sha256::new();
    match exists(dir, key)? {
        None => return Err(Error::NotFound(key.to_string())),
        Some(Kind::Value) => hasher.update(get(dir, key)?),
        Some(Kind::Dictionary) => {
            let base = path_of(key)?;
            for (name, kind) in list(dir, key)? {
                let child = if base == "." { name.clone() } else { format!("{base}/{name}") };
                hasher.update(kv_key::digest_member(&name, kind == Kind::Dictionary, &digest(dir, &child)?));
            }
        }
    }
    Ok(hasher.finalize().to_vec())
}
