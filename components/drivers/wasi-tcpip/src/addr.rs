//! Between `ukc:tcpip`'s addresses and errors and `wasi:sockets`'.

use crate::exports::ukc::tcpip::types::{Endpoint, Error};
use std::cell::Cell;
use wasip2::cli::stderr;
use wasip2::sockets::network::{ErrorCode, IpSocketAddress, Ipv4SocketAddress};
use wasip2::sockets::tcp::TcpSocket;
use wasip2::sockets::udp::UdpSocket;

/// What `local-endpoint` and `remote-endpoint` say when the host cannot tell.
pub const UNSPECIFIED: Endpoint = Endpoint { address: (0, 0, 0, 0), port: 0 };

/// `remote` as a WASI socket address.
pub fn socket_address(remote: Endpoint) -> IpSocketAddress {
    IpSocketAddress::Ipv4(Ipv4SocketAddress { port: remote.port, address: remote.address })
}

/// Port `port` on every local address.
pub fn any_address(port: u16) -> IpSocketAddress {
    socket_address(Endpoint { address: (0, 0, 0, 0), port })
}

/// A WASI socket address as an endpoint; sockets here are IPv4 only.
pub fn endpoint(address: Result<IpSocketAddress, ErrorCode>) -> Endpoint {
    match address {
        Ok(IpSocketAddress::Ipv4(v4)) => Endpoint { address: v4.address, port: v4.port },
        _ => UNSPECIFIED,
    }
}

/// Waits for a `finish-*` step of a WASI two-phase operation (bind, listen). WASI lets a
/// host complete them later; `listen` and `bind` are one call in `ukc:tcpip`, and hosts
/// finish them at once in practice, so the short wait happens here.
pub fn finish_tcp(socket: &TcpSocket, step: fn(&TcpSocket) -> Result<(), ErrorCode>) -> Result<(), Error> {
    loop {
        match step(socket) {
            Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
            done => return done.map_err(error),
        }
    }
}

/// [`finish_tcp`] for a UDP socket's bind.
pub fn finish_udp_bind(socket: &UdpSocket) -> Result<(), Error> {
    loop {
        match socket.finish_bind() {
            Err(ErrorCode::WouldBlock) => socket.subscribe().block(),
            done => return done.map_err(error),
        }
    }
}

/// The `ukc:tcpip` error for a WASI one.
pub fn error(code: ErrorCode) -> Error {
    match code {
        ErrorCode::WouldBlock => Error::WouldBlock,
        ErrorCode::ConnectionRefused => Error::ConnectionRefused,
        ErrorCode::ConnectionReset | ErrorCode::ConnectionAborted => Error::ConnectionReset,
        ErrorCode::Timeout => Error::TimedOut,
        ErrorCode::AddressInUse => Error::AddressInUse,
        ErrorCode::InvalidState | ErrorCode::NotInProgress => Error::NotConnected,
        ErrorCode::InvalidArgument | ErrorCode::DatagramTooLarge | ErrorCode::NotSupported => Error::InvalidArgument,
        ErrorCode::RemoteUnreachable | ErrorCode::AddressNotBindable => Error::Unreachable,
        ErrorCode::AccessDenied => {
            explain_denial();
            Error::Unreachable
        }
        _ => Error::NoResources,
    }
}

thread_local! {
    static DENIAL_EXPLAINED: Cell<bool> = const { Cell::new(false) };
}

/// Says once, on standard error, why the host refuses sockets and what to do: the
/// application only sees `unreachable`.
fn explain_denial() {
    if DENIAL_EXPLAINED.replace(true) {
        return;
    }
    let line = "wasi-tcpip: the WASI host refused a socket address (access-denied); wasmtime grants \
                the network with `wasmtime run -S inherit-network`, and ports below 1024 need privileges\n";
    let _ = stderr::get_stderr().blocking_write_and_flush(line.as_bytes());
}
