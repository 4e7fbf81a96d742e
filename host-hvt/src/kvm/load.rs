//! Placing the guest kernel and the unikernel in guest memory, as `layout.rs` lays them
//! out, with the descriptor and page tables and the boot information.

use super::memory::{GuestMemory, OutOfBounds};
use super::{KERNEL, abi, cpu_x86_64, elf, layout, paging};
use std::ops::Range;
use ukc_host::net::NetBackend;

/// The smallest heap worth booting with, after the kernel and the unikernel.
pub const MIN_HEAP: u64 = 2 << 20;
/// How much of the heap the kernel typically touches while it boots a unikernel.
const BOOT_HEAP: u64 = 16 << 20;

/// How much of the stack every boot touches, and more.
const BOOT_STACK: u64 = 64 << 10;

/// How much of the heap every boot touches: the kernel's first allocations and the
/// unikernel's linear memory (the smallest Rust program's is 1.1 MiB).
const FIRST_TOUCHED_HEAP: u64 = 4 << 20;

/// Where everything of one boot goes, before anything is copied in.
pub struct Plan<'a> {
    kernel: elf::Kernel<'static>,
    artifact: &'a [u8],
    /// The net devices' names, then the runtime arguments.
    strings: Vec<u8>,
    names_len: u64,
    layout: layout::Layout,
    memory_size: u64,
}

/// Lays out guest memory of `memory_size` bytes (see `layout.rs`) for the kernel,
/// `artifact`, the names of `nets` and the runtime arguments `args` (an
/// [`abi::args_table`]).
pub fn plan<'a>(artifact: &'a [u8], nets: &[NetBackend], args: &[u8], memory_size: u64) -> Result<Plan<'a>, String> {
    let kernel = elf::Kernel::parse(KERNEL, abi::KERNEL_BASE)?;
    let mut strings: Vec<u8> = nets.iter().flat_map(|n| [n.name().as_bytes(), b"\n"]).flatten().copied().collect();
    let names_len = strings.len() as u64;
    strings.extend_from_slice(args);
    let layout = layout::lay_out(&kernel, artifact, strings.len() as u64, memory_size)?;
    if layout.heap_at + MIN_HEAP > memory_size {
        let needed = (layout.heap_at + MIN_HEAP).div_ceil(1 << 20);
        return Err(format!(
            "--mem={} is too small for the guest kernel and this unikernel; use --mem={needed} or more",
            memory_size >> 20
        ));
    }
    Ok(Plan { kernel, artifact, strings, names_len, layout, memory_size })
}

impl Plan<'_> {
    /// The memory the guest touches first, in every boot: the start of its heap.
    pub fn first_touched(&self) -> Range<u64> {
        self.layout.heap_at..(self.layout.heap_at + FIRST_TOUCHED_HEAP).min(self.memory_size)
    }

    /// Asks the host for huge pages where the guest maps 2 MiB pages: elsewhere its
    /// tables map 4 KiB pages, each of which costs the guest its own first-touch fault
    /// whatever backs it, and a huge page there would only make the host zero 2 MiB for
    /// the few pages in use. Before anything touches that memory, the heap's prefault
    /// included: memory faulted in before the advice keeps its small pages.
    pub fn prefer_huge_pages(&self, memory: &GuestMemory) {
        for stretch in paging::large_pages(&self.layout.regions, self.layout.heap_at + BOOT_HEAP) {
            memory.prefer_huge_pages(stretch);
        }
    }

    /// Copies the kernel, the artifact, the names and the arguments in (after
    /// [`Plan::prefer_huge_pages`]), and writes the descriptor and page tables. Returns
    /// the entry point and the boot information, whose clock the caller fills in and
    /// writes last (and whose heap it narrows to the memory the VM is given at first).
    pub fn place(self, memory: &mut GuestMemory) -> Result<(u64, abi::BootInfo), String> {
        let Plan { kernel, artifact, strings, names_len, layout, .. } = self;
        let too_small = |e: OutOfBounds| format!("guest memory too small: {e}");
        kernel.load(memory).map_err(too_small)?;
        let handlers = exception_handlers(memory, &layout)?;
        cpu_x86_64::write_tables(memory, &handlers).map_err(too_small)?;
        paging::write(memory, &layout.regions, layout.tables_at).map_err(too_small)?;
        memory.slice_mut(layout.artifact_at, artifact.len() as u64).map_err(too_small)?.copy_from_slice(artifact);
        memory.slice_mut(layout.strings_at, strings.len() as u64).map_err(too_small)?.copy_from_slice(&strings);
        // The stack's pages exist on the host before the guest touches them, so that
        // KVM maps the neighbours of a page the guest faults in along with it: one fault
        // for each 8 pages instead of one for each page (~15 µs each here; a boot uses
        // five or so).
        memory.fault_in(abi::STACK_TOP - BOOT_STACK..abi::STACK_TOP);
        let info = abi::BootInfo {
            magic: abi::BOOT_MAGIC,
            memory_size: memory.size(),
            heap: abi::Bytes { addr: layout.heap_at, len: memory.size() - layout.heap_at },
            artifact: abi::Bytes { addr: layout.artifact_at, len: artifact.len() as u64 },
            code: abi::Bytes { addr: layout.code.start, len: layout.code.end - layout.code.start },
            net_names: abi::Bytes { addr: layout.strings_at, len: names_len },
            args: abi::Bytes { addr: layout.strings_at + names_len, len: strings.len() as u64 - names_len },
            memory_limit: memory.size(),
            clock: abi::Clock::default(),
        };
        Ok((kernel.entry, info))
    }
}

/// The kernel's exception handlers, from its `ukc_exception_table` (see the kernel's
/// `exceptions.rs`), each checked to be kernel code.
fn exception_handlers(
    memory: &GuestMemory,
    layout: &layout::Layout,
) -> Result<[u64; abi::IDT_ENTRIES as usize], String> {
    let bad = |what: &str| format!("the embedded guest kernel's exception handlers {what}; rebuild ukc-hvt");
    let table = elf::symbol(KERNEL, "ukc_exception_table").ok_or_else(|| bad("are missing"))?;
    let mut handlers = [0u64; abi::IDT_ENTRIES as usize];
    for (vector, handler) in handlers.iter_mut().enumerate() {
        *handler = memory.read(table + 8 * vector as u64).map_err(|_| bad("lie outside guest memory"))?;
        let is_code = |r: &paging::Region| r.access == paging::Access::Execute && r.range.contains(handler);
        if *handler < abi::KERNEL_BASE || *handler >= layout.artifact_at || !layout.regions.iter().any(is_code) {
            return Err(bad("are not kernel code"));
        }
    }
    Ok(handlers)
}
