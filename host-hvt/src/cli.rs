//! `solo5-hvt`'s command line, unchanged:
//! `ukc-hvt [--mem=MB] [--net:NAME=IFACE] [--net-mac:NAME=HWADDR] [--block:NAME=PATH]
//! [--block-sector-size:NAME=N] [--help] [--version] [--] UNIKERNEL [ARGS...]`.

use ukc_host::flags::{Attachments, DEFAULT_MEM_MB};
use ukc_host::launch::{Command, Invocation};
use ukc_manifest::DeviceType;

/// The device types the hvt device model has.
pub const DEVICE_TYPES: &[DeviceType] = &[DeviceType::Block, DeviceType::Net];

/// One line of usage, for errors and the help text.
pub const USAGE: &str = "ukc-hvt [--mem=MB] [--net:NAME=IFACE] [--net-mac:NAME=HWADDR] [--block:NAME=PATH] \\
                         [--block-sector-size:NAME=N] [--help] [--version] [--] UNIKERNEL [ARGS...]";

/// Parses the arguments after the program name: options, then UNIKERNEL, then its
/// arguments, untouched.
pub fn parse(args: Vec<String>) -> Result<Command, String> {
    let mut attachments = Attachments::default();
    let mut rest = args.into_iter();
    let unikernel = loop {
        let Some(arg) = rest.next() else {
            return Err("no unikernel given".into());
        };
        match arg.as_str() {
            "--" => break rest.next().ok_or("no unikernel given after --")?,
            "--help" | "-h" => return Ok(Command::Help),
            "--version" => return Ok(Command::Version),
            _ if attachments.take(&arg, DEVICE_TYPES)? => {}
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}; see ukc-hvt --help")),
            _ => break arg,
        }
    };
    Ok(Command::Run(Invocation { unikernel, attachments, args: rest.collect() }))
}

/// The host's help text.
pub fn help() -> String {
    format!(
        "Runs a ukc unikernel composed for the hvt target on the Solo5 hvt device model.

usage: {USAGE}

UNIKERNEL is the composed unikernel (ukc compose APP --target hvt); ARGS go to it, and
`ukc-hvt -- UNIKERNEL --help` lists the arguments it accepts.

Core options:
  --mem=MB                        memory limit of the unikernel in MiB (default {DEFAULT_MEM_MB})
  --help                          this help
  --version                       the version
Devices (attach each device the unikernel declares, under its name):
  --net:NAME=IFACE                the TAP interface IFACE as net device NAME
  --net-mac:NAME=HWADDR           MAC address of net device NAME (default: random, locally administered)
  --block:NAME=PATH               the file PATH as block device NAME
  --block-sector-size:NAME=SIZE   sector size of block device NAME: a power of two >= 512 (default 512)

The device model is Solo5's: console, monotonic and wall clocks, yield, named block and net
devices, exit; plus entropy (a WebAssembly guest cannot execute rdrand, so the host gives
it random bytes) and runtime arguments.

Exit status: the unikernel's own; 1 when it fails or cannot boot (a device missing, say),
64 for a bad command line or runtime argument, 255 when it traps.

Environment:
  UKC_CACHE_DIR   where compiled unikernels are kept (default ~/.cache/ukc; empty: no cache)

Examples:
  ukc compose target/components/kv-ro.wasm -t hvt -o kv.hvt.wasm
  ukc-hvt --block:storage=files.tar -- kv.hvt.wasm
  ukc-hvt --net:service=tap0 --block:storage=site.tar -- website.hvt.wasm --ipv4=10.0.0.2/24"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(line: &str) -> Result<Command, String> {
        parse(line.split_whitespace().map(String::from).collect())
    }

    #[test]
    fn options_come_before_the_unikernel() {
        let Command::Run(i) = parse_words("--mem=64 --block:storage=d.img -- k.wasm --hello=Hi --mem=1").unwrap()
        else {
            panic!("not a run")
        };
        assert_eq!(i.unikernel, "k.wasm");
        assert_eq!(i.attachments.mem_mb, 64);
        assert_eq!(i.args, ["--hello=Hi", "--mem=1"]);
        let Command::Run(i) = parse_words("--net:service=tap0 k.wasm").unwrap() else { panic!("not a run") };
        assert_eq!(i.attachments.of(DeviceType::Net).collect::<Vec<_>>(), [("service", "tap0")]);
    }

    #[test]
    fn help_version_and_errors() {
        assert_eq!(parse_words("--help").unwrap(), Command::Help);
        assert_eq!(parse_words("--version").unwrap(), Command::Version);
        assert!(parse_words("--block:s=x").unwrap_err().contains("no unikernel"));
        assert!(parse_words("--kv:s=dir k.wasm").unwrap_err().contains("unknown option --kv:s=dir"));
        assert!(parse_words("--block-sector-size:s=100 k.wasm").unwrap_err().contains("power of two"));
    }
}
