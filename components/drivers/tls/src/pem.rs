//! PEM files from a kv store, for both TLS drivers (the tls-client driver shares this
//! file): bounded in size, each failure one line naming the store and the file.

use crate::ukc::kv::ro::{self, Error};

/// The bytes of `key` in the kv store `store`, at most `max` of them.
pub fn read(store: &str, key: &str, max: u64) -> Result<Vec<u8>, String> {
    let kv = ro::open(store).map_err(|e| describe(store, key, e))?;
    let size = kv.size(key).map_err(|e| describe(store, key, e))?;
    if size > max {
        return Err(format!("{key} is {size} bytes; a PEM file here is at most {max}"));
    }
    kv.get(key).map_err(|e| describe(store, key, e))
}

fn describe(store: &str, key: &str, error: Error) -> String {
    match error {
        Error::NoStore(_) => format!("no kv store '{store}' is attached"),
        Error::NotFound(_) => format!("{key} is missing"),
        Error::DictionaryExpected(_) | Error::ValueExpected(_) => format!("{key} is a directory, not a file"),
        Error::InvalidKey(text) | Error::Io(text) => format!("{key}: {text}"),
    }
}
