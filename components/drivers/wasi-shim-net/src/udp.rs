//! `wasi:sockets/udp` and `udp-create-socket` on `ukc:tcpip/udp`: `finish-bind` binds
//! the port (on every local address), `stream` fixes the remote address or leaves it
//! open, and the datagram streams send and take datagrams one by one.

use crate::Shim;
use crate::exports::wasi::io::poll::Pollable;
use crate::exports::wasi::sockets::network::{ErrorCode, IpAddressFamily, IpSocketAddress, NetworkBorrow};
use crate::exports::wasi::sockets::udp::{
    self, IncomingDatagram, IncomingDatagramStream, OutgoingDatagram, OutgoingDatagramStream,
};
use crate::exports::wasi::sockets::udp_create_socket;
use crate::network::{check, code, endpoint, same, socket_address};
use crate::sockets::Watch;
use crate::ukc::tcpip::types::{self, Endpoint};
use crate::ukc::tcpip::udp::{Datagram, Socket, bind};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// How many datagrams `check-send` allows at once.
const SEND_BATCH: u64 = 64;

/// A bound socket, with datagrams received ahead by a pollable, and the remote address
/// `stream` fixed.
pub struct Bound {
    socket: Socket,
    ahead: RefCell<VecDeque<Datagram>>,
    remote: RefCell<Option<Endpoint>>,
}

impl Bound {
    /// Whether a datagram waits to be taken.
    pub fn pending(&self) -> bool {
        if self.ahead.borrow().is_empty()
            && let Some(datagram) = self.receive_one()
        {
            self.ahead.borrow_mut().push_back(datagram);
        }
        !self.ahead.borrow().is_empty()
    }

    /// The next datagram from the fixed remote (or from anyone), if one arrived.
    fn receive_one(&self) -> Option<Datagram> {
        loop {
            let datagram = self.socket.receive().ok()?;
            match *self.remote.borrow() {
                Some(remote) if !same(&remote, &datagram.remote) => continue,
                _ => return Some(datagram),
            }
        }
    }
}

enum State {
    Unbound,
    Binding(Endpoint),
    Bound(Rc<Bound>),
}

/// A UDP socket.
pub struct UdpSocket {
    state: RefCell<State>,
}

impl UdpSocket {
    fn bound(&self) -> Result<Rc<Bound>, ErrorCode> {
        match &*self.state.borrow() {
            State::Bound(bound) => Ok(bound.clone()),
            _ => Err(ErrorCode::InvalidState),
        }
    }
}

impl udp_create_socket::Guest for Shim {
    fn create_udp_socket(family: IpAddressFamily) -> Result<udp::UdpSocket, ErrorCode> {
        match family {
            IpAddressFamily::Ipv4 => Ok(udp::UdpSocket::new(UdpSocket { state: RefCell::new(State::Unbound) })),
            IpAddressFamily::Ipv6 => Err(ErrorCode::NotSupported),
        }
    }
}

impl udp::Guest for Shim {
    type UdpSocket = UdpSocket;
    type IncomingDatagramStream = Incoming;
    type OutgoingDatagramStream = Outgoing;
}

impl udp::GuestUdpSocket for UdpSocket {
    fn start_bind(&self, network: NetworkBorrow<'_>, local: IpSocketAddress) -> Result<(), ErrorCode> {
        check(network);
        let local = endpoint(local)?;
        let mut state = self.state.borrow_mut();
        match *state {
            State::Unbound => {
                *state = State::Binding(local);
                Ok(())
            }
            _ => Err(ErrorCode::InvalidState),
        }
    }

    fn finish_bind(&self) -> Result<(), ErrorCode> {
        let mut state = self.state.borrow_mut();
        let State::Binding(local) = *state else {
            return Err(ErrorCode::NotInProgress);
        };
        let socket = bind(local.port).map_err(code)?;
        *state = State::Bound(Rc::new(Bound { socket, ahead: RefCell::default(), remote: RefCell::new(None) }));
        Ok(())
    }

