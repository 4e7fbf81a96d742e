//! One TCP connection: what the stack remembers of it besides its smoltcp socket, the
//! application's operations on it, and how it ended.
//!
//! smoltcp reports only states, not why a connection closed, so each connection keeps
//! what was seen on the way (handshake done, FIN from the peer, last visible progress)
//! to tell a refused, reset or timed-out connection from one that ended normally.

use crate::stack::NetError;
use core::net::Ipv4Addr;
use smoltcp::socket::tcp::{self, State};
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{IpAddress, IpEndpoint};

/// How long a connection attempt waits for an answer.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an established connection with unacknowledged data waits for the peer.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The endpoint of a socket that has none (a pooled socket reset before `accept`).
const NOWHERE: IpEndpoint = IpEndpoint { addr: IpAddress::Ipv4(Ipv4Addr::UNSPECIFIED), port: 0 };

/// How a connection that reached CLOSED ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Both sides closed (the peer's FIN was seen).
    Finished,
    Reset,
    Refused,
    TimedOut,
}

/// What the stack knows of one connection besides its smoltcp socket.
#[derive(Debug)]
pub struct Conn {
    pub local: IpEndpoint,
    pub remote: IpEndpoint,
    /// Set once the application dropped it: when to give up closing gracefully.
    orphaned_until: Option<Instant>,
    /// State, bytes received and bytes unacknowledged at the last look: a change
    /// since is what `yield` reports.
    state: State,
    rx: usize,
    tx: usize,
    /// The last write took less than offered: report when room frees up.
    wants_room: bool,
    synchronized: bool,
    peer_closed: bool,
    /// When the peer last visibly made progress (or the attempt started).
    heard: Instant,
    ended: Option<Ending>,
}

impl Conn {
    pub fn new(socket: &tcp::Socket, now: Instant) -> Conn {
        let state = socket.state();
        Conn {
            local: socket.local_endpoint().unwrap_or(NOWHERE),
            remote: socket.remote_endpoint().unwrap_or(NOWHERE),
            orphaned_until: None,
            state,
            // Data already queued counts as new, so a `yield` reports it once.
            rx: 0,
            tx: 0,
            wants_room: false,
            synchronized: is_synchronized(state),
            peer_closed: state == State::CloseWait,
            heard: now,
            ended: None,
        }
    }

    /// When an attempt to connect gives up. smoltcp's own timeout runs only once a SYN
    /// has left, which never happens while the peer's MAC address is unknown.
    pub fn connect_deadline(&self) -> Option<Instant> {
        (self.orphaned_until.is_none() && self.state == State::SynSent).then(|| self.heard + CONNECT_TIMEOUT)
    }

    /// Notes the socket's state; returns whether the application may want to know.
    pub fn observe(&mut self, socket: &mut tcp::Socket, now: Instant) -> bool {
        if self.connect_deadline().is_some_and(|deadline| now >= deadline) && socket.state() == State::SynSent {
            socket.abort();
        }
        let (state, rx, tx) = (socket.state(), socket.recv_queue(), socket.send_queue());
        let mut changed = rx > self.rx;
        if state != self.state {
            changed = true;
            if state == State::Closed && self.ended.is_none() {
                self.ended = Some(ending(self, now));
            }
            if is_synchronized(state) && !self.synchronized {
                self.synchronized = true;
                socket.set_timeout(Some(IDLE_TIMEOUT));
            }
            self.peer_closed |= matches!(state, State::CloseWait | State::LastAck | State::Closing | State::TimeWait);
        }
        if changed || tx < self.tx {
            self.heard = now;
        }
        if self.wants_room && socket.can_send() {
            self.wants_room = false;
            changed = true;
        }
        (self.state, self.rx, self.tx) = (state, rx, tx);
        changed
    }

    /// Up to `max` received bytes; empty at the end of the stream.
    pub fn read(&mut self, socket: &mut tcp::Socket, max: u32) -> Result<Vec<u8>, NetError> {
        if max == 0 {
            return Err(NetError::InvalidArgument);
        }
        let len = socket.recv_queue().min(max as usize);
        if len > 0 {
            let mut data = vec![0; len];
            let got = socket.recv_slice(&mut data).unwrap_or(0);
            data.truncate(got);
            self.rx = socket.recv_queue();
            return Ok(data);
        }
        match socket.state() {
            State::CloseWait | State::LastAck | State::Closing | State::TimeWait => Ok(Vec::new()),
            State::Closed if self.peer_closed => Ok(Vec::new()),
            State::Closed => Err(self.failure()),
            State::Listen => Err(NetError::NotConnected),
            _ => Err(NetError::WouldBlock),
        }
    }

    /// Queues as much of `data` as fits; the caller polls so that it leaves at once.
    pub fn write(&mut self, socket: &mut tcp::Socket, data: &[u8]) -> Result<u32, NetError> {
        match socket.state() {
            State::SynSent | State::SynReceived => Err(NetError::WouldBlock),
            State::Established | State::CloseWait => {
                // Sending fails only in states excluded above.
                let taken = socket.send_slice(data).unwrap_or(0);
                self.wants_room |= taken < data.len();
                self.tx = socket.send_queue();
                if taken == 0 && !data.is_empty() { Err(NetError::WouldBlock) } else { Ok(taken as u32) }
            }
            State::Closed => Err(self.failure()),
            _ => Err(NetError::NotConnected),
        }
    }

    /// Closes the sending side after what is queued.
    pub fn shutdown(&self, socket: &mut tcp::Socket) -> Result<(), NetError> {
        match socket.state() {
            State::Established | State::CloseWait => {
                socket.close();
                Ok(())
            }
            State::Closed => Err(self.failure()),
            _ => Err(NetError::NotConnected),
        }
    }

    /// The application dropped the connection: close gracefully, give up at `until`.
    pub fn orphan(&mut self, socket: &mut tcp::Socket, until: Instant) {
        socket.close();
        self.orphaned_until = Some(until);
    }

    /// When the stack gives up closing a dropped connection; `None` while it is held.
    pub fn orphaned_until(&self) -> Option<Instant> {
        self.orphaned_until
    }

    fn failure(&self) -> NetError {
        match self.ended.unwrap_or(Ending::Reset) {
            Ending::Finished => NetError::NotConnected,
            Ending::Reset => NetError::ConnectionReset,
            Ending::Refused => NetError::ConnectionRefused,
            Ending::TimedOut => NetError::TimedOut,
        }
    }
}

/// Why a connection reached CLOSED, judged from what was seen before (the state in
/// `conn` is the one before CLOSED). smoltcp closes a socket on a RST, on its timeout
/// (peer silent while something is unacknowledged), or after a normal close.
pub fn ending(conn: &Conn, now: Instant) -> Ending {
    let silent = now - conn.heard;
    if conn.peer_closed {
        Ending::Finished
    } else if !conn.synchronized {
        if silent >= CONNECT_TIMEOUT { Ending::TimedOut } else { Ending::Refused }
    } else if conn.tx > 0 && silent >= IDLE_TIMEOUT {
        Ending::TimedOut
    } else {
        Ending::Reset
    }
}

/// States after the handshake, in which the connection is (or was) synchronized.
fn is_synchronized(state: State) -> bool {
    !matches!(state, State::Closed | State::Listen | State::SynSent | State::SynReceived)
}

/// Whether a connection in `state` is synchronized and open in at least one direction.
pub fn is_established(state: State) -> bool {
    matches!(state, State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait)
}
