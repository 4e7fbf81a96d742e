//! `ukc:kv/ro` over a store's tree.

use super::StoreHandle;
use super::tree::{self, Kind as TreeKind};
use crate::Devices;
use crate::bindings::ukc::kv::ro::{Entry, Error, Host, HostStore, Kind};
use wasmtime::component::Resource;

impl From<tree::Error> for Error {
    fn from(e: tree::Error) -> Error {
        match e {
            tree::Error::NotFound(key) => Error::NotFound(key),
            tree::Error::DictionaryExpected(key) => Error::DictionaryExpected(key),
            tree::Error::ValueExpected(key) => Error::ValueExpected(key),
            tree::Error::InvalidKey(why) => Error::InvalidKey(why),
            // A read-only store neither renames nor fills up: these only come from writes.
            tree::Error::InvalidRename(why) | tree::Error::NoSpace(why) | tree::Error::Io(why) => Error::Io(why),
        }
    }
}

/// The interface's kind of a tree's kind.
pub fn kind(kind: TreeKind) -> Kind {
    match kind {
        TreeKind::Value => Kind::Value,
        TreeKind::Dictionary => Kind::Dictionary,
    }
}

impl Host for Devices {
    fn open(&mut self, name: String) -> wasmtime::Result<Result<Resource<StoreHandle>, Error>> {
        let index = self.kv.index(&name, false)?;
        Ok(Ok(self.kv.table.push(StoreHandle(index))?))
    }
}

impl HostStore for Devices {
    fn exists(&mut self, store: Resource<StoreHandle>, key: String) -> wasmtime::Result<Result<Option<Kind>, Error>> {
        Ok(tree::exists(self.kv.dir(&store)?, &key).map(|k| k.map(kind)).map_err(Error::from))
    }

    fn get(&mut self, store: Resource<StoreHandle>, key: String) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        Ok(tree::get(self.kv.dir(&store)?, &key).map_err(Error::from))
    }

    fn get_partial(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
        offset: u64,
        len: u64,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        Ok(tree::get_partial(self.kv.dir(&store)?, &key, offset, len).map_err(Error::from))
    }

    fn list(&mut self, store: Resource<StoreHandle>, key: String) -> wasmtime::Result<Result<Vec<Entry>, Error>> {
        let members = tree::list(self.kv.dir(&store)?, &key);
        Ok(members.map(|m| m.into_iter().map(|(name, k)| Entry { name, kind: kind(k) }).collect()).map_err(Error::from))
    }

    fn size(&mut self, store: Resource<StoreHandle>, key: String) -> wasmtime::Result<Result<u64, Error>> {
        Ok(tree::size(self.kv.dir(&store)?, &key).map_err(Error::from))
    }

    fn last_modified(&mut self, store: Resource<StoreHandle>, key: String) -> wasmtime::Result<Result<u64, Error>> {
        Ok(tree::last_modified(self.kv.dir(&store)?, &key).map_err(Error::from))
    }

    fn drop(&mut self, store: Resource<StoreHandle>) -> wasmtime::Result<()> {
        self.kv.table.delete(store)?;
        Ok(())
    }
}
