//! A TCP connection's two streams and what socket pollables wait for. `ukc:tcpip` says
//! `would-block` rather than wait, and has no readiness query but trying: a pollable
//! asking whether a stream can go on tries the read (or the accept, or the datagram) and
//! keeps what it got for the next call. A write the stack does not take whole waits here
//! and goes out as the stack drains; a flush also yields once, since a stack that is a
//! driver sends what it queued at the next `yield`.

use crate::exports::wasi::io::error;
use crate::exports::wasi::io::poll::Pollable;
use crate::exports::wasi::io::streams::StreamError;
use crate::exports::wasi::sockets::network::ErrorCode;
use crate::network::code;
use crate::tcp::Listening;
use crate::udp::Bound;
use crate::ukc::clock::monotonic;
use crate::ukc::poll::poll;
use crate::ukc::tcpip::tcp::Connection;
use crate::ukc::tcpip::types;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// The most one read asks the stack for.
const READ_MAX: u32 = 64 * 1024;
/// How many bytes a connection's output stream holds that the stack has not taken.
const WRITE_BUDGET: usize = 64 * 1024;

/// Why a connection failed, as `wasi:sockets/network.network-error-code` reads it.
pub struct Failure {
    pub code: ErrorCode,
}

impl Failure {
    pub fn name(&self) -> &'static str {
        self.code.name()
    }
}

fn failed(code: ErrorCode) -> StreamError {
    StreamError::LastOperationFailed(error::Error::new(crate::io::Error::Socket(Failure { code })))
}

/// A connection, shared by its socket and its streams.
pub struct Conn {
    pub connection: Connection,
    /// Bytes read ahead of the program, by a pollable.
    ahead: RefCell<Vec<u8>>,
    /// How the input ended: `Some(None)` at the peer's end of stream.
    ended: Cell<Option<Option<ErrorCode>>>,
    /// Bytes written that the stack has not taken yet.
    pending: RefCell<Vec<u8>>,
    /// Why the output failed, once it did.
    broken: Cell<Option<ErrorCode>>,
}

impl Conn {
    pub fn new(connection: Connection) -> Rc<Conn> {
        Rc::new(Conn {
            connection,
            ahead: RefCell::default(),
            ended: Cell::new(None),
            pending: RefCell::default(),
            broken: Cell::new(None),
        })
    }

    /// Reads ahead when nothing is, unless the input ended.
    fn fill(&self) {
        if !self.ahead.borrow().is_empty() || self.ended.get().is_some() {
            return;
        }
        match self.connection.read(READ_MAX) {
            Ok(data) if data.is_empty() => self.ended.set(Some(None)),
            Ok(data) => *self.ahead.borrow_mut() = data,
            Err(types::Error::WouldBlock) => {}
            Err(e) => self.ended.set(Some(Some(code(e)))),
        }
    }

    /// At most `len` bytes; with `blocking`, waits for at least one (or the end).
    fn read(&self, len: u64, blocking: bool) -> Result<Vec<u8>, StreamError> {
        loop {
            self.fill();
            let mut ahead = self.ahead.borrow_mut();
            if !ahead.is_empty() {
                let take = usize::try_from(len).unwrap_or(usize::MAX).min(ahead.len());
                let rest = ahead.split_off(take);
                return Ok(std::mem::replace(&mut *ahead, rest));
            }
            drop(ahead);
            match self.ended.get() {
                Some(None) => return Err(StreamError::Closed),
                Some(Some(code)) => return Err(failed(code)),
                None if !blocking || len == 0 => return Ok(Vec::new()),
                None => {
                    poll::yield_(u64::MAX);
                }
            }
        }
    }

    /// Whether a read would return at once.
    fn readable(&self) -> bool {
        self.fill();
        !self.ahead.borrow().is_empty() || self.ended.get().is_some()
    }

    /// Gives the stack what it takes of the pending bytes.
    fn push(&self) -> Result<(), ErrorCode> {
        if let Some(code) = self.broken.get() {
            return Err(code);
        }
        let mut pending = self.pending.borrow_mut();
        while !pending.is_empty() {
            match self.connection.write(&pending) {
                Ok(0) | Err(types::Error::WouldBlock) => break,
                Ok(n) => {
                    let taken = (n as usize).min(pending.len());
                    pending.drain(..taken);
                }
                Err(e) => {
                    self.broken.set(Some(code(e)));
                    return Err(code(e));
                }
            }
        }
        Ok(())
    }

