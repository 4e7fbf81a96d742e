//! The `wasi-shim-fs` driver: `wasi-shim` (whose `wasi:cli`, `wasi:clocks`, `wasi:io` and
//! `wasi:random` it shares, file by file) with a `wasi:filesystem` whose preopened
//! directories are kv stores: `ukc compose --preopen NAME` (read-only, `ukc:kv/ro`) or
//! `--preopen NAME:rw` (`ukc:kv/rw`) makes the store NAME the directory `/NAME`. The
//! composer links this driver instead of `wasi-shim` when a unikernel has preopens, and
//! tells it which they are through a component it generates (`ukc:kv/preopens`); the
//! hosts attach the stores like any kv device.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-shim-fs;
        world wasi-shim-fs {
            include ukc-driver:shim/with-preopens;
        }
    ",
    path: ["../../../wit", env!("UKC_WASI_WIT"), "../wasi-shim/wit"],
    generate_all,
});

ukc_guest::manifest!("ukc.json");

#[path = "../../wasi-shim/src/cli.rs"]
mod cli;
#[path = "../../wasi-shim/src/clocks.rs"]
mod clocks;
mod files;
mod filesystem;
#[path = "../../wasi-shim/src/io.rs"]
#[expect(dead_code, reason = "io.rs is shared with wasi-shim-net, whose sockets make their own streams and pollables")]
mod io;
mod mount;
mod path;
#[path = "../../wasi-shim/src/random.rs"]
mod random;
#[path = "../../wasi-shim/src/sockets.rs"]
mod sockets;

/// The type every export is implemented on.
struct Shim;

export!(Shim);
