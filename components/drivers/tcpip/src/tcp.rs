//! TCP: every socket of the stack, and listeners backed by a pool of listening sockets.
//!
//! A smoltcp socket accepts one connection and stays bound to it, so a listener keeps
//! [`BACKLOG`] sockets in LISTEN on its port and replaces each one that takes a SYN;
//! `accept` hands out those whose handshake completed. Dropped connections stay here
//! until closed, then their sockets are freed.

use crate::conn::{self, CONNECT_TIMEOUT, Conn, IDLE_TIMEOUT};
use crate::stack::NetError;
use smoltcp::iface::{SocketHandle, SocketSet};
use smoltcp::socket::tcp::{self, State};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::IpEndpoint;
use std::collections::BTreeMap;

/// Receive and send buffer of the first [`FAST_SOCKETS`] sockets: a window of four 64 KiB
/// segments, so that the peer keeps sending while the unikernel waits or works, and room
/// for a 64 KiB response with its head in one write. With one segment's worth, every
/// segment waited for the unikernel's turn; in a KVM micro-VM, where a turn is an exit,
/// TCP echo moved half as much per second. (A send buffer smaller than the receive buffer
/// stalls an echo: what it cannot write back it cannot read.)
pub const FAST_BUFFER: usize = 256 * 1024;
/// Sockets made while fewer than this many exist get [`FAST_BUFFER`]s; the rest get
/// [`BUFFER`]s, a full 64 KiB window still. So at most this many hold fast buffers
/// (each was made while fewer existed), and [`MAX_SOCKETS`] sockets hold at most
/// 256 × 512 KiB + 768 × 128 KiB = 224 MiB.
pub const FAST_SOCKETS: usize = 256;
/// Receive and send buffer of the sockets past [`FAST_SOCKETS`].
pub const BUFFER: usize = 64 * 1024;
/// Sockets each listener keeps in LISTEN, so that a burst of SYNs finds one each.
pub const BACKLOG: usize = 32;
/// Connections a listener holds that the application has not accepted yet, handshakes
/// in progress included: room for a client such as `wrk` opening hundreds at once.
pub const MAX_UNACCEPTED: usize = 512;
/// TCP sockets in all, listening or connected: bounds memory under load.
pub const MAX_SOCKETS: usize = 1024;
/// How long a dropped connection may take to close before it is reset (as Linux's
/// `tcp_fin_timeout`), so that a peer that never closes cannot pin its buffers.
pub const LINGER: Duration = Duration::from_secs(60);

/// A pooled socket whose handshake completed, ready for `accept`.
fn is_acceptable(state: State) -> bool {
    matches!(state, State::Established | State::CloseWait)
}

#[derive(Debug, Default)]
struct Listener {
    /// Sockets bound to the port and not accepted yet: listening or connected.
    pool: Vec<SocketHandle>,
    /// Acceptable sockets at the last look.
    ready: usize,
}

/// Every TCP socket of the stack.
#[derive(Debug, Default)]
pub struct Tcp {
    listeners: BTreeMap<u16, Listener>,
    conns: BTreeMap<SocketHandle, Conn>,
    /// TCP sockets in the socket set.
    count: usize,
}

type Sockets = SocketSet<'static>;

impl Tcp {
    /// Starts listening on `port` with a full pool of listening sockets.
    pub fn listen(&mut self, port: u16, sockets: &mut Sockets) -> Result<(), NetError> {
        if port == 0 {
            return Err(NetError::InvalidArgument);
        }
        if self.port_in_use(port) {
            return Err(NetError::AddressInUse);
        }
        self.listeners.insert(port, Listener::default());
        self.refill(sockets);
        if self.listeners[&port].pool.is_empty() {
            self.listeners.remove(&port);
            return Err(NetError::NoResources);
        }
        Ok(())
    }

