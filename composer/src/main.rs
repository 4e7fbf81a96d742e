//! The `ukc` command line: one file per command under `commands/`.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

const EXAMPLES: &str = "\
Examples:
  ukc compose target/components/hello.wasm --target unix -o hello.wasm
  ukc-unix hello.wasm -- --hello=Hi
  ukc compose target/components/kv-ro.wasm -t hvt -o kv.hvt.wasm
  ukc compose target/components/kv-ro.wasm -t wasi -o kv.wasi.wasm && wasmtime run --dir DIR::storage kv.wasi.wasm
  ukc compose app-built-for-wasm32-wasip2.wasm -t unix -o app.wasm && ukc-unix app.wasm -- ARGS
  ukc describe target/components/kv-ro.wasm -t hvt --format dot | dot -Tsvg > kv.svg
  ukc compose app.wasm -t unix --driver my-kv.wasm --use ukc:kv/ro=my-kv -o app.unix.wasm
  wasm-tools component new app.core.wasm | ukc compose - -t unix -o - | wasm-tools validate
  ukc package hello.hvt.wasm -o oci-archive:hello.oci.tar:1.0
  ukc push hello.hvt.wasm oci://localhost:5000/ukc/hello:1.0 && ukc-hvt oci://localhost:5000/ukc/hello:1.0
  ukc compose app.wasm -t hvt --driver oci://registry.example/drivers/my-kv:1.2   # pinned in ukc.lock";

/// Composes WebAssembly components into unikernels.
///
/// An application component imports device interfaces (console, clocks, block, kv, ...);
/// `ukc compose` links it with driver components until only the target platform's
/// interfaces remain, and writes one component that the target's host runs.
#[derive(Parser)]
#[command(name = "ukc", version, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Link an application with drivers into a unikernel for a target.
    Compose(commands::compose::Args),
    /// Show which driver fills which import, the devices and the runtime arguments.
    Describe(commands::describe::Args),
    /// List the targets and what each platform provides.
    Targets,
    /// List the drivers: built-in ones and those given with --driver.
    Drivers(commands::drivers::Args),
    /// Write the WIT packages ukc provides, for wit-bindgen and wasm-tools.
    Wit(commands::wit::Args),
    /// Write a unikernel or driver as an OCI image layout or archive.
    Package(commands::package::Args),
    /// Push a unikernel or driver to an OCI registry.
    Push(commands::push::Args),
    /// Pull a unikernel or driver from an OCI registry.
    Pull(commands::pull::Args),
}

fn main() -> ExitCode {
    // A reader that stops reading (`ukc describe ... | head`) ends ukc quietly, as it
    // ends any Unix filter, instead of making a print panic.
    // SAFETY: called before any other thread exists; SIG_DFL is always a valid action.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compose(args) => commands::compose::run(args),
        Command::Describe(args) => commands::describe::run(args),
        Command::Targets => commands::targets::run(),
        Command::Drivers(args) => commands::drivers::run(args),
        Command::Wit(args) => commands::wit::run(args),
        Command::Package(args) => commands::package::run(args),
        Command::Push(args) => commands::push::run(args),
        Command::Pull(args) => commands::pull::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ukc: error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
