//! kv stores on a directory, written once for every host that has one: `ukc-unix`
//! (through cap-std, feature `cap-std`) and the `wasi-kv` driver (through
//! wasi:filesystem). Both serve the same directory the same way, so a store can move
//! between them, and a store's tree has the digest the WIT defines.
//!
//! A store reads and writes through [`Fs`], a handful of file-system calls on paths
//! relative to its root. Reads (`exists`, `get`, `list`, ...) are the tree's; writes keep
//! the store whole at every moment:
//! - a value is written to a temporary file beside its key and renamed into place, so a
//!   reader (or a crash) sees the old value or the new one, never part of one;
//! - a batch keeps an undo journal (a value it replaces is hard-linked aside, a key it
//!   removes renamed aside), so that when a change fails every earlier one is undone (a
//!   host killed in the middle of a batch leaves the changes made so far; the set-aside
//!   files are swept when the store is next opened);
//! - a dictionary a change leaves empty is removed: a dictionary exists while it holds
//!   something, as in every store;
//! - `flush` syncs the files written and the directories changed since the last one.
//!
//! Names starting with [`RESERVED_PREFIX`] are the store's temporary files: never listed,
//! and not valid in a key.

#[cfg(feature = "cap-std")]
pub mod cap;
mod write;

pub use write::Change;

use sha2::{Digest, Sha256};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use ukc_hvt_abi::kv_key;
pub use ukc_hvt_abi::kv_key::RESERVED_PREFIX;

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

/// How a file-system call failed.
#[derive(Debug, PartialEq, Eq)]
pub enum FsError {
    /// Nothing is there.
    NotFound,
    /// A directory is there.
    IsDirectory,
    /// A file is on the way, where a directory was expected.
    NotDirectory,
    /// Not allowed, or outside the root.
    Denied,
    /// No room left.
    NoSpace,
    /// Anything else, said in words.
    Other(String),
}

/// One member of a directory: its name, whether it is a symbolic link, and what it is
/// once links are followed (`None`: a dangling link or a special file).
pub struct Member {
    /// The name within its directory.
    pub name: String,
    /// Whether it is a symbolic link.
    pub link: bool,
    /// What it is, links followed.
    pub kind: Option<Kind>,
}

/// The file-system calls a store makes, on paths relative to its root (`.` is the root).
pub trait Fs {
    /// What `path` is, links followed; `None` when nothing (or nothing of the store's
    /// kinds) is there, or a file is on the way.
    fn kind(&self, path: &str) -> Result<Option<Kind>, FsError>;
    /// The members of the directory at `path`, in any order.
    fn members(&self, path: &str) -> Result<Vec<Member>, FsError>;
    /// Up to `len` bytes of the regular file at `path` (links followed) from `offset`,
    /// fewer at its end: [`FsError::IsDirectory`] for a directory, [`FsError::NotFound`]
    /// for a special file, which is never opened in a way that could block. One call
    /// answers both what `path` is and what it holds: a served file costs one lookup.
    fn read(&self, path: &str, offset: u64, len: u64) -> Result<Vec<u8>, FsError>;
    /// The length of the regular file at `path`, with [`Fs::read`]'s errors.
    fn len(&self, path: &str) -> Result<u64, FsError>;
    /// When what `path` names last changed, in nanoseconds since the epoch.
    fn modified(&self, path: &str) -> Result<u64, FsError>;
    /// Makes the directory `path`.
    fn create_dir(&self, path: &str) -> Result<(), FsError>;
    /// Removes the directory `path`, which must be empty.
    fn remove_dir(&self, path: &str) -> Result<(), FsError>;
    /// Removes the file `path`.
    fn remove_file(&self, path: &str) -> Result<(), FsError>;
    /// Renames `from` to `to`, replacing a file there.
    fn rename(&self, from: &str, to: &str) -> Result<(), FsError>;
    /// Makes `to` a hard link to the file `from`.
    fn hard_link(&self, from: &str, to: &str) -> Result<(), FsError>;
    /// Writes `bytes` to a new file `path`, which must not exist.
    fn write_new(&self, path: &str, bytes: &[u8]) -> Result<(), FsError>;
    /// Makes the file or directory `path` durable.
    fn sync(&self, path: &str) -> Result<(), FsError>;
}

/// The error a guest sees for a file-system failure on `key`.
pub fn error(key: &str, e: FsError) -> Error {
    match e {
        FsError::NotFound => Error::NotFound(key.to_string()),
        FsError::Denied => Error::InvalidKey(format!("{key}: leads outside the store or is not readable")),
        FsError::IsDirectory => Error::DictionaryExpected(key.to_string()),
        FsError::NotDirectory => Error::ValueExpected(key.to_string()),
        FsError::NoSpace => Error::NoSpace(format!("{key}: no space left")),
        FsError::Other(why) => Error::Io(format!("{key}: {why}")),
    }
}

