//! The `wasi-args` driver: runtime arguments and exit on the `wasi` target, where the
//! host is any WASI 0.2 runtime and no ukc host parses the command line.
//!
//! The command line is `wasi:cli/environment.get-arguments`; the declarations are the
//! unikernel's merged manifest, from the component `ukc compose` generates
//! (`ukc:args/declarations`). Both go through the parser every ukc host uses
//! (`ukc_manifest::cmdline`), once, so `--help` and every error read as on `ukc-unix`.
//! One deviation: WASI 0.2 exits only with success or failure, so a bad argument exits
//! with status 1 (not 64), and `ukc:exit` maps every non-zero status to 1.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-args;
        world wasi-args {
            import ukc:args/declarations@0.1.0;
            export ukc:args/args@0.1.0;
            export ukc:args/command-line@0.1.0;
            export ukc:exit/exit@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use std::sync::OnceLock;
use ukc::args::declarations;
use ukc_manifest::UnikernelManifest;
use ukc_manifest::cmdline::{Parsed, RuntimeArgs, help};
use ukc_manifest::hosts::TargetHost;
use wasip2::cli::{environment, exit, stderr, stdout};
use wasip2::io::streams::OutputStream;

/// The arguments, parsed on first use.
static ARGS: OnceLock<RuntimeArgs> = OnceLock::new();

struct Args;

impl exports::ukc::args::command_line::Guest for Args {
    fn parse() {
        parsed();
    }
}

impl exports::ukc::args::args::Guest for Args {
    fn get(name: String) -> Option<String> {
        match parsed().get(&name) {
            Some(value) => value.map(str::to_string),
            // As a ukc host stops a unikernel that reads an undeclared argument.
            None => fail(&format!(
                "the unikernel read the runtime argument --{name}, which no component declares in its manifest"
            )),
        }
    }
}

impl exports::ukc::exit::exit::Guest for Args {
    fn exit(status: u8) {
        exit_with(status == 0)
    }
}

/// The arguments, parsed against the declarations the first time they are needed; on
/// `--help` or a bad argument the unikernel stops here.
fn parsed() -> &'static RuntimeArgs {
    ARGS.get_or_init(|| {
        let manifest = UnikernelManifest::from_json(declarations::manifest().as_bytes(), "ukc:args/declarations")
            .unwrap_or_else(|e| fail(&e));
        let mut arguments = environment::get_arguments();
        let program = if arguments.is_empty() { "UNIKERNEL.wasm".to_string() } else { arguments.remove(0) };
        match RuntimeArgs::parse(&manifest, &arguments) {
            Ok(Parsed::Run(args)) => args,
            Ok(Parsed::Help) => {
                write_all(&stdout::get_stdout(), help(&manifest, &usage(&manifest, &program)).as_bytes());
                exit_with(true)
            }
            Err(message) => fail(&format!("{}: {message}", manifest.app_name())),
        }
    })
}

/// How to run the unikernel, for `--help`: with the device flags `ukc compose` gives,
/// from the same table (the host options it adds for what the unikernel imports, such as
/// `-S inherit-network` for sockets, it alone knows).
fn usage(manifest: &UnikernelManifest, program: &str) -> String {
    let wasi = TargetHost::of("wasi").expect("the wasi target has a host");
    wasi.run_command(program, manifest, &[])
}

/// Prints `message` on standard error and exits with failure.
fn fail(message: &str) -> ! {
    write_all(&stderr::get_stderr(), format!("{message}\n").as_bytes());
    exit_with(false)
}

/// Exits with success or failure, the only statuses WASI 0.2 has.
fn exit_with(success: bool) -> ! {
    exit::exit(if success { Ok(()) } else { Err(()) });
    unreachable!("wasi:cli/exit.exit returned")
}

fn write_all(stream: &OutputStream, bytes: &[u8]) {
    // 4096 bytes is the most `blocking-write-and-flush` takes at once.
    for chunk in bytes.chunks(4096) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
}

export!(Args);
