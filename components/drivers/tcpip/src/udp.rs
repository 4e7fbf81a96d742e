//! UDP: sockets bound to a port, sending and receiving whole datagrams.

use crate::stack::NetError;
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::udp::{self, PacketBuffer, PacketMetadata};
use smoltcp::wire::IpEndpoint;
use std::collections::BTreeMap;

/// Bytes of datagrams each socket queues per direction.
pub const BUFFER: usize = 64 * 1024;
/// Datagrams each socket queues per direction.
pub const MAX_DATAGRAMS: usize = 64;
/// UDP sockets in all: bounds memory.
pub const MAX_SOCKETS: usize = 256;
/// Bytes of IPv4 and UDP header in front of a datagram's payload (no IP options sent).
pub const HEADERS: usize = 20 + 8;

#[derive(Debug)]
struct Bound {
    port: u16,
    /// Bytes queued for the application at the last look.
    rx: usize,
}

/// Every UDP socket of the stack.
#[derive(Debug, Default)]
pub struct Udp {
    bound: BTreeMap<SocketHandle, Bound>,
}

type Sockets = SocketSet<'static>;

impl Udp {
    /// Whether a socket is bound to `port`.
    pub fn port_in_use(&self, port: u16) -> bool {
        self.bound.values().any(|b| b.port == port)
    }

    /// Binds a new socket to `port` (not 0, free: checked by the caller).
    pub fn bind(&mut self, sockets: &mut Sockets, port: u16) -> Result<SocketHandle, NetError> {
        if self.bound.len() >= MAX_SOCKETS {
            return Err(NetError::NoResources);
        }
        let buffer = || PacketBuffer::new(vec![PacketMetadata::EMPTY; MAX_DATAGRAMS], vec![0; BUFFER]);
        let mut socket = udp::Socket::new(buffer(), buffer());
        socket.bind(port).map_err(|_| NetError::InvalidArgument)?;
        let handle = sockets.add(socket);
        self.bound.insert(handle, Bound { port, rx: 0 });
        Ok(handle)
    }

    /// The port `handle` is bound to.
    pub fn port(&self, handle: SocketHandle) -> u16 {
        self.bound.get(&handle).map_or(0, |b| b.port)
    }

    /// Queues one datagram of at most `max_payload` bytes (what fits in one frame: the
    /// stack does not fragment).
    pub fn send(
        &mut self,
        handle: SocketHandle,
        sockets: &mut Sockets,
        data: &[u8],
        remote: IpEndpoint,
        max_payload: usize,
    ) -> Result<(), NetError> {
        if data.is_empty() || data.len() > max_payload || remote.port == 0 {
            return Err(NetError::InvalidArgument);
        }
        match sockets.get_mut::<udp::Socket>(handle).send_slice(data, remote) {
            Ok(()) => Ok(()),
            Err(udp::SendError::BufferFull) => Err(NetError::WouldBlock),
            Err(udp::SendError::Unaddressable) => Err(NetError::InvalidArgument),
        }
    }

    /// The next received datagram and its sender.
    pub fn receive(&mut self, handle: SocketHandle, sockets: &mut Sockets) -> Result<(Vec<u8>, IpEndpoint), NetError> {
        let socket = sockets.get_mut::<udp::Socket>(handle);
        let (data, meta) = socket.recv().map_err(|_| NetError::WouldBlock)?;
        let datagram = (data.to_vec(), meta.endpoint);
        if let Some(bound) = self.bound.get_mut(&handle) {
            bound.rx = socket.recv_queue();
        }
        Ok(datagram)
    }

    /// Frees the socket; queued datagrams are lost, as with any UDP socket.
    pub fn close(&mut self, handle: SocketHandle, sockets: &mut Sockets) {
        if self.bound.remove(&handle).is_some() {
            sockets.remove(handle);
        }
    }

    /// After a poll: whether a datagram arrived on any socket since the last look.
    pub fn sweep(&mut self, sockets: &Sockets) -> bool {
        let mut arrived = false;
        for (&handle, bound) in &mut self.bound {
            let rx = sockets.get::<udp::Socket>(handle).recv_queue();
            arrived |= rx > bound.rx;
            bound.rx = rx;
        }
        arrived
    }
}
