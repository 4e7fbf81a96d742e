//! `ukc_kv_dir::Fs` for a directory a WASI host preopened: every path is resolved by the
//! WASI host, which keeps it inside the directory.

use ukc_kv_dir::{Fs, FsError, Kind, Member};
use wasip2::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorStat, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

/// How much a read takes at a time.
const CHUNK: u64 = 64 * 1024;
/// Most bytes one `write` call takes.
const WRITE_CHUNK: usize = 64 * 1024;

fn fs_error(code: ErrorCode) -> FsError {
    match code {
        ErrorCode::NoEntry => FsError::NotFound,
        ErrorCode::Access | ErrorCode::NotPermitted => FsError::Denied,
        ErrorCode::IsDirectory => FsError::IsDirectory,
        ErrorCode::NotDirectory => FsError::NotDirectory,
        ErrorCode::InsufficientSpace | ErrorCode::Quota => FsError::NoSpace,
        other => FsError::Other(format!("{other:?}")),
    }
}

fn kind_of(stat: &DescriptorStat) -> Option<Kind> {
    match stat.type_ {
        DescriptorType::Directory => Some(Kind::Dictionary),
        DescriptorType::RegularFile => Some(Kind::Value),
        _ => None,
    }
}

/// A preopened directory, as a store's file system.
pub struct Preopened(pub Descriptor);

impl Preopened {
    fn stat(&self, path: &str) -> Result<DescriptorStat, FsError> {
        self.0.stat_at(PathFlags::SYMLINK_FOLLOW, path).map_err(fs_error)
    }

    fn open(&self, path: &str, flags: OpenFlags, access: DescriptorFlags) -> Result<Descriptor, FsError> {
        self.0.open_at(PathFlags::SYMLINK_FOLLOW, path, flags, access).map_err(fs_error)
    }
}

impl Fs for Preopened {
    fn kind(&self, path: &str) -> Result<Option<Kind>, FsError> {
        match self.stat(path) {
            Ok(stat) => Ok(kind_of(&stat)),
            Err(FsError::NotFound | FsError::NotDirectory) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn members(&self, path: &str) -> Result<Vec<Member>, FsError> {
        let dir = self.open(path, OpenFlags::DIRECTORY, DescriptorFlags::READ)?;
        let entries = dir.read_directory().map_err(fs_error)?;
        let mut members = Vec::new();
        while let Some(entry) = entries.read_directory_entry().map_err(fs_error)? {
            let (link, kind) = match entry.type_ {
                DescriptorType::Directory => (false, Some(Kind::Dictionary)),
                DescriptorType::RegularFile => (false, Some(Kind::Value)),
                DescriptorType::SymbolicLink => {
                    (true, dir.stat_at(PathFlags::SYMLINK_FOLLOW, &entry.name).ok().as_ref().and_then(kind_of))
                }
                _ => (false, None),
            };
            members.push(Member { name: entry.name, link, kind });
        }
        Ok(members)
    }

    fn read(&self, path: &str, offset: u64, len: u64) -> Result<Vec<u8>, FsError> {
        // What the path is comes first: opening a FIFO could block.
        let size = self.len(path)?;
        let file = self.open(path, OpenFlags::empty(), DescriptorFlags::READ)?;
        let len = len.min(size.saturating_sub(offset));
        let mut data = Vec::new();
        let mut at = offset;
        while (data.len() as u64) < len {
            let want = (len - data.len() as u64).min(CHUNK);
            let (chunk, end) = file.read(want, at).map_err(fs_error)?;
            at += chunk.len() as u64;
            data.extend_from_slice(&chunk);
            if end || chunk.is_empty() {
                break;
            }
        }
        Ok(data)
    }

    fn len(&self, path: &str) -> Result<u64, FsError> {
        let stat = self.stat(path)?;
        match kind_of(&stat) {
            Some(Kind::Value) => Ok(stat.size),
            Some(Kind::Dictionary) => Err(FsError::IsDirectory),
            None => Err(FsError::NotFound),
        }
    }

    fn modified(&self, path: &str) -> Result<u64, FsError> {
        let time = self.stat(path)?.data_modification_timestamp.ok_or(FsError::Other("no modification time".into()))?;
        Ok(time.seconds.saturating_mul(1_000_000_000).saturating_add(u64::from(time.nanoseconds)))
    }

    fn create_dir(&self, path: &str) -> Result<(), FsError> {
        self.0.create_directory_at(path).map_err(fs_error)
    }

    fn remove_dir(&self, path: &str) -> Result<(), FsError> {
        self.0.remove_directory_at(path).map_err(fs_error)
    }

    fn remove_file(&self, path: &str) -> Result<(), FsError> {
        self.0.unlink_file_at(path).map_err(fs_error)
    }

    fn rename(&self, from: &str, to: &str) -> Result<(), FsError> {
        self.0.rename_at(from, &self.0, to).map_err(fs_error)
    }

    fn hard_link(&self, from: &str, to: &str) -> Result<(), FsError> {
        self.0.link_at(PathFlags::empty(), from, &self.0, to).map_err(fs_error)
    }

    fn write_new(&self, path: &str, bytes: &[u8]) -> Result<(), FsError> {
        let flags = OpenFlags::CREATE | OpenFlags::EXCLUSIVE;
        let file = self.0.open_at(PathFlags::empty(), path, flags, DescriptorFlags::WRITE).map_err(fs_error)?;
        let mut at = 0;
        while at < bytes.len() {
            let end = bytes.len().min(at + WRITE_CHUNK);
            match file.write(&bytes[at..end], at as u64).map_err(fs_error)? {
                0 => return Err(FsError::Other("the file system took no bytes".into())),
                n => at += n as usize,
            }
        }
        Ok(())
    }

    fn sync(&self, path: &str) -> Result<(), FsError> {
        // Opened for reading, which a read-only value allows too.
        let flags = match self.kind(path)?.ok_or(FsError::NotFound)? {
            Kind::Dictionary => OpenFlags::DIRECTORY,
            Kind::Value => OpenFlags::empty(),
        };
        self.open(path, flags, DescriptorFlags::READ)?.sync().map_err(fs_error)
    }
}
