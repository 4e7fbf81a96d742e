//! `ukc:kv/rw` on a preopened directory (see `ukc_kv_dir` for how its writes keep the
//! store whole and durable at `flush`).

use crate::exports::ukc::kv::rw::{self, Change, Entry, Error, GuestStore, Kind};
use crate::fs::Preopened;
use crate::{Kv, TAG, preopened};
use ukc_kv_dir as dir;

impl From<dir::Error> for Error {
    fn from(e: dir::Error) -> Error {
        match e {
            dir::Error::NotFound(key) => Error::NotFound(key),
            dir::Error::DictionaryExpected(key) => Error::DictionaryExpected(key),
            dir::Error::ValueExpected(key) => Error::ValueExpected(key),
            dir::Error::InvalidKey(why) => Error::InvalidKey(why),
            dir::Error::InvalidRename(why) => Error::InvalidRename(why),
            dir::Error::NoSpace(why) => Error::NoSpace(why),
            dir::Error::Io(why) => Error::Io(why),
        }
    }
}

fn kind(kind: dir::Kind) -> Kind {
    match kind {
        dir::Kind::Value => Kind::Value,
        dir::Kind::Dictionary => Kind::Dictionary,
    }
}

impl rw::Guest for Kv {
    type Store = RwStore;

    fn open(name: String) -> Result<rw::Store, Error> {
        let root = preopened(&name).ok_or(Error::NoStore(name))?;
        Ok(rw::Store::new(RwStore(dir::Store::open(root, true, TAG))))
    }
}

/// An open read-write store.
pub struct RwStore(dir::Store<Preopened>);

impl GuestStore for RwStore {
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

    fn digest(&self, key: String) -> Result<Vec<u8>, Error> {
        Ok(self.0.digest(&key)?)
    }

    fn set(&self, key: String, value: Vec<u8>) -> Result<(), Error> {
        Ok(self.0.set(&key, &value)?)
    }

    fn remove(&self, key: String) -> Result<(), Error> {
        Ok(self.0.remove(&key)?)
    }

    fn rename(&self, source: String, destination: String) -> Result<(), Error> {
        Ok(self.0.rename(&source, &destination)?)
    }

    fn batch(&self, changes: Vec<Change>) -> Result<(), Error> {
        let changes: Vec<dir::Change> = changes
            .iter()
            .map(|c| match c {
                Change::Set((key, value)) => dir::Change::Set(key, value),
                Change::Remove(key) => dir::Change::Remove(key),
            })
            .collect();
        Ok(self.0.apply(&changes)?)
    }

    fn flush(&self) -> Result<(), Error> {
        Ok(self.0.flush()?)
    }
}
