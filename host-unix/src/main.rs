//! `ukc-unix`: runs a unikernel composed for the `unix` target as a Unix process.

mod cli;
mod kv;

use cli::{Command, Invocation};
use std::process::ExitCode;
use ukc_host::args::{Parsed, RuntimeArgs};
use ukc_host::block::BlockBackend;
use ukc_host::engine::{self, Cache};
use ukc_host::{Devices, exit, run};
use ukc_manifest::{DeviceType, UnikernelManifest};
use wasmtime::component::Linker;
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder};

/// The store's data: the shared devices, the kv stores, and the memory limit.
struct UnixHost {
    devices: Devices,
    kv: kv::KvStores,
    limits: StoreLimits,
}

fn main() -> ExitCode {
    let status = match cli::parse(std::env::args().skip(1).collect()) {
        Ok(Command::Help) => {
            println!("{}", cli::help());
            0
        }
        Ok(Command::Version) => {
            println!("ukc-unix {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Ok(Command::Run(invocation)) => boot(invocation),
        Err(message) => {
            eprintln!("ukc-unix: {message}\nusage: {}", cli::USAGE);
            exit::USAGE
        }
    };
    ExitCode::from(status)
}

/// Checks everything the command line and the manifest promise, then boots.
fn boot(invocation: Invocation) -> u8 {
    let setup = || -> Result<(UnikernelManifest, Vec<u8>), (u8, String)> {
        let path = &invocation.unikernel;
        let bytes = std::fs::read(path).map_err(|e| (exit::SETUP, format!("cannot read {path}: {e}")))?;
        let manifest = read_manifest(path, &bytes).map_err(|m| (exit::SETUP, m))?;
        Ok((manifest, bytes))
    };
    let (manifest, bytes) = match setup() {
        Ok(found) => found,
        Err((status, message)) => return fail(status, &message),
    };
    let args = match RuntimeArgs::parse(&manifest, &invocation.args) {
        Ok(Parsed::Run(args)) => args,
        Ok(Parsed::Help) => {
            println!(
                "{}",
                ukc_host::args::help(
                    &manifest,
                    &format!("ukc-unix {} [DEVICES] -- [ARGS...]", invocation.unikernel)
                )
            );
            return 0;
        }
        Err(message) => return fail(exit::USAGE, &message),
    };
    if let Err(message) = invocation.attachments.check(&manifest) {
        return fail(exit::SETUP, &message);
    }
    match instantiate(&invocation, args, &bytes) {
        Ok((component, linker, mut store)) => run::boot("ukc-unix", &component, &linker, &mut store),
        Err(message) => fail(exit::SETUP, &message),
    }
}

/// The unikernel's manifest, or why this file is not a unikernel for `unix`.
fn read_manifest(path: &str, bytes: &[u8]) -> Result<UnikernelManifest, String> {
    let manifest = UnikernelManifest::from_wasm(bytes).map_err(|e| format!("{path}: {e}"))?;
    let manifest = manifest.ok_or_else(|| {
        format!(
            "{path} was not composed by ukc (it has no ukc-unikernel section); compose it first: \
             ukc compose {path} --target unix -o unikernel.wasm"
        )
    })?;
    if manifest.target != "unix" {
        return Err(format!(
            "{path} was composed for the {} target; run it with ukc-{}, or compose the application again with --target unix",
            manifest.target, manifest.target
        ));
    }
    Ok(manifest)
}

/// Opens the devices, compiles (or loads from the cache) and links the unikernel.
fn instantiate(
    invocation: &Invocation,
    args: RuntimeArgs,
    bytes: &[u8],
) -> Result<(wasmtime::component::Component, Linker<UnixHost>, Store<UnixHost>), String> {
    let attachments = &invocation.attachments;
    let blocks = attachments
        .of(DeviceType::Block)
        .map(|(name, path)| BlockBackend::open(name, path, attachments.sector_size(name)))
        .collect::<Result<Vec<_>, _>>()?;
    let stores = attachments
        .of(DeviceType::Kv)
        .map(|(name, dir)| kv::KvDir::open(name, dir))
        .collect::<Result<Vec<_>, _>>()?;
    let engine = engine::engine().map_err(|e| format!("{e:#}"))?;
    let (component, _) = Cache::from_env()
        .load(&engine, bytes)
        .map_err(|e| format!("{}: {e:#}", invocation.unikernel))?;
    let mut linker = Linker::new(&engine);
    Devices::add_to_linker(&mut linker, |h: &mut UnixHost| &mut h.devices).map_err(|e| format!("{e:#}"))?;
    kv::KvStores::add_to_linker(&mut linker, |h: &mut UnixHost| &mut h.kv).map_err(|e| format!("{e:#}"))?;
    let memory = usize::try_from(attachments.mem_mb << 20).unwrap_or(usize::MAX);
    let host = UnixHost {
        devices: Devices::new(args, blocks),
        kv: kv::KvStores::new(stores),
        limits: StoreLimitsBuilder::new().memory_size(memory).build(),
    };
    let mut store = Store::new(&engine, host);
    store.limiter(|h| &mut h.limits);
    Ok((component, linker, store))
}

fn fail(status: u8, message: &str) -> u8 {
    eprintln!("ukc-unix: {message}");
    status
}
