//! The operations of `ukc:kv/ro` over one archive, independent of the WIT bindings: the
//! glue in `lib.rs` only converts types.

use crate::blocks::{Device, read_range};
use crate::index::{Index, Item, Value, key_segments};
use crate::tar;

pub use crate::index::Kind;

/// The errors of `ukc:kv/ro`, one for one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    NotFound(String),
    DictionaryExpected(String),
    ValueExpected(String),
    InvalidKey(String),
    Io(String),
}

/// An archive on a device, with the index of its members.
pub struct Mount<D> {
    name: String,
    device: D,
    index: Index,
}

impl<D: Device> Mount<D> {
    /// Scans the archive on `device`, the store attached as `name`.
    pub fn open(name: &str, device: D) -> Result<Self, Error> {
        let mut index = Index::new();
        tar::scan(&device, &mut |entry| index.insert(&entry)).map_err(|e| Error::Io(format!("store '{name}': {e}")))?;
        index.finish();
        Ok(Mount { name: name.to_string(), index, device })
    }

    pub fn exists(&self, key: &str) -> Result<Option<Kind>, Error> {
        Ok(self.find(key)?.map(|item| match item {
            Item::Value(_) => Kind::Value,
            Item::Dictionary { .. } => Kind::Dictionary,
        }))
    }

    pub fn get(&self, key: &str) -> Result<Vec<u8>, Error> {
        let (offset, size) = self.value(key)?;
        self.read(key, offset, size)
    }

    /// Up to `len` bytes from `offset` within the value; nothing past its end.
    pub fn get_partial(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        let (start, size) = self.value(key)?;
        let offset = offset.min(size);
        self.read(key, start + offset, len.min(size - offset))
    }

    pub fn list(&self, key: &str) -> Result<Vec<(String, Kind)>, Error> {
        match self.item(key)? {
            Item::Dictionary { id, .. } => Ok(self.index.members(id)),
            Item::Value(_) => Err(Error::ValueExpected(key.to_string())),
        }
    }

    pub fn size(&self, key: &str) -> Result<u64, Error> {
        self.value(key).map(|(_, size)| size)
    }

    pub fn last_modified(&self, key: &str) -> Result<u64, Error> {
        match self.item(key)? {
            Item::Value(Value { mtime_ns, .. }) | Item::Dictionary { mtime_ns, .. } => Ok(mtime_ns),
        }
    }

    /// What `key` names, or `None`; an error only for a malformed key.
    fn find(&self, key: &str) -> Result<Option<Item>, Error> {
        let segments =
            key_segments(key).ok_or_else(|| Error::InvalidKey(format!("{key}: {}", ukc_hvt_abi::kv_key::RULE)))?;
        Ok(self.index.find(&segments))
    }

    fn item(&self, key: &str) -> Result<Item, Error> {
        self.find(key)?.ok_or_else(|| Error::NotFound(key.to_string()))
    }

    /// The offset and size of the value at `key`.
    fn value(&self, key: &str) -> Result<(u64, u64), Error> {
        match self.item(key)? {
            Item::Value(value) => Ok((value.offset, value.size)),
            Item::Dictionary { .. } => Err(Error::DictionaryExpected(key.to_string())),
        }
    }

    fn read(&self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        read_range(&self.device, offset, len)
            .map_err(|e| Error::Io(format!("store '{}': reading '{key}': {e}", self.name)))
    }
}

#[cfg(test)]
mod tests;
