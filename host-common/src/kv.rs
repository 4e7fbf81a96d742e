//! Read-only kv stores on host directories (`--kv:NAME=DIR`).
//!
//! Every access goes through a cap-std `Dir`, so no key, `..` or symbolic link reaches
//! outside the directory. Links that lead outside are also refused when the store is
//! attached, so a store never silently serves less than its tree holds. Links to
//! directories resolve for lookups but are not listed, as in kv-tar: each dictionary is
//! listed once, at its own place, so a walk of the store ends whatever loops links make.

use crate::Devices;
use crate::bindings::ukc::kv::ro::{Entry, Error, Host, HostStore, Kind};
use crate::flags::Attachments;
use cap_std::ambient_authority;
use cap_std::fs::{Dir, Metadata};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::time::UNIX_EPOCH;
use ukc_hvt_abi::kv_key;
use ukc_manifest::DeviceType;
use wasmtime::component::{Resource, ResourceTable};

/// How deep the attach-time scan for escaping links descends.
const MAX_DEPTH: usize = 64;

/// A directory attached as a kv store.
pub struct KvDir {
    name: String,
    dir: Dir,
}

impl KvDir {
    /// Opens `path` as the store `name`, refusing a tree with links that lead outside it.
    pub fn open(name: &str, path: &str) -> Result<KvDir, String> {
        let dir = Dir::open_ambient_dir(path, ambient_authority())
            .map_err(|e| format!("kv store '{name}': cannot open the directory {path}: {e}"))?;
        let mut escapes = Vec::new();
        scan(&dir, &dir, "", 0, &mut escapes).map_err(|e| format!("kv store '{name}': cannot read {path}: {e}"))?;
        if let Some(first) = escapes.first() {
            let more = if escapes.len() > 1 { format!(" (and {} more)", escapes.len() - 1) } else { String::new() };
            return Err(format!(
                "kv store '{name}': {path}/{first} is a symbolic link that leads outside {path}{more}; \
                 a kv store serves one directory tree, so replace the link with what it points to"
            ));
        }
        Ok(KvDir { name: name.to_string(), dir })
    }
}

/// Collects the relative paths of links under `dir` (at `prefix` in `root`) that resolve
/// outside the root. Each link is resolved from the root, where `..` may climb back up to
/// it, not from its own directory.
fn scan(root: &Dir, dir: &Dir, prefix: &str, depth: usize, escapes: &mut Vec<String>) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    for entry in dir.entries()? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relative = if prefix.is_empty() { name.clone() } else { format!("{prefix}/{name}") };
        let file_type = entry.file_type()?;
        if file_type.is_symlink() {
            if let Err(e) = root.metadata(&relative)
                && e.kind() != ErrorKind::NotFound
            {
                escapes.push(relative);
            }
        } else if file_type.is_dir() {
            scan(root, &entry.open_dir()?, &relative, depth + 1, escapes)?;
        }
    }
    Ok(())
}

/// The handle a guest holds: an index into the attached stores.
pub struct StoreHandle(usize);

/// The attached kv stores and the guest's handles to them.
#[derive(Default)]
pub struct KvStores {
    attached: Vec<KvDir>,
    table: ResourceTable,
}

impl KvStores {
    /// Opens every `--kv:NAME=DIR` attachment.
    pub fn open(attachments: &Attachments) -> Result<KvStores, String> {
        let attached =
            attachments.of(DeviceType::Kv).map(|(name, dir)| KvDir::open(name, dir)).collect::<Result<Vec<_>, _>>()?;
        Ok(KvStores { attached, table: ResourceTable::new() })
    }

    fn dir(&self, handle: &Resource<StoreHandle>) -> wasmtime::Result<&Dir> {
        Ok(&self.attached[self.table.get(handle)?.0].dir)
    }
}

/// The relative path for `key`: `.` for the root; `invalid-key` when it breaks the kv
/// device contract's key rule.
fn path_of(key: &str) -> Result<String, Error> {
    let segments = kv_key::segments(key).ok_or_else(|| Error::InvalidKey(format!("{key}: {}", kv_key::RULE)))?;
    Ok(if segments.is_empty() { ".".into() } else { segments.join("/") })
}

