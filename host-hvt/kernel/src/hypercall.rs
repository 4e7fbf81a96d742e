//! Hypercalls: `out` of an argument's address to the call's port (see the `ukc-hvt-abi` crate).

use crate::abi;
use alloc::string::String;

/// Makes hypercall `number` with `arg`, which the tender reads and updates in place
/// (with any buffer `arg` names) before this returns.
pub fn call<T>(number: u16, arg: &mut T) {
    let address = arg as *mut T as u64;
    debug_assert!(address < abi::MAX_MEMORY, "guest memory ends below 4 GiB");
    // SAFETY: `out` only exits to the tender, which reads and writes `*arg` and the
    // buffers it names (owned by the caller, alive across the call) while this vCPU is
    // stopped. Without `nomem`, the compiler assumes the asm reads and writes memory.
    unsafe {
        core::arch::asm!(
            "out dx, eax",
            in("dx") abi::PORT_BASE + number,
            in("eax") address as u32,
            options(nostack, preserves_flags),
        );
    }
}

/// A byte range in guest memory for an argument struct.
pub fn bytes(data: &[u8]) -> abi::Bytes {
    abi::Bytes { addr: data.as_ptr() as u64, len: data.len() as u64 }
}

/// The message of a refused call: `len` bytes the tender wrote at [`abi::SCRATCH`].
/// Stops the unikernel, as the in-process host's error does.
pub fn refused(len: u64) -> wasmtime::Error {
    let len = len.min(abi::SCRATCH_LEN) as usize;
    // SAFETY: the scratch area is reserved guest memory that only the tender writes,
    // during the hypercall that just returned; nothing holds a reference to it.
    let text = unsafe { core::slice::from_raw_parts(abi::SCRATCH as *const u8, len) };
    wasmtime::Error::msg(String::from_utf8_lossy(text).into_owned())
}
