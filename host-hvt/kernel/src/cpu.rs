//! The CPU features the vCPU offers, read with CPUID, for wasmtime's check that the
//! unikernel was compiled for features this CPU has (see `engine_config::CPU_FEATURES`).

use crate::engine_config::CPU_FEATURES;
use core::arch::x86_64::__cpuid;
use core::sync::atomic::{AtomicU64, Ordering};

/// CPUID leaf 1's ecx, with bit 32 set once it has been read: each CPUID is an exit to
/// the hypervisor on this kind of KVM, so it is read once.
static LEAF1_ECX: AtomicU64 = AtomicU64::new(0);
const READ: u64 = 1 << 32;

/// Whether the CPU has `feature` (named as Rust's `is_x86_feature_detected!` names it),
/// or `None` for a feature this function does not know.
pub fn has_feature(feature: &str) -> Option<bool> {
    let known = CPU_FEATURES.iter().find(|f| f.name == feature)?;
    Some(leaf1_ecx() & (1 << known.leaf1_ecx_bit) != 0)
}

fn leaf1_ecx() -> u64 {
    let cached = LEAF1_ECX.load(Ordering::Relaxed);
    if cached & READ != 0 {
        return cached;
    }
    let ecx = u64::from(__cpuid(1).ecx) | READ;
    LEAF1_ECX.store(ecx, Ordering::Relaxed);
    ecx
}
