//! `ukc:kv/rw` on a preopened directory, written as `ukc-unix` writes its stores
//! (`host-common/src/kv/rw.rs`): a value goes to a temporary file beside its key and is
//! renamed into place; a batch keeps an undo journal (a replaced value hard-linked aside,
//! a removed key renamed aside) so that a failing change undoes the earlier ones; `flush`
//! syncs the files and directories changed since the last one; a dictionary a change
//! leaves empty is removed; and the temporary files a killed host left are swept when the
//! store is opened.

use crate::exports::ukc::kv::rw::{self, Change, Entry, Error, GuestStore, Kind};
use crate::tree;
use crate::{Kv, preopened};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use ukc_hvt_abi::kv_key::RESERVED_PREFIX;
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags};

/// Most bytes one `write` call takes.
const CHUNK: usize = 64 * 1024;

/// An open read-write store.
pub struct RwStore {
    root: Descriptor,
    /// Files written, then directories whose entries changed, since the last flush.
    dirty: RefCell<BTreeSet<(bool, String)>>,
    /// The number in the last temporary name made.
    next_temporary: Cell<u64>,
}

/// How to take back one change of a batch.
enum Undo {
    Restore { backup: String, path: String },
    RemoveFile(String),
    RemoveDir(String),
}

impl From<tree::Error> for Error {
    fn from(e: tree::Error) -> Error {
        match e {
            tree::Error::NotFound(key) => Error::NotFound(key),
            tree::Error::DictionaryExpected(key) => Error::DictionaryExpected(key),
            tree::Error::ValueExpected(key) => Error::ValueExpected(key),
            tree::Error::InvalidKey(why) => Error::InvalidKey(why),
            tree::Error::InvalidRename(why) => Error::InvalidRename(why),
            tree::Error::NoSpace(why) => Error::NoSpace(why),
            tree::Error::Io(why) => Error::Io(why),
        }
    }
}

fn kind(kind: tree::Kind) -> Kind {
    match kind {
        tree::Kind::Value => Kind::Value,
        tree::Kind::Dictionary => Kind::Dictionary,
    }
}

impl rw::Guest for Kv {
    type Store = RwStore;

    fn open(name: String) -> Result<rw::Store, Error> {
        let root = preopened(&name).ok_or(Error::NoStore(name))?;
        sweep(&root, ".");
        Ok(rw::Store::new(RwStore { root, dirty: RefCell::default(), next_temporary: Cell::new(0) }))
    }
}

impl GuestStore for RwStore {
    fn exists(&self, key: String) -> Result<Option<Kind>, Error> {
        Ok(tree::exists(&self.root, &key)?.map(kind))
    }

    fn get(&self, key: String) -> Result<Vec<u8>, Error> {
        Ok(tree::get(&self.root, &key)?)
    }

    fn get_partial(&self, key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        Ok(tree::get_partial(&self.root, &key, offset, len)?)
    }

    fn list(&self, key: String) -> Result<Vec<Entry>, Error> {
        Ok(tree::list(&self.root, &key)?.into_iter().map(|(name, k)| Entry { name, kind: kind(k) }).collect())
    }

    fn size(&self, key: String) -> Result<u64, Error> {
        Ok(tree::size(&self.root, &key)?)
    }

    fn last_modified(&self, key: String) -> Result<u64, Error> {
        Ok(tree::last_modified(&self.root, &key)?)
    }

    fn digest(&self, key: String) -> Result<Vec<u8>, Error> {
        Ok(tree::digest(&self.root, &key)?)
    }

    fn set(&self, key: String, value: Vec<u8>) -> Result<(), Error> {
        Ok(self.apply(&[Change::Set((key, value))])?)
    }

    fn remove(&self, key: String) -> Result<(), Error> {
        Ok(self.apply(&[Change::Remove(key)])?)
    }

    fn rename(&self, source: String, destination: String) -> Result<(), Error> {
        Ok(self.move_(&source, &destination)?)
    }

    fn batch(&self, changes: Vec<Change>) -> Result<(), Error> {
        Ok(self.apply(&changes)?)
    }

