//! `ukc-hvt`: runs a unikernel composed for the `hvt` target on the Solo5 hvt device
//! model: in a KVM micro-VM where `/dev/kvm` works (see `kvm`), else in this process.
//! Every device lives in the shared host crate, so both run the same device code.

use std::process::ExitCode;
use ukc_host::launch::{self, CommandLine, HostInfo, Invocation};
use ukc_hvt::cli::{self, Isolation};
use ukc_hvt::kvm;

const HOST: HostInfo = HostInfo { name: "ukc-hvt", target: "hvt" };

const COMMAND_LINE: CommandLine = CommandLine { parse: cli::parse_command, help: cli::help, usage: cli::usage };

fn main() -> ExitCode {
    let parsed = cli::parse(std::env::args().skip(1).collect());
    let chosen = parsed.as_ref().ok().and_then(|(_, isolation)| *isolation);
    launch::respond(&HOST, &COMMAND_LINE, parsed.map(|(command, _)| command), |invocation| boot(invocation, chosen))
}

/// Boots `invocation` with the chosen isolation, or the default one.
fn boot(invocation: &Invocation, chosen: Option<Isolation>) -> u8 {
    let isolation = chosen.unwrap_or_else(|| {
        if kvm::available() {
            Isolation::Kvm
        } else {
            eprintln!(
                "ukc-hvt: note: /dev/kvm cannot be opened; running the unikernel in this process (--isolation=process)"
            );
            Isolation::Process
        }
    });
    match isolation {
        Isolation::Process => launch::launch(&HOST, invocation),
        Isolation::Kvm => kvm::run(&HOST, invocation),
    }
}