/// The error a guest sees when `key` should name a value: a file on the way (`a/b` where
/// `a` is a value) means nothing is there, as [`Store::exists`] says.
fn value_error(key: &str, e: FsError) -> Error {
    match e {
        FsError::NotDirectory => Error::NotFound(key.to_string()),
        e => error(key, e),
    }
}

/// The path of `key` relative to the root: `.` for the root.
pub fn path_of(key: &str) -> Result<String, Error> {
    let segments = kv_key::segments(key).ok_or_else(|| Error::InvalidKey(format!("{key}: {}", kv_key::RULE)))?;
    if segments.iter().any(|s| s.starts_with(RESERVED_PREFIX)) {
        return Err(Error::InvalidKey(format!("{key}: names starting with {RESERVED_PREFIX} are the store's own")));
    }
    Ok(if segments.is_empty() { ".".into() } else { segments.join("/") })
}

/// A kv store on a directory.
pub struct Store<F> {
    fs: F,
    /// Files written, then directories whose entries changed, since the last flush.
    dirty: RefCell<BTreeSet<(bool, String)>>,
    /// What temporary names start with after the reserved prefix (the writer's tag).
    tag: String,
    /// The number in the last temporary name made.
    next_temporary: Cell<u64>,
}

impl<F: Fs> Store<F> {
    /// A store on `fs`. A `writable` one first sweeps the temporary files a killed writer
    /// left; `tag` tells its own temporary names from another writer's.
    pub fn open(fs: F, writable: bool, tag: &str) -> Store<F> {
        let store = Store { fs, dirty: RefCell::default(), tag: tag.to_string(), next_temporary: Cell::new(0) };
        if writable {
            store.sweep(".");
        }
        store
    }

    /// The file system the store is on.
    pub fn fs(&self) -> &F {
        &self.fs
    }

    /// What `key` names, or `None`.
    pub fn exists(&self, key: &str) -> Result<Option<Kind>, Error> {
        self.fs.kind(&path_of(key)?).map_err(|e| error(key, e))
    }

    /// The whole value at `key`.
    pub fn get(&self, key: &str) -> Result<Vec<u8>, Error> {
        self.get_partial(key, 0, u64::MAX)
    }

    /// Up to `len` bytes of the value at `key` from `offset`.
    pub fn get_partial(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        self.fs.read(&path_of(key)?, offset, len).map_err(|e| value_error(key, e))
    }

    /// The length of the value at `key`.
    pub fn size(&self, key: &str) -> Result<u64, Error> {
        self.fs.len(&path_of(key)?).map_err(|e| value_error(key, e))
    }

    /// When what `key` names last changed, in nanoseconds since the epoch.
    pub fn last_modified(&self, key: &str) -> Result<u64, Error> {
        self.fs.modified(&path_of(key)?).map_err(|e| error(key, e))
    }

    /// The members of the dictionary at `key`, sorted by name. A link to a value counts
    /// as the value; links to dictionaries resolve for lookups but are not listed, so that
    /// a walk ends whatever loops links make; dangling links, special files and the
    /// store's own names are not part of it.
    pub fn list(&self, key: &str) -> Result<Vec<(String, Kind)>, Error> {
        let path = path_of(key)?;
        let mut members: Vec<(String, Kind)> = self
            .fs
            .members(&path)
            .map_err(|e| error(key, e))?
            .into_iter()
            .filter(|m| !m.name.starts_with(RESERVED_PREFIX))
            .filter_map(|m| match m.kind {
                Some(Kind::Dictionary) if m.link => None,
                Some(kind) => Some((m.name, kind)),
                None => None,
            })
            .collect();
        members.sort();
        Ok(members)
    }

    /// The digest the WIT defines: SHA-256 of a value; of a dictionary, of its members'
    /// framed names, kinds and digests, in name order.
    pub fn digest(&self, key: &str) -> Result<Vec<u8>, Error> {
        let mut hasher = Sha256::new();
        match self.exists(key)? {
            None => return Err(Error::NotFound(key.to_string())),
            Some(Kind::Value) => hasher.update(self.get(key)?),
            Some(Kind::Dictionary) => {
                let base = path_of(key)?;
                for (name, kind) in self.list(key)? {
                    let child = if base == "." { name.clone() } else { format!("{base}/{name}") };
                    let member = self.digest(&child)?;
                    hasher.update(kv_key::digest_member(&name, kind == Kind::Dictionary, &member));
                }
            }
        }
        Ok(hasher.finalize().to_vec())
    }
}
