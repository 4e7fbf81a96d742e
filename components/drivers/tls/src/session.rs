//! One TLS session over one TCP connection, moved along by whatever the application calls:
//! a server's (the tls driver) or a client's (the tls-client driver, which shares this
//! file). Each driver names its own bindings' `Error` and `GuestSession` at its root.

use crate::ukc::tcpip::tcp::Connection;
use crate::ukc::tcpip::types::Error as NetError;
use crate::{Error, GuestSession};
use std::cell::RefCell;
use std::io::{BufRead, Write};

/// TCP bytes read per call.
const TCP_READ: u32 = 16 * 1024;
/// Plaintext rustls buffers for sending, at most (a record and a bit).
const SEND_BUFFER: usize = 64 * 1024;

/// A session: rustls's state, the TCP connection, and TLS bytes waiting for TCP.
pub struct Session {
    inner: RefCell<Inner>,
}

struct Inner {
    tcp: Connection,
    tls: rustls::Connection,
    /// TLS output rustls produced that TCP has not taken yet.
    pending: Vec<u8>,
    /// The peer's TCP side closed.
    eof: bool,
}

impl Session {
    pub fn new(tcp: Connection, mut tls: rustls::Connection) -> Session {
        tls.set_buffer_limit(Some(SEND_BUFFER));
        Session { inner: RefCell::new(Inner { tcp, tls, pending: Vec::new(), eof: false }) }
    }
}

impl Inner {
    /// Hands TCP what TLS output is waiting; true when nothing is left.
    fn flush(&mut self) -> Result<bool, Error> {
        loop {
            while self.tls.wants_write() {
                self.tls.write_tls(&mut self.pending).map_err(|e| Error::Closed(format!("{e}")))?;
            }
            if self.pending.is_empty() {
                return Ok(true);
            }
            match self.tcp.write(&self.pending) {
                Ok(0) | Err(NetError::WouldBlock) => return Ok(false),
                Ok(n) => {
                    self.pending.drain(..n as usize);
                }
                Err(e) => return Err(tcp_failure("sending", e)),
            }
        }
    }

    /// Reads what TCP has into rustls and processes it; false when TCP had nothing.
    fn receive(&mut self) -> Result<bool, Error> {
        if self.eof {
            return Ok(false);
        }
        let data = match self.tcp.read(TCP_READ) {
            Ok(data) => data,
            Err(NetError::WouldBlock) => return Ok(false),
            Err(e) => return Err(tcp_failure("receiving", e)),
        };
        if data.is_empty() {
            self.eof = true;
        }
        let mut rest = data.as_slice();
        loop {
            self.tls.read_tls(&mut rest).map_err(|e| Error::Closed(format!("{e}")))?;
            if let Err(e) = self.tls.process_new_packets() {
                // rustls queued an alert for the peer: send it before reporting.
                let _ = self.flush();
                return Err(Error::Handshake(e.to_string()));
            }
            if rest.is_empty() {
                return Ok(true);
            }
        }
    }
}

/// A TCP failure as a session reports it: not reaching the peer is the network's failure
/// (a client's connection is made in its first reads and writes); anything after, the
/// connection's.
fn tcp_failure(doing: &str, e: NetError) -> Error {
    let what = e.message().trim_end_matches('.').to_lowercase();
    match e {
        NetError::ConnectionRefused | NetError::Unreachable => Error::Network(what),
        NetError::TimedOut => Error::Network(format!("{doing}: {what}")),
        _ => Error::Closed(format!("{doing}: {what}")),
    }
}

impl GuestSession for Session {
    fn read(&self, max: u32) -> Result<Vec<u8>, Error> {
        let mut inner = self.inner.borrow_mut();
        inner.flush()?;
        loop {
            // Straight from rustls's buffer: no zeroed buffer per call (most calls find
            // nothing), and exactly what is there.
            let mut reader = inner.tls.reader();
            match reader.fill_buf() {
                Ok(buffer) if !buffer.is_empty() || max == 0 => {
                    let data = buffer[..buffer.len().min(max as usize)].to_vec();
                    reader.consume(data.len());
                    return Ok(data);
                }
                // The peer sent close_notify: a clean end.
                Ok(_) => return Ok(Vec::new()),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(Error::Closed(format!("the peer closed without close_notify: {e}"))),
            }
            let moved = inner.receive()?;
            // The handshake answers as it goes.
            inner.flush()?;
            if !moved {
                return Err(Error::WouldBlock);
            }
        }
    }

    fn write(&self, data: Vec<u8>) -> Result<u32, Error> {
        let mut inner = self.inner.borrow_mut();
        if !inner.flush()? {
            return Err(Error::WouldBlock);
        }
        // Until the handshake is done, rustls buffers plaintext; it goes once keys exist.
        let taken = inner.tls.writer().write(&data).map_err(|e| Error::Closed(format!("{e}")))?;
        if inner.tls.is_handshaking() {
            inner.receive()?;
        }
        inner.flush()?;
        if taken == 0 && !data.is_empty() {
            return Err(Error::WouldBlock);
        }
        Ok(taken as u32)
    }

    fn shutdown(&self) -> Result<(), Error> {
        let mut inner = self.inner.borrow_mut();
        inner.tls.send_close_notify();
        let _ = inner.flush();
        inner.tcp.shutdown().map_err(|e| tcp_failure("closing", e))
    }

    fn protocol(&self) -> Option<String> {
        let inner = self.inner.borrow();
        inner.tls.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned())
    }

    fn remote_endpoint(&self) -> crate::ukc::tcpip::types::Endpoint {
        self.inner.borrow().tcp.remote_endpoint()
    }

    fn version(&self) -> Option<String> {
        let inner = self.inner.borrow();
        inner.tls.protocol_version().map(|v| format!("{v:?}"))
    }
}
