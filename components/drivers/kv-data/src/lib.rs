//! The `kv-data` driver: the kv stores `ukc compose --data NAME=DIR` baked into the
//! unikernel, served as `ukc:kv/ro` from the image ukc generated (`ukc:kv/image`, in
//! memory), with kv-tar's archive code; every other store is passed on to whoever
//! provides `ukc:kv/ro` to this driver (the host's directories, kv-tar's tar images). The
//! application cannot tell a baked store from an attached one.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:kv-data;
        world kv-data {
            import ukc:kv/image@0.1.0;
            import ukc:kv/ro@0.1.0;
            export ukc:kv/ro@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

mod layout;
mod passed;

use exports::ukc::kv::ro::{self, Entry, Error, GuestStore, Kind};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use ukc::kv::image;
use ukc_kv_archive::{blocks, store};

/// One baked store: its archive's stretch of the image.
struct Baked {
    offset: u64,
    size: u64,
}

impl blocks::Device for Baked {
    fn sector_size(&self) -> u64 {
        512
    }

    fn capacity(&self) -> u64 {
        self.size
    }

    fn read(&self, offset: u64, len: u32) -> Result<Vec<u8>, String> {
        let bytes = image::read(self.offset + offset, len);
        if bytes.len() != len as usize {
            return Err(format!("the image ends before {len} bytes at offset {offset}"));
        }
        Ok(bytes)
    }
}

thread_local! {
    /// The baked stores, by name, each scanned on its first `open` and kept: the image
    /// never changes.
    static BAKED: RefCell<Option<BTreeMap<String, Slot>>> = const { RefCell::new(None) };
}

/// A baked store, before and after its archive is scanned.
enum Slot {
    Listed(u64, u64),
    Mounted(Rc<store::Mount<Baked>>),
}

/// The baked store `name`, scanned on first use; `None` when it is not baked.
fn baked(name: &str) -> Result<Option<Rc<store::Mount<Baked>>>, Error> {
    BAKED.with_borrow_mut(|baked| {
        let stores = match baked {
            Some(stores) => stores,
            None => {
                let listed = layout::stores(&image::read(0, layout::MAX_HEADER)).map_err(Error::Io)?;
                baked.insert(listed.into_iter().map(|(n, offset, size)| (n, Slot::Listed(offset, size))).collect())
            }
        };
        let Some(slot) = stores.get_mut(name) else { return Ok(None) };
        if let Slot::Listed(offset, size) = *slot {
            let mount = store::Mount::open(name, Baked { offset, size }).map_err(error)?;
            *slot = Slot::Mounted(Rc::new(mount));
        }
        match slot {
            Slot::Mounted(mount) => Ok(Some(mount.clone())),
            Slot::Listed(..) => unreachable!("mounted above"),
        }
    })
}

struct Driver;

impl ro::Guest for Driver {
    type Store = Store;

    fn open(name: String) -> Result<ro::Store, Error> {
        let store = match baked(&name)? {
            Some(mount) => Store::Baked(mount),
            None => Store::Passed(ukc::kv::ro::open(&name).map_err(passed::error)?),
        };
        Ok(ro::Store::new(store))
    }
}

/// An open store: baked, or another provider's.
enum Store {
    Baked(Rc<store::Mount<Baked>>),
    Passed(ukc::kv::ro::Store),
}

impl GuestStore for Store {
    fn exists(&self, key: String) -> Result<Option<Kind>, Error> {
        match self {
            Store::Baked(m) => Ok(m.exists(&key).map_err(error)?.map(kind)),
            Store::Passed(s) => Ok(s.exists(&key).map_err(passed::error)?.map(passed::kind)),
        }
    }

    fn get(&self, key: String) -> Result<Vec<u8>, Error> {
        match self {
            Store::Baked(m) => m.get(&key).map_err(error),
            Store::Passed(s) => s.get(&key).map_err(passed::error),
        }
    }

    fn get_partial(&self, key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        match self {
            Store::Baked(m) => m.get_partial(&key, offset, len).map_err(error),
            Store::Passed(s) => s.get_partial(&key, offset, len).map_err(passed::error),
        }
    }

    fn list(&self, key: String) -> Result<Vec<Entry>, Error> {
        match self {
            Store::Baked(m) => {
                let members = m.list(&key).map_err(error)?;
                Ok(members.into_iter().map(|(name, k)| Entry { name, kind: kind(k) }).collect())
            }
            Store::Passed(s) => Ok(s.list(&key).map_err(passed::error)?.into_iter().map(passed::entry).collect()),
        }
    }

    fn size(&self, key: String) -> Result<u64, Error> {
        match self {
            Store::Baked(m) => m.size(&key).map_err(error),
            Store::Passed(s) => s.size(&key).map_err(passed::error),
        }
    }

    fn last_modified(&self, key: String) -> Result<u64, Error> {
        match self {
            Store::Baked(m) => m.last_modified(&key).map_err(error),
            Store::Passed(s) => s.last_modified(&key).map_err(passed::error),
        }
    }
}

ukc_kv_archive::ro_conversions!();

// Only the wasm build exports the functions: host builds exist just to run unit tests.
#[cfg(target_arch = "wasm32")]
export!(Driver);
