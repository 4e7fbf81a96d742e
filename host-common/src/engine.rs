//! The wasmtime engine hosts use (the compile cache, `cache.rs`, makes warm boots skip
//! compiling for it).

use anyhow::{Context, Result};
use wasmtime::{Config, Engine};

/// The engine every host uses: Cranelift, backtraces on (the default 20 frames; they
/// name the component a trap came from), no fuel. With `interruptible`, compiled code
/// checks the engine's epoch so that a time limit can stop a unikernel that never calls
/// the host; that costs a little speed, so it is on only for runs with a time limit.
pub fn engine(interruptible: bool) -> Result<Engine> {
    let mut config = Config::new();
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    config.epoch_interruption(interruptible);
    Engine::new(&config).map_err(anyhow::Error::from).context("cannot create the WebAssembly engine")
}
