//! The hvt platform as the unikernel imports it (world `ukc:platform/hvt`), implemented
//! by hypercalls to the tender, which serves them with the in-process host's device code.

use crate::block::Blocks;
use crate::clock::Clock;
use crate::net::Nets;
use wasmtime::StoreContextMut;
use wasmtime::component::{HasSelf, Linker, ResourceTable, WasmList};
use wasmtime::{StoreLimits, StoreLimitsBuilder};

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "ukc:platform/hvt",
    imports: { default: trappable },
    with: {
        "ukc:block/block.device": crate::block::BlockDevice,
        "ukc:net/net.device": crate::net::NetDevice,
    },
});

/// The store's data: what the platform's interfaces keep between calls.
pub struct Kernel {
    /// The unikernel's device handles.
    pub table: ResourceTable,
    /// The clocks.
    pub clock: Clock,
    /// Block devices: their caches.
    pub blocks: Blocks,
    /// Net devices: their frame queues and the batch of frames to send.
    pub nets: Nets,
    /// The memory limit, as in process mode.
    pub limits: StoreLimits,
    /// The runtime arguments (an `abi::args_table`).
    pub args: &'static [u8],
}

impl Kernel {
    /// The platform state at boot.
    pub fn new(clock: Clock, nets: Nets, args: &'static [u8], memory_limit: usize) -> Kernel {
        Kernel {
            table: ResourceTable::new(),
            clock,
            blocks: Blocks::default(),
            nets,
            limits: StoreLimitsBuilder::new().memory_size(memory_limit).build(),
            args,
        }
    }
}

/// Adds every interface of the hvt platform to `linker`.
pub fn add_to_linker(linker: &mut Linker<Kernel>) -> wasmtime::Result<()> {
    fn get(kernel: &mut Kernel) -> &mut Kernel {
        kernel
    }
    Hvt::add_to_linker::<Kernel, HasSelf<Kernel>>(linker, get)?;
    // Bindgen's host functions lift a `list<u8>` into a new `Vec` one byte per iteration
    // (the kernel is built without SIMD); the bulk writes replace theirs with ones that
    // read the bytes in place (see `in_place`), and net's `read` with one that lowers a
    // frame from where it lies.
    linker.allow_shadowing(true);
    crate::block::add_write_in_place(linker)?;
    crate::net::add_in_place(linker)?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The bytes of `list`, read in place from the unikernel's memory, next to the kernel's
/// state, for a host function defined with `func_wrap`.
pub fn in_place<'a>(store: &'a mut StoreContextMut<'_, Kernel>, list: &WasmList<u8>) -> (&'a mut Kernel, &'a [u8]) {
    let bytes = list.as_le_slice(&*store);
    let (at, len) = (bytes.as_ptr(), bytes.len());
    // SAFETY: the bytes lie in the unikernel's linear memory, which neither moves nor
    // changes while a host function runs (no wasm runs, and the kernel has one thread);
    // the `Kernel` is a separate allocation.
    (store.data_mut(), unsafe { core::slice::from_raw_parts(at, len) })
}