    fn stream(
        &self,
        remote: Option<IpSocketAddress>,
    ) -> Result<(IncomingDatagramStream, OutgoingDatagramStream), ErrorCode> {
        let bound = self.bound()?;
        let remote = remote.map(endpoint).transpose()?;
        if remote.is_some_and(|r| r.port == 0 || r.address == (0, 0, 0, 0)) {
            return Err(ErrorCode::InvalidArgument);
        }
        *bound.remote.borrow_mut() = remote;
        bound.ahead.borrow_mut().retain(|d| remote.is_none_or(|r| same(&r, &d.remote)));
        Ok((
            IncomingDatagramStream::new(Incoming { bound: bound.clone() }),
            OutgoingDatagramStream::new(Outgoing { bound }),
        ))
    }

    fn local_address(&self) -> Result<IpSocketAddress, ErrorCode> {
        Ok(socket_address(self.bound()?.socket.local_endpoint()))
    }

    fn remote_address(&self) -> Result<IpSocketAddress, ErrorCode> {
        let remote = *self.bound()?.remote.borrow();
        remote.map(socket_address).ok_or(ErrorCode::InvalidState)
    }

    fn address_family(&self) -> IpAddressFamily {
        IpAddressFamily::Ipv4
    }

    fn unicast_hop_limit(&self) -> Result<u8, ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn set_unicast_hop_limit(&self, _: u8) -> Result<(), ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn receive_buffer_size(&self) -> Result<u64, ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn set_receive_buffer_size(&self, _: u64) -> Result<(), ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn send_buffer_size(&self) -> Result<u64, ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn set_send_buffer_size(&self, _: u64) -> Result<(), ErrorCode> {
        Err(ErrorCode::NotSupported)
    }

    fn subscribe(&self) -> Pollable {
        crate::io::Pollable::ready()
    }
}

/// The datagrams arriving on a bound socket.
pub struct Incoming {
    bound: Rc<Bound>,
}

impl udp::GuestIncomingDatagramStream for Incoming {
    fn receive(&self, max: u64) -> Result<Vec<IncomingDatagram>, ErrorCode> {
        let mut out = Vec::new();
        while (out.len() as u64) < max {
            let next = self.bound.ahead.borrow_mut().pop_front();
            let Some(datagram) = next.or_else(|| self.bound.receive_one()) else {
                break;
            };
            out.push(IncomingDatagram { data: datagram.data, remote_address: socket_address(datagram.remote) });
        }
        Ok(out)
    }

    fn subscribe(&self) -> Pollable {
        crate::io::Pollable::socket(Watch::Datagrams(self.bound.clone()))
    }
}

/// The datagrams leaving a bound socket.
pub struct Outgoing {
    bound: Rc<Bound>,
}

impl udp::GuestOutgoingDatagramStream for Outgoing {
    fn check_send(&self) -> Result<u64, ErrorCode> {
        Ok(SEND_BATCH)
    }

    fn send(&self, datagrams: Vec<OutgoingDatagram>) -> Result<u64, ErrorCode> {
        let fixed = *self.bound.remote.borrow();
        let mut sent = 0;
        for datagram in datagrams {
            let to = match (datagram.remote_address.map(endpoint).transpose()?, fixed) {
                (Some(to), Some(fixed)) if !same(&to, &fixed) => return Err(ErrorCode::InvalidArgument),
                (Some(to), _) | (None, Some(to)) => to,
                (None, None) => return Err(ErrorCode::InvalidArgument),
            };
            match self.bound.socket.send(&datagram.data, to) {
                Ok(()) => sent += 1,
                Err(types::Error::WouldBlock) if sent > 0 => break,
                Err(e) if sent == 0 => return Err(code(e)),
                Err(_) => break,
            }
        }
        Ok(sent)
    }

    fn subscribe(&self) -> Pollable {
        crate::io::Pollable::ready()
    }
}
