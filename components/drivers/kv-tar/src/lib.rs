//! The `kv-tar` driver: `ukc:kv/ro` over a block device holding a tar archive.
//!
//! `open(name)` acquires the block device of the same name, scans the archive's headers
//! once and serves keys from an in-memory index of offsets and sizes; values are read
//! from the device only when asked for. The parsing, the index and the store operations
//! are `ukc-kv-archive`'s (shared with the `kv-data` driver); this file only adapts them
//! to the generated types.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:kv-tar;
        world kv-tar {
            import ukc:block/block@0.1.0;
            export ukc:kv/ro@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use exports::ukc::kv::ro::{self, Entry, Error, GuestStore, Kind};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};
use store::Mount;
use ukc::block::block;
use ukc_kv_archive::{blocks, store};

/// An acquired block device, as the store reads it.
struct BlockDevice {
    name: String,
    device: block::Device,
    info: block::Info,
}

impl blocks::Device for BlockDevice {
    fn sector_size(&self) -> u64 {
        u64::from(self.info.sector_size)
    }

    fn capacity(&self) -> u64 {
        self.info.capacity
    }

    fn read(&self, offset: u64, len: u32) -> Result<Vec<u8>, String> {
        self.device.read(offset, len).map_err(|e| {
            format!("block device '{}': reading {len} bytes at offset {offset}: {}", self.name, describe(e))
        })
    }
}

fn describe(error: block::Error) -> &'static str {
    match error {
        block::Error::NotFound => "no such device",
        block::Error::InvalidRange => "invalid range",
        block::Error::Denied => "denied",
        block::Error::Io => "host i/o error",
    }
}

thread_local! {
    /// The stores open now, by name: opening one again shares its device and index
    /// rather than scanning the archive a second time.
    static OPEN: RefCell<BTreeMap<String, Weak<Mount<BlockDevice>>>> = const { RefCell::new(BTreeMap::new()) };
}

/// Acquires the device `name` and scans its archive.
fn mount(name: &str) -> Result<Rc<Mount<BlockDevice>>, Error> {
    let device = block::acquire(name).map_err(|e| match e {
        block::Error::NotFound => Error::NoStore(name.to_string()),
        e => Error::Io(format!("block device '{name}': acquire: {}", describe(e))),
    })?;
    let info = device.info();
    let sector = info.sector_size;
    // Everything after relies on this geometry, which the block interface promises.
    if sector < 512 || !sector.is_power_of_two() || !info.capacity.is_multiple_of(sector.into()) {
        let capacity = info.capacity;
        return Err(Error::Io(format!("block device '{name}': bad geometry: {capacity} bytes in sectors of {sector}")));
    }
    let device = BlockDevice { name: name.to_string(), device, info };
    Mount::open(name, device).map(Rc::new).map_err(error)
}

struct Driver;

impl ro::Guest for Driver {
    type Store = Store;

    fn open(name: String) -> Result<ro::Store, Error> {
        let shared = OPEN.with_borrow(|open| open.get(&name).and_then(Weak::upgrade));
        let mount = match shared {
            Some(mount) => mount,
            None => {
                let mount = mount(&name)?;
                // Replaces the entry of a store that was open once but has been dropped.
                OPEN.with_borrow_mut(|open| open.insert(name, Rc::downgrade(&mount)));
                mount
            }
        };
        Ok(ro::Store::new(Store(mount)))
    }
}

/// An open store; the resource the `store` handles stand for.
struct Store(Rc<Mount<BlockDevice>>);

impl GuestStore for Store {
    fn exists(&self, key: String) -> Result<Option<Kind>, Error> {
        Ok(self.0.exists(&key).map_err(error)?.map(kind))
    }

    fn get(&self, key: String) -> Result<Vec<u8>, Error> {
        self.0.get(&key).map_err(error)
    }

    fn get_partial(&self, key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        self.0.get_partial(&key, offset, len).map_err(error)
    }

    fn list(&self, key: String) -> Result<Vec<Entry>, Error> {
        let members = self.0.list(&key).map_err(error)?;
        Ok(members.into_iter().map(|(name, k)| Entry { name, kind: kind(k) }).collect())
    }

    fn size(&self, key: String) -> Result<u64, Error> {
        self.0.size(&key).map_err(error)
    }

    fn last_modified(&self, key: String) -> Result<u64, Error> {
        self.0.last_modified(&key).map_err(error)
    }
}

ukc_kv_archive::ro_conversions!();

// Only the wasm build exports the functions: their names (`ukc:kv/ro@0.1.0#...`) are not
// valid symbols for a host linker, and host builds exist just to run the unit tests.
#[cfg(target_arch = "wasm32")]
export!(Driver);