    fn flush(&self) -> Result<(), Error> {
        for (directory, path) in std::mem::take(&mut *self.dirty.borrow_mut()) {
            let (flags, access) = match directory {
                true => (OpenFlags::DIRECTORY, DescriptorFlags::READ),
                false => (OpenFlags::empty(), DescriptorFlags::WRITE),
            };
            match self.root.open_at(PathFlags::empty(), &path, flags, access).and_then(|d| d.sync()) {
                // Removed or renamed away since: its directory's sync covers it.
                Err(ErrorCode::NoEntry) => {}
                other => other.map_err(|e| tree::error(&path, e))?,
            }
        }
        Ok(())
    }
}

impl RwStore {
    /// A name for a temporary file in the directory of `path`, unused so far.
    fn temporary(&self, path: &str) -> String {
        self.next_temporary.set(self.next_temporary.get() + 1);
        let name = format!("{RESERVED_PREFIX}wasi-{}", self.next_temporary.get());
        match path.rsplit_once('/') {
            Some((parent, _)) => format!("{parent}/{name}"),
            None => name,
        }
    }

    /// Notes that the file at `path` was written and its directory's entries changed.
    fn touched(&self, path: &str, file: bool) {
        let mut dirty = self.dirty.borrow_mut();
        if file {
            dirty.insert((false, path.to_string()));
        }
        dirty.insert((true, path.rsplit_once('/').map_or(".", |(parent, _)| parent).to_string()));
    }

    /// Makes the dictionaries on the way to `path` (the key `key`), noting each in `undo`.
    fn make_parents(&self, key: &str, path: &str, undo: &mut Vec<Undo>) -> Result<(), tree::Error> {
        let mut at = 0;
        while let Some(slash) = path[at..].find('/') {
            let prefix = &path[..at + slash];
            match tree::exists(&self.root, prefix)? {
                Some(tree::Kind::Dictionary) => {}
                Some(tree::Kind::Value) => {
                    return Err(tree::Error::ValueExpected(format!("{key}: {prefix} is a value")));
                }
                None => {
                    self.root.create_directory_at(prefix).map_err(|e| tree::error(key, e))?;
                    undo.push(Undo::RemoveDir(prefix.to_string()));
                    self.touched(prefix, false);
                }
            }
            at += slash + 1;
        }
        Ok(())
    }

    /// Sets the value at `key`: written beside it, then renamed into place.
    fn set(&self, key: &str, value: &[u8], undo: &mut Vec<Undo>) -> Result<(), tree::Error> {
        let path = tree::path_of(key)?;
        match tree::exists(&self.root, key)? {
            _ if path == "." => return Err(tree::Error::DictionaryExpected(key.to_string())),
            Some(tree::Kind::Dictionary) => return Err(tree::Error::DictionaryExpected(key.to_string())),
            Some(tree::Kind::Value) => {
                let backup = self.temporary(&path);
                self.root.link_at(PathFlags::empty(), &path, &self.root, &backup).map_err(|e| tree::error(key, e))?;
                undo.push(Undo::Restore { backup, path: path.clone() });
            }
            None => {
                self.make_parents(key, &path, undo)?;
                undo.push(Undo::RemoveFile(path.clone()));
            }
        }
        let temporary = self.temporary(&path);
        let written =
            self.write_new(&temporary, value).and_then(|()| self.root.rename_at(&temporary, &self.root, &path));
        if written.is_err() {
            let _ = self.root.unlink_file_at(&temporary);
        }
        written.map_err(|e| tree::error(key, e))?;
        self.touched(&path, true);
        Ok(())
    }

    /// Writes `bytes` to a file at `path` that must not exist yet.
    fn write_new(&self, path: &str, bytes: &[u8]) -> Result<(), ErrorCode> {
        let flags = OpenFlags::CREATE | OpenFlags::EXCLUSIVE;
        let file = self.root.open_at(PathFlags::empty(), path, flags, DescriptorFlags::WRITE)?;
        let mut at = 0;
        while at < bytes.len() {
            let end = bytes.len().min(at + CHUNK);
            at += file.write(&bytes[at..end], at as u64)? as usize;
        }
        Ok(())
    }

    /// Removes what `key` names, setting it aside for `undo`; the root is emptied.
    fn remove(&self, key: &str, undo: &mut Vec<Undo>) -> Result<(), tree::Error> {
        let path = tree::path_of(key)?;
        if tree::exists(&self.root, key)?.is_none() {
            return Err(tree::Error::NotFound(key.to_string()));
        }
        let paths = if path == "." {
            tree::list(&self.root, key)?.into_iter().map(|(name, _)| name).collect()
        } else {
            vec![path]
        };
        for path in paths {
            let backup = self.temporary(&path);
            self.root.rename_at(&path, &self.root, &backup).map_err(|e| tree::error(key, e))?;
            self.touched(&path, false);
            undo.push(Undo::Restore { backup, path });
        }
        Ok(())
    }

