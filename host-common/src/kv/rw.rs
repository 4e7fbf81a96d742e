//! `ukc:kv/rw` over a directory: the reads are the tree's, and the writes keep the store
//! whole at every moment.
//!
//! - A value is written to a temporary file beside it and renamed into place, so a reader
//!   (or a crash) sees the old value or the new one, never part of one.
//! - A batch keeps an undo journal: a value it replaces is hard-linked aside first and a
//!   key it removes is renamed aside, so that when a change fails every earlier one is
//!   undone. (A host killed in the middle of a batch leaves the changes made so far; the
//!   set-aside files are swept when the store is next attached.)
//! - `flush` syncs the files written and the directories whose entries changed since the
//!   last one, so that what it covers survives the host being killed.
//! - A dictionary a change leaves empty is removed, as in every store: a dictionary
//!   exists while it holds something.

use super::tree::{self, Error, Kind, RESERVED};
use super::{KvDir, RwStoreHandle};
use crate::Devices;
use crate::bindings::ukc::kv::rw::{self as wit, Change, Entry, Host, HostStore};
use cap_std::fs::{Dir, OpenOptions};
use std::io::{ErrorKind, Write};
use wasmtime::component::Resource;

/// One change of a batch, taken apart.
enum Step<'a> {
    Set(&'a str, &'a [u8]),
    Remove(&'a str),
}

/// How to take back one step of a batch.
enum Undo {
    /// Put the set-aside `backup` back at `path` (a replaced value, a removed key).
    Restore { backup: String, path: String },
    /// Remove the file a set made where there was none.
    RemoveFile(String),
    /// Remove a directory a set made on the way to its key.
    RemoveDir(String),
}

impl KvDir {
    /// A name for a temporary file in the directory of `path`, unused so far.
    fn temporary(&mut self, path: &str) -> String {
        self.next_temporary += 1;
        let name = format!("{RESERVED}{}-{}", std::process::id(), self.next_temporary);
        match path.rsplit_once('/') {
            Some((parent, _)) => format!("{parent}/{name}"),
            None => name,
        }
    }

    /// Notes that the file at `path` was written and its directory's entries changed.
    fn touched(&mut self, path: &str, file: bool) {
        if file {
            self.dirty.insert((false, path.to_string()));
        }
        self.dirty.insert((true, parent_of(path).to_string()));
    }

