//! The whole boot, the same for every host: read the unikernel and its manifest, parse
//! its runtime arguments, check the attached devices against the manifest, open them,
//! compile (or load from the cache), link and run.

use crate::args::{Parsed, RuntimeArgs};
use crate::cache::Cache;
use crate::engine;
use crate::exit::TimedOut;
use crate::flags::Attachments;
use crate::{Devices, exit, run};
use std::time::Duration;
use ukc_manifest::UnikernelManifest;
use ukc_manifest::hosts::TargetHost;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};

/// Who is booting: the host program and the target it serves.
pub struct HostInfo {
    /// The program's name, which starts every message (`ukc-hvt`).
    pub name: &'static str,
    /// The target whose unikernels it runs (`hvt`).
    pub target: &'static str,
}

/// What a host's command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Print the host's help.
    Help,
    /// Print the version.
    Version,
    /// Boot a unikernel.
    Run(Box<Invocation>),
}

/// A host's command line: its parser, its help text and its one-line usage.
pub struct CommandLine {
    /// Parses the arguments after the program name; the error is one line for the user.
    pub parse: fn(Vec<String>) -> Result<Command, String>,
    /// The text `--help` prints.
    pub help: fn() -> String,
    /// One line of usage, printed after a command-line error.
    pub usage: fn() -> String,
}

/// A host's `main`: parses the command line, then prints help or the version, or boots;
/// returns the process's exit status.
pub fn main(host: &HostInfo, command_line: &CommandLine) -> std::process::ExitCode {
    let parsed = (command_line.parse)(std::env::args().skip(1).collect());
    respond(host, command_line, parsed, |invocation| launch(host, invocation))
}

/// Acts on a parsed command line: prints help or the version, reports a usage error, or
/// hands the invocation to `boot`; returns the process's exit status. For hosts that
/// choose how to boot (in this process or in a VM).
pub fn respond(
    host: &HostInfo,
    command_line: &CommandLine,
    parsed: Result<Command, String>,
    boot: impl FnOnce(&Invocation) -> u8,
) -> std::process::ExitCode {
    let status = match parsed {
        Ok(Command::Help) => {
            println!("{}", (command_line.help)());
            0
        }
        Ok(Command::Version) => {
            println!("{} {}", host.name, env!("CARGO_PKG_VERSION"));
            0
        }
        Ok(Command::Run(invocation)) => boot(&invocation),
        Err(message) => {
            eprintln!("{}: {message}\nusage: {}", host.name, (command_line.usage)());
            exit::USAGE
        }
    };
    std::process::ExitCode::from(status)
}

/// A unikernel to boot, its devices, and its runtime arguments.
#[derive(Debug, PartialEq, Eq)]
pub struct Invocation {
    /// Path of the composed unikernel.
    pub unikernel: String,
    /// Devices and memory limit.
    pub attachments: Attachments,
    /// The unikernel's own arguments.
    pub args: Vec<String>,
}

/// The store's data: the devices and the memory limit.
pub struct Guest {
    /// The devices of the host's platform.
    pub devices: Devices,
    limits: StoreLimits,
}

/// A unikernel that passed every check before boot: its bytes, and its devices opened.
pub struct Unikernel {
    /// Where it was read from.
    pub path: String,
    /// The composed component.
    pub bytes: Vec<u8>,
    /// The shared devices, attached as the command line says.
    pub devices: Devices,
    /// The largest linear memory it may have, in bytes (`--mem`).
    pub memory_limit: usize,
}

/// Boots `invocation` in this process and returns the process's exit status; every
/// failure is reported on standard error in one message.
pub fn launch(host: &HostInfo, invocation: &Invocation) -> u8 {
    let prepared = open(host, invocation).and_then(|unikernel| match unikernel {
        Some(unikernel) => prepare(host, unikernel, &invocation.attachments).map(Some),
        None => Ok(None),
    });
    match prepared {
        Ok(Some((component, linker, mut store))) => run::boot(host.name, &component, &linker, &mut store),
        Ok(None) => 0,
        Err((status, message)) => {
            eprintln!("{}: {message}", host.name);
            status
        }
    }
}

type Prepared = (Component, Linker<Guest>, Store<Guest>);

