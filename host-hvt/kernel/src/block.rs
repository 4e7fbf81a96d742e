//! Block devices: reads and writes through a cache per device ([`crate::block_cache`]),
//! so that runs of small requests cross to the tender as few large ones, each one exit of
//! up to the device model's 16 MiB, straight between the tender's file and guest memory.

use crate::abi;
use crate::block_cache::{self, Cache, Failure, Geometry};
use crate::hypercall::{self, bytes, call};
use crate::world::ukc::block::block::{Error, Host, HostDevice, Info};
use crate::world::{Kernel, in_place};
use alloc::string::String;
use alloc::vec::Vec;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, WasmList};

/// The block interface as unikernels import it.
const INTERFACE: &str = "ukc:block/block@0.1.0";

/// Defines `write` over bindgen's (see `world::add_to_linker`): the data is read in place,
/// from the unikernel's memory; lifted byte by byte, it cost a 1 MiB write more than its
/// exit and the tender's I/O together.
pub fn add_write_in_place(linker: &mut Linker<Kernel>) -> wasmtime::Result<()> {
    linker.instance(INTERFACE)?.func_wrap(
        "[method]device.write",
        |mut store: StoreContextMut<'_, Kernel>, (device, offset, data): (Resource<BlockDevice>, u64, WasmList<u8>)| {
            let (kernel, data) = in_place(&mut store, &data);
            let (cache, mut tender) = kernel.block(&device)?;
            Ok((outcome(cache.write(&mut tender, offset, data))?,))
        },
    )
}

/// The handle a unikernel holds: the device's index in the tender, which is also its
/// index in [`Blocks`].
pub struct BlockDevice {
    index: u64,
}

/// The caches of the devices the unikernel acquired, by the tender's index: handles to
/// the same device share one, so every read sees every write.
#[derive(Default)]
pub struct Blocks {
    caches: Vec<Option<Cache>>,
}

impl Blocks {
    /// Writes back every dirty run, as the unikernel's run ends. A device error here has
    /// no caller left to report to; the tender prints it, as it prints every device error.
    pub fn write_back(&mut self) {
        for (index, cache) in self.caches.iter_mut().enumerate() {
            if let Some(cache) = cache {
                let _ = cache.write_back(&mut Tender { index: index as u64 });
            }
        }
    }

    /// Makes the cache of device `index` on its first acquire, from the tender's geometry.
    fn open(&mut self, index: u64) {
        let slot = index as usize;
        if self.caches.len() <= slot {
            self.caches.resize_with(slot + 1, || None);
        }
        self.caches[slot].get_or_insert_with(|| {
            let info = block_info(index);
            Cache::new(Geometry {
                capacity: info.capacity,
                sector_size: info.sector_size,
                writable: info.writable != 0,
            })
        });
    }

    fn cache(&mut self, index: u64) -> &mut Cache {
        self.caches[index as usize].as_mut().expect("a handle's device has a cache from its acquire")
    }
}

/// The device under a cache: hypercalls to the tender for device `index`.
struct Tender {
    index: u64,
}

/// Why the tender's device failed: an `abi::BLOCK_*` code, or no room in the kernel's heap
/// for a read's buffer, which stops the unikernel.
enum TenderError {
    Code(u64),
    NoRoom(usize),
}

impl block_cache::Device for Tender {
    type Error = TenderError;

    fn read(&mut self, offset: u64, len: usize, into: &mut Vec<u8>) -> Result<(), TenderError> {
        into.try_reserve_exact(len).map_err(|_| TenderError::NoRoom(len))?;
        // The tender fills the buffer, so it is not zeroed first (that would cost as much
        // again as the transfer for large reads).
        let buffer = abi::Bytes { addr: into.as_mut_ptr() as u64, len: len as u64 };
        let mut arg = abi::BlockIo { index: self.index, offset, data: buffer, error: 0 };
        call(abi::call::BLOCK_READ, &mut arg);
        if arg.error != 0 {
            return Err(TenderError::Code(arg.error));
        }
        // SAFETY: `into` was empty with room for `len` bytes, and on success the tender
        // wrote all `len` of them (the device code reads exactly that many or fails).
        unsafe { into.set_len(len) };
        Ok(())
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), TenderError> {
        let mut arg = abi::BlockIo { index: self.index, offset, data: bytes(data), error: 0 };
        call(abi::call::BLOCK_WRITE, &mut arg);
        if arg.error != 0 { Err(TenderError::Code(arg.error)) } else { Ok(()) }
    }

