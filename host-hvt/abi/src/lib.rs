//! The contract between the tender (`host-hvt/src/kvm`) and the guest kernel: where
//! things live in guest memory, what the tender hands over at boot, the hypercalls, and
//! how a run ended ([`Outcome`]). Both sides depend on this crate, so they cannot disagree
//! on a number or a field; every argument struct derives [`bytemuck::Pod`], which checks
//! at compile time that it has no padding and that any bytes the other side wrote are a
//! value of it.
//!
//! It also holds the device contract's rules that every implementation of a device
//! shares, the hosts, the guest kernel and the drivers alike: a block request's range
//! ([`block_range`]), a frame's size ([`net_frame`]), how a TCP frame is cut into segments
//! ([`tso`]) and a kv key ([`kv_key`]).
//!
//! A hypercall is Solo5's: `out dx, eax` with `dx` = [`PORT_BASE`] + the call's number and
//! `eax` = the guest-physical address of the call's argument struct, which the tender
//! reads and updates in place before the guest continues. Guest memory is identity-mapped,
//! so a guest pointer is a guest-physical address. Every address and length in an argument
//! is only the guest's claim: the tender checks each against guest memory before use.
//!
//! Net frames cross in batches (see [`NetIo`]), block transfers in one exit each (up to
//! the device model's 16 MiB, gathered by the kernel's block cache), so that neither is
//! bound by one exit per frame or sector.

#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod args_table;
pub mod block_cache;
pub mod block_range;
pub mod checksum;
pub mod frames;
pub mod kv_key;
pub mod net_frame;
pub mod outcome;
pub mod tso;

pub use outcome::{MAIN_EXPORT, Outcome};

use bytemuck::{Pod, Zeroable};

// Guest-physical layout. The tender maps it with W^X page tables that the kernel cannot
// write (they are supervisor-only, and the kernel runs at CPL3): code read+execute, data
// and stacks not executable, nothing both writable and executable, the descriptor tables
// and the exception stack out of the kernel's reach, and an unmapped guard page under
// each stack. The first 2 MiB and the unikernel's image are mapped with 4 KiB pages; the
// kernel's code and the heap with 2 MiB pages.

/// Global descriptor table: null, kernel code and data, user code and data, the TSS.
pub const GDT: u64 = 0x1000;
/// Interrupt descriptor table: the 32 exception gates, which the tender fills in from
/// the kernel's `ukc_exception_table`.
pub const IDT: u64 = 0x2000;
/// Number of IDT entries: the CPU's exception vectors.
pub const IDT_ENTRIES: u64 = 32;
/// Task state segment: RSP0 for exceptions, then the I/O permission bitmap (3 pages).
pub const TSS: u64 = 0x3000;
/// The [`BootInfo`] (read-only to the kernel).
pub const BOOT_INFO: u64 = 0x6000;
/// Where the tender writes the message of a refused call (see [`REFUSED`]).
pub const SCRATCH: u64 = 0x6800;
/// Size of [`SCRATCH`].
pub const SCRATCH_LEN: u64 = 0x800;
/// The unmapped page under the exception stack.
pub const EXCEPTION_STACK_GUARD: u64 = 0x7000;
/// Top of the stack exception handlers run on (its page is the one below).
pub const EXCEPTION_STACK_TOP: u64 = 0x9000;
/// PML4, PDPT, four page directories (4 GiB) and the page table of the first 2 MiB;
/// the page tables of the images follow them (see the tender's `paging.rs`).
pub const PAGE_TABLES: u64 = 0x9000;
/// The unmapped page under the kernel's stack: an overflow faults instead of corrupting.
pub const STACK_GUARD: u64 = 0x10000;
/// Top of the kernel's stack, which grows down to [`STACK_GUARD`]; the unikernel's code
/// runs on it too.
pub const STACK_TOP: u64 = KERNEL_BASE;
/// Where the kernel is linked and loaded (host-hvt/build.rs passes it to the linker):
/// its ELF headers in the page below 2 MiB, its code from 2 MiB (that stretch to itself),
/// its data from 4 MiB.
pub const KERNEL_BASE: u64 = 0x1f_f000;
/// Guest memory ends below 4 GiB: hypercall arguments are 32-bit addresses.
pub const MAX_MEMORY: u64 = 4 << 30;

