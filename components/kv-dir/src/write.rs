//! The writes of a store (see the crate's documentation for how each keeps the store
//! whole).

use crate::{Error, Fs, FsError, Kind, RESERVED_PREFIX, Store, error, path_of};

/// One change of a batch.
pub enum Change<'a> {
    /// Sets the value at a key.
    Set(&'a str, &'a [u8]),
    /// Removes what a key names.
    Remove(&'a str),
}

/// How to take back one change of a batch.
enum Undo {
    /// Put the set-aside `backup` back at `path` (a replaced value, a removed key).
    Restore { backup: String, path: String },
    /// Remove the file a set made where there was none.
    RemoveFile(String),
    /// Remove a directory a set made on the way to its key.
    RemoveDir(String),
}

/// The directory holding `path` (`.` for the root's members).
fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or(".", |(parent, _)| parent)
}

impl<F: Fs> Store<F> {
    /// Sets the value at `key`, making the dictionaries on its way.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.apply(&[Change::Set(key, value)])
    }

    /// Removes the value or the whole dictionary at `key`; the root is emptied.
    pub fn remove(&self, key: &str) -> Result<(), Error> {
        self.apply(&[Change::Remove(key)])
    }

    /// Applies `changes` in order, all of them or, when one fails, none.
    pub fn apply(&self, changes: &[Change]) -> Result<(), Error> {
        let mut undo = Vec::new();
        let mut done = Ok(());
        for change in changes {
            done = match change {
                Change::Set(key, value) => self.set_one(key, value, &mut undo),
                Change::Remove(key) => self.remove_one(key, &mut undo),
            };
            if done.is_err() {
                break;
            }
        }
        let mut emptied = Vec::new();
        for action in undo.into_iter().rev() {
            match (&done, action) {
                (Ok(()), Undo::Restore { backup, path }) => {
                    self.remove_any(&backup);
                    emptied.push(path);
                }
                (Ok(()), _) => {}
                (Err(_), Undo::Restore { backup, path }) => {
                    let _ = self.fs.rename(&backup, &path);
                }
                (Err(_), Undo::RemoveFile(path)) => {
                    let _ = self.fs.remove_file(&path);
                }
                (Err(_), Undo::RemoveDir(path)) => {
                    let _ = self.fs.remove_dir(&path);
                }
            }
        }
        for path in emptied {
            self.prune(&path);
        }
        done
    }

    /// Moves what `source` names to `destination`, replacing a value there and making the
    /// dictionaries on its way.
    pub fn rename(&self, source: &str, destination: &str) -> Result<(), Error> {
        let (from, to) = (path_of(source)?, path_of(destination)?);
        let kind = self.exists(source)?.ok_or_else(|| Error::NotFound(source.to_string()))?;
        if from == to {
            return Ok(());
        }
        if from == "." || to == "." || to.starts_with(&format!("{from}/")) {
            return Err(Error::InvalidRename(format!("{source} cannot move into {destination}, inside itself")));
        }
        if self.exists(destination)? == Some(Kind::Dictionary) {
            return Err(Error::InvalidRename(format!(
                "{destination} is a dictionary, which a rename does not replace"
            )));
        }
        let mut made = Vec::new();
        let renamed = self
            .make_parents(destination, &to, &mut made)
            .and_then(|()| self.fs.rename(&from, &to).map_err(|e| error(source, e)));
        if let Err(e) = renamed {
            for undo in made.into_iter().rev() {
                if let Undo::RemoveDir(path) = undo {
                    let _ = self.fs.remove_dir(&path);
                }
            }
            return Err(e);
        }
        // What was written under the old name and not yet synced is now under the new one.
        {
            let prefix = format!("{from}/");
            let mut dirty = self.dirty.borrow_mut();
            let under: Vec<(bool, String)> =
                dirty.iter().filter(|(_, p)| *p == from || p.starts_with(&prefix)).cloned().collect();
            for (directory, path) in under {
                dirty.remove(&(directory, path.clone()));
                dirty.insert((directory, format!("{to}{}", &path[from.len()..])));
            }
        }
        self.touched(&from, false);
        self.touched(&to, kind == Kind::Value);
        self.prune(&from);
        Ok(())
    }

    /// Syncs every file written and every directory changed since the last flush.
    pub fn flush(&self) -> Result<(), Error> {
        let pending = std::mem::take(&mut *self.dirty.borrow_mut());
        for (i, entry) in pending.iter().enumerate() {
            match self.fs.sync(&entry.1) {
                // Removed since: its directory's sync covers it.
                Ok(()) | Err(FsError::NotFound) => {}
                Err(e) => {
                    // What is not synced yet stays for the next flush.
                    self.dirty.borrow_mut().extend(pending.iter().skip(i).cloned());
                    return Err(error(&entry.1, e));
                }
            }
        }
        Ok(())
    }

    /// A name for a temporary file in the directory of `path`, unused so far.
    fn temporary(&self, path: &str) -> String {
        self.next_temporary.set(self.next_temporary.get() + 1);
        let name = format!("{RESERVED_PREFIX}{}-{}", self.tag, self.next_temporary.get());
        match path.rsplit_once('/') {
            Some((parent, _)) => format!("{parent}/{name}"),
            None => name,
        }
    }

    /// Notes that the file at `path` was written (`file`) and its directory's entries changed.
    fn touched(&self, path: &str, file: bool) {
        let mut dirty = self.dirty.borrow_mut();
        if file {
            dirty.insert((false, path.to_string()));
        }
        dirty.insert((true, parent_of(path).to_string()));
    }

    /// Makes the dictionaries on the way to `path` (the key `key`), noting each in `undo`.
    fn make_parents(&self, key: &str, path: &str, undo: &mut Vec<Undo>) -> Result<(), Error> {
        let mut at = 0;
        while let Some(slash) = path[at..].find('/') {
            let prefix = &path[..at + slash];
            match self.fs.kind(prefix).map_err(|e| error(key, e))? {
                Some(Kind::Dictionary) => {}
                Some(Kind::Value) => return Err(Error::ValueExpected(format!("{key}: {prefix} is a value"))),
                None => {
                    self.fs.create_dir(prefix).map_err(|e| error(key, e))?;
                    undo.push(Undo::RemoveDir(prefix.to_string()));
                    self.touched(prefix, false);
                }
            }
            at += slash + 1;
        }
        Ok(())
    }

    /// Sets the value at `key`: written beside it, then renamed into place.
    fn set_one(&self, key: &str, value: &[u8], undo: &mut Vec<Undo>) -> Result<(), Error> {
        let path = path_of(key)?;
        match self.exists(key)? {
            _ if path == "." => return Err(Error::DictionaryExpected(key.to_string())),
            Some(Kind::Dictionary) => return Err(Error::DictionaryExpected(key.to_string())),
            Some(Kind::Value) => {
                let backup = self.temporary(&path);
                self.fs.hard_link(&path, &backup).map_err(|e| error(key, e))?;
                undo.push(Undo::Restore { backup, path: path.clone() });
            }
            None => {
                self.make_parents(key, &path, undo)?;
                undo.push(Undo::RemoveFile(path.clone()));
            }
        }
        let temporary = self.temporary(&path);
        let written = self.fs.write_new(&temporary, value).and_then(|()| self.fs.rename(&temporary, &path));
        if written.is_err() {
            let _ = self.fs.remove_file(&temporary);
        }
        written.map_err(|e| error(key, e))?;
        self.touched(&path, true);
        Ok(())
    }

    /// Removes what `key` names, setting it aside for `undo`; the root is emptied.
    fn remove_one(&self, key: &str, undo: &mut Vec<Undo>) -> Result<(), Error> {
        let path = path_of(key)?;
        if self.exists(key)?.is_none() {
            return Err(Error::NotFound(key.to_string()));
        }
        let paths = if path == "." { self.list(key)?.into_iter().map(|(name, _)| name).collect() } else { vec![path] };
        for path in paths {
            let backup = self.temporary(&path);
            self.fs.rename(&path, &backup).map_err(|e| error(key, e))?;
            self.touched(&path, false);
            undo.push(Undo::Restore { backup, path });
        }
        Ok(())
    }

    /// Removes the dictionaries on the way to `path` that it left empty, from the nearest.
    fn prune(&self, path: &str) {
        let mut at = path;
        while let Some((parent, _)) = at.rsplit_once('/') {
            if self.fs.remove_dir(parent).is_err() {
                return;
            }
            self.touched(parent, false);
            at = parent;
        }
    }

    /// Removes the temporary files and set-aside trees a killed writer left under `path`,
    /// and the dictionaries that held nothing else; true if it removed anything.
    pub(crate) fn sweep(&self, path: &str) -> bool {
        let Ok(members) = self.fs.members(path) else { return false };
        let mut removed = false;
        for member in members {
            let child = if path == "." { member.name.clone() } else { format!("{path}/{}", member.name) };
            if member.name.starts_with(RESERVED_PREFIX) {
                self.remove_any(&child);
                removed = true;
            } else if member.kind == Some(Kind::Dictionary) && !member.link && self.sweep(&child) {
                // Only an empty directory goes: one with members of its own stays.
                removed |= self.fs.remove_dir(&child).is_ok();
            }
        }
        removed
    }

    /// Removes the file or directory tree at `path`, if it can.
    fn remove_any(&self, path: &str) {
        if self.fs.remove_file(path).is_ok() {
            return;
        }
        if let Ok(members) = self.fs.members(path) {
            for member in members {
                self.remove_any(&format!("{path}/{}", member.name));
            }
        }
        let _ = self.fs.remove_dir(path);
    }
}
