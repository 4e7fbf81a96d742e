//! `wasi:filesystem` with no preopened directories, as a WASI host run without `--dir`:
//! `get-directories` is empty, so the program holds no descriptor, and every path it
//! opens fails inside the program with the WASI error its libc reports ("no preopen
//! through which it could be opened"), never as a host error. This is what lets a WASI 0.1
//! program (whose standard adapter always imports `wasi:filesystem`) and a std program
//! that touches files compose and run on the ukc targets. No descriptor exists, which
//! the types below say: they have no values. A unikernel composed with `--preopen` gets
//! `wasi-shim-fs` instead, whose file system is kv stores.

use crate::Shim;
use crate::exports::wasi::filesystem::preopens;
use crate::exports::wasi::filesystem::types::{
    self, Advice, DescriptorBorrow, DescriptorFlags, DescriptorStat, DescriptorType, DirectoryEntry,
    DirectoryEntryStream, ErrorCode, Filesize, MetadataHashValue, NewTimestamp, OpenFlags, PathFlags,
};
use crate::exports::wasi::io::streams::{InputStream, OutputStream};

impl preopens::Guest for Shim {
    fn get_directories() -> Vec<(types::Descriptor, String)> {
        Vec::new()
    }
}

/// A descriptor: none can exist, since nothing is preopened.
pub enum Descriptor {}

/// A directory listing: none can exist without a descriptor.
pub enum DirectoryEntries {}

impl types::Guest for Shim {
    type Descriptor = Descriptor;
    type DirectoryEntryStream = DirectoryEntries;

    /// No stream here reports an error: the console never fails, and no file exists.
    fn filesystem_error_code(_: crate::exports::wasi::io::error::ErrorBorrow<'_>) -> Option<ErrorCode> {
        None
    }
}

impl types::GuestDirectoryEntryStream for DirectoryEntries {
    fn read_directory_entry(&self) -> Result<Option<DirectoryEntry>, ErrorCode> {
        match *self {}
    }
}

impl types::GuestDescriptor for Descriptor {
    fn read_via_stream(&self, _: Filesize) -> Result<InputStream, ErrorCode> {
        match *self {}
    }
    fn write_via_stream(&self, _: Filesize) -> Result<OutputStream, ErrorCode> {
        match *self {}
    }
    fn append_via_stream(&self) -> Result<OutputStream, ErrorCode> {
        match *self {}
    }
    fn advise(&self, _: Filesize, _: Filesize, _: Advice) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn sync_data(&self) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn get_flags(&self) -> Result<DescriptorFlags, ErrorCode> {
        match *self {}
    }
    fn get_type(&self) -> Result<DescriptorType, ErrorCode> {
        match *self {}
    }
    fn set_size(&self, _: Filesize) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn set_times(&self, _: NewTimestamp, _: NewTimestamp) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn read(&self, _: Filesize, _: Filesize) -> Result<(Vec<u8>, bool), ErrorCode> {
        match *self {}
    }
    fn write(&self, _: Vec<u8>, _: Filesize) -> Result<Filesize, ErrorCode> {
        match *self {}
    }
    fn read_directory(&self) -> Result<DirectoryEntryStream, ErrorCode> {
        match *self {}
    }
    fn sync(&self) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn create_directory_at(&self, _: String) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn stat(&self) -> Result<DescriptorStat, ErrorCode> {
        match *self {}
    }
    fn stat_at(&self, _: PathFlags, _: String) -> Result<DescriptorStat, ErrorCode> {
        match *self {}
    }
    fn set_times_at(&self, _: PathFlags, _: String, _: NewTimestamp, _: NewTimestamp) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn link_at(&self, _: PathFlags, _: String, _: DescriptorBorrow<'_>, _: String) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn open_at(
        &self,
        _: PathFlags,
        _: String,
        _: OpenFlags,
        _: DescriptorFlags,
    ) -> Result<types::Descriptor, ErrorCode> {
        match *self {}
    }
    fn readlink_at(&self, _: String) -> Result<String, ErrorCode> {
        match *self {}
    }
    fn remove_directory_at(&self, _: String) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn rename_at(&self, _: String, _: DescriptorBorrow<'_>, _: String) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn symlink_at(&self, _: String, _: String) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn unlink_file_at(&self, _: String) -> Result<(), ErrorCode> {
        match *self {}
    }
    fn is_same_object(&self, _: DescriptorBorrow<'_>) -> bool {
        match *self {}
    }
    fn metadata_hash(&self) -> Result<MetadataHashValue, ErrorCode> {
        match *self {}
    }
    fn metadata_hash_at(&self, _: PathFlags, _: String) -> Result<MetadataHashValue, ErrorCode> {
        match *self {}
    }
}
