//! `ukc-unix`: runs a unikernel composed for the `unix` target as a Unix process.

mod cli;
mod kv;

use cli::Command;
use std::process::ExitCode;
use ukc_host::exit;
use ukc_host::launch::{HostInfo, launch};

const HOST: HostInfo =
    HostInfo { name: "ukc-unix", target: "unix", args_usage: "ukc-unix UNIKERNEL [DEVICES] -- [ARGS...]" };

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
        Ok(Command::Run(invocation)) => launch::<kv::KvStores>(&HOST, &invocation),
        Err(message) => {
            eprintln!("ukc-unix: {message}\nusage: {}", cli::USAGE);
            exit::USAGE
        }
    };
    ExitCode::from(status)
}