    fn check_write(&self) -> Result<u64, StreamError> {
        self.push().map_err(failed)?;
        Ok(WRITE_BUDGET.saturating_sub(self.pending.borrow().len()) as u64)
    }

    fn write(&self, bytes: &[u8]) -> Result<(), StreamError> {
        if let Some(code) = self.broken.get() {
            return Err(failed(code));
        }
        self.pending.borrow_mut().extend_from_slice(bytes);
        self.push().map_err(failed)
    }

    /// Sends what is pending; with `blocking`, until the stack took it all.
    pub fn flush(&self, blocking: bool) -> Result<(), StreamError> {
        loop {
            self.push().map_err(failed)?;
            if self.pending.borrow().is_empty() || !blocking {
                // A deadline already past: the stack sends what it queued, and returns.
                poll::yield_(0);
                return Ok(());
            }
            poll::yield_(u64::MAX);
        }
    }

    fn writable(&self) -> bool {
        self.push().is_err() || self.pending.borrow().len() < WRITE_BUDGET
    }

    /// Stops reading: later reads see the end of the stream.
    pub fn stop_reading(&self) {
        self.ahead.borrow_mut().clear();
        self.ended.set(Some(None));
    }
}

/// How long a connection the program let go of may still take to hand what it wrote to
/// the stack, as a kernel lingers on a closed socket.
const LINGER_NS: u64 = 5_000_000_000;

impl Drop for Conn {
    /// The program let go of the connection (its socket and both streams): what it wrote
    /// still goes to the stack, for up to [`LINGER_NS`] if the stack is full, and a
    /// driver stack gets a pass to send it, so that a program that writes and closes
    /// loses nothing it wrote.
    fn drop(&mut self) {
        let deadline = monotonic::now().saturating_add(LINGER_NS);
        while self.push().is_ok() && !self.pending.borrow().is_empty() && monotonic::now() < deadline {
            poll::yield_(deadline);
        }
        poll::yield_(0);
    }
}

/// A connection's input stream.
pub struct Reader(pub Rc<Conn>);

impl Reader {
    pub fn read(&self, len: u64, blocking: bool) -> Result<Vec<u8>, StreamError> {
        self.0.read(len, blocking)
    }

    pub fn subscribe(&self) -> Pollable {
        crate::io::Pollable::socket(Watch::Readable(self.0.clone()))
    }
}

/// A connection's output stream.
pub struct Writer(pub Rc<Conn>);

impl Writer {
    pub fn check_write(&self) -> Result<u64, StreamError> {
        self.0.check_write()
    }

    pub fn write(&self, bytes: &[u8]) -> Result<(), StreamError> {
        self.0.write(bytes)
    }

    pub fn flush(&self, blocking: bool) -> Result<(), StreamError> {
        self.0.flush(blocking)
    }

    pub fn subscribe(&self) -> Pollable {
        crate::io::Pollable::socket(Watch::Writable(self.0.clone()))
    }
}

/// What a socket pollable waits for.
pub enum Watch {
    Readable(Rc<Conn>),
    Writable(Rc<Conn>),
    /// A connection being opened: ready once it is open or failed.
    Opening(Rc<Conn>),
    /// A listener: ready once a connection waits to be accepted.
    Accepting(Rc<Listening>),
    /// A UDP socket's incoming datagrams.
    Datagrams(Rc<Bound>),
}

impl Watch {
    pub fn ready(&self) -> bool {
        match self {
            Watch::Readable(conn) => conn.readable(),
            Watch::Writable(conn) => conn.writable(),
            Watch::Opening(conn) => conn.connection.is_established() || opening_failed(conn).is_some(),
            Watch::Accepting(listening) => listening.pending(),
            Watch::Datagrams(bound) => bound.pending(),
        }
    }
}

/// Why a connection being opened failed, if it did: writing nothing says `would-block`
/// while it opens and the failure once it failed. The stack reports the failure once,
/// so the connection keeps it, for its streams too.
pub fn opening_failed(conn: &Conn) -> Option<ErrorCode> {
    if let Some(code) = conn.broken.get() {
        return Some(code);
    }
    match conn.connection.write(&[]) {
        Ok(_) | Err(types::Error::WouldBlock) => None,
        Err(e) => {
            conn.broken.set(Some(code(e)));
            conn.ended.set(Some(Some(code(e))));
            Some(code(e))
        }
    }
}
