//! The guest engine's configuration. The tender compiles unikernels with exactly this
//! configuration (it includes this file), so that the artifacts it makes load here; a
//! mismatch would be refused by wasmtime's own checks when the kernel loads one.

use wasmtime::Config;

/// Configures `config` for the guest: the Pulley interpreter (the guest has no native
/// code generator), no virtual memory tricks (the guest has no MMU of its own to play
/// with: no guard pages, no reservations, no copy-on-write images) and no signals (a
/// trap is detected by explicit checks). Linear memories grow by reallocation, with
/// 1 MiB of room to spare so that small growth does not copy.
pub fn configure(config: &mut Config) -> wasmtime::Result<()> {
    config.target("pulley64")?;
    config.signals_based_traps(false);
    config.memory_guard_size(0);
    config.memory_reservation(0);
    config.memory_reservation_for_growth(1 << 20);
    config.memory_init_cow(false);
    Ok(())
}
