//! `ukc-unix`: runs a unikernel composed for the `unix` target as a Unix process.

mod cli;
mod kv;

use cli::Command;
use std::process::ExitCode;
use ukc_host::flags::Attachments;
use ukc_host::launch::{ExtraDevices, Guest, HostInfo, launch};
use ukc_host::{Devices, exit};
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
    let status = match cli::parse(std::env::args().skip(1).collect()) {
        Ok(Command::Help) => {
            println!("{}", cli::help());
            0
        }
        Ok(Command::Version) => {
            println!("ukc-unix {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Ok(Command::Run(invocation)) => launch::<UnixDevices>(&HOST, &invocation),
        Err(message) => {
            eprintln!("ukc-unix: {message}\nusage: {}", cli::USAGE);
            exit::USAGE
        }
    };
    ExitCode::from(status)
}
