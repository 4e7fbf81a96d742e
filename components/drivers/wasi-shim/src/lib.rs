//! The `wasi-shim` driver: the WASI 0.2 interfaces a Rust std program imports when built
//! for `wasm32-wasip2` (`println!`, `std::env::args`, `std::time`, `thread::sleep`,
//! `HashMap`'s random keys, `process::exit`), served over ukc devices, so that such a
//! program runs on the `unix` and `hvt` targets unchanged. With the `wasi-main` entry
//! adapter it makes an ordinary WASI program a unikernel.
//!
//! What each interface becomes: standard output and standard error are the console
//! (ukc has one console); standard input is empty and nothing is a terminal; the
//! arguments are the unikernel's undeclared ones (`ukc:args/undeclared`: this driver's
//! manifest asks for them), and the environment is empty; the clocks are ukc's, and a
//! clock pollable waits in `ukc:poll.yield`; every random interface reads `ukc:entropy`;
//! exit is `ukc:exit` with status 0 or 1; the filesystem has no preopened directory, so
//! opening a file fails with WASI's own error, as under a WASI host run without `--dir`
//! (which also lets WASI 0.1 programs, whose adapter imports `wasi:filesystem`, run).
//! With `ukc compose --preopen`, `wasi-shim-fs` (this crate's files and a file system on
//! kv stores) takes its place.
//! A program that imports `wasi:sockets` gets `wasi-shim-net` instead (this crate's files,
//! `wasi-shim-fs`'s file system and sockets over `ukc:tcpip`).

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-shim;
        world wasi-shim {
            include ukc-driver:shim/base;
        }
    ",
    path: ["../../../wit", env!("UKC_WASI_WIT"), "wit"],
    generate_all,
});

ukc_guest::manifest!("ukc.json");

mod cli;
mod clocks;
mod files;
mod filesystem;
#[expect(
    dead_code,
    reason = "io.rs is shared with wasi-shim-fs and wasi-shim-net, whose files and sockets make their own streams, \
              pollables and errors; no file or socket exists here"
)]
mod io;
mod random;
mod sockets;

/// The type every export is implemented on.
struct Shim;

export!(Shim);
