//! `solo5-hvt`'s command line, plus how to isolate the unikernel and for how long:
//! `ukc-hvt [--isolation=kvm|process] [--timeout=SECONDS] [--mem=MB] [DEVICES] [--help]
//! [--version] [--] UNIKERNEL [ARGS...]`, its device flags from the hvt row of the device
//! table (`ukc_manifest::hosts`, `ukc_host::devices`).

use std::time::Duration;
use ukc_host::devices;
use ukc_host::flags::{Attachments, DEFAULT_MEM_MB};
use ukc_host::launch::{Command, Invocation};
use ukc_manifest::hosts::TargetHost;

/// Where the unikernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// In a KVM micro-VM, on the guest kernel.
    Kvm,
    /// In this process.
    Process,
}

/// The hvt target's host: the device types of the hvt device model, and their flags.
fn host() -> &'static TargetHost {
    TargetHost::of("hvt").expect("the hvt target has a host")
}

/// One line of usage, for errors and the help text.
pub fn usage() -> String {
    format!(
        "ukc-hvt [--isolation=kvm|process] [--timeout=SECONDS] [--mem=MB] {} [--help] [--version] [--] UNIKERNEL [ARGS...]",
        devices::usage(host())
    )
}

/// Parses the arguments after the program name: options, then UNIKERNEL, then its
/// arguments, untouched. The isolation is `None` unless `--isolation` chose one.
pub fn parse(args: Vec<String>) -> Result<(Command, Option<Isolation>), String> {
    let mut attachments = Attachments::default();
    let mut isolation = None;
    let mut rest = args.into_iter();
    let unikernel = loop {
        let Some(arg) = rest.next() else {
            return Err("no unikernel given".into());
        };
        match arg.as_str() {
            "--" => break rest.next().ok_or("no unikernel given after --")?,
            "--help" | "-h" => return Ok((Command::Help, isolation)),
            "--version" => return Ok((Command::Version, isolation)),
            _ if arg.starts_with("--isolation=") => isolation = Some(parse_isolation(&arg["--isolation=".len()..])?),
            _ if arg.starts_with("--timeout=") => {
                attachments.timeout = Some(parse_timeout(&arg["--timeout=".len()..])?);
            }
            _ if attachments.take(&arg, host())? => {}
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}; see ukc-hvt --help")),
            _ => break arg,
        }
    };
    Ok((Command::Run(Box::new(Invocation { unikernel, attachments, args: rest.collect() })), isolation))
}

/// The command alone, for `launch::CommandLine`.
pub fn parse_command(args: Vec<String>) -> Result<Command, String> {
    parse(args).map(|(command, _)| command)
}

fn parse_isolation(value: &str) -> Result<Isolation, String> {
    match value {
        "kvm" => Ok(Isolation::Kvm),
        "process" => Ok(Isolation::Process),
        _ => Err(format!("--isolation={value}: expected kvm or process")),
    }
}

fn parse_timeout(value: &str) -> Result<Duration, String> {
    value.parse::<f64>().ok().filter(|s| s.is_finite() && *s > 0.0 && *s < 1e9).map(Duration::from_secs_f64).ok_or_else(
        || format!("--timeout={value}: expected a number of seconds, such as --timeout=30 or --timeout=0.5"),
    )
}

/// The host's help text.
pub fn help() -> String {
    format!(
        "Runs a ukc unikernel composed for the hvt target on the Solo5 hvt device model.

usage: {usage}

UNIKERNEL is the composed unikernel (ukc compose APP --target hvt): a file, or a package
from `ukc package` or a registry: oci:DIR[:TAG], oci-archive:FILE[:TAG] or
oci://HOST/REPOSITORY[:TAG|@DIGEST] (plain HTTP for loopback registries only; every digest
is checked). ARGS go to it, and `ukc-hvt -- UNIKERNEL --help` lists the arguments it accepts.

Core options:
  --isolation=kvm|process         run the unikernel in a KVM micro-VM, or in this process
                                  (default: kvm when /dev/kvm can be opened, else process)
  --timeout=SECONDS               stop the unikernel once it has run this long
  --mem=MB                        memory of the unikernel in MiB: its VM's memory, and the
                                  limit of its linear memory (default {DEFAULT_MEM_MB})
  --help                          this help
  --version                       the version
Devices (attach each device the unikernel declares, under its name):
{devices}
The device model is Solo5's: console, monotonic and wall clocks, yield, named block and net
devices, exit; plus entropy (a WebAssembly guest cannot execute rdrand, so the host gives
it random bytes) and runtime arguments.

In a VM the unikernel runs as machine code (compiled on the host with Cranelift, mapped
read+execute, never writable) on a small guest kernel that reaches the devices only
through the tender's hypercalls; the device behaviour, the output and the exit statuses
are the same in both isolations. The CPU needs x86-64-v2 (SSE4.2, POPCNT) and no-execute
pages for it.

Exit status: the unikernel's own; 1 when it fails or cannot boot (a device missing, say),
64 for a bad command line or runtime argument, 124 when it runs past --timeout, 255 when
it traps (or its guest kernel fails).

Environment:
  UKC_CACHE_DIR   where compiled unikernels are kept (default ~/.cache/ukc; empty: no cache).
                  Entries carry a MAC under a per-user key; a directory other users
                  may write is not used. Packages pulled from registries are kept
                  there too (oci/blobs), by digest.
  DOCKER_CONFIG   where registry credentials are read: DIR/config.json (default ~/.docker).

Examples:
  ukc compose target/components/kv-ro.wasm -t hvt -o kv.hvt.wasm
  ukc-hvt --block:storage=files.tar -- kv.hvt.wasm
  ukc-hvt --net:service=tap0 --block:storage=site.tar -- website.hvt.wasm --ipv4=10.0.0.2/24",
        usage = usage(),
        devices = devices::help(host()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(line: &str) -> Result<Command, String> {
        parse_command(line.split_whitespace().map(String::from).collect())
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
        assert_eq!(i.attachments.of(ukc_manifest::DeviceType::Net).collect::<Vec<_>>(), [("service", "tap0")]);
    }

    #[test]
    fn help_version_and_errors() {
        assert_eq!(parse_words("--help").unwrap(), Command::Help);
        assert_eq!(parse_words("--version").unwrap(), Command::Version);
        assert!(parse_words("--block:s=x").unwrap_err().contains("no unikernel"));
        assert!(parse_words("--kv:s=dir k.wasm").unwrap_err().contains("unknown option --kv:s=dir"));
        assert!(parse_words("--block-sector-size:s=100 k.wasm").unwrap_err().contains("power of two"));
    }

    #[test]
    fn isolation_and_timeout() {
        let words = |line: &str| parse(line.split_whitespace().map(String::from).collect());
        let (Command::Run(i), isolation) = words("--isolation=process --timeout=1.5 k.wasm --timeout=9").unwrap()
        else {
            panic!("not a run")
        };
        assert_eq!(isolation, Some(Isolation::Process));
        assert_eq!(i.attachments.timeout, Some(Duration::from_millis(1500)));
        assert_eq!(i.args, ["--timeout=9"], "options after UNIKERNEL are the unikernel's");
        assert_eq!(words("k.wasm").unwrap().1, None);
        assert!(words("--isolation=vm k.wasm").unwrap_err().contains("expected kvm or process"));
        assert!(words("--timeout=0 k.wasm").unwrap_err().contains("number of seconds"));
        assert!(words("--timeout=soon k.wasm").unwrap_err().contains("number of seconds"));
    }
}
