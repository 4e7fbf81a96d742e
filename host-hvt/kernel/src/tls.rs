//! Thread-local storage for wasmtime, which a `no_std` embedder provides. The kernel
//! has a single thread, so one global per slot is the thread's storage.

use core::sync::atomic::{AtomicPtr, Ordering};

/// Slots wasmtime uses: the runtime's activation list and component-model state.
static SLOTS: [AtomicPtr<u8>; 2] = [const { AtomicPtr::new(core::ptr::null_mut()) }; 2];

/// Reads slot `slot` (called by wasmtime).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_tls_get(slot: usize) -> *mut u8 {
    SLOTS[slot].load(Ordering::Relaxed)
}

/// Writes slot `slot` (called by wasmtime).
#[unsafe(no_mangle)]
pub extern "C" fn wasmtime_tls_set(slot: usize, value: *mut u8) {
    SLOTS[slot].store(value, Ordering::Relaxed);
}
