//! `wasi:sockets/network`, `instance-network` and `ip-name-lookup`: the one network a
//! unikernel has (its `ukc:tcpip` stack), the addresses it speaks (IPv4), the errors,
//! and name lookups, which without a resolver answer IPv4 literals and `localhost` only.

use crate::Shim;
use crate::exports::wasi::io::poll::Pollable;
use crate::exports::wasi::sockets::{instance_network, ip_name_lookup, network};
use crate::ukc::tcpip::types::{self, Endpoint};
use network::{ErrorCode, IpAddress, IpSocketAddress, Ipv4SocketAddress, NetworkBorrow};
use std::cell::RefCell;
use std::collections::VecDeque;

/// The unikernel's network.
pub struct Network;

impl network::GuestNetwork for Network {}

impl network::Guest for Shim {
    type Network = Network;
}

impl instance_network::Guest for Shim {
    fn instance_network() -> network::Network {
        network::Network::new(Network)
    }
}

/// Checks that `network` is the unikernel's (the only one there is).
pub fn check(network: NetworkBorrow<'_>) {
    let _: &Network = network.get();
}

/// The endpoint of an IPv4 socket address; IPv6 is not supported.
pub fn endpoint(address: IpSocketAddress) -> Result<Endpoint, ErrorCode> {
    match address {
        IpSocketAddress::Ipv4(Ipv4SocketAddress { port, address }) => Ok(Endpoint { address, port }),
        IpSocketAddress::Ipv6(_) => Err(ErrorCode::NotSupported),
    }
}

/// Whether two endpoints are the same.
pub fn same(a: &Endpoint, b: &Endpoint) -> bool {
    a.address == b.address && a.port == b.port
}

/// The socket address of an endpoint.
pub fn socket_address(endpoint: Endpoint) -> IpSocketAddress {
    IpSocketAddress::Ipv4(Ipv4SocketAddress { port: endpoint.port, address: endpoint.address })
}

/// The WASI error of a `ukc:tcpip` error.
pub fn code(error: types::Error) -> ErrorCode {
    match error {
        types::Error::WouldBlock => ErrorCode::WouldBlock,
        types::Error::ConnectionRefused => ErrorCode::ConnectionRefused,
        types::Error::ConnectionReset => ErrorCode::ConnectionReset,
        types::Error::TimedOut => ErrorCode::Timeout,
        types::Error::AddressInUse => ErrorCode::AddressInUse,
        types::Error::NotConnected => ErrorCode::InvalidState,
        types::Error::InvalidArgument => ErrorCode::InvalidArgument,
        types::Error::Unreachable => ErrorCode::RemoteUnreachable,
        types::Error::NoResources => ErrorCode::NewSocketLimit,
    }
}

/// The addresses a lookup found, handed out one by one.
pub struct Addresses {
    left: RefCell<VecDeque<IpAddress>>,
}

impl ip_name_lookup::GuestResolveAddressStream for Addresses {
    fn resolve_next_address(&self) -> Result<Option<IpAddress>, ErrorCode> {
        Ok(self.left.borrow_mut().pop_front())
    }

    fn subscribe(&self) -> Pollable {
        crate::io::Pollable::ready()
    }
}

impl ip_name_lookup::Guest for Shim {
    type ResolveAddressStream = Addresses;

    /// An IPv4 literal is itself and `localhost` is 127.0.0.1; any other name is
    /// `name-unresolvable`, since no resolver is linked (as on a host without DNS).
    fn resolve_addresses(
        network: NetworkBorrow<'_>,
        name: String,
    ) -> Result<ip_name_lookup::ResolveAddressStream, ErrorCode> {
        check(network);
        let address = if name.eq_ignore_ascii_case("localhost") {
            [127, 0, 0, 1]
        } else {
            let literal: std::net::Ipv4Addr = name.parse().map_err(|_| ErrorCode::NameUnresolvable)?;
            literal.octets()
        };
        let found = IpAddress::Ipv4((address[0], address[1], address[2], address[3]));
        Ok(ip_name_lookup::ResolveAddressStream::new(Addresses { left: RefCell::new(VecDeque::from([found])) }))
    }
}
