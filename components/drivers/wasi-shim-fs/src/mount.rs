//! The preopened directories: one kv store each, as `ukc compose --preopen NAME[:rw]`
//! listed them (`ukc:kv/preopens`), read through `ukc:kv/ro` or read and written
//! through `ukc:kv/rw`. A mount also keeps what the store cannot: the files open
//! right now (so that every descriptor of a file sees the same bytes, see `files.rs`)
//! and the directories that exist only here: a kv store holds no empty dictionary, so a
//! directory made and still empty, or emptied by removing or moving its last member,
//! lasts here until the unikernel stops or until a file is put in it.

use crate::exports::wasi::filesystem::types::ErrorCode;
use crate::files::File;
use crate::path;
use crate::ukc::kv::{preopens, ro, rw};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::{Rc, Weak};

pub use ro::Kind;

/// A preopened kv store.
pub struct Mount {
    /// The store's name, which is also the directory's: `/NAME`.
    pub name: String,
    store: Store,
    /// Directories the store does not hold, since no file lies below them.
    empty_dirs: RefCell<BTreeSet<String>>,
    /// The files some descriptor or stream holds open, by key.
    open: RefCell<BTreeMap<String, Weak<File>>>,
}

thread_local! {
    /// The mounts, made at the first `get-directories`.
    static MOUNTS: RefCell<Option<Vec<Rc<Mount>>>> = const { RefCell::new(None) };
}

/// Every preopened store, opened on first use. A store that cannot be opened stops the
/// unikernel with the reason: the host checked at boot that it is attached, so this
/// means the host or a driver failed.
pub fn mounts() -> Vec<Rc<Mount>> {
    MOUNTS.with(|mounts| mounts.borrow_mut().get_or_insert_with(open_all).clone())
}

fn open_all() -> Vec<Rc<Mount>> {
    preopens::stores()
        .lines()
        .map(|line| {
            let (name, mode) = line.split_once(' ').unwrap_or((line, ""));
            let name = name.to_string();
            let store = match mode {
                "ro" => ro::open(&name).map(Store::Ro).map_err(|e| describe_ro(&e)),
                "rw" => rw::open(&name).map(Store::Rw).map_err(|e| describe_rw(&e)),
                _ => panic!("wasi-shim-fs was given the preopen {line:?}, which is neither `NAME ro` nor `NAME rw`"),
            }
            .unwrap_or_else(|e| panic!("wasi-shim-fs cannot open the kv store {name:?} preopened as /{name}: {e}"));
            Rc::new(Mount { name, store, empty_dirs: RefCell::default(), open: RefCell::default() })
        })
        .collect()
}

/// A store, read-only or read-write.
enum Store {
    Ro(ro::Store),
    Rw(rw::Store),
}

impl Mount {
    /// Whether the store takes writes.
    pub fn writable(&self) -> bool {
        matches!(self.store, Store::Rw(_))
    }

    /// The read-write store, or `read-only`.
    pub fn rw(&self) -> Result<&rw::Store, ErrorCode> {
        match &self.store {
            Store::Rw(store) => Ok(store),
            Store::Ro(_) => Err(ErrorCode::ReadOnly),
        }
    }

    /// What `key` names: a value, a dictionary (an empty directory made here counts),
    /// or nothing.
    pub fn kind(&self, key: &str) -> Result<Option<Kind>, ErrorCode> {
        if self.empty_dirs.borrow().contains(key) {
            return Ok(Some(Kind::Dictionary));
        }
        match &self.store {
            Store::Ro(store) => store.exists(key).map_err(ro_code),
            Store::Rw(store) => store.exists(key).map_err(rw_code),
        }
    }

    /// What `key` names, which must be something.
    pub fn existing(&self, key: &str) -> Result<Kind, ErrorCode> {
        self.kind(key)?.ok_or(ErrorCode::NoEntry)
    }

    /// The whole value at `key`.
    pub fn get(&self, key: &str) -> Result<Vec<u8>, ErrorCode> {
        match &self.store {
            Store::Ro(store) => store.get(key).map_err(ro_code),
            Store::Rw(store) => store.get(key).map_err(rw_code),
        }
    }

