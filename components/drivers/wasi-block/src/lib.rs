//! The `wasi-block` driver: `ukc:block/block` on the `wasi` target. The block device
//! `NAME` is the file `NAME` in the directory the WASI host preopens under the guest path
//! `/dev/block` (`wasmtime run --dir DIR::/dev/block`, with the image at `DIR/NAME`):
//! WASI hosts preopen directories only, and one directory serves every device.
//!
//! Devices behave as `ukc-unix`'s: the capacity is the file's size, which must be a
//! multiple of the sector size; accesses are sector-aligned, bounds-checked and at most
//! 16 MiB; `flush` is `sync-data`; a file the host will not open for writing is attached
//! read-only and writes get `denied`. The sector size is fixed at 512: a WASI host passes
//! nothing per device but the preopen, so there is nowhere to choose another (an
//! environment variable read through `wasi:cli/environment` would be the place to add).

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-block;
        world wasi-block {
            export ukc:block/block@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use exports::ukc::block::block::{self, Error, GuestDevice, Info};
use ukc_hvt_abi::block_range;
use wasip2::cli::stderr;
use wasip2::filesystem::preopens;
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags};

/// The guest directory holding one file per block device.
const DIRECTORY: &str = "/dev/block";

/// The unit of every access, in bytes.
const SECTOR_SIZE: u32 = 512;

struct Block;

/// An acquired device: its file, opened for reading and, if the host allowed, writing.
struct Device {
    name: String,
    file: Descriptor,
    capacity: u64,
    writable: bool,
}

impl block::Guest for Block {
    type Device = Device;

    fn acquire(name: String) -> Result<block::Device, Error> {
        // `Error` carries no text, so the reason and what to do go to standard error.
        Device::open(&name).map(block::Device::new).map_err(|(error, message)| {
            warn(&format!("block device '{name}': {message}"));
            error
        })
    }
}

impl Device {
    /// Opens the file of the device `name`, or says why it cannot serve as one.
    fn open(name: &str) -> Result<Device, (Error, String)> {
        let attach = format!("run wasmtime with --dir DIR::{DIRECTORY}, where DIR holds the image file '{name}'");
        let directory = preopens::get_directories()
            .into_iter()
            .find(|(_, path)| path.trim_matches('/') == DIRECTORY.trim_matches('/'))
            .map(|(directory, _)| directory)
            .ok_or_else(|| (Error::NotFound, format!("no directory is preopened as {DIRECTORY}; {attach}")))?;
        // Device names are single file names; anything else cannot name a device.
        if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
            return Err((Error::NotFound, "a device name is a file name, without '/'".into()));
        }
        let path = format!("{DIRECTORY}/{name}");
        let (file, writable) = match open_file(&directory, name, DescriptorFlags::READ | DescriptorFlags::WRITE) {
            Ok(file) => (file, true),
            Err(ErrorCode::NoEntry) => return Err((Error::NotFound, format!("there is no file {path}; {attach}"))),
            // Hosts give different reasons for refusing to write (wasmtime reports a
            // read-only file system as `io`): a file that opens for reading is then a
            // read-only device, whatever the reason.
            Err(refused) => match open_file(&directory, name, DescriptorFlags::READ) {
                Ok(file) => (file, false),
                Err(ErrorCode::Access | ErrorCode::NotPermitted) => {
                    return Err((Error::Denied, format!("cannot open {path}: {}", refused.message())));
                }
                Err(_) => return Err((Error::Io, format!("cannot open {path}: {}", refused.message()))),
            },
        };
        let stat = file.stat().map_err(|e| (Error::Io, format!("cannot stat {path}: {}", e.message())))?;
        if stat.type_ != DescriptorType::RegularFile {
            return Err((Error::NotFound, format!("{path} is not a regular file")));
        }
        let capacity = stat.size;
        let sector = u64::from(SECTOR_SIZE);
        if !capacity.is_multiple_of(sector) {
            let padded = capacity.div_ceil(sector) * sector;
            return Err((
                Error::NotFound,
                format!(
                    "{path} is {capacity} bytes, not a multiple of the {SECTOR_SIZE}-byte sector size; \
                     pad it with `truncate -s {padded} DIR/{name}`"
                ),
            ));
        }
        Ok(Device { name: name.to_string(), file, capacity, writable })
    }

    /// Checks an access of `len` bytes at `offset`.
    fn check(&self, offset: u64, len: u64) -> Result<(), Error> {
        // The device contract's one rule, as the hosts and the guest kernel check it.
        match block_range::end(offset, len, u64::from(SECTOR_SIZE), self.capacity) {
            Some(_) => Ok(()),
            None => Err(Error::InvalidRange),
        }
    }

    /// Reports a failure of the host's storage, as `ukc-unix` does, and returns `io`.
    fn io_error(&self, what: &str, offset: u64, code: ErrorCode) -> Error {
        warn(&format!(
            "block device '{}' ({DIRECTORY}/{}): {what} at byte {offset}: {}",
            self.name,
            self.name,
            code.message()
        ));
        Error::Io
    }
}

impl GuestDevice for Device {
    fn info(&self) -> Info {
        Info { capacity: self.capacity, sector_size: SECTOR_SIZE }
    }

    fn read(&self, offset: u64, len: u32) -> Result<Vec<u8>, Error> {
        self.check(offset, u64::from(len))?;
        let len = len as usize;
        let mut data = Vec::with_capacity(len);
        // The host may return less than asked (wasmtime at most 64 KiB a call).
        while data.len() < len {
            let at = offset + data.len() as u64;
            let (chunk, _) = self.file.read((len - data.len()) as u64, at).map_err(|e| self.io_error("read", at, e))?;
            if chunk.is_empty() {
                // Checked against the capacity, so the file shrank under us.
                return Err(self.io_error("read", at, ErrorCode::Io));
            }
            data.extend_from_slice(&chunk);
        }
        Ok(data)
    }

    fn write(&self, offset: u64, data: Vec<u8>) -> Result<(), Error> {
        self.check(offset, data.len() as u64)?;
        if !self.writable {
            return Err(Error::Denied);
        }
        let mut done = 0;
        while done < data.len() {
            let at = offset + done as u64;
            let written = self.file.write(&data[done..], at).map_err(|e| self.io_error("write", at, e))?;
            if written == 0 {
                return Err(self.io_error("write", at, ErrorCode::Io));
            }
            done += written as usize;
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), Error> {
        if !self.writable {
            return Ok(());
        }
        self.file.sync_data().map_err(|e| self.io_error("flush", 0, e))
    }
}

/// Opens the existing file `name` in `directory` with `flags`.
fn open_file(directory: &Descriptor, name: &str, flags: DescriptorFlags) -> Result<Descriptor, ErrorCode> {
    directory.open_at(PathFlags::SYMLINK_FOLLOW, name, OpenFlags::empty(), flags)
}

/// Writes one line to the WASI host's standard error (the console is standard output).
fn warn(line: &str) {
    let out = stderr::get_stderr();
    for chunk in format!("wasi-block: {line}\n").as_bytes().chunks(4096) {
        if out.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
}

export!(Block);
