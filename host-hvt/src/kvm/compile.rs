//! Compiling the unikernel to machine code for the guest kernel's engine, on the host
//! (the guest has no compiler), with the guest's own configuration and CPU features,
//! through the shared compile cache.

use super::engine_config;
use ukc_host::cache::Cache;
use wasmtime::{Config, Engine};

/// What stands for the guest engine in the compile cache's keys: the source of its
/// settings (the shared `engine_config.rs`, and this file's flags), so that any change to
/// them compiles afresh. Making the engine takes up to a millisecond, which a warm boot
/// then never spends: it needs only the cached artifact. (The guest checks the settings
/// again, in wasmtime, before it runs anything.)
const CONFIGURATION: &str = concat!(include_str!("../../kernel/src/engine_config.rs"), include_str!("compile.rs"));

/// The unikernel `wasm` precompiled for the guest engine, from the cache when it was
/// compiled before.
pub fn precompile(wasm: &[u8]) -> Result<Vec<u8>, String> {
    let compile = || {
        let engine =
            guest_engine().map_err(|e| anyhow::anyhow!("cannot set up the compiler for the guest engine: {e:#}"))?;
        engine.precompile_component(wasm).map_err(|e| anyhow::anyhow!("cannot compile the unikernel: {e:#}"))
    };
    let (artifact, _) =
        Cache::from_env().precompiled_by(CONFIGURATION.as_bytes(), wasm, compile).map_err(|e| format!("{e:#}"))?;
    Ok(artifact)
}

/// An engine configured as the guest's, to compile with.
fn guest_engine() -> wasmtime::Result<Engine> {
    guest_engine_with(|_| {})
}

/// An engine configured as the guest's, then changed by `tweak` (tests use it to make
/// artifacts the guest must refuse).
pub(super) fn guest_engine_with(tweak: impl FnOnce(&mut Config)) -> wasmtime::Result<Engine> {
    let mut config = Config::new();
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    engine_config::configure(&mut config)?;
    for feature in engine_config::CPU_FEATURES {
        // SAFETY: the code runs only in a VM whose vCPU has these features: the tender
        // checks before it boots one (`cpu_x86_64::set_cpuid`), and the kernel again
        // (through wasmtime) before it loads the code.
        unsafe { config.cranelift_flag_enable(feature.flag) };
    }
    tweak(&mut config);
    Engine::new(&config)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_guest_engine_configuration_compiles() {
        let artifact = super::guest_engine().unwrap().precompile_component(b"\0asm\x0d\x00\x01\x00").unwrap();
        assert!(!artifact.is_empty());
    }
}
