//! One connection of the website, whatever carries it: static-website's TCP connections
//! and static-website-tls's TLS sessions both implement [`Stream`] and share this loop.

use crate::http::{Exchange, Sink};
use crate::site::Site;
use crate::ukc::tcpip::types::Endpoint;

/// Bytes asked for per read.
const READ_SIZE: u32 = 16 * 1024;

/// What a read from a connection gave.
pub enum Received {
    /// Bytes; none once the peer has closed its side.
    Data(Vec<u8>),
    /// Nothing now; try after `yield`.
    WouldBlock,
    /// The connection failed; the text says how.
    Failed(String),
}

/// A connection the website serves.
pub trait Stream: Sink {
    /// Reads up to `max` bytes.
    fn receive(&self, max: u32) -> Received;
    /// Closes the sending side.
    fn close(&self);
    /// Who is on the other end.
    fn peer(&self) -> Endpoint;
}

/// One connection: its HTTP exchange, and when it last moved.
pub struct Client<S: Stream> {
    stream: S,
    peer: Endpoint,
    http: Exchange,
    pub done: bool,
    /// When a request was last completed or bytes last sent (monotonic nanoseconds).
    pub last_progress: u64,
    /// Why the connection failed, when it did.
    pub failure: Option<String>,
}

impl<S: Stream> Client<S> {
    pub fn new(stream: S, now: u64) -> Client<S> {
        let peer = stream.peer();
        Client { stream, peer, http: Exchange::default(), done: false, last_progress: now, failure: None }
    }

    /// Moves this connection along as far as it can without blocking; true if anything
    /// moved. A connection past its idle timeout is closed.
    pub fn serve(&mut self, site: &Site, now: u64, idle_timeout: u64) -> bool {
        if now.saturating_sub(self.last_progress) >= idle_timeout {
            return self.finish();
        }
        let mut progress = false;
        loop {
            if self.http.answer_buffered(site, &self.peer) {
                (progress, self.last_progress) = (true, now);
            }
            match self.http.output.flush(&self.stream, site) {
                Ok(true) => (progress, self.last_progress) = (true, now),
                Ok(false) => {}
                Err(_) => return self.finish(),
            }
            if !self.http.output.is_empty() {
                return progress;
            }
            if self.http.closing {
                return self.finish();
            }
            match self.stream.receive(READ_SIZE) {
                Received::Data(data) if data.is_empty() => self.http.closing = true,
                Received::Data(data) => self.http.input.extend_from_slice(&data),
                Received::WouldBlock => return progress,
                Received::Failed(why) => {
                    self.failure = Some(why);
                    return self.finish();
                }
            }
            progress = true;
        }
    }

    fn finish(&mut self) -> bool {
        self.stream.close();
        self.done = true;
        true
    }
}