    /// Stops listening: listening sockets go, connections nobody accepted are reset.
    pub fn unlisten(&mut self, port: u16, sockets: &mut Sockets, now: Instant) {
        for handle in self.listeners.remove(&port).map(|l| l.pool).unwrap_or_default() {
            let socket = sockets.get_mut::<tcp::Socket>(handle);
            if socket.state() == State::Listen {
                sockets.remove(handle);
                self.count -= 1;
            } else {
                socket.abort();
                // An orphan past its deadline: freed once the RST has gone out.
                let mut conn = Conn::new(socket, now);
                conn.orphan(socket, now);
                self.conns.insert(handle, conn);
            }
        }
    }

    /// Takes the next connection whose handshake completed on `port`.
    pub fn accept(&mut self, port: u16, sockets: &mut Sockets, now: Instant) -> Result<SocketHandle, NetError> {
        let listener = self.listeners.get_mut(&port).ok_or(NetError::NotConnected)?;
        let at = listener.pool.iter().position(|&h| is_acceptable(sockets.get::<tcp::Socket>(h).state()));
        let handle = listener.pool.remove(at.ok_or(NetError::WouldBlock)?);
        listener.ready = listener.ready.saturating_sub(1);
        let socket = sockets.get_mut::<tcp::Socket>(handle);
        socket.set_timeout(Some(IDLE_TIMEOUT));
        self.conns.insert(handle, Conn::new(socket, now));
        self.refill(sockets);
        Ok(handle)
    }

    /// Starts a connection from local port `port` (free, checked by the caller).
    pub fn connect(
        &mut self,
        iface: &mut smoltcp::iface::Interface,
        sockets: &mut Sockets,
        remote: IpEndpoint,
        port: u16,
        now: Instant,
    ) -> Result<SocketHandle, NetError> {
        if self.count >= MAX_SOCKETS {
            return Err(NetError::NoResources);
        }
        let mut socket = new_socket(self.count);
        socket.set_timeout(Some(CONNECT_TIMEOUT));
        socket.connect(iface.context(), remote, port).map_err(|_| NetError::Unreachable)?;
        let conn = Conn::new(&socket, now);
        let handle = sockets.add(socket);
        self.count += 1;
        self.conns.insert(handle, conn);
        Ok(handle)
    }

    /// Whether a listener or a connection uses local port `port`.
    pub fn port_in_use(&self, port: u16) -> bool {
        self.listeners.contains_key(&port) || self.conns.values().any(|c| c.local.port == port)
    }

    /// The connection's record; `handle` must be one the application holds.
    pub fn conn(&self, handle: SocketHandle) -> &Conn {
        &self.conns[&handle]
    }

    /// Whether the connection is synchronized and open in at least one direction.
    pub fn is_established(&self, handle: SocketHandle, sockets: &Sockets) -> bool {
        self.conns.contains_key(&handle) && conn::is_established(sockets.get::<tcp::Socket>(handle).state())
    }

