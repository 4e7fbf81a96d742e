//! The `wasi-shim-net` driver: `wasi-shim-fs` (whose files it shares, preopens included)
//! with `wasi:sockets` over `ukc:tcpip`, so that a std::net program runs on ukc: on
//! `ukc-unix` the host's sockets, on `ukc-hvt` the tcpip driver over a tap. TCP and UDP
//! on IPv4: bind, listen, accept, connect, the streams, shutdown, datagrams and the
//! pollables that wait for them in `ukc:poll.yield`. What `ukc:tcpip` has no word for
//! is an error, never a pretence: IPv6 (`not-supported`), binding one address of
//! several (a listener takes its port on every local address, as `ukc:tcpip` listens),
//! socket options beyond reading them back, and name lookups beyond IPv4 literals and
//! `localhost` (`name-unresolvable`: no resolver is linked). The composer links this
//! driver for a WASI program that imports `wasi:sockets`.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-shim-net;
        world wasi-shim-net {
            include ukc-driver:shim/with-preopens;
            import ukc:tcpip/types@0.1.0;
            import ukc:tcpip/tcp@0.1.0;
            import ukc:tcpip/udp@0.1.0;
            export wasi:sockets/network@0.2.12;
            export wasi:sockets/instance-network@0.2.12;
            export wasi:sockets/ip-name-lookup@0.2.12;
            export wasi:sockets/tcp@0.2.12;
            export wasi:sockets/tcp-create-socket@0.2.12;
            export wasi:sockets/udp@0.2.12;
            export wasi:sockets/udp-create-socket@0.2.12;
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
#[path = "../../wasi-shim-fs/src/files.rs"]
mod files;
#[path = "../../wasi-shim-fs/src/filesystem.rs"]
mod filesystem;
#[path = "../../wasi-shim/src/io.rs"]
mod io;
#[path = "../../wasi-shim-fs/src/mount.rs"]
mod mount;
mod network;
#[path = "../../wasi-shim-fs/src/path.rs"]
mod path;
#[path = "../../wasi-shim/src/random.rs"]
mod random;
mod sockets;
mod tcp;
mod udp;

/// The type every export is implemented on.
struct Shim;

export!(Shim);
