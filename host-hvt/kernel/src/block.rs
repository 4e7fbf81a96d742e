//! Block devices: one exit per read, write or flush, of any size the device model
//! allows (up to 16 MiB), straight between the tender's file and the guest buffer.

use crate::abi;
use crate::hypercall::{self, bytes, call};
use crate::world::Kernel;
use crate::world::ukc::block::block::{Error, Host, HostDevice, Info};
use alloc::string::String;
use alloc::vec::Vec;
use wasmtime::component::Resource;

/// The largest transfer, as the WIT documents; the tender checks it too, but the kernel
/// must not allocate a buffer for a larger one first.
const MAX_TRANSFER: u64 = 16 << 20;

/// The handle a unikernel holds: the device's index in the tender.
pub struct BlockDevice {
    index: u64,
}

/// Acquires the device `name` of `kind` from the tender; a refusal stops the unikernel.
pub fn acquire(kind: u64, name: &str) -> wasmtime::Result<u64> {
    let mut arg = abi::Acquire { kind, name: bytes(name.as_bytes()), ..Default::default() };
    call(abi::call::ACQUIRE, &mut arg);
    if arg.result == abi::REFUSED {
        return Err(hypercall::refused(arg.len));
    }
    Ok(arg.index)
}

fn error(code: u64) -> Result<(), Error> {
    match code {
        0 => Ok(()),
        abi::BLOCK_INVALID_RANGE => Err(Error::InvalidRange),
        abi::BLOCK_DENIED => Err(Error::Denied),
        abi::BLOCK_NOT_FOUND => Err(Error::NotFound),
        _ => Err(Error::Io),
    }
}

impl Kernel {
    fn block_index(&self, device: &Resource<BlockDevice>) -> wasmtime::Result<u64> {
        Ok(self.table.get(device)?.index)
    }
}

impl Host for Kernel {
    fn acquire(&mut self, name: String) -> wasmtime::Result<Result<Resource<BlockDevice>, Error>> {
        let index = acquire(abi::BLOCK, &name)?;
        Ok(Ok(self.table.push(BlockDevice { index })?))
    }
}

impl HostDevice for Kernel {
    fn info(&mut self, device: Resource<BlockDevice>) -> wasmtime::Result<Info> {
        let mut arg = abi::BlockInfo { index: self.block_index(&device)?, ..Default::default() };
        call(abi::call::BLOCK_INFO, &mut arg);
        Ok(Info { capacity: arg.capacity, sector_size: arg.sector_size as u32 })
    }

    fn read(
        &mut self,
        device: Resource<BlockDevice>,
        offset: u64,
        len: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let index = self.block_index(&device)?;
        if u64::from(len) > MAX_TRANSFER || len == 0 {
            return Ok(Err(Error::InvalidRange));
        }
        let mut data = Vec::new();
        data.try_reserve_exact(len as usize).map_err(|_| {
            wasmtime::Error::msg(alloc::format!(
                "the guest kernel has no room for a {len}-byte block read; raise --mem"
            ))
        })?;
        // The tender fills the buffer, so it is not zeroed first (that would cost as much
        // again as the transfer for large reads).
        let buffer = abi::Bytes { addr: data.as_mut_ptr() as u64, len: u64::from(len) };
        let mut arg = abi::BlockIo { index, offset, data: buffer, error: 0 };
        call(abi::call::BLOCK_READ, &mut arg);
        if arg.error == 0 {
            // SAFETY: the capacity is `len`, and on success the tender wrote all `len`
            // bytes (the device code reads exactly that many or fails).
            unsafe { data.set_len(len as usize) };
        }
        Ok(error(arg.error).map(|()| data))
    }

    fn write(
        &mut self,
        device: Resource<BlockDevice>,
        offset: u64,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let mut arg = abi::BlockIo { index: self.block_index(&device)?, offset, data: bytes(&data), error: 0 };
        call(abi::call::BLOCK_WRITE, &mut arg);
        Ok(error(arg.error))
    }

    fn flush(&mut self, device: Resource<BlockDevice>) -> wasmtime::Result<Result<(), Error>> {
        let mut arg = abi::BlockIo { index: self.block_index(&device)?, ..Default::default() };
        call(abi::call::BLOCK_FLUSH, &mut arg);
        Ok(error(arg.error))
    }

    fn drop(&mut self, device: Resource<BlockDevice>) -> wasmtime::Result<()> {
        self.table.delete(device)?;
        Ok(())
    }
}
