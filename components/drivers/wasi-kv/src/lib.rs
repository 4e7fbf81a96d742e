//! The `wasi-kv` driver: `ukc:kv/ro` and `ukc:kv/rw` on the `wasi` target. The store
//! `NAME` is the directory the WASI host preopens under the guest path `NAME` (`wasmtime
//! run --dir DIR::NAME`); keys are paths inside it, and the WASI host keeps every access
//! inside. `tree` reads a store for both faces; `rw` writes as `ukc-unix`'s stores do, so
//! that unikernels behave alike, and a directory may move between the two.

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

mod rw;
mod tree;

use exports::ukc::kv::ro::{self, Entry, Error, GuestStore, Kind};
use wasip2::filesystem::preopens;
use wasip2::filesystem::types::Descriptor;

struct Kv;

/// An open store: the preopened directory.
struct Store {
    root: Descriptor,
}

/// The directory preopened as `name`.
fn preopened(name: &str) -> Option<Descriptor> {
    preopens::get_directories().into_iter().find(|(_, path)| path.trim_matches('/') == name).map(|(root, _)| root)
}

impl From<tree::Error> for Error {
    fn from(e: tree::Error) -> Error {
        match e {
            tree::Error::NotFound(key) => Error::NotFound(key),
            tree::Error::DictionaryExpected(key) => Error::DictionaryExpected(key),
            tree::Error::ValueExpected(key) => Error::ValueExpected(key),
            tree::Error::InvalidKey(why) => Error::InvalidKey(why),
            // Only writes rename or fill the disk.
            tree::Error::InvalidRename(why) | tree::Error::NoSpace(why) | tree::Error::Io(why) => Error::Io(why),
        }
    }
}

/// The interface's kind of a tree's kind.
fn kind(kind: tree::Kind) -> Kind {
    match kind {
        tree::Kind::Value => Kind::Value,
        tree::Kind::Dictionary => Kind::Dictionary,
    }
}

impl ro::Guest for Kv {
    type Store = Store;

    fn open(name: String) -> Result<ro::Store, Error> {
        let root = preopened(&name).ok_or(Error::NoStore(name))?;
        Ok(ro::Store::new(Store { root }))
    }
}

impl GuestStore for Store {
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
}

export!(Kv);
