//! Booting: instantiate the unikernel, call its entry point, and turn the outcome into
//! the host's exit status with one clear message.

use crate::exit::{self, Exit};
use wasmtime::component::{Component, Linker};
use wasmtime::{Store, Trap, WasmBacktrace};

/// The name under which a unikernel exports its entry point.
pub const MAIN_EXPORT: &str = "ukc:app/main@0.1.0";

/// Instantiates `component` and runs it; returns the exit status. `host` names the
/// host program in messages.
pub fn boot<T: 'static>(host: &str, component: &Component, linker: &Linker<T>, store: &mut Store<T>) -> u8 {
    let instance = match linker.instantiate(&mut *store, component) {
        Ok(instance) => instance,
        Err(e) => {
            eprintln!("{host}: cannot link the unikernel: {e:#}");
            return exit::SETUP;
        }
    };
    let run = instance
        .get_export_index(&mut *store, None, MAIN_EXPORT)
        .and_then(|main| instance.get_export_index(&mut *store, Some(&main), "run"))
        .and_then(|run| instance.get_typed_func::<(), (Result<(), String>,)>(&mut *store, run).ok());
    let Some(run) = run else {
        eprintln!("{host}: the unikernel does not export {MAIN_EXPORT} with `run: func() -> result<_, string>`");
        return exit::SETUP;
    };
    match run.call(&mut *store, ()) {
        Ok((Ok(()),)) => 0,
        Ok((Err(message),)) => {
            eprintln!("{host}: the unikernel failed: {message}");
            exit::FAILED
        }
        Err(e) => stopped(host, &e),
    }
}

/// The status for an error that unwound the guest: an exit, a trap, or a host refusal.
fn stopped(host: &str, error: &wasmtime::Error) -> u8 {
    if let Some(Exit(status)) = error.downcast_ref::<Exit>() {
        return *status;
    }
    let component = error
        .downcast_ref::<WasmBacktrace>()
        .and_then(|bt| bt.frames().iter().find_map(|f| f.module().name().map(str::to_string)))
        .unwrap_or_else(|| "an unnamed component".to_string());
    match error.downcast_ref::<Trap>() {
        Some(trap) => eprintln!("{host}: the unikernel trapped in {component}: {trap}"),
        None => eprintln!("{host}: the unikernel was stopped in {component}: {}", root_message(error)),
    }
    exit::TRAP
}

/// The innermost message of an error chain (the backtrace is shown separately).
fn root_message(error: &wasmtime::Error) -> String {
    error.chain().last().map(ToString::to_string).unwrap_or_else(|| error.to_string())
}
