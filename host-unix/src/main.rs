//! `ukc-unix`: runs a unikernel composed for the `unix` target as a Unix process.

mod cli;
mod kv;

use std::process::ExitCode;
use ukc_host::Devices;
use ukc_host::flags::Attachments;
use ukc_host::launch::{CommandLine, ExtraDevices, Guest, HostInfo};
use wasmtime::component::Linker;

const HOST: HostInfo =
    HostInfo { name: "ukc-unix", target: "unix", args_usage: "ukc-unix UNIKERNEL [DEVICES] -- [ARGS...]" };

/// What `ukc-unix` adds to the shared devices: kv stores on directories, and TCP/IP on
/// the host's own sockets.
struct UnixDevices {
    kv: kv::KvStores,
}

impl ExtraDevices for UnixDevices {
    fn open(attachments: &Attachments) -> Result<UnixDevices, String> {
        Ok(UnixDevices { kv: kv::KvStores::open(attachments)? })
    }

    fn add_to_linker(linker: &mut Linker<Guest<UnixDevices>>) -> anyhow::Result<()> {
        kv::KvStores::add_to_linker(linker, |g| &mut g.extra.kv)?;
        Devices::add_sockets_to_linker(linker, |g| &mut g.devices)
    }
}

fn main() -> ExitCode {
    ukc_host::launch::main::<UnixDevices>(&HOST, &CommandLine { parse: cli::parse, help: cli::help, usage: cli::usage })
}
