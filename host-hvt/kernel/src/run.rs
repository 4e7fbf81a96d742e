//! Loading the unikernel the tender precompiled, running it, and saying how it ended,
//! as the in-process host does (host-common's `run.rs`).

use crate::abi::{self, Outcome};
use crate::basic::Exit;
use crate::world::{self, Kernel};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use core::ptr::NonNull;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store, Trap, WasmBacktrace};

/// The name under which a unikernel exports its entry point.
use crate::abi::MAIN_EXPORT;

/// Loads the artifact `boot` names and runs it with `kernel` as its platform.
pub fn run(boot: &abi::BootInfo, kernel: Kernel) -> Outcome {
    let component = match load(boot) {
        Ok(component) => component,
        Err(e) => return Outcome::CannotLoad(format!("{e:#}")),
    };
    let mut linker = Linker::new(component.engine());
    if let Err(e) = world::add_to_linker(&mut linker) {
        return Outcome::CannotLink(format!("{e:#}"));
    }
    let mut store = Store::new(component.engine(), kernel);
    store.limiter(|kernel| &mut kernel.limits);
    let outcome = call_main(&component, &linker, &mut store);
    // Frames the unikernel sent and blocks it wrote before it stopped still reach their
    // devices, as in process mode.
    store.data_mut().nets.flush();
    store.data_mut().blocks.write_back();
    outcome
}

/// The engine, and the unikernel deserialized in place from the artifact.
fn load(boot: &abi::BootInfo) -> wasmtime::Result<Component> {
    let mut config = Config::new();
    crate::engine_config::configure(&mut config)?;
    config.with_custom_code_memory(Some(Arc::new(crate::code::TenderMapped::new(boot.code))));
    // SAFETY: `has_feature` answers from CPUID, which describes the vCPU the code runs on.
    unsafe { config.detect_host_feature(crate::cpu::has_feature) };
    // SAFETY: the kernel passes floats in integer registers, Cranelift in vector ones;
    // they meet only in the runtime's float helpers, which code compiled with SSE4.1 and
    // SSSE3 never calls (engine_config::CPU_FEATURES, checked by wasmtime at load).
    unsafe { config.x86_float_abi_ok(true) };
    let engine = Engine::new(&config)?;
    let artifact = NonNull::slice_from_raw_parts(
        NonNull::new(boot.artifact.addr as *mut u8).ok_or_else(|| wasmtime::Error::msg("no artifact"))?,
        boot.artifact.len as usize,
    );
    // SAFETY: the tender compiled the artifact with this wasmtime version and this
    // engine configuration (wasmtime checks both), checked that it is its own (the
    // compile cache authenticates every entry), placed it in memory reserved for it that
    // the kernel cannot write, and mapped its code executable (`code::TenderMapped`).
    unsafe { Component::deserialize_raw(&engine, artifact) }
}

/// Instantiates the unikernel and calls its `run`.
fn call_main(component: &Component, linker: &Linker<Kernel>, store: &mut Store<Kernel>) -> Outcome {
    let instance = match linker.instantiate(&mut *store, component) {
        Ok(instance) => instance,
        Err(e) => return Outcome::CannotLink(format!("{e:#}")),
    };
    let run = instance
        .get_export_index(&mut *store, None, MAIN_EXPORT)
        .and_then(|main| instance.get_export_index(&mut *store, Some(&main), "run"))
        .and_then(|run| instance.get_typed_func::<(), (Result<(), String>,)>(&mut *store, run).ok());
    let Some(run) = run else {
        return Outcome::NoEntryPoint;
    };
    match run.call(&mut *store, ()) {
        Ok((Ok(()),)) => Outcome::Finished,
        Ok((Err(message),)) => Outcome::Failed(message),
        Err(e) => stopped(&e),
    }
}

/// The outcome of an error that unwound the unikernel: an exit, a trap, or a refusal.
fn stopped(error: &wasmtime::Error) -> Outcome {
    if let Some(Exit(status)) = error.downcast_ref::<Exit>() {
        return Outcome::Exited(*status);
    }
    let component = error
        .downcast_ref::<WasmBacktrace>()
        .and_then(|bt| bt.frames().iter().find_map(|f| f.module().name().map(str::to_string)))
        .unwrap_or_else(|| "an unnamed component".to_string());
    match error.downcast_ref::<Trap>() {
        Some(trap) => Outcome::Trapped { component, trap: trap.to_string() },
        None => {
            let message = error.chain().last().map(ToString::to_string).unwrap_or_else(|| error.to_string());
            Outcome::Stopped { component, message }
        }
    }
}
