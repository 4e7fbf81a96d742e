//! `ukc-unix`: runs a unikernel composed for the `unix` target as a Unix process.

mod cli;

use std::process::ExitCode;
use ukc_host::launch::{CommandLine, HostInfo};

const HOST: HostInfo = HostInfo { name: "ukc-unix", target: "unix" };

fn main() -> ExitCode {
    ukc_host::launch::main(&HOST, &CommandLine { parse: cli::parse, help: cli::help, usage: cli::usage })
}