/// Maps an I/O error on `key` to the kv error a guest sees.
fn kv_error(key: &str, e: std::io::Error) -> Error {
    match e.kind() {
        ErrorKind::NotFound => Error::NotFound(key.to_string()),
        ErrorKind::PermissionDenied => Error::InvalidKey(format!("{key}: leads outside the store or is not readable")),
        ErrorKind::IsADirectory => Error::ValueExpected(key.to_string()),
        ErrorKind::NotADirectory => Error::DictionaryExpected(key.to_string()),
        _ => Error::Io(format!("{key}: {e}")),
    }
}

fn kind_of(metadata: &Metadata) -> Option<Kind> {
    if metadata.is_dir() {
        Some(Kind::Dictionary)
    } else if metadata.is_file() {
        Some(Kind::Value)
    } else {
        None
    }
}

/// Metadata of the value (not dictionary) at `key`.
fn value_metadata(dir: &Dir, key: &str) -> Result<(String, Metadata), Error> {
    let path = path_of(key)?;
    let metadata = dir.metadata(&path).map_err(|e| kv_error(key, e))?;
    match kind_of(&metadata) {
        Some(Kind::Value) => Ok((path, metadata)),
        Some(Kind::Dictionary) => Err(Error::ValueExpected(key.to_string())),
        None => Err(Error::NotFound(key.to_string())),
    }
}

impl Host for Devices {
    fn open(&mut self, name: String) -> wasmtime::Result<Result<Resource<StoreHandle>, Error>> {
        // Every declared store is attached (the host checked), so any other name is a bug
        // in the unikernel: stop it, naming the store, as acquiring an unknown device does.
        let Some(index) = self.kv.attached.iter().position(|s| s.name == name) else {
            return Err(wasmtime::Error::msg(format!(
                "the unikernel opened the kv store '{name}', which no component declares in its manifest"
            )));
        };
        Ok(Ok(self.kv.table.push(StoreHandle(index))?))
    }
}

impl HostStore for Devices {
    fn exists(&mut self, store: Resource<StoreHandle>, key: String) -> wasmtime::Result<Result<Option<Kind>, Error>> {
        let dir = self.kv.dir(&store)?;
        Ok(path_of(&key).and_then(|path| match dir.metadata(&path) {
            Ok(metadata) => Ok(kind_of(&metadata)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(kv_error(&key, e)),
        }))
    }

    fn get(&mut self, store: Resource<StoreHandle>, key: String) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let dir = self.kv.dir(&store)?;
        Ok(value_metadata(dir, &key).and_then(|(path, _)| dir.read(&path).map_err(|e| kv_error(&key, e))))
    }

    fn get_partial(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
        offset: u64,
        len: u64,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let dir = self.kv.dir(&store)?;
        Ok(value_metadata(dir, &key).and_then(|(path, metadata)| {
            let len = len.min(metadata.len().saturating_sub(offset));
            let mut data = vec![0; usize::try_from(len).map_err(|_| Error::Io(format!("{key}: range too large")))?];
            let mut file = dir.open(&path).map_err(|e| kv_error(&key, e))?;
            file.seek(SeekFrom::Start(offset)).map_err(|e| kv_error(&key, e))?;
            file.read_exact(&mut data).map_err(|e| kv_error(&key, e))?;
            Ok(data)
        }))
    }

