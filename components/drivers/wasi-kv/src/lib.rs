//! The `wasi-kv` driver: `ukc:kv/ro` on the `wasi` target. The store `NAME` is the
//! directory the WASI host preopens under the guest path `NAME` (`wasmtime run --dir
//! DIR::NAME`); keys are paths inside it, and the WASI host keeps every access inside.
//! Errors read as `ukc-unix`'s kv stores report them, so unikernels behave alike.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-kv;
        world wasi-kv {
            export ukc:kv/ro@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use exports::ukc::kv::ro::{self, Entry, Error, GuestStore, Kind};
use ukc_hvt_abi::kv_key;
use wasip2::filesystem::preopens;
use wasip2::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorStat, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

/// How much `get` reads at a time.
const CHUNK: u64 = 64 * 1024;

struct Kv;

/// An open store: the preopened directory.
struct Store {
    root: Descriptor,
}

impl ro::Guest for Kv {
    type Store = Store;

    fn open(name: String) -> Result<ro::Store, Error> {
        let root = preopens::get_directories()
            .into_iter()
            .find(|(_, path)| path.trim_matches('/') == name)
            .map(|(root, _)| root)
            .ok_or(Error::NoStore(name))?;
        Ok(ro::Store::new(Store { root }))
    }
}

impl GuestStore for Store {
    fn exists(&self, key: String) -> Result<Option<Kind>, Error> {
        let path = path_of(&key)?;
        match self.root.stat_at(PathFlags::SYMLINK_FOLLOW, &path) {
            Ok(stat) => Ok(kind_of(&stat)),
            Err(ErrorCode::NoEntry | ErrorCode::NotDirectory) => Ok(None),
            Err(e) => Err(kv_error(&key, e)),
        }
    }

    fn get(&self, key: String) -> Result<Vec<u8>, Error> {
        let (file, stat) = self.value(&key)?;
        read(&file, &key, 0, stat.size)
    }

    fn get_partial(&self, key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        let (file, stat) = self.value(&key)?;
        let len = len.min(stat.size.saturating_sub(offset));
        read(&file, &key, offset, len)
    }

    fn list(&self, key: String) -> Result<Vec<Entry>, Error> {
        let path = path_of(&key)?;
        let dir = self
            .root
            .open_at(PathFlags::SYMLINK_FOLLOW, &path, OpenFlags::DIRECTORY, DescriptorFlags::READ)
            .map_err(|e| kv_error(&key, e))?;
        let entries = dir.read_directory().map_err(|e| kv_error(&key, e))?;
        let mut members = Vec::new();
        while let Some(entry) = entries.read_directory_entry().map_err(|e| kv_error(&key, e))? {
            // Links count as what they lead to; dangling links and special files are
            // not part of the store.
            let kind = match entry.type_ {
                DescriptorType::Directory => Some(Kind::Dictionary),
                DescriptorType::RegularFile => Some(Kind::Value),
                _ => dir.stat_at(PathFlags::SYMLINK_FOLLOW, &entry.name).ok().as_ref().and_then(kind_of),
            };
            if let Some(kind) = kind {
                members.push(Entry { name: entry.name, kind });
            }
        }
        members.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(members)
    }

    fn size(&self, key: String) -> Result<u64, Error> {
        Ok(self.value_stat(&key)?.size)
    }

    fn last_modified(&self, key: String) -> Result<u64, Error> {
        let path = path_of(&key)?;
        let stat = self.root.stat_at(PathFlags::SYMLINK_FOLLOW, &path).map_err(|e| kv_error(&key, e))?;
        let time = stat.data_modification_timestamp.ok_or_else(|| Error::Io(format!("{key}: no modification time")))?;
        Ok(time.seconds.saturating_mul(1_000_000_000).saturating_add(u64::from(time.nanoseconds)))
    }
}

impl Store {
    /// The status of the value (not dictionary) at `key`.
    fn value_stat(&self, key: &str) -> Result<DescriptorStat, Error> {
        let path = path_of(key)?;
        let stat = self.root.stat_at(PathFlags::SYMLINK_FOLLOW, &path).map_err(|e| kv_error(key, e))?;
        match kind_of(&stat) {
            Some(Kind::Value) => Ok(stat),
            Some(Kind::Dictionary) => Err(Error::ValueExpected(key.to_string())),
            None => Err(Error::NotFound(key.to_string())),
        }
    }

    /// The value at `key`, opened for reading, and its status.
    fn value(&self, key: &str) -> Result<(Descriptor, DescriptorStat), Error> {
        let stat = self.value_stat(key)?;
        let file = self
            .root
            .open_at(PathFlags::SYMLINK_FOLLOW, &path_of(key)?, OpenFlags::empty(), DescriptorFlags::READ)
            .map_err(|e| kv_error(key, e))?;
        Ok((file, stat))
    }
}

/// Up to `len` bytes of `file` from `offset`, fewer at its end.
fn read(file: &Descriptor, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
    let mut data = Vec::new();
    let mut at = offset;
    while (data.len() as u64) < len {
        let want = (len - data.len() as u64).min(CHUNK);
        let (chunk, end) = file.read(want, at).map_err(|e| kv_error(key, e))?;
        at += chunk.len() as u64;
        data.extend_from_slice(&chunk);
        if end || chunk.is_empty() {
            break;
        }
    }
    Ok(data)
}

/// The relative path for `key`: `.` for the root; `invalid-key` when it breaks the kv
/// device contract's key rule.
fn path_of(key: &str) -> Result<String, Error> {
    let segments = kv_key::segments(key).ok_or_else(|| Error::InvalidKey(format!("{key}: {}", kv_key::RULE)))?;
    Ok(if segments.is_empty() { ".".into() } else { segments.join("/") })
}

/// What `stat` says a key names: directories are dictionaries, files are values, and
/// anything else is not part of the store.
fn kind_of(stat: &DescriptorStat) -> Option<Kind> {
    match stat.type_ {
        DescriptorType::Directory => Some(Kind::Dictionary),
        DescriptorType::RegularFile => Some(Kind::Value),
        _ => None,
    }
}

/// Maps a WASI error on `key` to the kv error a guest sees.
fn kv_error(key: &str, code: ErrorCode) -> Error {
    match code {
        ErrorCode::NoEntry => Error::NotFound(key.to_string()),
        ErrorCode::Access | ErrorCode::NotPermitted => {
            Error::InvalidKey(format!("{key}: leads outside the store or is not readable"))
        }
        ErrorCode::IsDirectory => Error::ValueExpected(key.to_string()),
        ErrorCode::NotDirectory => Error::DictionaryExpected(key.to_string()),
        other => Error::Io(format!("{key}: {other:?}")),
    }
}

export!(Kv);