    fn flush(&mut self) -> Result<(), TenderError> {
        let mut arg = abi::BlockIo { index: self.index, ..Default::default() };
        call(abi::call::BLOCK_FLUSH, &mut arg);
        if arg.error != 0 { Err(TenderError::Code(arg.error)) } else { Ok(()) }
    }
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

/// The geometry of device `index`, from the tender.
fn block_info(index: u64) -> abi::BlockInfo {
    let mut arg = abi::BlockInfo { index, ..Default::default() };
    call(abi::call::BLOCK_INFO, &mut arg);
    arg
}

/// The WIT result of a cache's answer; running out of heap stops the unikernel.
fn outcome<T>(result: Result<T, Failure<TenderError>>) -> wasmtime::Result<Result<T, Error>> {
    Ok(match result {
        Ok(value) => Ok(value),
        Err(Failure::InvalidRange) => Err(Error::InvalidRange),
        Err(Failure::Denied) => Err(Error::Denied),
        Err(Failure::Lost) => Err(Error::Io),
        Err(Failure::Device(TenderError::Code(code))) => Err(match code {
            abi::BLOCK_INVALID_RANGE => Error::InvalidRange,
            abi::BLOCK_DENIED => Error::Denied,
            abi::BLOCK_NOT_FOUND => Error::NotFound,
            _ => Error::Io,
        }),
        Err(Failure::Device(TenderError::NoRoom(len))) => {
            return Err(wasmtime::Error::msg(alloc::format!(
                "the guest kernel has no room for a {len}-byte block read; raise --mem"
            )));
        }
    })
}

impl Kernel {
    fn block(&mut self, device: &Resource<BlockDevice>) -> wasmtime::Result<(&mut Cache, Tender)> {
        let index = self.table.get(device)?.index;
        Ok((self.blocks.cache(index), Tender { index }))
    }
}

impl Host for Kernel {
    fn acquire(&mut self, name: String) -> wasmtime::Result<Result<Resource<BlockDevice>, Error>> {
        let index = acquire(abi::BLOCK, &name)?;
        self.blocks.open(index);
        Ok(Ok(self.table.push(BlockDevice { index })?))
    }
}

impl HostDevice for Kernel {
    /// Asks the tender each time, though the cache knows the answer: a call that costs one
    /// bare exit is what `bench/` measures an exit with.
    fn info(&mut self, device: Resource<BlockDevice>) -> wasmtime::Result<Info> {
        let info = block_info(self.table.get(&device)?.index);
        Ok(Info { capacity: info.capacity, sector_size: info.sector_size as u32 })
    }

    fn read(
        &mut self,
        device: Resource<BlockDevice>,
        offset: u64,
        len: u32,
    ) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let (cache, mut tender) = self.block(&device)?;
        outcome(cache.read(&mut tender, offset, len))
    }

    /// Not what unikernels call: [`add_write_in_place`] replaces it (the trait requires it).
    fn write(
        &mut self,
        device: Resource<BlockDevice>,
        offset: u64,
        data: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let (cache, mut tender) = self.block(&device)?;
        outcome(cache.write(&mut tender, offset, &data))
    }

    fn flush(&mut self, device: Resource<BlockDevice>) -> wasmtime::Result<Result<(), Error>> {
        let (cache, mut tender) = self.block(&device)?;
        outcome(cache.flush(&mut tender))
    }

    fn drop(&mut self, device: Resource<BlockDevice>) -> wasmtime::Result<()> {
        self.table.delete(device)?;
        Ok(())
    }
}