    /// Makes the dictionaries on the way to `path` (the key `key`), noting each in `undo`.
    fn make_parents(&mut self, key: &str, path: &str, undo: &mut Vec<Undo>) -> Result<(), Error> {
        let mut at = 0;
        while let Some(slash) = path[at..].find('/') {
            let prefix = &path[..at + slash];
            match self.dir.metadata(prefix) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(Error::ValueExpected(format!("{key}: {prefix} is a value"))),
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    self.dir.create_dir(prefix).map_err(|e| tree::io_error(key, e))?;
                    undo.push(Undo::RemoveDir(prefix.to_string()));
                    self.touched(prefix, false);
                }
                Err(e) => return Err(tree::io_error(key, e)),
            }
            at += slash + 1;
        }
        Ok(())
    }

    /// Sets the value at `key`: written beside it, then renamed into place.
    fn set(&mut self, key: &str, value: &[u8], undo: &mut Vec<Undo>) -> Result<(), Error> {
        let path = tree::path_of(key)?;
        match tree::exists(&self.dir, key)? {
            _ if path == "." => return Err(Error::DictionaryExpected(key.to_string())),
            Some(Kind::Dictionary) => return Err(Error::DictionaryExpected(key.to_string())),
            Some(Kind::Value) => {
                let backup = self.temporary(&path);
                self.dir.hard_link(&path, &self.dir, &backup).map_err(|e| tree::io_error(key, e))?;
                undo.push(Undo::Restore { backup, path: path.clone() });
            }
            None => {
                self.make_parents(key, &path, undo)?;
                undo.push(Undo::RemoveFile(path.clone()));
            }
        }
        let temporary = self.temporary(&path);
        let written = write_new(&self.dir, &temporary, value)
            .and_then(|()| self.dir.rename(&temporary, &self.dir, &path))
            .map_err(|e| tree::io_error(key, e));
        if written.is_err() {
            let _ = self.dir.remove_file(&temporary);
        }
        written?;
        self.touched(&path, true);
        Ok(())
    }

    /// Removes what `key` names, setting it aside for `undo`; the root is emptied.
    fn remove(&mut self, key: &str, undo: &mut Vec<Undo>) -> Result<(), Error> {
        let path = tree::path_of(key)?;
        if tree::exists(&self.dir, key)?.is_none() {
            return Err(Error::NotFound(key.to_string()));
        }
        let paths = if path == "." {
            tree::list(&self.dir, key)?.into_iter().map(|(name, _)| name).collect()
        } else {
            vec![path]
        };
        for path in paths {
            let backup = self.temporary(&path);
            self.dir.rename(&path, &self.dir, &backup).map_err(|e| tree::io_error(key, e))?;
            self.touched(&path, false);
            undo.push(Undo::Restore { backup, path });
        }
        Ok(())
    }

    /// Applies `steps` in order, all of them or, when one fails, none.
    fn apply(&mut self, steps: &[Step]) -> Result<(), Error> {
        let mut undo = Vec::new();
        let mut done = Ok(());
        for step in steps {
            done = match step {
                Step::Set(key, value) => self.set(key, value, &mut undo),
                Step::Remove(key) => self.remove(key, &mut undo),
            };
            if done.is_err() {
                break;
            }
        }
        let mut emptied = Vec::new();
        for action in undo.into_iter().rev() {
            match (&done, action) {
                (Ok(()), Undo::Restore { backup, path }) => {
                    remove_any(&self.dir, &backup);
                    emptied.push(path);
                }
                (Ok(()), _) => {}
                (Err(_), Undo::Restore { backup, path }) => {
                    let _ = self.dir.rename(&backup, &self.dir, &path);
                }
                (Err(_), Undo::RemoveFile(path)) => {
                    let _ = self.dir.remove_file(&path);
                }
                (Err(_), Undo::RemoveDir(path)) => {
                    let _ = self.dir.remove_dir(&path);
                }
            }
        }
        for path in emptied {
            self.prune(&path);
        }
        done
    }

    /// Removes the dictionaries on the way to `path` that it left empty, from the nearest.
    fn prune(&mut self, path: &str) {
        let mut at = path.to_string();
        while let Some((parent, _)) = at.rsplit_once('/') {
            let parent = parent.to_string();
            if self.dir.remove_dir(&parent).is_err() {
                return;
            }
            self.touched(&parent, false);
            at = parent;
        }
    }

    /// Moves what `source` names to `destination`.
    fn rename(&mut self, source: &str, destination: &str) -> Result<(), Error> {
        let (from, to) = (tree::path_of(source)?, tree::path_of(destination)?);
        let kind = tree::exists(&self.dir, source)?.ok_or_else(|| Error::NotFound(source.to_string()))?;
        if from == to {
            return Ok(());
        }
        if from == "." || to == "." || to.starts_with(&format!("{from}/")) {
            return Err(Error::InvalidRename(format!("{source} cannot move into {destination}, inside itself")));
        }
        if tree::exists(&self.dir, destination)? == Some(Kind::Dictionary) {
            return Err(Error::InvalidRename(format!(
                "{destination} is a dictionary, which a rename does not replace"
            )));
        }
        self.make_parents(destination, &to, &mut Vec::new())?;
        self.dir.rename(&from, &self.dir, &to).map_err(|e| tree::io_error(source, e))?;
        self.touched(&from, false);
        self.touched(&to, kind == Kind::Value);
        self.prune(&from);
        Ok(())
    }

    /// Syncs every file written and every directory changed since the last flush.
    fn flush(&mut self) -> Result<(), Error> {
        for (_, path) in std::mem::take(&mut self.dirty) {
            // A directory opens for reading as a file does (cap-std's `Dir` handles
            // cannot be synced).
            let synced = self.dir.open(&path).and_then(|f| f.sync_all());
            match synced {
                // Removed or renamed away since: its directory's sync covers it.
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                other => other.map_err(|e| tree::io_error(&path, e))?,
            }
        }
        Ok(())
    }
}

/// Removes the set-aside files and directories a killed host left, at attach.
pub(super) fn sweep(dir: &Dir, path: &str) -> std::io::Result<()> {
    for entry in dir.read_dir(path)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = if path == "." { name.clone() } else { format!("{path}/{name}") };
        if name.starts_with(RESERVED) {
            remove_any(dir, &child);
        } else if entry.file_type()?.is_dir() {
            sweep(dir, &child)?;
        }
    }
    Ok(())
}

/// The directory holding `path` (`.` for the root's members).
fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or(".", |(parent, _)| parent)
}

/// Writes `bytes` to a file that must not exist yet.
fn write_new(dir: &Dir, path: &str, bytes: &[u8]) -> std::io::Result<()> {
    dir.open_with(path, OpenOptions::new().write(true).create_new(true))?.write_all(bytes)
}

/// Removes the file or directory tree at `path`, if it can.
fn remove_any(dir: &Dir, path: &str) {
    if dir.remove_file(path).is_err() {
        let _ = dir.remove_dir_all(path);
    }
}

