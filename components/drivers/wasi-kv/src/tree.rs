//! A store's tree on a preopened directory: what both faces (`ro`, `rw`) read, with one
//! error type each maps to its interface's. Names starting with the reserved prefix are
//! the read-write face's temporary files: never listed, and invalid in keys.

use sha2::{Digest, Sha256};
use ukc_hvt_abi::kv_key;
use wasip2::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorStat, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

/// How much a read takes at a time.
const CHUNK: u64 = 64 * 1024;

/// What a key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A file.
    Value,
    /// A directory.
    Dictionary,
}

/// Why an operation failed, as the kv interfaces name it (`dictionary-expected`: the key
/// names a dictionary where a value was expected).
#[derive(Debug)]
pub enum Error {
    NotFound(String),
    DictionaryExpected(String),
    ValueExpected(String),
    InvalidKey(String),
    InvalidRename(String),
    NoSpace(String),
    Io(String),
}

/// The relative path for `key`: `.` for the root.
pub fn path_of(key: &str) -> Result<String, Error> {
    let segments = kv_key::segments(key).ok_or_else(|| Error::InvalidKey(format!("{key}: {}", kv_key::RULE)))?;
    if segments.iter().any(|s| s.starts_with(kv_key::RESERVED_PREFIX)) {
        return Err(Error::InvalidKey(format!(
            "{key}: names starting with {} are the store's own",
            kv_key::RESERVED_PREFIX
        )));
    }
    Ok(if segments.is_empty() { ".".into() } else { segments.join("/") })
}

/// Maps a WASI error on `key` to the kv error a guest sees, as `ukc-unix`'s stores do.
pub fn error(key: &str, code: ErrorCode) -> Error {
    match code {
        ErrorCode::NoEntry => Error::NotFound(key.to_string()),
        ErrorCode::Access | ErrorCode::NotPermitted => {
            Error::InvalidKey(format!("{key}: leads outside the store or is not readable"))
        }
        ErrorCode::IsDirectory => Error::DictionaryExpected(key.to_string()),
        ErrorCode::NotDirectory => Error::ValueExpected(key.to_string()),
        ErrorCode::InsufficientSpace | ErrorCode::Quota => Error::NoSpace(format!("{key}: {code:?}")),
        other => Error::Io(format!("{key}: {other:?}")),
    }
}

/// What `stat` says a key names: directories are dictionaries, files are values, and
/// anything else is not part of the store.
fn kind_of(stat: &DescriptorStat) -> Option<Kind> {
    match stat.type_ {
        DescriptorType::Directory => Some(Kind::Dictionary),
        DescriptorType::RegularFile => Some(Kind::Value),
        _ => None,
    }
}

/// What `key` names in the tree at `root`, or `None`.
pub fn exists(root: &Descriptor, key: &str) -> Result<Option<Kind>, Error> {
    let path = path_of(key)?;
    match root.stat_at(PathFlags::SYMLINK_FOLLOW, &path) {
        Ok(stat) => Ok(kind_of(&stat)),
        Err(ErrorCode::NoEntry | ErrorCode::NotDirectory) => Ok(None),
        Err(e) => Err(error(key, e)),
    }
}

/// The status of the value (not dictionary) at `key`.
fn value_stat(root: &Descriptor, key: &str) -> Result<DescriptorStat, Error> {
    let path = path_of(key)?;
    let stat = root.stat_at(PathFlags::SYMLINK_FOLLOW, &path).map_err(|e| error(key, e))?;
    match kind_of(&stat) {
        Some(Kind::Value) => Ok(stat),
        Some(Kind::Dictionary) => Err(Error::DictionaryExpected(key.to_string())),
        None => Err(Error::NotFound(key.to_string())),
    }
}

/// Up to `len` bytes of the value at `key` from `offset`, fewer at its end.
pub fn get_partial(root: &Descriptor, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
    let stat = value_stat(root, key)?;
    let file = root
        .open_at(PathFlags::SYMLINK_FOLLOW, &path_of(key)?, OpenFlags::empty(), DescriptorFlags::READ)
        .map_err(|e| error(key, e))?;
    let len = len.min(stat.size.saturating_sub(offset));
    let mut data = Vec::new();
    let mut at = offset;
    while (data.len() as u64) < len {
        let want = (len - data.len() as u64).min(CHUNK);
        let (chunk, end) = file.read(want, at).map_err(|e| error(key, e))?;
        at += chunk.len() as u64;
        data.extend_from_slice(&chunk);
        if end || chunk.is_empty() {
            break;
        }
    }
    Ok(data)
}

/// The whole value at `key`.
pub fn get(root: &Descriptor, key: &str) -> Result<Vec<u8>, Error> {
    get_partial(root, key, 0, u64::MAX)
}

/// The members of the dictionary at `key`, sorted by name. A link to a value counts as
/// the value; links to dictionaries resolve for lookups but are not listed, as on unix, so
/// that a walk ends whatever loops links make; dangling links, special files and the
/// store's own names are not part of the store.
pub fn list(root: &Descriptor, key: &str) -> Result<Vec<(String, Kind)>, Error> {
    let path = path_of(key)?;
    let dir = root
        .open_at(PathFlags::SYMLINK_FOLLOW, &path, OpenFlags::DIRECTORY, DescriptorFlags::READ)
        .map_err(|e| error(key, e))?;
    let entries = dir.read_directory().map_err(|e| error(key, e))?;
    let mut members = Vec::new();
    while let Some(entry) = entries.read_directory_entry().map_err(|e| error(key, e))? {
        if entry.name.starts_with(kv_key::RESERVED_PREFIX) {
            continue;
        }
        let kind = match entry.type_ {
            DescriptorType::Directory => Some(Kind::Dictionary),
            DescriptorType::RegularFile => Some(Kind::Value),
            _ => match dir.stat_at(PathFlags::SYMLINK_FOLLOW, &entry.name).ok().as_ref().and_then(kind_of) {
                Some(Kind::Value) => Some(Kind::Value),
                _ => None,
            },
        };
        if let Some(kind) = kind {
            members.push((entry.name, kind));
        }
    }
    members.sort();
    Ok(members)
}

/// The length of the value at `key`.
pub fn size(root: &Descriptor, key: &str) -> Result<u64, Error> {
    Ok(value_stat(root, key)?.size)
}

/// When what `key` names last changed, in nanoseconds since the epoch.
pub fn last_modified(root: &Descriptor, key: &str) -> Result<u64, Error> {
    let path = path_of(key)?;
    let stat = root.stat_at(PathFlags::SYMLINK_FOLLOW, &path).map_err(|e| error(key, e))?;
    let time = stat.data_modification_timestamp.ok_or_else(|| Error::Io(format!("{key}: no modification time")))?;
    Ok(time.seconds.saturating_mul(1_000_000_000).saturating_add(u64::from(time.nanoseconds)))
}

/// The digest the WIT defines: SHA-256 of a value; of a dictionary, of its members'
/// framed names, kinds and digests, in name order.
pub fn digest(root: &Descriptor, key: &str) -> Result<Vec<u8>, Error> {
    let mut hasher = Sha256::new();
    match exists(root, key)? {
        None => return Err(Error::NotFound(key.to_string())),
        Some(Kind::Value) => hasher.update(get(root, key)?),
        Some(Kind::Dictionary) => {
            let base = path_of(key)?;
            for (name, kind) in list(root, key)? {
                let child = if base == "." { name.clone() } else { format!("{base}/{name}") };
                hasher.update(kv_key::digest_member(&name, kind == Kind::Dictionary, &digest(root, &child)?));
            }
        }
    }
    Ok(hasher.finalize().to_vec())
}
