//! The `ukc-unix` command line: `ukc-unix UNIKERNEL [DEVICES] [--mem=MB] [SOCKET POLICY]
//! [--] [ARGS...]`, its device flags from the unix row of the device table
//! (`ukc_manifest::hosts`, `ukc_host::devices`). Host options may also come before UNIKERNEL.

use ukc_host::devices;
use ukc_host::flags::{Attachments, DEFAULT_MEM_MB};
use ukc_host::launch::{Command, Invocation};
use ukc_host::socket_policy::USAGE as SOCKET_USAGE;
use ukc_manifest::hosts::TargetHost;

/// The unix target's host: the device types `ukc-unix` attaches, and their flags.
fn host() -> &'static TargetHost {
    TargetHost::of("unix").expect("the unix target has a host")
}

/// One line of usage, for errors and the help text.
pub fn usage() -> String {
    format!("ukc-unix UNIKERNEL {} [--mem=MB] [SOCKET POLICY] [--] [ARGS...]", devices::usage(host()))
}

/// Parses the arguments after the program name.
pub fn parse(args: Vec<String>) -> Result<Command, String> {
    let mut attachments = Attachments::default();
    let mut unikernel = None;
    let mut rest = args.into_iter();
    let mut guest_args = Vec::new();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            guest_args.extend(rest.by_ref());
            break;
        }
        if attachments.take(&arg, host())? || attachments.sockets.take(&arg)? {
            continue;
        }
        if unikernel.is_some() {
            // The first word that is not a host option starts the unikernel's arguments.
            guest_args.push(arg);
            guest_args.extend(rest.by_ref());
            break;
        }
        match arg.as_str() {
            "--help" | "-h" => return Ok(Command::Help),
            "--version" | "-V" => return Ok(Command::Version),
            _ if arg.starts_with('-') && arg != "-" => {
                return Err(format!("unknown option {arg}; see ukc-unix --help"));
            }
            _ => unikernel = Some(arg),
        }
    }
    let unikernel = unikernel.ok_or("no unikernel given")?;
    Ok(Command::Run(Box::new(Invocation { unikernel, attachments, args: guest_args })))
}

/// The host's help text.
pub fn help() -> String {
    format!(
        "Runs a ukc unikernel composed for the unix target as a Unix process.

usage: {usage}

Devices (attach each device the unikernel declares, under its name):
{devices}  --mem=MB                        memory limit of the unikernel in MiB (default {DEFAULT_MEM_MB})

Socket policy (ukc:tcpip on the host's sockets; by default a unikernel listens on any port
and reaches any address, host-local services included, as any process of its user can):
{SOCKET_USAGE}

UNIKERNEL is the composed unikernel (ukc compose APP --target unix): a file, or a package
from `ukc package` or a registry: oci:DIR[:TAG], oci-archive:FILE[:TAG] or
oci://HOST/REPOSITORY[:TAG|@DIGEST] (plain HTTP for loopback registries only; every digest
is checked). Everything after the unikernel that is not a host option, or everything after
--, goes to the unikernel; `ukc-unix UNIKERNEL --help` lists the arguments it accepts.

Exit status: the unikernel's own; 1 when it fails or cannot boot (a device missing, say),
64 for a bad command line or runtime argument, 255 when it traps.

Environment:
  UKC_CACHE_DIR   where compiled unikernels are kept (default ~/.cache/ukc; empty: no cache).
                  Entries carry a MAC under a per-user key; a directory other users
                  may write is not used. Packages pulled from registries are kept
                  there too (oci/blobs), by digest.
  DOCKER_CONFIG   where registry credentials are read: DIR/config.json (default ~/.docker).

Examples:
  ukc compose target/components/hello.wasm -t unix -o hello.wasm
  ukc-unix hello.wasm -- --hello=Hi
  ukc-unix block.wasm --block:storage=disk.img --block-sector-size:storage=4096
  ukc-unix kv.wasm --kv:storage=./files
  ukc-unix site.wasm --kv:storage=./site --listen-address=127.0.0.1 --allow-listen=8080 \\
      --allow-connect=10.0.0.0/8:443",
        usage = usage(),
        devices = devices::help(host()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_words(line: &str) -> Result<Command, String> {
        parse(line.split_whitespace().map(String::from).collect())
    }

    fn invocation(line: &str) -> Invocation {
        match parse_words(line).unwrap() {
            Command::Run(invocation) => *invocation,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn splits_host_options_from_guest_arguments() {
        let i = invocation("--mem=64 k.wasm --block:storage=d.img -- --hello=Hi --block:x=y");
        assert_eq!(i.unikernel, "k.wasm");
        assert_eq!(i.attachments.mem_mb, 64);
        assert_eq!(i.attachments.of(ukc_manifest::DeviceType::Block).count(), 1);
        assert_eq!(i.args, ["--hello=Hi", "--block:x=y"]);
        assert_eq!(invocation("k.wasm --hello=Hi --kv:s=d").args, ["--hello=Hi", "--kv:s=d"]);
        assert_eq!(invocation("k.wasm --help").args, ["--help"]);
    }

    #[test]
    fn help_version_and_errors() {
        assert_eq!(parse_words("--help").unwrap(), Command::Help);
        assert_eq!(parse_words("--version").unwrap(), Command::Version);
        assert!(parse_words("").unwrap_err().contains("no unikernel"));
        assert!(parse_words("--bogus k.wasm").unwrap_err().contains("unknown option --bogus"));
        assert!(parse_words("k.wasm --mem=x").unwrap_err().contains("size in MiB"));
    }
}
