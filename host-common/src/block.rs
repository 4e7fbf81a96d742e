//! Block devices on host files: sector-aligned, bounds-checked reads and writes.

use crate::Devices;
use crate::bindings::ukc::block::block::{Error, Host, HostDevice, Info};
use crate::devices::DeviceOption;
use crate::flags::Attachments;
use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use ukc_hvt_abi::block_range;
use ukc_manifest::{DeviceType, UnikernelManifest};
use wasmtime::component::Resource;

pub use ukc_hvt_abi::block_range::MAX_TRANSFER;

/// `--block-sector-size:NAME=SIZE`.
pub const SECTOR_SIZE: DeviceOption = DeviceOption {
    ty: DeviceType::Block,
    flag: "block-sector-size",
    value: "SIZE",
    about: "sector size of device NAME: a power of two >= 512 (default 512)",
    check: |value| parse_sector_size(value).map(drop),
};

/// Sector size unless `--block-sector-size` says otherwise, as Solo5's.
pub const DEFAULT_SECTOR_SIZE: u32 = 512;

fn parse_sector_size(value: &str) -> Result<u32, String> {
    value
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 512 && n.is_power_of_two())
        .ok_or_else(|| "the sector size must be a power of two, at least 512".to_string())
}

/// The sector size of block device `name` in `attachments`.
pub fn sector_size(attachments: &Attachments, name: &str) -> u32 {
    attachments.option(&SECTOR_SIZE, name).and_then(|v| parse_sector_size(v).ok()).unwrap_or(DEFAULT_SECTOR_SIZE)
}

/// Opens every block device in `attachments`, read-only where `manifest` says the
/// unikernel only reads it, in command-line order.
pub fn open_all(attachments: &Attachments, manifest: &UnikernelManifest) -> Result<Vec<BlockBackend>, String> {
    attachments
        .of(DeviceType::Block)
        .map(|(name, file)| {
            let read_only = manifest.device(name).is_some_and(|d| d.read_only);
            BlockBackend::open(name, file, sector_size(attachments, name), read_only)
        })
        .collect()
}

/// A file attached as a named block device.
#[derive(Debug)]
pub struct BlockBackend {
    name: String,
    file: File,
    path: String,
    capacity: u64,
    sector_size: u32,
    writable: bool,
}

impl BlockBackend {
    /// Opens `path` as the block device `name`. The file's size must be a multiple of
    /// `sector_size` (a power of two, at least 512). With `read_only` (the unikernel only
    /// reads it), or when the file cannot be opened for writing, it is attached read-only:
    /// writes get `denied`.
    pub fn open(name: &str, path: &str, sector_size: u32, read_only: bool) -> Result<BlockBackend, String> {
        let context = |e: std::io::Error| format!("block device '{name}': cannot open {path}: {e}");
        let (file, writable) = match OpenOptions::new().read(true).write(!read_only).open(path) {
            Ok(file) => (file, !read_only),
            Err(e) if matches!(e.kind(), ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem) => {
                (File::open(path).map_err(context)?, false)
            }
            Err(e) => return Err(context(e)),
        };
        let metadata = file.metadata().map_err(context)?;
        if !metadata.is_file() {
            return Err(format!("block device '{name}': {path} is not a regular file"));
        }
        let capacity = metadata.len();
        if capacity % u64::from(sector_size) != 0 {
            let padded = capacity.div_ceil(u64::from(sector_size)) * u64::from(sector_size);
            return Err(format!(
                "block device '{name}': {path} is {capacity} bytes, not a multiple of the {sector_size}-byte sector size; \
                 pad it with `truncate -s {padded} {path}`"
            ));
        }
        Ok(BlockBackend { name: name.to_string(), file, path: path.to_string(), capacity, sector_size, writable })
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device's capacity and sector size.
    pub fn info(&self) -> Info {
        Info { capacity: self.capacity, sector_size: self.sector_size }
    }

    /// Whether the device accepts writes (a file that could not be opened for writing
    /// is attached read-only).
    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Reads `len` bytes at `offset`, after checking alignment and bounds.
    pub fn read(&self, offset: u64, len: u32) -> Result<Vec<u8>, Error> {
        // Checked before the buffer is allocated: the length is the guest's to choose.
        self.check(offset, u64::from(len))?;
        let mut data = vec![0; len as usize];
        self.read_into(offset, &mut data)?;
        Ok(data)
    }

    /// Fills `data` from `offset`, after checking alignment and bounds (a VM's tender
    /// reads straight into guest memory this way).
    pub fn read_into(&self, offset: u64, data: &mut [u8]) -> Result<(), Error> {
        self.check(offset, data.len() as u64)?;
        self.file.read_exact_at(data, offset).map_err(|e| self.io_error("read", offset, e))
    }

    /// Writes `data` at `offset`, after checking alignment and bounds.
    pub fn write(&self, offset: u64, data: &[u8]) -> Result<(), Error> {
        self.check(offset, data.len() as u64)?;
        if !self.writable {
            return Err(Error::Denied);
        }
        self.file.write_all_at(data, offset).map_err(|e| self.io_error("write", offset, e))
    }

    /// Makes completed writes durable.
    pub fn flush(&self) -> Result<(), Error> {
        if !self.writable {
            return Ok(());
        }
        self.file.sync_data().map_err(|e| self.io_error("flush", 0, e))
    }

    /// Checks an access of `len` bytes at `offset`.
    fn check(&self, offset: u64, len: u64) -> Result<(), Error> {
        match block_range::end(offset, len, u64::from(self.sector_size), self.capacity) {
            Some(_) => Ok(()),
            None => Err(Error::InvalidRange),
        }
    }

    fn io_error(&self, what: &str, offset: u64, error: std::io::Error) -> Error {
        eprintln!("ukc: block device '{}' ({}): {what} at byte {offset}: {error}", self.name, self.path);
        Error::Io
    }
}

/// The handle a guest holds: an index into the attached block devices.
pub struct DeviceHandle(usize);

impl Devices {
    pub(crate) fn block(&self, handle: &Resource<DeviceHandle>) -> wasmtime::Result<&BlockBackend> {
        Ok(&self.blocks[self.table.get(handle)?.0])
    }
}

impl Host for Devices {
    fn acquire(&mut self, name: String) -> wasmtime::Result<Result<Resource<DeviceHandle>, Error>> {
        let index = self.block_index(&name)?;
        Ok(Ok(self.table.push(DeviceHandle(index))?))
    }
}

impl HostDevice for Devices {
    fn info(&mut self, device: Resource<DeviceHandle>) -> wasmtime::Result<Info> {
        Ok(self.block(&device)?.info())
    }