/// Code segment selector the kernel runs with (GDT entry 3, RPL 3).
pub const USER_CODE: u16 = 0x1b;
/// Data segment selector the kernel runs with (GDT entry 4, RPL 3).
pub const USER_DATA: u16 = 0x23;
/// Code segment selector of the exception handlers (GDT entry 1).
pub const KERNEL_CODE: u16 = 0x08;

/// Written by the tender at [`BOOT_INFO`]; tells the kernel it was booted by a tender
/// of the same build.
pub const BOOT_MAGIC: u64 = 0x756b_632d_6876_7401 ^ ABI_VERSION;
/// Bumped whenever this file changes meaning.
pub const ABI_VERSION: u64 = 6;

/// The first hypercall port; a call's port is `PORT_BASE + number`.
pub const PORT_BASE: u16 = 0x500;

/// Hypercall numbers.
pub mod call {
    /// [`super::Bytes`]: write to the console.
    pub const CONSOLE: u16 = 1;
    /// [`super::Bytes`]: fill with random bytes.
    pub const ENTROPY: u16 = 2;
    /// [`super::Arg`]: a runtime argument that [`super::BootInfo`]'s `args` does not
    /// declare; the tender refuses it with its message.
    pub const ARG: u16 = 3;
    /// [`super::Acquire`]: a device's index by name.
    pub const ACQUIRE: u16 = 4;
    /// [`super::BlockInfo`].
    pub const BLOCK_INFO: u16 = 5;
    /// [`super::BlockIo`]: read into `data`.
    pub const BLOCK_READ: u16 = 6;
    /// [`super::BlockIo`]: write `data`.
    pub const BLOCK_WRITE: u16 = 7;
    /// [`super::BlockIo`]: flush (`offset` and `data` unused).
    pub const BLOCK_FLUSH: u16 = 8;
    /// [`super::NetInfo`].
    pub const NET_INFO: u16 = 9;
    /// [`super::NetIo`]: send queued frames, receive waiting ones.
    pub const NET_IO: u16 = 10;
    /// [`super::Yield`].
    pub const YIELD: u16 = 11;
    /// [`super::Report`]: the unikernel's run ended; the VM stops.
    pub const REPORT: u16 = 12;
    /// [`super::Bytes`]: the kernel panicked with this message; the VM stops.
    pub const PANIC: u16 = 13;
    /// [`super::Fault`] (from the exception handlers); the VM stops.
    pub const FAULT: u16 = 14;
    /// Retired, never to be reused: the free-form command line, now in
    /// [`super::BootInfo`]'s `args`. The tender refuses it as an unknown call.
    pub const RETIRED_ARGUMENTS: u16 = 15;
    /// [`super::NetSegments`]: receive merged TCP segments from a net device.
    pub const NET_SEGMENTS: u16 = 16;
    /// [`super::Bytes`], set by the tender: the rest of guest memory, which continues
    /// the heap [`super::BootInfo`] names (empty when there is no more). A VM starts with
    /// part of its memory; the kernel asks for the rest when its heap runs out.
    pub const MEMORY: u16 = 17;
}

/// A byte range in guest memory.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct Bytes {
    /// Its guest-physical (identity-mapped) address.
    pub addr: u64,
    /// Its length in bytes.
    pub len: u64,
}

/// Readings of the host's clocks, and the rate of the guest's time-stamp counter, from
/// which the kernel keeps time between hypercalls without exiting.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Clock {
    /// Time-stamp counter ticks per millisecond.
    pub tsc_khz: u64,
    /// The monotonic clock (nanoseconds since boot) when the tender returned.
    pub monotonic_ns: u64,
    /// The wall clock (nanoseconds since the epoch) at the same moment.
    pub wall_ns: u64,
}