    /// Applies `changes` in order, all of them or, when one fails, none.
    fn apply(&self, changes: &[Change]) -> Result<(), tree::Error> {
        let mut undo = Vec::new();
        let mut done = Ok(());
        for change in changes {
            done = match change {
                Change::Set((key, value)) => self.set(key, value, &mut undo),
                Change::Remove(key) => self.remove(key, &mut undo),
            };
            if done.is_err() {
                break;
            }
        }
        let mut emptied = Vec::new();
        for action in undo.into_iter().rev() {
            match (&done, action) {
                (Ok(()), Undo::Restore { backup, path }) => {
                    remove_any(&self.root, &backup);
                    emptied.push(path);
                }
                (Ok(()), _) => {}
                (Err(_), Undo::Restore { backup, path }) => {
                    let _ = self.root.rename_at(&backup, &self.root, &path);
                }
                (Err(_), Undo::RemoveFile(path)) => {
                    let _ = self.root.unlink_file_at(&path);
                }
                (Err(_), Undo::RemoveDir(path)) => {
                    let _ = self.root.remove_directory_at(&path);
                }
            }
        }
        for path in emptied {
            self.prune(&path);
        }
        done
    }

    /// Removes the dictionaries on the way to `path` that it left empty, from the
    /// nearest: a dictionary exists while it holds something, as in every store.
    fn prune(&self, path: &str) {
        let mut at = path;
        while let Some((parent, _)) = at.rsplit_once('/') {
            if self.root.remove_directory_at(parent).is_err() {
                return;
            }
            self.touched(parent, false);
            at = parent;
        }
    }

    /// Moves what `source` names to `destination`.
    fn move_(&self, source: &str, destination: &str) -> Result<(), tree::Error> {
        let (from, to) = (tree::path_of(source)?, tree::path_of(destination)?);
        let kind = tree::exists(&self.root, source)?.ok_or_else(|| tree::Error::NotFound(source.to_string()))?;
        if from == to {
            return Ok(());
        }
        if from == "." || to == "." || to.starts_with(&format!("{from}/")) {
            return Err(tree::Error::InvalidRename(format!("{source} cannot move into {destination}, inside itself")));
        }
        if tree::exists(&self.root, destination)? == Some(tree::Kind::Dictionary) {
            return Err(tree::Error::InvalidRename(format!(
                "{destination} is a dictionary, which a rename does not replace"
            )));
        }
        self.make_parents(destination, &to, &mut Vec::new())?;
        self.root.rename_at(&from, &self.root, &to).map_err(|e| tree::error(source, e))?;
        self.touched(&from, false);
        self.touched(&to, kind == tree::Kind::Value);
        self.prune(&from);
        Ok(())
    }
}

/// Removes the temporary files and set-aside trees a killed host left under `path`.
fn sweep(root: &Descriptor, path: &str) {
    let Ok(dir) = root.open_at(PathFlags::empty(), path, OpenFlags::DIRECTORY, DescriptorFlags::READ) else {
        return;
    };
    let Ok(entries) = dir.read_directory() else { return };
    while let Ok(Some(entry)) = entries.read_directory_entry() {
        let child = if path == "." { entry.name.clone() } else { format!("{path}/{}", entry.name) };
        if entry.name.starts_with(RESERVED_PREFIX) {
            remove_any(root, &child);
        } else if entry.type_ == DescriptorType::Directory {
            sweep(root, &child);
        }
    }
}

/// Removes the file or directory tree at `path`, if it can.
fn remove_any(root: &Descriptor, path: &str) {
    if root.unlink_file_at(path).is_ok() {
        return;
    }
    if let Ok(dir) = root.open_at(PathFlags::empty(), path, OpenFlags::DIRECTORY, DescriptorFlags::READ)
        && let Ok(entries) = dir.read_directory()
    {
        while let Ok(Some(entry)) = entries.read_directory_entry() {
            remove_any(root, &format!("{path}/{}", entry.name));
        }
    }
    let _ = root.remove_directory_at(path);
}
