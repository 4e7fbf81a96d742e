//! A TCP connection on `wasi:sockets`: connecting, open or failed; the output the
//! application queued and the host has not taken yet; and, once the application drops
//! it, closing in the background.
//!
//! Output is queued and handed to the host when the application waits in `yield` (or
//! the queue is full), so that a response written in pieces (a head, then a body) leaves
//! as one segment: WASI has no `TCP_NODELAY`, and a second small piece sent on its own
//! waits for the peer's delayed acknowledgement of the first (40 ms on Linux).

use crate::addr::{self, UNSPECIFIED};
use crate::exports::ukc::tcpip::types::{Endpoint, Error};
use crate::watch::{self, Watch};
use std::cell::{Cell, Ref, RefCell};
use std::rc::Rc;
use wasip2::io::poll::Pollable;
use wasip2::io::streams::{InputStream, OutputStream, StreamError};
use wasip2::sockets::network::{ErrorCode, IpSocketAddress};
use wasip2::sockets::tcp::{ShutdownType, TcpSocket};

/// The most output a connection queues; `write` says `would-block` beyond it.
const QUEUE_LIMIT: usize = 64 * 1024;

pub struct Conn {
    state: RefCell<State>,
    /// Output taken from the application, not yet handed to the host.
    queue: RefCell<Vec<u8>>,
    /// The application got `would-block` from `write`, so it waits for room to write.
    wants_write: Cell<bool>,
    /// The end of input (or a failure) was reported: reading has nothing left to wait for.
    input_done: Cell<bool>,
    shutdown: Cell<Shutdown>,
    /// Why handing queued output to the host failed; `write` reports it.
    write_failed: Cell<Option<Error>>,
    /// The application dropped the connection: only its queued output matters now.
    dropped: Cell<bool>,
}

pub enum State {
    /// `start-connect` succeeded; `finish-connect` has not yet.
    Connecting(TcpSocket),
    Open(Open),
    /// Connecting failed, for this reason, which every later operation reports.
    Failed(Error),
}

/// An established connection's WASI handles. The streams come first: they are children
/// of the socket and must be dropped before it.
pub struct Open {
    pub input: InputStream,
    pub output: OutputStream,
    pub socket: TcpSocket,
}

/// Where shutting down the sending side is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shutdown {
    No,
    /// The application asked; it happens once the queue is handed to the host.
    Requested,
    Done,
}

thread_local! {
    /// Dropped connections whose output the host is still to take or send.
    static CLOSING: RefCell<Vec<Rc<Conn>>> = const { RefCell::new(Vec::new()) };
}

impl Conn {
    /// A connection in `state`, watched by `yield` from now on.
    pub fn new(state: State) -> Rc<Conn> {
        let conn = Rc::new(Conn {
            state: RefCell::new(state),
            queue: RefCell::new(Vec::new()),
            wants_write: Cell::new(false),
            input_done: Cell::new(false),
            shutdown: Cell::new(Shutdown::No),
            write_failed: Cell::new(None),
            dropped: Cell::new(false),
        });
        watch::watch(Rc::downgrade(&conn) as _);
        conn
    }

