//! kv stores on host directories: read-only (`--kv:NAME=DIR`, `ukc:kv/ro`) and
//! read-write (`--kv-rw:NAME=DIR`, `ukc:kv/rw`), kept by the `ukc-kv-dir` crate (the
//! `wasi-kv` driver keeps them the same way); `ro` and `rw` serve the interfaces.
//!
//! Every access goes through a cap-std `Dir`, so no key, `..` or symbolic link reaches
//! outside the directory. Links that lead outside are also refused when the store is
//! attached, so a store never silently serves less than its tree holds. Links to
//! directories resolve for lookups but are not listed, as in kv-tar: each dictionary is
//! listed once, at its own place, so a walk of the store ends whatever loops links make.

mod ro;
mod rw;

use crate::flags::Attachments;
use cap_std::ambient_authority;
use cap_std::fs::{Dir, File};
use std::io::ErrorKind;
use std::os::fd::{AsRawFd, RawFd};
use ukc_kv_dir::{Error, Store};
use ukc_manifest::DeviceType;
use wasmtime::component::{Resource, ResourceTable};

/// How deep the attach-time scan for escaping links descends.
const MAX_DEPTH: usize = 64;

/// A directory attached as a kv store.
pub struct KvDir {
    name: String,
    store: Store<Dir>,
    /// Whether it is a read-write store.
    writable: bool,
}

impl KvDir {
    /// Opens `path` as the store `name`, read-write if `writable`, refusing a tree with
    /// links that lead outside it.
    pub fn open(name: &str, path: &str, writable: bool) -> Result<KvDir, String> {
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
        let store = Store::open(dir, writable, &std::process::id().to_string());
        Ok(KvDir { name: name.to_string(), store, writable })
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

/// The handle a guest holds to a read-only store: an index into the attached stores.
pub struct StoreHandle(usize);

/// The handle a guest holds to a read-write store, likewise.
pub struct RwStoreHandle(usize);

/// The attached kv stores and the guest's handles to them.
#[derive(Default)]
pub struct KvStores {
    attached: Vec<KvDir>,
    table: ResourceTable,
    held: Option<HeldValue>,
}

/// The file of the value whose size a read-only store was last asked for, held open for
/// `ukc:sendfile`'s `send-value` of the same key, which typically follows (a web server
/// needs the length for the response head, then sends the file): one open and `statx`
/// instead of two, and the size and the bytes come from the same file. It is closed when
/// the unikernel next yields, before any write to a store, and when another value is
/// asked for.
struct HeldValue {
    store: usize,
    key: String,
    file: File,
    size: u64,
}

impl KvStores {
    /// Opens every `--kv:NAME=DIR` and `--kv-rw:NAME=DIR` attachment.
    pub fn open(attachments: &Attachments) -> Result<KvStores, String> {
        let read_only = attachments.of(DeviceType::Kv).map(|(name, dir)| KvDir::open(name, dir, false));
        let writable = attachments.of(DeviceType::KvRw).map(|(name, dir)| KvDir::open(name, dir, true));
        let attached = read_only.chain(writable).collect::<Result<Vec<_>, _>>()?;
        Ok(KvStores { attached, table: ResourceTable::new(), held: None })
    }

    /// The index of the store `name` of the given kind. Every declared store is attached
    /// (the host checked), so any other name is a bug in the unikernel: it stops it,
    /// naming the store, as acquiring an unknown device does.
    fn index(&self, name: &str, writable: bool) -> wasmtime::Result<usize> {
        self.attached.iter().position(|s| s.name == name && s.writable == writable).ok_or_else(|| {
            let kind = if writable { "read-write kv store" } else { "kv store" };
            wasmtime::Error::msg(format!(
                "the unikernel opened the {kind} '{name}', which no component declares in its manifest"
            ))
        })
    }

    pub(crate) fn read_only(&self, handle: &Resource<StoreHandle>) -> wasmtime::Result<&Store<Dir>> {
        Ok(&self.attached[self.table.get(handle)?.0].store)
    }

    fn writable(&mut self, handle: &Resource<RwStoreHandle>) -> wasmtime::Result<&Store<Dir>> {
        self.release_held();
        Ok(&self.attached[self.table.get(handle)?.0].store)
    }

    /// The size of the value `key` in the read-only store `handle`, its file held open
    /// (see [`HeldValue`]). A value the store cannot read has no size to serve: the error
    /// is `get`'s, so that a server answers 404 before it promises the bytes.
    pub(crate) fn size_holding(
        &mut self,
        handle: &Resource<StoreHandle>,
        key: &str,
    ) -> wasmtime::Result<Result<u64, Error>> {
        Ok(self.held_value(handle, key)?.map(|(_, size)| size))
    }

    /// The descriptor and size of the value `key` in the read-only store `handle`: the
    /// file held since its size was asked for, else the file opened now and held; valid
    /// until the held file is released.
    pub(crate) fn held_value(
        &mut self,
        handle: &Resource<StoreHandle>,
        key: &str,
    ) -> wasmtime::Result<Result<(RawFd, u64), Error>> {
        let index = self.table.get(handle)?.0;
        let held = self.held.take_if(|held| held.store == index && held.key == key);
        let held = match held {
            Some(held) => held,
            None => match self.attached[index].store.open_value(key) {
                Ok((file, size)) => HeldValue { store: index, key: key.to_string(), file, size },
                Err(e) => return Ok(Err(e)),
            },
        };
        let answer = (held.file.as_raw_fd(), held.size);
        self.held = Some(held);
        Ok(Ok(answer))
    }

    /// Closes the held value's file, if any.
    pub(crate) fn release_held(&mut self) {
        self.held = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Devices;
    use crate::bindings::ukc::kv::ro::HostStore;

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
        assert!(KvDir::open("s", &path, false).is_ok());
        std::os::unix::fs::symlink("../..", root.path().join("sub/above")).unwrap();
        let err = KvDir::open("s", &path, false).err().unwrap();
        assert!(err.contains("sub/above is a symbolic link that leads outside"), "{err}");
        std::fs::remove_file(root.path().join("sub/above")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.path().join("sub/escape")).unwrap();
        let err = KvDir::open("s", &path, false).err().unwrap();
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
        stores.kv.attached.push(KvDir::open("s", &root.path().to_string_lossy(), false).unwrap());
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
