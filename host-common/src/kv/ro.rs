//! `ukc:kv/ro` over a store on a directory.

use super::StoreHandle;
use crate::Devices;
use crate::bindings::ukc::kv::ro::{Entry, Error, Host, HostStore, Kind};
use ukc_kv_dir as dir;
use wasmtime::component::Resource;

impl From<dir::Error> for Error {
    fn from(e: dir::Error) -> Error {
        match e {
            dir::Error::NotFound(key) => Error::NotFound(key),
            dir::Error::DictionaryExpected(key) => Error::DictionaryExpected(key),
            dir::Error::ValueExpected(key) => Error::ValueExpected(key),
            dir::Error::InvalidKey(why) => Error::InvalidKey(why),
            // A read-only store neither renames nor fills up: these only come from writes.
            dir::Error::InvalidRename(why) | dir::Error::NoSpace(why) | dir::Error::Io(why) => Error::Io(why),
        }
    }
}

/// The interface's kind of a store's kind.
pub fn kind(kind: dir::Kind) -> Kind {
    match kind {
        dir::Kind::Value => Kind::Value,
        dir::Kind::Dictionary => Kind::Dictionary,
    }
}

type Answer<T> = wasmtime::Result<Result<T, Error>>;

impl Host for Devices {
    fn open(&mut self, name: String) -> Answer<Resource<StoreHandle>> {
        let index = self.kv.index(&name, false)?;
        Ok(Ok(self.kv.table.push(StoreHandle(index))?))
    }
}

impl HostStore for Devices {
    fn exists(&mut self, store: Resource<StoreHandle>, key: String) -> Answer<Option<Kind>> {
        Ok(self.kv.read_only(&store)?.exists(&key).map(|k| k.map(kind)).map_err(Error::from))
    }

    fn get(&mut self, store: Resource<StoreHandle>, key: String) -> Answer<Vec<u8>> {
        Ok(self.kv.read_only(&store)?.get(&key).map_err(Error::from))
    }

    fn get_partial(&mut self, store: Resource<StoreHandle>, key: String, offset: u64, len: u64) -> Answer<Vec<u8>> {
        Ok(self.kv.read_only(&store)?.get_partial(&key, offset, len).map_err(Error::from))
    }

    fn list(&mut self, store: Resource<StoreHandle>, key: String) -> Answer<Vec<Entry>> {
        let members = self.kv.read_only(&store)?.list(&key);
        Ok(members.map(|m| m.into_iter().map(|(name, k)| Entry { name, kind: kind(k) }).collect()).map_err(Error::from))
    }

    fn size(&mut self, store: Resource<StoreHandle>, key: String) -> Answer<u64> {
        Ok(self.kv.size_holding(&store, &key)?.map_err(Error::from))
    }

    fn last_modified(&mut self, store: Resource<StoreHandle>, key: String) -> Answer<u64> {
        Ok(self.kv.read_only(&store)?.last_modified(&key).map_err(Error::from))
    }

    fn drop(&mut self, store: Resource<StoreHandle>) -> wasmtime::Result<()> {
        self.kv.release_held();
        self.kv.table.delete(store)?;
        Ok(())
    }
}