    /// The established connection, after finishing a pending connect if it is done;
    /// `would-block` while connecting, the failure once connecting failed.
    fn open(&self) -> Result<Ref<'_, Open>, Error> {
        {
            let mut state = self.state.borrow_mut();
            if let State::Connecting(socket) = &*state {
                *state = match socket.finish_connect() {
                    Err(ErrorCode::WouldBlock) => return Err(Error::WouldBlock),
                    Ok((input, output)) => match std::mem::replace(&mut *state, State::Failed(Error::NotConnected)) {
                        State::Connecting(socket) => State::Open(Open { input, output, socket }),
                        _ => unreachable!("matched as connecting above"),
                    },
                    // A failed connect leaves the socket unusable: drop it now.
                    Err(code) => State::Failed(addr::error(code)),
                };
            }
        }
        Ref::filter_map(self.state.borrow(), |state| match state {
            State::Open(open) => Some(open),
            _ => None,
        })
        .map_err(|state| match &*state {
            State::Failed(error) => *error,
            _ => Error::WouldBlock,
        })
    }

    pub fn is_established(&self) -> bool {
        self.open().is_ok()
    }

    pub fn read(&self, max: u32) -> Result<Vec<u8>, Error> {
        let open = self.open()?;
        match open.input.read(u64::from(max)) {
            // WASI says "nothing yet" with an empty read; ukc says it with `would-block`
            // and keeps the empty list for the end of the stream.
            Ok(data) if data.is_empty() && max > 0 => Err(Error::WouldBlock),
            Ok(data) => Ok(data),
            Err(StreamError::Closed) => {
                self.input_done.set(true);
                Ok(Vec::new())
            }
            Err(StreamError::LastOperationFailed(_)) => {
                self.input_done.set(true);
                Err(Error::ConnectionReset)
            }
        }
    }

    /// Queues what fits of `data`.
    pub fn write(&self, data: &[u8]) -> Result<u32, Error> {
        if self.shutdown.get() != Shutdown::No {
            return Err(Error::NotConnected);
        }
        drop(self.open()?);
        if self.queue.borrow().len() >= QUEUE_LIMIT {
            self.push();
        }
        if let Some(error) = self.write_failed.get() {
            return Err(error);
        }
        let mut queue = self.queue.borrow_mut();
        let taken = data.len().min(QUEUE_LIMIT.saturating_sub(queue.len()));
        if taken == 0 && !data.is_empty() {
            self.wants_write.set(true);
            return Err(Error::WouldBlock);
        }
        queue.extend_from_slice(&data[..taken]);
        self.wants_write.set(false);
        Ok(taken as u32)
    }

    /// Shuts the sending side down once everything queued is handed to the host, which
    /// sends it before the end of stream.
    pub fn shutdown(&self) -> Result<(), Error> {
        drop(self.open()?);
        if self.shutdown.get() == Shutdown::No {
            self.shutdown.set(Shutdown::Requested);
            self.wants_write.set(false);
            self.push();
        }
        Ok(())
    }

    /// The endpoint `of` reads from the socket, in whichever state it is.
    pub fn endpoint(&self, of: fn(&TcpSocket) -> Result<IpSocketAddress, ErrorCode>) -> Endpoint {
        match &*self.state.borrow() {
            State::Connecting(socket) | State::Open(Open { socket, .. }) => addr::endpoint(of(socket)),
            State::Failed(_) => UNSPECIFIED,
        }
    }

    /// Hands queued output to the host as far as it takes it, then shuts down if asked.
    fn push(&self) {
        let state = self.state.borrow();
        let State::Open(open) = &*state else { return };
        let mut queue = self.queue.borrow_mut();
        while !queue.is_empty() {
            let room = match open.output.check_write() {
                Ok(0) => break,
                Ok(room) => usize::try_from(room).unwrap_or(usize::MAX).min(queue.len()),
                Err(_) => return self.fail_writes(&mut queue),
            };
            if open.output.write(&queue[..room]).is_err() {
                return self.fail_writes(&mut queue);
            }
            queue.drain(..room);
        }
        if queue.is_empty() && self.shutdown.get() == Shutdown::Requested {
            // A failure means the connection is gone, which reads will tell.
            let _ = open.socket.shutdown(ShutdownType::Send);
            self.shutdown.set(Shutdown::Done);
        }
    }

    /// The output stream closes when the peer resets the connection: what is queued is lost.
    fn fail_writes(&self, queue: &mut Vec<u8>) {
        queue.clear();
        self.write_failed.set(Some(Error::ConnectionReset));
    }

    /// Whether output is still to be handed to the host, or the host still sends what it
    /// took (dropping the output stream would then wait for it).
    fn sending(&self) -> bool {
        if !self.queue.borrow().is_empty() {
            return true;
        }
        match &*self.state.borrow() {
            State::Open(open) => matches!(open.output.check_write(), Ok(0)),
            _ => false,
        }
    }

    /// The application dropped the connection: close it gracefully, at once if
    /// everything is sent, else in the background so a slow peer stalls nothing else.
    pub fn release(self: &Rc<Conn>) {
        self.dropped.set(true);
        self.push();
        if self.sending() {
            CLOSING.with_borrow_mut(|closing| closing.push(self.clone()));
        }
    }
}

/// Closes the dropped connections that have sent everything.
pub fn reap_closing() {
    CLOSING.with_borrow_mut(|closing| {
        closing.retain(|conn| {
            conn.push();
            conn.sending()
        });
    });
}

impl Watch for Conn {
    fn subscribe(&self, pollables: &mut Vec<Pollable>) -> bool {
        self.push();
        let state = self.state.borrow();
        let open = match &*state {
            // A connecting socket's pollable is ready when the connect has finished.
            State::Connecting(socket) => {
                pollables.push(socket.subscribe());
                return false;
            }
            State::Open(open) => open,
            State::Failed(_) => return false,
        };
        let queued = self.queue.borrow().len();
        if self.wants_write.get() && (queued < QUEUE_LIMIT || self.write_failed.get().is_some()) {
            // The push above made room (or failed): the application can write now.
            return true;
        }
        if !self.dropped.get() && !self.input_done.get() {
            pollables.push(open.input.subscribe());
        }
        if queued > 0 || (self.dropped.get() && matches!(open.output.check_write(), Ok(0))) {
            pollables.push(open.output.subscribe());
        }
        false
    }
}
