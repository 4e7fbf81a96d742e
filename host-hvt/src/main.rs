//! `ukc-hvt`: runs a unikernel composed for the `hvt` target on the Solo5 hvt device
//! model, in this process. Every device lives in the shared host crate, so the same code
//! serves a unikernel inside a VM.

mod cli;

use cli::Command;
use std::process::ExitCode;
use ukc_host::exit;
use ukc_host::launch::{HostInfo, launch};

const HOST: HostInfo =
    HostInfo { name: "ukc-hvt", target: "hvt", args_usage: "ukc-hvt [DEVICES] -- UNIKERNEL [ARGS...]" };

fn main() -> ExitCode {
    let status = match cli::parse(std::env::args().skip(1).collect()) {
        Ok(Command::Help) => {
            println!("{}", cli::help());
            0
        }
        Ok(Command::Version) => {
            println!("ukc-hvt {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Ok(Command::Run(invocation)) => launch::<()>(&HOST, &invocation),
        Err(message) => {
            eprintln!("ukc-hvt: {message}\nusage: {}", cli::USAGE);
            exit::USAGE
        }
    };
    ExitCode::from(status)
}
