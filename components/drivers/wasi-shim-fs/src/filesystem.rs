//! `wasi:filesystem` on kv stores: each store named by `ukc compose --preopen` is the
//! preopened directory `/NAME`, its dictionaries are directories and its values regular
//! files. Paths resolve inside the store and never leave it (`path.rs`); a read-only
//! store refuses every change with `read-only`; what a kv store cannot be (links,
//! timestamps set by hand) is `unsupported`. Errors are WASI's, so a program sees what
//! it would see on a WASI host's directory.

use crate::Shim;
use crate::exports::wasi::filesystem::preopens;
use crate::exports::wasi::filesystem::types::{
    self, Advice, Datetime, DescriptorBorrow, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry,
    DirectoryEntryStream, ErrorCode, Filesize, MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};
use crate::exports::wasi::io::streams::{InputStream, OutputStream};
use crate::files::{File, Reader, Writer};
use crate::mount::{self, Kind, Mount};
use crate::path;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

impl preopens::Guest for Shim {
    fn get_directories() -> Vec<(types::Descriptor, String)> {
        mount::mounts()
            .into_iter()
            .map(|mount| {
                let path = format!("/{}", mount.name);
                let mut flags = DescriptorFlags::READ;
                if mount.writable() {
                    flags |= DescriptorFlags::MUTATE_DIRECTORY;
                }
                let root = Descriptor { mount, node: Node::Dir(String::new()), flags };
                (types::Descriptor::new(root), path)
            })
            .collect()
    }
}

/// An open directory or file of a preopened store.
pub struct Descriptor {
    mount: Rc<Mount>,
    node: Node,
    /// What it was opened for.
    flags: DescriptorFlags,
}

enum Node {
    /// A directory, by key (`""` is the store's root).
    Dir(String),
    File(Rc<File>),
}

impl Descriptor {
    fn dir(&self) -> Result<&str, ErrorCode> {
        match &self.node {
            Node::Dir(key) => Ok(key),
            Node::File(_) => Err(ErrorCode::NotDirectory),
        }
    }

    fn file(&self) -> Result<&Rc<File>, ErrorCode> {
        match &self.node {
            Node::File(file) => Ok(file),
            Node::Dir(_) => Err(ErrorCode::IsDirectory),
        }
    }

    /// The file, if this descriptor may read it.
    fn readable_file(&self) -> Result<&Rc<File>, ErrorCode> {
        let file = self.file()?;
        if !self.flags.contains(DescriptorFlags::READ) {
            return Err(ErrorCode::BadDescriptor);
        }
        Ok(file)
    }

    /// The file, if this descriptor may write it.
    fn writable_file(&self) -> Result<&Rc<File>, ErrorCode> {
        let file = self.file()?;
        if !self.flags.contains(DescriptorFlags::WRITE) {
            return Err(ErrorCode::BadDescriptor);
        }
        Ok(file)
    }

    /// The key `path` names from this directory.
    fn resolve(&self, path: &str) -> Result<String, ErrorCode> {
        path::resolve(self.dir()?, path)
    }

    /// The key `path` names from this directory, to change what is there.
    fn resolve_to_change(&self, path: &str) -> Result<String, ErrorCode> {
        let key = self.resolve(path)?;
        self.mount.rw()?;
        if !self.flags.contains(DescriptorFlags::MUTATE_DIRECTORY) {
            return Err(ErrorCode::NotPermitted);
        }
        Ok(key)
    }

    fn key(&self) -> String {
        match &self.node {
            Node::Dir(key) => key.clone(),
            Node::File(file) => file.key(),
        }
    }
}

/// A directory listing, taken whole when `read-directory` is called.
pub struct DirectoryEntries {
    entries: RefCell<VecDeque<DirectoryEntry>>,
}

impl types::Guest for Shim {
    type Descriptor = Descriptor;
    type DirectoryEntryStream = DirectoryEntries;

    fn filesystem_error_code(error: crate::exports::wasi::io::error::ErrorBorrow<'_>) -> Option<ErrorCode> {
        match error.get::<crate::io::Error>() {
            crate::io::Error::File(code) => Some(*code),
            crate::io::Error::Socket(_) => None,
        }
    }
}

impl types::GuestDirectoryEntryStream for DirectoryEntries {
    fn read_directory_entry(&self) -> Result<Option<DirectoryEntry>, ErrorCode> {
        Ok(self.entries.borrow_mut().pop_front())
    }
}

impl types::GuestDescriptor for Descriptor {
    fn read_via_stream(&self, offset: Filesize) -> Result<InputStream, ErrorCode> {
        let file = self.readable_file()?.clone();
        Ok(InputStream::new(crate::io::InputStream::File(Reader::new(file, offset))))
    }