/// What the tender hands the kernel at boot, at [`BOOT_INFO`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct BootInfo {
    /// [`BOOT_MAGIC`].
    pub magic: u64,
    /// Bytes of guest memory, from address 0.
    pub memory_size: u64,
    /// Free memory for the kernel's allocator, to start with (see [`call::MEMORY`]).
    pub heap: Bytes,
    /// The unikernel, compiled by the tender to machine code for the kernel's engine.
    pub artifact: Bytes,
    /// The part of `artifact` the tender mapped read+execute: its code (`.text`),
    /// rounded out to whole pages. Everything else in guest memory is not executable.
    pub code: Bytes,
    /// The names of the net devices in index order, each followed by `\n`.
    pub net_names: Bytes,
    /// The runtime arguments (see [`args_table`]).
    pub args: Bytes,
    /// The largest linear memory the unikernel may have (`--mem`), as in process mode.
    pub memory_limit: u64,
    /// The clocks at boot.
    pub clock: Clock,
}

/// `result` of a call the tender refused: the unikernel broke a rule, and the message
/// (`len` bytes at [`SCRATCH`]) says which; the kernel stops it with that message.
pub const REFUSED: u64 = u64::MAX;

/// A runtime argument. `result`: [`ARG_NONE`], [`ARG_SOME`] (the value is `len` bytes,
/// written to `value` when it fits; the kernel asks again with a larger buffer when it
/// does not), or [`REFUSED`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Arg {
    /// The argument's name, without `--`.
    pub name: Bytes,
    /// Room for its value.
    pub value: Bytes,
    /// [`ARG_NONE`], [`ARG_SOME`] or [`REFUSED`]: set by the tender.
    pub result: u64,
    /// The value's length, or the refusal's: set by the tender.
    pub len: u64,
}

/// The argument has no value.
pub const ARG_NONE: u64 = 0;
/// The argument has a value.
pub const ARG_SOME: u64 = 1;

/// Acquire a device of `kind` ([`BLOCK`] or [`NET`]) by name. `result`: 0 and its
/// `index`, or [`REFUSED`] with the message's length in `len`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Acquire {
    /// [`BLOCK`] or [`NET`].
    pub kind: u64,
    /// The device's name.
    pub name: Bytes,
    /// 0, or [`REFUSED`]: set by the tender.
    pub result: u64,
    /// The device's index, for the calls that follow: set by the tender.
    pub index: u64,
    /// The refusal's length: set by the tender.
    pub len: u64,
}

/// Device kind of [`Acquire`]: block.
pub const BLOCK: u64 = 0;
/// Device kind of [`Acquire`]: net.
pub const NET: u64 = 1;

/// A block device's geometry.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct BlockInfo {
    /// The device, as [`Acquire`] returned it.
    pub index: u64,
    /// Its size in bytes: set by the tender.
    pub capacity: u64,
    /// Its sector size in bytes: set by the tender.
    pub sector_size: u64,
    /// 1 when the device accepts writes, 0 when it is read-only.
    pub writable: u64,
}

/// One block transfer. `error`: 0, or one of the `BLOCK_*` error codes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct BlockIo {
    /// The device, as [`Acquire`] returned it.
    pub index: u64,
    /// Where on the device, in bytes (a multiple of the sector size).
    pub offset: u64,
    /// The bytes to write, or room for those read.
    pub data: Bytes,
    /// 0, or a `BLOCK_*` error code: set by the tender.
    pub error: u64,
}

/// Block error: `invalid-range`.
pub const BLOCK_INVALID_RANGE: u64 = 1;
/// Block error: `denied`.
pub const BLOCK_DENIED: u64 = 2;
/// Block error: `io`.
pub const BLOCK_IO: u64 = 3;
/// Block error: `not-found`.
pub const BLOCK_NOT_FOUND: u64 = 4;