/// What every host does before running, wherever it runs the unikernel: read it and its
/// manifest, parse its runtime arguments, check the attached devices against the
/// manifest and open them. `None` when only help was asked for (and printed); the
/// error is an exit status and one line for the user.
pub fn open(host: &HostInfo, invocation: &Invocation) -> Result<Option<Unikernel>, (u8, String)> {
    let setup = |message: String| (exit::SETUP, message);
    let path = &invocation.unikernel;
    // A file, or a package: oci:DIR[:TAG], oci-archive:FILE[:TAG], oci://HOST/REPO[:TAG|@DIGEST].
    let bytes = ukc_oci::read(path).map_err(|e| setup(format!("{e:#}")))?;
    let manifest = read_manifest(host, path, &bytes).map_err(setup)?;
    let args = match RuntimeArgs::parse(&manifest, &invocation.args) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            let usage = TargetHost::of(host.target).map(|h| h.args_usage()).unwrap_or_default();
            println!("{}", crate::args::help(&manifest, &usage.replace("UNIKERNEL", path)));
            return Ok(None);
        }
        Err(message) => return Err((exit::USAGE, message)),
    };
    let attachments = &invocation.attachments;
    attachments.check(&manifest).map_err(setup)?;
    let blocks = crate::block::open_all(attachments, &manifest).map_err(setup)?;
    let nets = crate::net::open_all(attachments).map_err(setup)?;
    let mut devices = Devices::new(args, blocks, nets);
    devices.attach_kv(crate::kv::KvStores::open(attachments).map_err(setup)?);
    devices.restrict_sockets(attachments.sockets.clone());
    if let Some(limit) = attachments.timeout {
        devices.limit_time(limit);
    }
    // At most 16 TiB (flags::MAX_MEM_MB): the bytes fit a u64 without wrapping.
    let memory_limit = usize::try_from(attachments.mem_mb << 20).unwrap_or(usize::MAX);
    Ok(Some(Unikernel { path: path.clone(), bytes, devices, memory_limit }))
}

/// Compiles (or loads from the cache) and links the unikernel for this process.
fn prepare(host: &HostInfo, unikernel: Unikernel, attachments: &Attachments) -> Result<Prepared, (u8, String)> {
    let setup = |message: String| (exit::SETUP, message);
    let engine = engine::engine(attachments.timeout.is_some()).map_err(|e| setup(format!("{e:#}")))?;
    let (component, _) =
        Cache::from_env().load(&engine, &unikernel.bytes).map_err(|e| setup(format!("{}: {e:#}", unikernel.path)))?;
    let mut linker = Linker::new(&engine);
    Devices::add_to_linker(&mut linker, host.target, |g: &mut Guest| &mut g.devices)
        .map_err(|e| setup(format!("{e:#}")))?;
    let guest = Guest {
        devices: unikernel.devices,
        limits: StoreLimitsBuilder::new().memory_size(unikernel.memory_limit).build(),
    };
    let mut store = Store::new(&engine, guest);
    store.limiter(|g| &mut g.limits);
    if let Some(limit) = attachments.timeout {
        interrupt_after(&engine, &mut store, limit);
    }
    Ok((component, linker, store))
}

/// Stops code that runs past `limit` without calling the host: the engine's epoch
/// advances once, at the limit, and the store's deadline is that first tick. (A guest
/// waiting in `yield` is stopped by the devices' own time limit.)
fn interrupt_after<T>(engine: &Engine, store: &mut Store<T>, limit: Duration) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| Err(wasmtime::Error::new(TimedOut(limit))));
    let engine = engine.clone();
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        engine.increment_epoch();
    });
}
/// The unikernel's manifest, or why this file is not a unikernel for this host.
fn read_manifest(host: &HostInfo, path: &str, bytes: &[u8]) -> Result<UnikernelManifest, String> {
    let manifest = UnikernelManifest::from_wasm(bytes).map_err(|e| format!("{path}: {e}"))?;
    let manifest = manifest.ok_or_else(|| {
        // `ukc compose` reads files: a package's component is pulled to one first.
        let file = match ukc_oci::Source::parse(path) {
            Ok(ukc_oci::Source::File(_)) => path.to_string(),
            _ => "app.wasm".to_string(),
        };
        let pull = if file == path { String::new() } else { format!("ukc pull {path} -o {file} && ") };
        format!(
            "{path} was not composed by ukc (it has no ukc-unikernel section); compose it first: \
             {pull}ukc compose {file} --target {} -o unikernel.wasm",
            host.target
        )
    })?;
    if manifest.target != host.target {
        return Err(format!(
            "{path} was composed for the {} target; run it with ukc-{}, or compose the application again with --target {}",
            manifest.target, manifest.target, host.target
        ));
    }
    Ok(manifest)
}