    fn list(&mut self, store: Resource<StoreHandle>, key: String) -> wasmtime::Result<Result<Vec<Entry>, Error>> {
        let dir = self.kv.dir(&store)?;
        Ok(path_of(&key).and_then(|path| {
            let entries = dir.read_dir(&path).map_err(|e| kv_error(&key, e))?;
            let mut members = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| kv_error(&key, e))?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let child = if path == "." { name.clone() } else { format!("{path}/{name}") };
                // Dangling links and special files are not part of the store.
                let Some(kind) = dir.metadata(&child).ok().as_ref().and_then(kind_of) else {
                    continue;
                };
                let link = entry.file_type().is_ok_and(|t| t.is_symlink());
                if !(link && matches!(kind, Kind::Dictionary)) {
                    members.push(Entry { name, kind });
                }
            }
            members.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(members)
        }))
    }

    fn size(&mut self, store: Resource<StoreHandle>, key: String) -> wasmtime::Result<Result<u64, Error>> {
        let dir = self.kv.dir(&store)?;
        Ok(value_metadata(dir, &key).map(|(_, metadata)| metadata.len()))
    }

    fn last_modified(&mut self, store: Resource<StoreHandle>, key: String) -> wasmtime::Result<Result<u64, Error>> {
        let dir = self.kv.dir(&store)?;
        Ok(path_of(&key).and_then(|path| {
            let metadata = dir.metadata(&path).map_err(|e| kv_error(&key, e))?;
            let modified = metadata.modified().map_err(|e| kv_error(&key, e))?.into_std();
            let since_epoch = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
            Ok(u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX))
        }))
    }

    fn drop(&mut self, store: Resource<StoreHandle>) -> wasmtime::Result<()> {
        self.kv.table.delete(store)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_relative_paths() {
        assert_eq!(path_of("").unwrap(), ".");
        assert_eq!(path_of("/").unwrap(), ".");
        assert_eq!(path_of("/a/b.txt").unwrap(), "a/b.txt");
        assert_eq!(path_of("a/").unwrap(), "a");
        for bad in ["../x", "a/../../x", "a//b", "./a", "a/./b"] {
            assert!(matches!(path_of(bad), Err(Error::InvalidKey(_))), "{bad}");
        }
    }

    #[test]
    fn refuses_links_that_leave_the_tree() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("sub")).unwrap();
        std::fs::write(root.path().join("sub/inside.txt"), "ok").unwrap();
        std::os::unix::fs::symlink("sub/inside.txt", root.path().join("fine")).unwrap();
        std::os::unix::fs::symlink("missing", root.path().join("dangling")).unwrap();
        // `..` from a subdirectory climbs back to the root, still inside.
        std::os::unix::fs::symlink("..", root.path().join("sub/up")).unwrap();
        std::os::unix::fs::symlink("../sub/inside.txt", root.path().join("sub/again")).unwrap();
        let path = root.path().to_string_lossy().into_owned();
        assert!(KvDir::open("s", &path).is_ok());
        std::os::unix::fs::symlink("../..", root.path().join("sub/above")).unwrap();
        let err = KvDir::open("s", &path).err().unwrap();
        assert!(err.contains("sub/above is a symbolic link that leads outside"), "{err}");
        std::fs::remove_file(root.path().join("sub/above")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.path().join("sub/escape")).unwrap();
        let err = KvDir::open("s", &path).err().unwrap();
        assert!(err.contains("sub/escape is a symbolic link that leads outside"), "{err}");
    }

    #[test]
    fn lists_end_whatever_loops_links_make() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("a")).unwrap();
        std::fs::write(root.path().join("a/x"), "x").unwrap();
        for link in ["l1", "l2", "l3"] {
            std::os::unix::fs::symlink(".", root.path().join(link)).unwrap();
        }
        std::os::unix::fs::symlink("x", root.path().join("a/y")).unwrap();
        let mut stores = Devices::new(crate::args::RuntimeArgs::default(), Vec::new(), Vec::new());
        stores.kv.attached.push(KvDir::open("s", &root.path().to_string_lossy()).unwrap());
        let names = |stores: &mut Devices, key: &str| {
            let handle = stores.kv.table.push(StoreHandle(0)).unwrap();
            let listed = stores.list(handle, key.into()).unwrap().unwrap();
            listed.into_iter().map(|e| format!("{}:{:?}", e.name, e.kind)).collect::<Vec<_>>()
        };
        assert_eq!(names(&mut stores, "/"), ["a:Kind::Dictionary"]);
        assert_eq!(names(&mut stores, "/a"), ["x:Kind::Value", "y:Kind::Value"], "links to values are listed");
        assert_eq!(names(&mut stores, "l1/l2/a"), ["x:Kind::Value", "y:Kind::Value"], "links to dictionaries resolve");
    }
}