impl From<Error> for wit::Error {
    fn from(e: Error) -> wit::Error {
        match e {
            Error::NotFound(key) => wit::Error::NotFound(key),
            Error::DictionaryExpected(key) => wit::Error::DictionaryExpected(key),
            Error::ValueExpected(key) => wit::Error::ValueExpected(key),
            Error::InvalidKey(why) => wit::Error::InvalidKey(why),
            Error::InvalidRename(why) => wit::Error::InvalidRename(why),
            Error::NoSpace(why) => wit::Error::NoSpace(why),
            Error::Io(why) => wit::Error::Io(why),
        }
    }
}

type Answer<T> = wasmtime::Result<Result<T, wit::Error>>;

impl Host for Devices {
    fn open(&mut self, name: String) -> Answer<Resource<RwStoreHandle>> {
        let index = self.kv.index(&name, true)?;
        Ok(Ok(self.kv.table.push(RwStoreHandle(index))?))
    }
}

impl HostStore for Devices {
    fn exists(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<Option<wit::Kind>> {
        Ok(tree::exists(&self.kv.writable(&store)?.dir, &key).map(|k| k.map(super::ro::kind)).map_err(Into::into))
    }

    fn get(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<Vec<u8>> {
        Ok(tree::get(&self.kv.writable(&store)?.dir, &key).map_err(Into::into))
    }

    fn get_partial(&mut self, store: Resource<RwStoreHandle>, key: String, offset: u64, len: u64) -> Answer<Vec<u8>> {
        Ok(tree::get_partial(&self.kv.writable(&store)?.dir, &key, offset, len).map_err(Into::into))
    }

    fn list(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<Vec<Entry>> {
        let members = tree::list(&self.kv.writable(&store)?.dir, &key);
        let entry = |(name, kind)| Entry { name, kind: super::ro::kind(kind) };
        Ok(members.map(|m| m.into_iter().map(entry).collect()).map_err(Into::into))
    }

    fn size(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<u64> {
        Ok(tree::size(&self.kv.writable(&store)?.dir, &key).map_err(Into::into))
    }

    fn last_modified(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<u64> {
        Ok(tree::last_modified(&self.kv.writable(&store)?.dir, &key).map_err(Into::into))
    }

    fn digest(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<Vec<u8>> {
        Ok(tree::digest(&self.kv.writable(&store)?.dir, &key).map_err(Into::into))
    }

    fn set(&mut self, store: Resource<RwStoreHandle>, key: String, value: Vec<u8>) -> Answer<()> {
        Ok(self.kv.writable(&store)?.apply(&[Step::Set(&key, &value)]).map_err(Into::into))
    }

    fn remove(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<()> {
        Ok(self.kv.writable(&store)?.apply(&[Step::Remove(&key)]).map_err(Into::into))
    }

    fn rename(&mut self, store: Resource<RwStoreHandle>, source: String, destination: String) -> Answer<()> {
        Ok(self.kv.writable(&store)?.rename(&source, &destination).map_err(Into::into))
    }

    fn batch(&mut self, store: Resource<RwStoreHandle>, changes: Vec<Change>) -> Answer<()> {
        let steps: Vec<Step> = changes
            .iter()
            .map(|c| match c {
                Change::Set((key, value)) => Step::Set(key, value),
                Change::Remove(key) => Step::Remove(key),
            })
            .collect();
        Ok(self.kv.writable(&store)?.apply(&steps).map_err(Into::into))
    }

    fn flush(&mut self, store: Resource<RwStoreHandle>) -> Answer<()> {
        Ok(self.kv.writable(&store)?.flush().map_err(Into::into))
    }

    fn drop(&mut self, store: Resource<RwStoreHandle>) -> wasmtime::Result<()> {
        self.kv.table.delete(store)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read-write store on a fresh directory holding `a/b` = "old" and `c` = "c".
    fn store() -> (tempfile::TempDir, KvDir) {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("a")).unwrap();
        std::fs::write(root.path().join("a/b"), "old").unwrap();
        std::fs::write(root.path().join("c"), "c").unwrap();
        let store = KvDir::open("s", &root.path().to_string_lossy(), true).unwrap();
        (root, store)
    }

    fn set(store: &mut KvDir, key: &str, value: &str) -> Result<(), Error> {
        store.apply(&[Step::Set(key, value.as_bytes())])
    }

    fn text(store: &KvDir, key: &str) -> String {
        String::from_utf8(tree::get(&store.dir, key).unwrap()).unwrap()
    }

    fn names(store: &KvDir, key: &str) -> Vec<String> {
        tree::list(&store.dir, key).unwrap().into_iter().map(|(name, _)| name).collect()
    }

    #[test]
    fn sets_replace_values_and_make_the_dictionaries_on_their_way() {
        let (_root, mut s) = store();
        set(&mut s, "a/b", "new").unwrap();
        set(&mut s, "/x/y/z", "deep").unwrap();
        assert_eq!((text(&s, "a/b"), text(&s, "x/y/z")), ("new".into(), "deep".into()));
        assert_eq!(names(&s, ""), ["a", "c", "x"], "no temporary file is left or listed");
        assert_eq!(set(&mut s, "a", "v"), Err(Error::DictionaryExpected("a".into())));
        assert_eq!(set(&mut s, "/", "v"), Err(Error::DictionaryExpected("/".into())));
        assert!(matches!(set(&mut s, "c/d", "v"), Err(Error::ValueExpected(_))));
        assert!(matches!(set(&mut s, ".ukc-tmp-1", "v"), Err(Error::InvalidKey(_))));
        assert!(matches!(set(&mut s, "a/../c", "v"), Err(Error::InvalidKey(_))));
        s.flush().unwrap();
        assert!(s.dirty.is_empty());
    }

    #[test]
    fn removes_and_renames_whole_dictionaries() {
        let (_root, mut s) = store();
        s.rename("a", "moved/here").unwrap();
        assert_eq!(text(&s, "moved/here/b"), "old");
        assert!(matches!(s.rename("moved", "moved/here/in"), Err(Error::InvalidRename(_))));
        assert!(matches!(s.rename("c", "moved"), Err(Error::InvalidRename(_))));
        assert_eq!(s.rename("nothing", "x"), Err(Error::NotFound("nothing".into())));
        s.rename("c", "moved/here/b").unwrap();
        assert_eq!(text(&s, "moved/here/b"), "c", "a rename replaces a value");
        s.apply(&[Step::Remove("moved/here")]).unwrap();
        assert_eq!(tree::exists(&s.dir, "moved").unwrap(), None, "a dictionary left empty goes");
        set(&mut s, "x/y/z", "deep").unwrap();
        s.rename("x/y/z", "w").unwrap();
        assert_eq!(tree::exists(&s.dir, "x").unwrap(), None, "as when a rename empties it");
        assert_eq!(s.apply(&[Step::Remove("moved/here")]), Err(Error::NotFound("moved/here".into())));
        set(&mut s, "z", "z").unwrap();
        s.apply(&[Step::Remove("")]).unwrap();
        assert_eq!(names(&s, ""), Vec::<String>::new(), "removing the root empties the store");
        s.flush().unwrap();
    }

    #[test]
    fn a_batch_that_fails_leaves_the_store_as_it_was() {
        let (_root, mut s) = store();
        let before = tree::digest(&s.dir, "").unwrap();
        let failing = [
            Step::Set("a/b", b"replaced"),
            Step::Set("new/dir/v", b"made"),
            Step::Remove("c"),
            Step::Set("a", b"a dictionary cannot be set"),
        ];
        assert_eq!(s.apply(&failing), Err(Error::DictionaryExpected("a".into())));
        assert_eq!(tree::digest(&s.dir, "").unwrap(), before);
        assert_eq!(names(&s, ""), ["a", "c"], "nothing set aside is left or listed");
        s.apply(&failing[..3]).unwrap();
        assert_eq!((text(&s, "a/b"), text(&s, "new/dir/v")), ("replaced".into(), "made".into()));
        assert_eq!(tree::exists(&s.dir, "c").unwrap(), None);
        assert_eq!(names(&s, ""), ["a", "new"]);
    }

    #[test]
    fn equal_trees_have_equal_digests_and_leftovers_are_swept_at_attach() {
        let (root, mut s) = store();
        let (_other, mut t) = store();
        assert_eq!(tree::digest(&s.dir, "").unwrap(), tree::digest(&t.dir, "").unwrap());
        set(&mut t, "a/b", "changed").unwrap();
        assert_ne!(tree::digest(&s.dir, "").unwrap(), tree::digest(&t.dir, "").unwrap());
        assert_ne!(tree::digest(&t.dir, "a").unwrap(), tree::digest(&t.dir, "a/b").unwrap());
        assert_eq!(tree::digest(&s.dir, "nothing"), Err(Error::NotFound("nothing".into())));
        // What a host killed in the middle of a change leaves behind.
        std::fs::write(root.path().join("a/.ukc-tmp-1-1"), "partial").unwrap();
        std::fs::create_dir(root.path().join(".ukc-tmp-1-2")).unwrap();
        assert_eq!(names(&s, "a"), ["b"]);
        drop(s);
        s = KvDir::open("s", &root.path().to_string_lossy(), true).unwrap();
        assert!(!root.path().join("a/.ukc-tmp-1-1").exists() && !root.path().join(".ukc-tmp-1-2").exists());
        assert_eq!(text(&s, "a/b"), "old");
    }
}
