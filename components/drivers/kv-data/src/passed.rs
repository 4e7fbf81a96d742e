//! The next provider's `ukc:kv/ro` types as this driver's: the same shapes, other types.

use crate::exports::ukc::kv::ro::{Entry, Error, Kind};
use crate::ukc::kv::ro as next;

pub fn error(error: next::Error) -> Error {
    match error {
        next::Error::NoStore(name) => Error::NoStore(name),
        next::Error::NotFound(key) => Error::NotFound(key),
        next::Error::DictionaryExpected(key) => Error::DictionaryExpected(key),
        next::Error::ValueExpected(key) => Error::ValueExpected(key),
        next::Error::InvalidKey(key) => Error::InvalidKey(key),
        next::Error::Io(message) => Error::Io(message),
    }
}

pub fn kind(kind: next::Kind) -> Kind {
    match kind {
        next::Kind::Value => Kind::Value,
        next::Kind::Dictionary => Kind::Dictionary,
    }
}

pub fn entry(entry: next::Entry) -> Entry {
    Entry { name: entry.name, kind: kind(entry.kind) }
}
