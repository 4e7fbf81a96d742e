//! The `wasi-run` driver: the `wasi` target's entry adapter. A WASI 0.2 host runs a
//! component through its `wasi:cli/run` export; this one parses the command line first
//! (so that `--help` and bad arguments behave as on a ukc host), then runs the
//! application's `ukc:app/main` and turns its outcome into the WASI exit status.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-run;
        world wasi-run {
            import ukc:app/main@0.1.0;
            import ukc:args/command-line@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use ukc::app::main;
use ukc::args::command_line;
use wasip2::cli::stderr;

struct Run;

impl wasip2::exports::cli::run::Guest for Run {
    /// `ok` exits with status 0; `err` with status 1, after the application's message on
    /// standard error, as `ukc-unix` reports it.
    fn run() -> Result<(), ()> {
        command_line::parse();
        main::run().map_err(|message| {
            let line = format!("the unikernel failed: {message}\n");
            let err = stderr::get_stderr();
            // 4096 bytes is the most `blocking-write-and-flush` takes at once.
            for chunk in line.as_bytes().chunks(4096) {
                let _ = err.blocking_write_and_flush(chunk);
            }
        })
    }
}

wasip2::cli::command::export!(Run);
