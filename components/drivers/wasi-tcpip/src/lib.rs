//! The `wasi-tcpip` driver: `ukc:tcpip` on the `wasi` target, over the WASI host's own
//! sockets (`wasi:sockets`), as `ukc-unix`'s socket stack is over the Unix host's: IPv4,
//! listening and binding on every local address, addresses managed by the host (so
//! `ipv4.config()` is `none`).
//!
//! Every operation is non-blocking, as the WIT says. The driver *interposes* on
//! `ukc:poll`: the application's `yield` runs here and waits with `wasi:io/poll.poll` on
//! every open socket's pollable and the deadline at once ([`watch`]). wasmtime grants
//! sockets only with `-S inherit-network`; without it every bind and connect is refused,
//! and the driver says so on standard error.

mod addr;
mod conn;
mod tcp;
mod udp;
mod watch;

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-tcpip;
        world wasi-tcpip {
            import ukc:poll/poll@0.1.0;
            include ukc:tcpip/stack@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use exports::ukc::tcpip::types::{Endpoint, Error};
use exports::ukc::tcpip::{ipv4, tcp as wit_tcp, udp as wit_udp};

struct Driver;

impl exports::ukc::poll::poll::Guest for Driver {
    fn yield_(deadline: u64) -> Vec<String> {
        watch::wait(deadline)
    }
}

impl ipv4::Guest for Driver {
    fn config() -> Option<ipv4::Settings> {
        // The WASI host manages its own addresses.
        None
    }
}

impl wit_tcp::Guest for Driver {
    type Listener = tcp::Listener;
    type Connection = tcp::Connection;

    fn listen(port: u16) -> Result<wit_tcp::Listener, Error> {
        tcp::Listener::open(port).map(wit_tcp::Listener::new)
    }

    fn connect(remote: Endpoint) -> Result<wit_tcp::Connection, Error> {
        tcp::Connection::connect(remote).map(wit_tcp::Connection::new)
    }
}

impl wit_udp::Guest for Driver {
    type Socket = udp::Socket;

    fn bind(port: u16) -> Result<wit_udp::Socket, Error> {
        udp::Socket::bind(port).map(wit_udp::Socket::new)
    }
}

export!(Driver);