    /// Up to `len` bytes of the value at `key` from `offset`.
    pub fn get_partial(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, ErrorCode> {
        match &self.store {
            Store::Ro(store) => store.get_partial(key, offset, len).map_err(ro_code),
            Store::Rw(store) => store.get_partial(key, offset, len).map_err(rw_code),
        }
    }

    /// The length of the value at `key`.
    pub fn size(&self, key: &str) -> Result<u64, ErrorCode> {
        match &self.store {
            Store::Ro(store) => store.size(key).map_err(ro_code),
            Store::Rw(store) => store.size(key).map_err(rw_code),
        }
    }

    /// When `key` last changed, in nanoseconds since the epoch; `None` for a directory
    /// made here.
    pub fn last_modified(&self, key: &str) -> Result<Option<u64>, ErrorCode> {
        if self.empty_dirs.borrow().contains(key) {
            return Ok(None);
        }
        match &self.store {
            Store::Ro(store) => store.last_modified(key).map(Some).map_err(ro_code),
            Store::Rw(store) => store.last_modified(key).map(Some).map_err(rw_code),
        }
    }

    /// The members of the directory at `key`, by name, with the empty directories made
    /// in it.
    pub fn list(&self, key: &str) -> Result<Vec<(String, Kind)>, ErrorCode> {
        let mut members = BTreeMap::new();
        if !self.empty_dirs.borrow().contains(key) {
            let entries = match &self.store {
                Store::Ro(store) => store.list(key).map_err(ro_code)?,
                Store::Rw(store) => store.list(key).map_err(rw_code)?,
            };
            members.extend(entries.into_iter().map(|e| (e.name, e.kind)));
        }
        for dir in self.empty_dirs.borrow().iter() {
            if let Some((parent, name)) = path::split(dir)
                && parent == key
            {
                members.insert(name.to_string(), Kind::Dictionary);
            }
        }
        Ok(members.into_iter().collect())
    }

    /// Sets the value at `key`: the empty directories on its way are empty no more.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), ErrorCode> {
        self.rw()?.set(key, value).map_err(rw_code)?;
        self.empty_dirs.borrow_mut().retain(|dir| !path::within(key, dir));
        Ok(())
    }

    /// Makes the empty directory `key`, whose parent must be a directory.
    pub fn create_dir(&self, key: &str) -> Result<(), ErrorCode> {
        self.rw()?;
        let (parent, _) = path::split(key).ok_or(ErrorCode::Exist)?;
        if self.kind(key)?.is_some() {
            return Err(ErrorCode::Exist);
        }
        match self.kind(parent)? {
            Some(Kind::Dictionary) => {}
            Some(Kind::Value) => return Err(ErrorCode::NotDirectory),
            None => return Err(ErrorCode::NoEntry),
        }
        self.empty_dirs.borrow_mut().insert(key.to_string());
        Ok(())
    }

    /// Removes the directory `key`, which must be empty.
    pub fn remove_dir(&self, key: &str) -> Result<(), ErrorCode> {
        self.rw()?;
        if key.is_empty() {
            return Err(ErrorCode::Busy);
        }
        match self.existing(key)? {
            Kind::Value => return Err(ErrorCode::NotDirectory),
            Kind::Dictionary if !self.list(key)?.is_empty() => return Err(ErrorCode::NotEmpty),
            Kind::Dictionary => {}
        }
        self.empty_dirs.borrow_mut().remove(key);
        Ok(())
    }

    /// Removes the file `key`. A descriptor that holds it open keeps reading what it held.
    pub fn remove_file(&self, key: &str) -> Result<(), ErrorCode> {
        let store = self.rw()?;
        match self.existing(key)? {
            Kind::Dictionary => return Err(ErrorCode::IsDirectory),
            Kind::Value => {}
        }
        if let Some(file) = self.open_file(key) {
            file.unlinked()?;
        }
        store.remove(key).map_err(rw_code)?;
        self.open.borrow_mut().remove(key);
        self.keep_parent(key)
    }

    /// Moves what `from` names to `to`, replacing a file there (or an empty directory
    /// with a directory), as `rename` does; open files and empty directories follow.
    pub fn rename(&self, from: &str, to: &str) -> Result<(), ErrorCode> {
        let store = self.rw()?;
        if from.is_empty() || to.is_empty() {
            return Err(ErrorCode::Busy);
        }
        let kind = self.existing(from)?;
        if from == to {
            return Ok(());
        }
        if kind == Kind::Dictionary && path::within(to, from) {
            return Err(ErrorCode::Invalid);
        }
        let (parent, _) = path::split(to).expect("not the root");
        match self.kind(parent)? {
            Some(Kind::Dictionary) => {}
            Some(Kind::Value) => return Err(ErrorCode::NotDirectory),
            None => return Err(ErrorCode::NoEntry),
        }
        match (kind, self.kind(to)?) {
            (Kind::Value, Some(Kind::Dictionary)) => return Err(ErrorCode::IsDirectory),
            (Kind::Dictionary, Some(Kind::Value)) => return Err(ErrorCode::NotDirectory),
            (Kind::Dictionary, Some(Kind::Dictionary)) if !self.list(to)?.is_empty() => {
                return Err(ErrorCode::NotEmpty);
            }
            (Kind::Dictionary, Some(Kind::Dictionary)) => {
                self.empty_dirs.borrow_mut().remove(to);
            }
            _ => {}
        }
        // Files written and not yet written back must be in the store to move with it.
        for file in self.open_files_within(from) {
            file.write_back()?;
        }
        let only_here = self.empty_dirs.borrow().contains(from);
        if !only_here {
            store.rename(from, to).map_err(rw_code)?;
        }
        let mut dirs = self.empty_dirs.borrow_mut();
        let moving: Vec<String> = dirs.iter().filter(|d| path::within(d, from)).cloned().collect();
        for dir in moving {
            dirs.remove(&dir);
            dirs.insert(path::moved(&dir, from, to));
        }
        if !only_here {
            // The store holds the directories on `to`'s way now.
            dirs.retain(|dir| dir == to || !path::within(to, dir));
        }
        drop(dirs);
        let mut open = self.open.borrow_mut();
        let moving: Vec<String> = open.keys().filter(|k| path::within(k, from)).cloned().collect();
        for key in moving {
            if let Some(file) = open.remove(&key) {
                let new = path::moved(&key, from, to);
                if let Some(live) = file.upgrade() {
                    live.rename(new.clone());
                }
                open.insert(new, file);
            }
        }
        drop(open);
        self.keep_parent(from)
    }