    fn write_via_stream(&self, offset: Filesize) -> Result<OutputStream, ErrorCode> {
        let file = self.writable_file()?.clone();
        Ok(OutputStream::new(crate::io::OutputStream::File(Writer::at(file, offset))))
    }

    fn append_via_stream(&self) -> Result<OutputStream, ErrorCode> {
        let file = self.writable_file()?.clone();
        Ok(OutputStream::new(crate::io::OutputStream::File(Writer::appending(file))))
    }

    fn advise(&self, _: Filesize, _: Filesize, _: Advice) -> Result<(), ErrorCode> {
        self.file().map(|_| ())
    }

    fn sync_data(&self) -> Result<(), ErrorCode> {
        self.sync()
    }

    fn get_flags(&self) -> Result<DescriptorFlags, ErrorCode> {
        Ok(self.flags)
    }

    fn get_type(&self) -> Result<DescriptorType, ErrorCode> {
        Ok(match self.node {
            Node::Dir(_) => DescriptorType::Directory,
            Node::File(_) => DescriptorType::RegularFile,
        })
    }

    fn set_size(&self, size: Filesize) -> Result<(), ErrorCode> {
        self.writable_file()?.set_len(size)
    }

    /// A kv store keeps the time of the last change only, and sets it itself.
    fn set_times(&self, _: NewTimestamp, _: NewTimestamp) -> Result<(), ErrorCode> {
        Err(ErrorCode::Unsupported)
    }

    fn read(&self, len: Filesize, offset: Filesize) -> Result<(Vec<u8>, bool), ErrorCode> {
        let file = self.readable_file()?;
        let bytes = file.read_at(offset, len)?;
        let end = offset.saturating_add(bytes.len() as u64) >= file.len()?;
        Ok((bytes, end))
    }

    fn write(&self, buffer: Vec<u8>, offset: Filesize) -> Result<Filesize, ErrorCode> {
        self.writable_file()?.write_at(offset, &buffer)?;
        Ok(buffer.len() as u64)
    }

    fn read_directory(&self) -> Result<DirectoryEntryStream, ErrorCode> {
        let members = self.mount.list(self.dir()?)?;
        let entries = members.into_iter().map(|(name, kind)| DirectoryEntry { type_: type_of(kind), name }).collect();
        Ok(DirectoryEntryStream::new(DirectoryEntries { entries: RefCell::new(entries) }))
    }

    fn sync(&self) -> Result<(), ErrorCode> {
        match &self.node {
            Node::File(file) => file.sync(),
            Node::Dir(_) => self.mount.flush(),
        }
    }

    fn create_directory_at(&self, path: String) -> Result<(), ErrorCode> {
        let key = self.resolve_to_change(&path)?;
        self.mount.create_dir(&key)
    }

    fn stat(&self) -> Result<DescriptorStat, ErrorCode> {
        stat(&self.mount, &self.key())
    }

    fn stat_at(&self, _: PathFlags, path: String) -> Result<DescriptorStat, ErrorCode> {
        stat(&self.mount, &self.resolve(&path)?)
    }

    fn set_times_at(&self, _: PathFlags, _: String, _: NewTimestamp, _: NewTimestamp) -> Result<(), ErrorCode> {
        Err(ErrorCode::Unsupported)
    }

    /// A kv store has no links.
    fn link_at(&self, _: PathFlags, _: String, _: DescriptorBorrow<'_>, _: String) -> Result<(), ErrorCode> {
        Err(ErrorCode::Unsupported)
    }

