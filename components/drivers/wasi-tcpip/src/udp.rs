//! UDP sockets on `wasi:sockets/udp`, without blocking.

use crate::addr;
use crate::exports::ukc::tcpip::types::{Endpoint, Error};
use crate::exports::ukc::tcpip::udp::{Datagram, GuestSocket};
use crate::watch::{self, Watch};
use std::cell::Cell;
use std::rc::Rc;
use wasip2::io::poll::Pollable;
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::network::IpAddressFamily;
use wasip2::sockets::udp::{IncomingDatagramStream, OutgoingDatagram, OutgoingDatagramStream, UdpSocket};
use wasip2::sockets::udp_create_socket::create_udp_socket;

/// A bound UDP socket.
pub struct Socket(Rc<Bound>);

/// Its WASI handles. The streams come first: they are children of the socket and must be
/// dropped before it.
struct Bound {
    incoming: IncomingDatagramStream,
    outgoing: OutgoingDatagramStream,
    socket: UdpSocket,
    /// The application got `would-block` from `send`, so it waits for room to send.
    wants_send: Cell<bool>,
}

impl Socket {
    /// Binds `port` (0: one the host picks) on every local address.
    pub fn bind(port: u16) -> Result<Socket, Error> {
        let socket = create_udp_socket(IpAddressFamily::Ipv4).map_err(addr::error)?;
        socket.start_bind(&instance_network(), addr::any_address(port)).map_err(addr::error)?;
        addr::finish_udp_bind(&socket)?;
        // No fixed remote: each datagram says where it goes.
        let (incoming, outgoing) = socket.stream(None).map_err(addr::error)?;
        let bound = Rc::new(Bound { incoming, outgoing, socket, wants_send: Cell::new(false) });
        watch::watch(Rc::downgrade(&bound) as _);
        Ok(Socket(bound))
    }
}

impl Watch for Bound {
    fn subscribe(&self, pollables: &mut Vec<Pollable>) -> bool {
        pollables.push(self.incoming.subscribe());
        if self.wants_send.get() {
            pollables.push(self.outgoing.subscribe());
        }
        false
    }
}

impl GuestSocket for Socket {
    fn send(&self, data: Vec<u8>, remote: Endpoint) -> Result<(), Error> {
        let bound = &self.0;
        if data.is_empty() {
            return Err(Error::InvalidArgument);
        }
        // `check-send` must permit a datagram before `send` may be called.
        if bound.outgoing.check_send().map_err(addr::error)? == 0 {
            bound.wants_send.set(true);
            return Err(Error::WouldBlock);
        }
        let datagram = OutgoingDatagram { data, remote_address: Some(addr::socket_address(remote)) };
        match bound.outgoing.send(&[datagram]).map_err(addr::error)? {
            0 => {
                bound.wants_send.set(true);
                Err(Error::WouldBlock)
            }
            _ => {
                bound.wants_send.set(false);
                Ok(())
            }
        }
    }

    fn receive(&self) -> Result<Datagram, Error> {
        let mut received = self.0.incoming.receive(1).map_err(addr::error)?;
        let datagram = received.pop().ok_or(Error::WouldBlock)?;
        Ok(Datagram { data: datagram.data, remote: addr::endpoint(Ok(datagram.remote_address)) })
    }

    fn local_endpoint(&self) -> Endpoint {
        addr::endpoint(self.0.socket.local_address())
    }
}