    /// Keeps the directories that held `key` when the store dropped them with their
    /// last member.
    fn keep_parent(&self, key: &str) -> Result<(), ErrorCode> {
        let mut key = key;
        while let Some((parent, _)) = path::split(key)
            && !parent.is_empty()
            && self.kind(parent)?.is_none()
        {
            self.empty_dirs.borrow_mut().insert(parent.to_string());
            key = parent;
        }
        Ok(())
    }

    /// Makes every change so far durable.
    pub fn flush(&self) -> Result<(), ErrorCode> {
        match &self.store {
            Store::Ro(_) => Ok(()),
            Store::Rw(store) => store.flush().map_err(rw_code),
        }
    }

    /// The open file at `key`, if a descriptor or stream holds it.
    pub fn open_file(&self, key: &str) -> Option<Rc<File>> {
        self.open.borrow().get(key).and_then(Weak::upgrade)
    }

    /// The file at `key`, shared with every descriptor that holds it open already.
    pub fn file(self: &Rc<Self>, key: &str) -> Rc<File> {
        if let Some(file) = self.open_file(key) {
            return file;
        }
        let file = Rc::new(File::new(self.clone(), key.to_string()));
        let mut open = self.open.borrow_mut();
        open.retain(|_, f| f.strong_count() > 0);
        open.insert(key.to_string(), Rc::downgrade(&file));
        file
    }

    fn open_files_within(&self, key: &str) -> Vec<Rc<File>> {
        self.open.borrow().iter().filter(|(k, _)| path::within(k, key)).filter_map(|(_, f)| f.upgrade()).collect()
    }
}

/// The WASI error of a read-only store's error.
fn ro_code(e: ro::Error) -> ErrorCode {
    match e {
        ro::Error::NotFound(_) => ErrorCode::NoEntry,
        ro::Error::DictionaryExpected(_) => ErrorCode::IsDirectory,
        ro::Error::ValueExpected(_) => ErrorCode::NotDirectory,
        ro::Error::InvalidKey(_) => ErrorCode::Invalid,
        ro::Error::NoStore(_) | ro::Error::Io(_) => ErrorCode::Io,
    }
}

/// The WASI error of a read-write store's error.
fn rw_code(e: rw::Error) -> ErrorCode {
    match e {
        rw::Error::NotFound(_) => ErrorCode::NoEntry,
        rw::Error::DictionaryExpected(_) => ErrorCode::IsDirectory,
        rw::Error::ValueExpected(_) => ErrorCode::NotDirectory,
        rw::Error::InvalidKey(_) | rw::Error::InvalidRename(_) => ErrorCode::Invalid,
        rw::Error::NoSpace(_) => ErrorCode::InsufficientSpace,
        rw::Error::NoStore(_) | rw::Error::Io(_) => ErrorCode::Io,
    }
}

fn describe_ro(e: &ro::Error) -> String {
    match e {
        ro::Error::NoStore(m)
        | ro::Error::NotFound(m)
        | ro::Error::DictionaryExpected(m)
        | ro::Error::ValueExpected(m)
        | ro::Error::InvalidKey(m)
        | ro::Error::Io(m) => m.clone(),
    }
}

fn describe_rw(e: &rw::Error) -> String {
    match e {
        rw::Error::NoStore(m)
        | rw::Error::NotFound(m)
        | rw::Error::DictionaryExpected(m)
        | rw::Error::ValueExpected(m)
        | rw::Error::InvalidKey(m)
        | rw::Error::InvalidRename(m)
        | rw::Error::NoSpace(m)
        | rw::Error::Io(m) => m.clone(),
    }
}