    fn open_at(
        &self,
        _: PathFlags,
        path: String,
        open: OpenFlags,
        flags: DescriptorFlags,
    ) -> Result<types::Descriptor, ErrorCode> {
        let key = self.resolve(&path)?;
        let writes = flags.contains(DescriptorFlags::WRITE) || open.contains(OpenFlags::TRUNCATE);
        let changes = writes || open.contains(OpenFlags::CREATE);
        if changes {
            self.mount.rw()?;
        }
        let kind = match self.mount.kind(&key)? {
            Some(_) if open.contains(OpenFlags::CREATE | OpenFlags::EXCLUSIVE) => return Err(ErrorCode::Exist),
            Some(kind) => kind,
            None if open.contains(OpenFlags::CREATE) && !open.contains(OpenFlags::DIRECTORY) => {
                if !self.flags.contains(DescriptorFlags::MUTATE_DIRECTORY) {
                    return Err(ErrorCode::NotPermitted);
                }
                let (parent, _) = path::split(&key).ok_or(ErrorCode::IsDirectory)?;
                match self.mount.kind(parent)? {
                    Some(Kind::Dictionary) => {}
                    Some(Kind::Value) => return Err(ErrorCode::NotDirectory),
                    None => return Err(ErrorCode::NoEntry),
                }
                self.mount.set(&key, &[])?;
                Kind::Value
            }
            None => return Err(ErrorCode::NoEntry),
        };
        let node = match kind {
            Kind::Dictionary if writes => return Err(ErrorCode::IsDirectory),
            Kind::Dictionary => Node::Dir(key),
            Kind::Value if open.contains(OpenFlags::DIRECTORY) => return Err(ErrorCode::NotDirectory),
            Kind::Value => {
                let file = self.mount.file(&key);
                if open.contains(OpenFlags::TRUNCATE) {
                    file.set_len(0)?;
                }
                Node::File(file)
            }
        };
        // A directory opened from a directory that may change its members may too.
        let inherited = self.flags & DescriptorFlags::MUTATE_DIRECTORY;
        let flags = match node {
            Node::Dir(_) => (flags & DescriptorFlags::READ) | inherited,
            Node::File(_) => flags & (DescriptorFlags::READ | DescriptorFlags::WRITE),
        };
        Ok(types::Descriptor::new(Descriptor { mount: self.mount.clone(), node, flags }))
    }

    /// Nothing in a kv store is a symbolic link.
    fn readlink_at(&self, path: String) -> Result<String, ErrorCode> {
        self.mount.existing(&self.resolve(&path)?)?;
        Err(ErrorCode::Invalid)
    }

    fn remove_directory_at(&self, path: String) -> Result<(), ErrorCode> {
        let key = self.resolve_to_change(&path)?;
        self.mount.remove_dir(&key)
    }

    fn rename_at(
        &self,
        old_path: String,
        new_descriptor: DescriptorBorrow<'_>,
        new_path: String,
    ) -> Result<(), ErrorCode> {
        let from = self.resolve_to_change(&old_path)?;
        let target = new_descriptor.get::<Descriptor>();
        if !Rc::ptr_eq(&self.mount, &target.mount) {
            return Err(ErrorCode::CrossDevice);
        }
        let to = target.resolve_to_change(&new_path)?;
        self.mount.rename(&from, &to)
    }

    /// A kv store has no links.
    fn symlink_at(&self, _: String, _: String) -> Result<(), ErrorCode> {
        Err(ErrorCode::Unsupported)
    }

    fn unlink_file_at(&self, path: String) -> Result<(), ErrorCode> {
        let key = self.resolve_to_change(&path)?;
        self.mount.remove_file(&key)
    }

    fn is_same_object(&self, other: DescriptorBorrow<'_>) -> bool {
        let other = other.get::<Descriptor>();
        Rc::ptr_eq(&self.mount, &other.mount) && self.key() == other.key()
    }

    fn metadata_hash(&self) -> Result<MetadataHashValue, ErrorCode> {
        Ok(hash(&self.mount, &self.key()))
    }

    fn metadata_hash_at(&self, _: PathFlags, path: String) -> Result<MetadataHashValue, ErrorCode> {
        let key = self.resolve(&path)?;
        self.mount.existing(&key)?;
        Ok(hash(&self.mount, &key))
    }
}

fn type_of(kind: Kind) -> DescriptorType {
    match kind {
        Kind::Dictionary => DescriptorType::Directory,
        Kind::Value => DescriptorType::RegularFile,
    }
}

/// What `stat` says of `key`: an open file's length is the length its holders see.
fn stat(mount: &Mount, key: &str) -> Result<DescriptorStat, ErrorCode> {
    let kind = mount.existing(key)?;
    let size = match (kind, mount.open_file(key)) {
        (Kind::Dictionary, _) => 0,
        (Kind::Value, Some(file)) => file.len()?,
        (Kind::Value, None) => mount.size(key)?,
    };
    let modified = mount
        .last_modified(key)?
        .map(|ns| Datetime { seconds: ns / 1_000_000_000, nanoseconds: (ns % 1_000_000_000) as u32 });
    Ok(DescriptorStat {
        type_: type_of(kind),
        link_count: 1,
        size,
        data_access_timestamp: None,
        data_modification_timestamp: modified,
        status_change_timestamp: modified,
    })
}

/// The same 128 bits for the same file or directory of the same store: FNV-1a of the
/// store's name and the key, twice with different offsets.
fn hash(mount: &Mount, key: &str) -> MetadataHashValue {
    let fnv = |seed: u64| {
        let bytes = mount.name.bytes().chain([0]).chain(key.bytes());
        bytes.fold(seed, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
    };
    MetadataHashValue { lower: fnv(0xcbf2_9ce4_8422_2325), upper: fnv(0x6c62_272e_07bb_0142) }
}