/// A net device's identity.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct NetInfo {
    /// The device, as [`Acquire`] returned it.
    pub index: u64,
    /// Its MAC address in the first six bytes: set by the tender.
    pub mac: [u8; 8],
    /// Its MTU in bytes, not counting the Ethernet header: set by the tender.
    pub mtu: u64,
}

/// A request to receive TCP segments longer than the MTU from a net device (the WIT's
/// `receive-segments`); its frames may then be up to [`net_frame::LARGEST_SEGMENT`] long.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct NetSegments {
    /// The device, as [`Acquire`] returned it.
    pub index: u64,
    /// 1 if the device now hands over merged segments, 0 if not: set by the tender.
    pub enabled: u64,
}

/// A batch of frames each way. `tx` holds frames to send and `rx` is room for received
/// ones, both as [`FrameHeader`] records; the tender sends every frame in `tx`, then reads
/// waiting frames of the devices in the `read` mask (bit i: net device i) into `rx` until
/// a device has none left or `rx` has no room for another, and sets `rx_len` and
/// `drained`, the mask of devices it read until none was left.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct NetIo {
    /// Frames to send.
    pub tx: Bytes,
    /// Room for received frames.
    pub rx: Bytes,
    /// The devices to read from, a bit each.
    pub read: u64,
    /// Bytes of `rx` used: set by the tender.
    pub rx_len: u64,
    /// The devices read until none was left: set by the tender.
    pub drained: u64,
}

/// The header of a frame in a [`NetIo`] buffer; the frame follows, and the next record
/// starts at the next multiple of [`FRAME_ALIGN`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct FrameHeader {
    /// The net device's index.
    pub device: u16,
    /// 0 for a frame sent as it is; otherwise the frame is an IPv4 TCP frame to cut into
    /// segments of this many payload bytes ([`tso`], the WIT's `write-segments`). Received
    /// frames have 0.
    pub segment: u16,
    /// The frame's length in bytes.
    pub len: u32,
}

/// Alignment of [`FrameHeader`] records.
pub const FRAME_ALIGN: u64 = 8;
/// Most net devices a unikernel may have: one bit each in a `u64` mask.
pub const MAX_NETS: usize = 64;

/// Where a frame record of `len` bytes at `offset` ends, aligned for the next one.
pub const fn next_frame(offset: u64, len: u64) -> u64 {
    (offset + core::mem::size_of::<FrameHeader>() as u64 + len).next_multiple_of(FRAME_ALIGN)
}

/// `yield`: send `io.tx`, wait until a net device has input or the monotonic clock
/// reaches `deadline`, then receive as [`NetIo`] from the devices with input. `ready`
/// is the mask of devices with input, `clock` the clocks when the tender returned.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Yield {
    /// The monotonic clock's reading to wait until, in nanoseconds.
    pub deadline: u64,
    /// Frames each way, as [`NetIo`].
    pub io: NetIo,
    /// The devices with input: set by the tender.
    pub ready: u64,
    /// The clocks when the tender returned: set by the tender.
    pub clock: Clock,
}

/// How the unikernel's run ended, with the fields each outcome uses.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Report {
    /// An [`outcome::code`].
    pub outcome: u64,
    /// The exit status, or the time limit in nanoseconds.
    pub status: u64,
    /// The component it happened in, or empty.
    pub component: Bytes,
    /// What happened, or empty.
    pub message: Bytes,
}

/// What an exception handler pushed, at the address in `eax` of a [`call::FAULT`]:
/// the vector, the error code (0 for vectors without one), then the CPU's frame.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct Fault {
    /// The exception's vector (14: page fault, ...).
    pub vector: u64,
    /// Its error code, or 0.
    pub error_code: u64,
    /// Where it happened.
    pub rip: u64,
    /// The code segment then.
    pub cs: u64,
    /// The flags then.
    pub rflags: u64,
    /// The stack pointer then.
    pub rsp: u64,
    /// The stack segment then.
    pub ss: u64,
}
