//! The `kv-log` driver: `ukc:kv/rw` over a block device, for targets whose host has no
//! file system to lend (hvt). `open(name)` acquires the block device of the same name and
//! mounts the log it holds (`log`): every change is a record written at once, durable at
//! `flush`, and a batch is one record, so it applies whole or not at all even when the
//! host is killed. The record format (`record`) and the tree of values (`tree`) know
//! nothing of the WIT bindings; this file adapts them to the generated types.

mod log;
mod record;
mod tree;

#[cfg(test)]
mod tests;

wit_bindgen::generate!({
    inline: "
        package ukc-driver:kv-log;
        world kv-log {
            import ukc:block/block@0.1.0;
            import ukc:clock/wall@0.1.0;
            export ukc:kv/rw@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use exports::ukc::kv::rw::{self, Change, Entry, Error, GuestStore, Kind};
use log::{Edit, Log};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};
use ukc::block::block;
use ukc::clock::wall;

/// An acquired block device.
struct BlockDevice {
    name: String,
    device: block::Device,
    info: block::Info,
}

impl log::Device for BlockDevice {
    fn sector_size(&self) -> u64 {
        u64::from(self.info.sector_size)
    }

    fn capacity(&self) -> u64 {
        self.info.capacity
    }

    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, String> {
        let len = u32::try_from(len).map_err(|_| format!("a read of {len} bytes"))?;
        self.device.read(offset, len).map_err(|e| self.failed("reading", offset, e))
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), String> {
        self.device.write(offset, data).map_err(|e| self.failed("writing", offset, e))
    }

    fn flush(&self) -> Result<(), String> {
        self.device.flush().map_err(|e| self.failed("flushing", 0, e))
    }
}

impl BlockDevice {
    fn failed(&self, what: &str, offset: u64, error: block::Error) -> String {
        let why = match error {
            block::Error::NotFound => "no such device",
            block::Error::InvalidRange => "invalid range",
            block::Error::Denied => "denied (is the device attached read-only?)",
            block::Error::Io => "host i/o error",
        };
        format!("block device '{}': {what} at byte {offset}: {why}", self.name)
    }
}

thread_local! {
    /// The stores open now, by name: opening one again shares its log, which only one
    /// writer may append to.
    static OPEN: RefCell<BTreeMap<String, Weak<RefCell<Log<BlockDevice>>>>> = const { RefCell::new(BTreeMap::new()) };
}

/// Acquires the device `name` and mounts its log.
fn mount(name: &str) -> Result<Rc<RefCell<Log<BlockDevice>>>, Error> {
    let device = block::acquire(name).map_err(|e| match e {
        block::Error::NotFound => Error::NoStore(name.to_string()),
        _ => Error::Io(format!("block device '{name}': acquire failed")),
    })?;
    let info = device.info();
    let device = BlockDevice { name: name.to_string(), device, info };
    Ok(Rc::new(RefCell::new(Log::mount(device).map_err(error)?)))
}

struct Driver;

impl rw::Guest for Driver {
    type Store = Store;

    fn open(name: String) -> Result<rw::Store, Error> {
        let shared = OPEN.with_borrow(|open| open.get(&name).and_then(Weak::upgrade));
        let log = match shared {
            Some(log) => log,
            None => {
                let log = mount(&name)?;
                OPEN.with_borrow_mut(|open| open.insert(name, Rc::downgrade(&log)));
                log
            }
        };
        Ok(rw::Store::new(Store(log)))
    }
}

/// An open store; the resource the `store` handles stand for.
struct Store(Rc<RefCell<Log<BlockDevice>>>);

impl GuestStore for Store {
    fn exists(&self, key: String) -> Result<Option<Kind>, Error> {
        Ok(self.0.borrow().tree().kind(&tree::path_of(&key).map_err(error)?).map(kind))
    }

    fn get(&self, key: String) -> Result<Vec<u8>, Error> {
        let log = self.0.borrow();
        let value = log.tree().value(&tree::path_of(&key).map_err(error)?).map_err(|e| keyed(e, &key))?;
        log.read_value(&value).map_err(error)
    }

    fn get_partial(&self, key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        let log = self.0.borrow();
        let value = log.tree().value(&tree::path_of(&key).map_err(error)?).map_err(|e| keyed(e, &key))?;
        let len = len.min(value.len.saturating_sub(offset));
        log.read_range(value.at + offset.min(value.len), len).map_err(error)
    }

    fn list(&self, key: String) -> Result<Vec<Entry>, Error> {
        let members = self.0.borrow().tree().list(&tree::path_of(&key).map_err(error)?).map_err(|e| keyed(e, &key))?;
        Ok(members.into_iter().map(|(name, k)| Entry { name, kind: kind(k) }).collect())
    }

    fn size(&self, key: String) -> Result<u64, Error> {
        Ok(self.0.borrow().tree().value(&tree::path_of(&key).map_err(error)?).map_err(|e| keyed(e, &key))?.len)
    }

    fn last_modified(&self, key: String) -> Result<u64, Error> {
        self.0.borrow().tree().modified(&tree::path_of(&key).map_err(error)?).map_err(|e| keyed(e, &key))
    }

    fn digest(&self, key: String) -> Result<Vec<u8>, Error> {
        let path = tree::path_of(&key).map_err(error)?;
        digest(&self.0.borrow(), &path).map_err(|e| keyed(e, &key))
    }

    fn set(&self, key: String, value: Vec<u8>) -> Result<(), Error> {
        self.change(&[Edit::Set(&key, &value)])
    }

    fn remove(&self, key: String) -> Result<(), Error> {
        self.change(&[Edit::Remove(&key)])
    }

    fn rename(&self, source: String, destination: String) -> Result<(), Error> {
        self.change(&[Edit::Rename(&source, &destination)])
    }

    fn batch(&self, changes: Vec<Change>) -> Result<(), Error> {
        let edits: Vec<Edit> = changes
            .iter()
            .map(|c| match c {
                Change::Set((key, value)) => Edit::Set(key, value),
                Change::Remove(key) => Edit::Remove(key),
            })
            .collect();
        self.change(&edits)
    }

    fn flush(&self) -> Result<(), Error> {
        self.0.borrow().flush().map_err(error)
    }
}

impl Store {
    fn change(&self, edits: &[Edit]) -> Result<(), Error> {
        self.0.borrow_mut().change(edits, wall::now()).map_err(error)
    }
}

/// The digest the WIT defines: SHA-256 of a value; of a dictionary, of its members'
/// framed names, kinds and digests, in name order.
fn digest(log: &Log<BlockDevice>, path: &str) -> Result<Vec<u8>, tree::Error> {
    let mut hasher = Sha256::new();
    match log.tree().kind(path) {
        None => return Err(tree::Error::NotFound(path.to_string())),
        Some(tree::Kind::Value) => hasher.update(log.read_value(&log.tree().value(path)?)?),
        Some(tree::Kind::Dictionary) => {
            for (name, kind) in log.tree().list(path)? {
                let child = if path.is_empty() { name.clone() } else { format!("{path}/{name}") };
                let member = digest(log, &child)?;
                hasher.update(ukc_hvt_abi::kv_key::digest_member(&name, kind == tree::Kind::Dictionary, &member));
            }
        }
    }
    Ok(hasher.finalize().to_vec())
}

/// An error about a path, told with the key the caller gave.
fn keyed(e: tree::Error, key: &str) -> Error {
    match e {
        tree::Error::NotFound(_) => Error::NotFound(key.to_string()),
        tree::Error::DictionaryExpected(_) => Error::DictionaryExpected(key.to_string()),
        tree::Error::ValueExpected(_) => Error::ValueExpected(key.to_string()),
        other => error(other),
    }
}

fn kind(kind: tree::Kind) -> Kind {
    match kind {
        tree::Kind::Value => Kind::Value,
        tree::Kind::Dictionary => Kind::Dictionary,
    }
}

fn error(error: tree::Error) -> Error {
    match error {
        tree::Error::NotFound(key) => Error::NotFound(key),
        tree::Error::DictionaryExpected(key) => Error::DictionaryExpected(key),
        tree::Error::ValueExpected(key) => Error::ValueExpected(key),
        tree::Error::InvalidKey(why) => Error::InvalidKey(why),
        tree::Error::InvalidRename(why) => Error::InvalidRename(why),
        tree::Error::NoSpace(why) => Error::NoSpace(why),
        tree::Error::Io(why) => Error::Io(why),
    }
}

// Only the wasm build exports the functions: their names are not valid symbols for a
// host linker, and host builds exist just to run the unit tests.
#[cfg(target_arch = "wasm32")]
export!(Driver);
