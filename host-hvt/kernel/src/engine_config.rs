//! The guest engine's configuration. The tender compiles unikernels with exactly these
//! settings (it includes this file) and the kernel loads them with the same, so that
//! wasmtime's own checks at load time (target, CPU features, tunables, wasm features)
//! pass only for an artifact made for this kernel; anything else is refused, never run.

use wasmtime::Config;

/// The guest's target: x86-64 machine code for a bare machine, run natively at CPL3.
pub const TARGET: &str = "x86_64-unknown-none";

/// A CPU feature compiled code may use.
pub struct CpuFeature {
    /// Cranelift's flag, which the tender enables when it compiles.
    pub flag: &'static str,
    /// The name wasmtime asks the kernel about when it loads (Rust's feature name).
    pub name: &'static str,
    /// Its bit in ecx of CPUID leaf 1, where both sides look it up.
    pub leaf1_ecx_bit: u32,
}

/// The CPU features compiled code may use: the x86-64-v2 level, which every x86-64 CPU
/// of the last fifteen years has. SSE4.1 and SSSE3 matter beyond speed: without them
/// Cranelift lowers float rounding and byte shuffles to calls into the runtime with
/// floats in vector registers, and the kernel, built for `x86_64-unknown-none`, passes
/// floats in integer registers (see `Config::x86_float_abi_ok`). AVX is left out: it
/// needs XSAVE state that the kernel does not set up.
pub const CPU_FEATURES: [CpuFeature; 6] = [
    CpuFeature { flag: "has_sse3", name: "sse3", leaf1_ecx_bit: 0 },
    CpuFeature { flag: "has_ssse3", name: "ssse3", leaf1_ecx_bit: 9 },
    CpuFeature { flag: "has_cmpxchg16b", name: "cmpxchg16b", leaf1_ecx_bit: 13 },
    CpuFeature { flag: "has_sse41", name: "sse4.1", leaf1_ecx_bit: 19 },
    CpuFeature { flag: "has_sse42", name: "sse4.2", leaf1_ecx_bit: 20 },
    CpuFeature { flag: "has_popcnt", name: "popcnt", leaf1_ecx_bit: 23 },
];

/// Configures the settings both sides share: the target, and how linear memory and traps
/// work without virtual memory tricks (the guest's page tables are fixed by the tender:
/// no guard pages, no reservations, no copy-on-write images) and without signals (every
/// trap is an explicit check that calls into the runtime). Linear memories grow by
/// reallocation, with 1 MiB of room to spare so that small growth does not copy.
pub fn configure(config: &mut Config) -> wasmtime::Result<()> {
    config.target(TARGET)?;
    config.signals_based_traps(false);
    config.memory_guard_size(0);
    config.memory_reservation(0);
    config.memory_reservation_for_growth(1 << 20);
    config.memory_init_cow(false);
    Ok(())
}
