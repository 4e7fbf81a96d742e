//! `ukc:kv/rw` over a store on a directory (see `ukc_kv_dir` for how its writes keep the
//! store whole and durable at `flush`).

use super::RwStoreHandle;
use crate::Devices;
use crate::bindings::ukc::kv::rw::{self as wit, Change, Entry, Host, HostStore};
use ukc_kv_dir as dir;
use wasmtime::component::Resource;

impl From<dir::Error> for wit::Error {
    fn from(e: dir::Error) -> wit::Error {
        match e {
            dir::Error::NotFound(key) => wit::Error::NotFound(key),
            dir::Error::DictionaryExpected(key) => wit::Error::DictionaryExpected(key),
            dir::Error::ValueExpected(key) => wit::Error::ValueExpected(key),
            dir::Error::InvalidKey(why) => wit::Error::InvalidKey(why),
            dir::Error::InvalidRename(why) => wit::Error::InvalidRename(why),
            dir::Error::NoSpace(why) => wit::Error::NoSpace(why),
            dir::Error::Io(why) => wit::Error::Io(why),
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
        Ok(self.kv.writable(&store)?.exists(&key).map(|k| k.map(super::ro::kind)).map_err(Into::into))
    }

    fn get(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<Vec<u8>> {
        Ok(self.kv.writable(&store)?.get(&key).map_err(Into::into))
    }

    fn get_partial(&mut self, store: Resource<RwStoreHandle>, key: String, offset: u64, len: u64) -> Answer<Vec<u8>> {
        Ok(self.kv.writable(&store)?.get_partial(&key, offset, len).map_err(Into::into))
    }

    fn list(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<Vec<Entry>> {
        let members = self.kv.writable(&store)?.list(&key);
        let entry = |(name, kind)| Entry { name, kind: super::ro::kind(kind) };
        Ok(members.map(|m| m.into_iter().map(entry).collect()).map_err(Into::into))
    }

    fn size(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<u64> {
        Ok(self.kv.writable(&store)?.size(&key).map_err(Into::into))
    }

    fn last_modified(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<u64> {
        Ok(self.kv.writable(&store)?.last_modified(&key).map_err(Into::into))
    }

    fn digest(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<Vec<u8>> {
        Ok(self.kv.writable(&store)?.digest(&key).map_err(Into::into))
    }

    fn set(&mut self, store: Resource<RwStoreHandle>, key: String, value: Vec<u8>) -> Answer<()> {
        Ok(self.kv.writable(&store)?.set(&key, &value).map_err(Into::into))
    }

    fn remove(&mut self, store: Resource<RwStoreHandle>, key: String) -> Answer<()> {
        Ok(self.kv.writable(&store)?.remove(&key).map_err(Into::into))
    }

    fn rename(&mut self, store: Resource<RwStoreHandle>, source: String, destination: String) -> Answer<()> {
        Ok(self.kv.writable(&store)?.rename(&source, &destination).map_err(Into::into))
    }

    fn batch(&mut self, store: Resource<RwStoreHandle>, changes: Vec<Change>) -> Answer<()> {
        let changes: Vec<dir::Change> = changes
            .iter()
            .map(|c| match c {
                Change::Set((key, value)) => dir::Change::Set(key, value),
                Change::Remove(key) => dir::Change::Remove(key),
            })
            .collect();
        Ok(self.kv.writable(&store)?.apply(&changes).map_err(Into::into))
    }

    fn flush(&mut self, store: Resource<RwStoreHandle>) -> Answer<()> {
        Ok(self.kv.writable(&store)?.flush().map_err(Into::into))
    }

    fn drop(&mut self, store: Resource<RwStoreHandle>) -> wasmtime::Result<()> {
        self.kv.table.delete(store)?;
        Ok(())
    }
}
