//! `ukc-hvt`: runs a unikernel composed for the `hvt` target on the Solo5 hvt device
//! model, in this process. Every device lives in the shared host crate, so the same code
//! serves a unikernel inside a VM.

mod cli;

use std::process::ExitCode;
use ukc_host::launch::{CommandLine, HostInfo};

const HOST: HostInfo =
    HostInfo { name: "ukc-hvt", target: "hvt", args_usage: "ukc-hvt [DEVICES] -- UNIKERNEL [ARGS...]" };

fn main() -> ExitCode {
    ukc_host::launch::main::<()>(&HOST, &CommandLine { parse: cli::parse, help: cli::help, usage: cli::USAGE })
}