    fn read(
        &mut self,
        device: Resource<DeviceHandle>,
        offset: u64,
        len: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        Ok(self.block(&device)?.read(offset, len))
    }

    /// Not what unikernels call: [`crate::in_place`] replaces it (the trait requires it).
    fn write(
        &mut self,
        device: Resource<DeviceHandle>,
        offset: u64,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.block(&device)?.write(offset, &data))
    }

    fn flush(&mut self, device: Resource<DeviceHandle>) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.block(&device)?.flush())
    }

    fn drop(&mut self, device: Resource<DeviceHandle>) -> wasmtime::Result<()> {
        self.table.delete(device)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(len: u64, sector: u32) -> (tempfile::NamedTempFile, Result<BlockBackend, String>) {
        let file = tempfile::NamedTempFile::new().unwrap();
        file.as_file().set_len(len).unwrap();
        let path = file.path().to_string_lossy().into_owned();
        let backend = BlockBackend::open("storage", &path, sector, false);
        (file, backend)
    }

    #[test]
    fn checks_alignment_and_bounds() {
        let (_file, b) = backend(8192, 512);
        let b = b.unwrap();
        assert_eq!(b.check(0, 512), Ok(()));
        assert_eq!(b.check(7680, 512), Ok(()));
        assert_eq!(b.check(8192, 512), Err(Error::InvalidRange));
        assert_eq!(b.check(1, 512), Err(Error::InvalidRange));
        assert_eq!(b.check(0, 511), Err(Error::InvalidRange));
        assert_eq!(b.check(0, 0), Err(Error::InvalidRange));
        assert_eq!(b.check(u64::MAX - 511, 512), Err(Error::InvalidRange));
        // 4 GiB asked of an 8 KiB device: refused before a buffer of that size is made.
        assert_eq!(b.read(0, u32::MAX - 511), Err(Error::InvalidRange));
    }

    #[test]
    fn refuses_sizes_off_the_sector_grid() {
        let (_file, b) = backend(1000, 512);
        let err = b.unwrap_err();
        assert!(err.contains("not a multiple of the 512-byte sector size"), "{err}");
        assert!(err.contains("truncate -s 1024"), "{err}");
    }

    #[test]
    fn a_read_only_attach_never_writes() {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), vec![7u8; 4096]).unwrap();
        let b = BlockBackend::open("storage", &file.path().to_string_lossy(), 512, true).unwrap();
        assert!(!b.writable());
        assert_eq!(b.write(0, &[0; 512]), Err(Error::Denied));
        assert_eq!(b.write(4096, &[0; 512]), Err(Error::InvalidRange), "ranges are checked first");
        assert_eq!(b.flush(), Ok(()));
        assert_eq!(b.read(0, 512).unwrap(), vec![7; 512]);
        assert_eq!(std::fs::read(file.path()).unwrap(), vec![7u8; 4096]);
    }
}
