//! The `wasi-kv` driver: `ukc:kv/ro` and `ukc:kv/rw` on the `wasi` target. The store
//! `NAME` is the directory the WASI host preopens under the guest path `NAME` (`wasmtime
//! run --dir DIR::NAME`); keys are paths inside it, and the WASI host keeps every access
//! inside. The store itself is `ukc_kv_dir`'s, as `ukc-unix` keeps it, so that unikernels
//! behave alike and a directory may move between the two; `fs` lends it the directory.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-kv;
        world wasi-kv {
            export ukc:kv/ro@0.1.0;
            export ukc:kv/rw@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

mod fs;
mod rw;

use exports::ukc::kv::ro::{self, Entry, Error, GuestStore, Kind};
use fs::Preopened;
use ukc_kv_dir as dir;
use wasip2::filesystem::preopens;

struct Kv;

/// The tag of this driver's temporary names, beside `ukc-unix`'s process ids.
const TAG: &str = "wasi";

/// The directory preopened as `name`.
fn preopened(name: &str) -> Option<Preopened> {
    let found = preopens::get_directories().into_iter().find(|(_, path)| path.trim_matches('/') == name);
    found.map(|(root, _)| Preopened(root))
}

impl From<dir::Error> for Error {
    fn from(e: dir::Error) -> Error {
        match e {
            dir::Error::NotFound(key) => Error::NotFound(key),
            dir::Error::DictionaryExpected(key) => Error::DictionaryExpected(key),
            dir::Error::ValueExpected(key) => Error::ValueExpected(key),
            dir::Error::InvalidKey(why) => Error::InvalidKey(why),
            // Only writes rename or fill the disk.
            dir::Error::InvalidRename(why) | dir::Error::NoSpace(why) | dir::Error::Io(why) => Error::Io(why),
        }
    }
}

/// The interface's kind of a store's kind.
fn kind(kind: dir::Kind) -> Kind {
    match kind {
        dir::Kind::Value => Kind::Value,
        dir::Kind::Dictionary => Kind::Dictionary,
    }
}

impl ro::Guest for Kv {
    type Store = Store;

    fn open(name: String) -> Result<ro::Store, Error> {
        let root = preopened(&name).ok_or(Error::NoStore(name))?;
        Ok(ro::Store::new(Store(dir::Store::open(root, false, TAG))))
    }
}

/// An open read-only store.
struct Store(dir::Store<Preopened>);

impl GuestStore for Store {
    fn exists(&self, key: String) -> Result<Option<Kind>, Error> {
        Ok(self.0.exists(&key)?.map(kind))
    }

    fn get(&self, key: String) -> Result<Vec<u8>, Error> {
        Ok(self.0.get(&key)?)
    }

    fn get_partial(&self, key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        Ok(self.0.get_partial(&key, offset, len)?)
    }

    fn list(&self, key: String) -> Result<Vec<Entry>, Error> {
        Ok(self.0.list(&key)?.into_iter().map(|(name, k)| Entry { name, kind: kind(k) }).collect())
    }

    fn size(&self, key: String) -> Result<u64, Error> {
        Ok(self.0.size(&key)?)
    }

    fn last_modified(&self, key: String) -> Result<u64, Error> {
        Ok(self.0.last_modified(&key)?)
    }
}

export!(Kv);