    /// The application's connection `handle` and its socket.
    pub fn conn_mut<'s>(
        &mut self,
        handle: SocketHandle,
        sockets: &'s mut Sockets,
    ) -> Result<(&mut Conn, &'s mut tcp::Socket<'static>), NetError> {
        let conn = self.conns.get_mut(&handle).ok_or(NetError::NotConnected)?;
        Ok((conn, sockets.get_mut::<tcp::Socket>(handle)))
    }

    /// The application dropped the connection: close it gracefully and free it once
    /// closed (or at the end of [`LINGER`]).
    pub fn release(&mut self, handle: SocketHandle, sockets: &mut Sockets, now: Instant) {
        if let Ok((conn, socket)) = self.conn_mut(handle, sockets) {
            conn.orphan(socket, now + LINGER);
        }
    }

    /// Keeps [`BACKLOG`] sockets listening on every listener's port, within the limits;
    /// returns the ports left with none.
    pub fn refill(&mut self, sockets: &mut Sockets) -> Vec<u16> {
        let mut exhausted = Vec::new();
        for (&port, listener) in &mut self.listeners {
            let mut listening = listener.pool.iter().filter(|&&h| sockets.get::<tcp::Socket>(h).is_listening()).count();
            let unaccepted = listener.pool.len() - listening;
            let missing = BACKLOG.saturating_sub(listening).min(MAX_UNACCEPTED.saturating_sub(unaccepted));
            for _ in 0..missing {
                if self.count >= MAX_SOCKETS {
                    break;
                }
                let mut socket = new_socket(self.count);
                // A handshake the peer never completes (a spoofed SYN, say) gives up
                // instead of holding its socket for ever.
                socket.set_timeout(Some(CONNECT_TIMEOUT));
                // A fresh socket listens on any port but 0, which `listen` refused.
                let _ = socket.listen(port);
                listener.pool.push(sockets.add(socket));
                self.count += 1;
                listening += 1;
            }
            if listening == 0 {
                exhausted.push(port);
            }
        }
        exhausted
    }

    /// After a poll: notes every change the application may be waiting for (returns
    /// whether there was one), frees closed orphans and failed pooled sockets.
    pub fn sweep(&mut self, sockets: &mut Sockets, now: Instant) -> bool {
        let mut changed = false;
        let mut freed = Vec::new();
        for (&handle, conn) in &mut self.conns {
            let socket = sockets.get_mut::<tcp::Socket>(handle);
            match conn.orphaned_until() {
                None => changed |= conn.observe(socket, now),
                Some(until) if orphan_done(socket, until, now) => freed.push(handle),
                Some(_) => {}
            }
        }
        for handle in freed {
            self.conns.remove(&handle);
            sockets.remove(handle);
            self.count -= 1;
        }
        for listener in self.listeners.values_mut() {
            // A connection reset before `accept` is of no use to anyone: free it.
            let (closed, open): (Vec<_>, Vec<_>) =
                listener.pool.iter().copied().partition(|&h| sockets.get::<tcp::Socket>(h).state() == State::Closed);
            listener.pool = open;
            for handle in closed {
                sockets.remove(handle);
                self.count -= 1;
            }
            let ready = listener.pool.iter().filter(|&&h| is_acceptable(sockets.get::<tcp::Socket>(h).state())).count();
            changed |= ready > listener.ready;
            listener.ready = ready;
        }
        changed
    }

    /// The earliest time an orphan must be reset or a connection attempt given up.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.conns.values().filter_map(|c| c.orphaned_until().or(c.connect_deadline())).min()
    }

    /// TCP sockets in use.
    #[cfg(test)]
    pub fn sockets_in_use(&self) -> usize {
        self.count
    }
}

/// Advances a dropped connection; returns whether its socket can be freed.
fn orphan_done(socket: &mut tcp::Socket, until: Instant, now: Instant) -> bool {
    // Nobody will read what the peer still sends: discard it, so that its window stays
    // open and it can reach its own FIN.
    while socket.recv(|buf| (buf.len(), buf.len())).unwrap_or(0) > 0 {}
    match socket.state() {
        State::Closed | State::TimeWait => true,
        _ if now >= until => {
            socket.abort();
            false
        }
        _ => false,
    }
}

/// A socket for a stack holding `count` sockets already, with buffers of [`FAST_BUFFER`]
/// or [`BUFFER`] bytes each way. Nagle's algorithm is off: a response is
/// typically written in a few pieces within one turn of the application's loop, and
/// holding the later pieces back until the first is acknowledged costs a delayed ACK
/// (tens of milliseconds) per response.
fn new_socket(count: usize) -> tcp::Socket<'static> {
    let size = if count < FAST_SOCKETS { FAST_BUFFER } else { BUFFER };
    let mut socket = tcp::Socket::new(tcp::SocketBuffer::new(vec![0; size]), tcp::SocketBuffer::new(vec![0; size]));
    socket.set_nagle_enabled(false);
    socket
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_sockets_get_fast_buffers_and_the_rest_a_64_kib_window() {
        for (count, size) in [(0, FAST_BUFFER), (FAST_SOCKETS - 1, FAST_BUFFER), (FAST_SOCKETS, BUFFER)] {
            let socket = new_socket(count);
            assert_eq!((socket.recv_capacity(), socket.send_capacity()), (size, size), "with {count} sockets");
        }
        let most = FAST_SOCKETS * 2 * FAST_BUFFER + (MAX_SOCKETS - FAST_SOCKETS) * 2 * BUFFER;
        assert_eq!(most, 224 << 20, "the bound the documentation gives");
    }
}
