//! Booting: instantiate the unikernel, call its entry point, and turn the outcome into
//! the host's exit status with one clear message.

use crate::exit::{self, Exit, TimedOut};
use wasmtime::component::{Component, Linker};
use wasmtime::{Store, Trap, WasmBacktrace};

pub use ukc_hvt_abi::MAIN_EXPORT;

/// How a unikernel's run ended: one type with the guest kernel and the tender, which
/// carry it across the VM boundary (see `ukc_hvt_abi::outcome`).
pub use ukc_hvt_abi::Outcome;

/// Prints how the run ended on standard error, as `host`, and returns the exit status it
/// stands for: the same words and statuses whichever isolation the unikernel ran in.
pub fn report(outcome: &Outcome, host: &str) -> u8 {
    match outcome {
        Outcome::Finished => 0,
        Outcome::Failed(message) => {
            eprintln!("{host}: the unikernel failed: {message}");
            exit::FAILED
        }
        Outcome::Exited(status) => *status,
        Outcome::Trapped { component, trap } => {
            eprintln!("{host}: the unikernel trapped in {component}: {trap}");
            exit::TRAP
        }
        Outcome::Stopped { component, message } => {
            eprintln!("{host}: the unikernel was stopped in {component}: {message}");
            exit::TRAP
        }
        Outcome::TimedOut(limit) => {
            eprintln!(
                "{host}: the unikernel ran past --timeout={} and was stopped (exit status {})",
                limit.as_secs_f64(),
                exit::TIMEOUT
            );
            exit::TIMEOUT
        }
        Outcome::CannotLink(message) => {
            eprintln!("{host}: cannot link the unikernel: {message}");
            exit::SETUP
        }
        Outcome::NoEntryPoint => {
            eprintln!("{host}: the unikernel does not export {MAIN_EXPORT} with `run: func() -> result<_, string>`");
            exit::SETUP
        }
        Outcome::CannotLoad(message) => {
            eprintln!("{host}: the guest kernel cannot load the unikernel: {message}");
            exit::SETUP
        }
        Outcome::KernelFailed(message) => {
            eprintln!("{host}: {message}");
            exit::TRAP
        }
    }
}

/// Instantiates `component` and runs it; returns the exit status. `host` names the
/// host program in messages.
pub fn boot<T: 'static>(host: &str, component: &Component, linker: &Linker<T>, store: &mut Store<T>) -> u8 {
    report(&run(component, linker, store), host)
}

/// Instantiates `component`, runs it and says how it ended.
fn run<T: 'static>(component: &Component, linker: &Linker<T>, store: &mut Store<T>) -> Outcome {
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

/// The outcome of an error that unwound the guest: an exit, a time-out, a trap, or a
/// host refusal.
fn stopped(error: &wasmtime::Error) -> Outcome {
    if let Some(Exit(status)) = error.downcast_ref::<Exit>() {
        return Outcome::Exited(*status);
    }
    if let Some(TimedOut(limit)) = error.downcast_ref::<TimedOut>() {
        return Outcome::TimedOut(*limit);
    }
    let component = error
        .downcast_ref::<WasmBacktrace>()
        .and_then(|bt| bt.frames().iter().find_map(|f| f.module().name().map(str::to_string)))
        .unwrap_or_else(|| "an unnamed component".to_string());
    match error.downcast_ref::<Trap>() {
        Some(trap) => Outcome::Trapped { component, trap: trap.to_string() },
        None => Outcome::Stopped { component, message: root_message(error) },
    }
}

/// The innermost message of an error chain (the backtrace is shown separately).
fn root_message(error: &wasmtime::Error) -> String {
    error.chain().last().map(ToString::to_string).unwrap_or_else(|| error.to_string())
}
