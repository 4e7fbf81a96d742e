//! `wasi:io`: pollables that are clock deadlines, socket events or always ready, an empty
//! standard input, output streams that write to the console, and the streams of files and
//! sockets, which the crate's `files` and `sockets` modules provide (none in `wasi-shim`;
//! kv values in `wasi-shim-fs` and `wasi-shim-net`, which share this file; `ukc:tcpip`
//! connections in `wasi-shim-net`).

use crate::Shim;
use crate::exports::wasi::filesystem::types::ErrorCode;
use crate::exports::wasi::io::{error, poll, streams};
use crate::ukc::clock::monotonic;
use crate::ukc::console::console;
use crate::{files, sockets};
use streams::{GuestInputStream, StreamError};

/// A pollable: ready once the monotonic clock reaches a deadline, once a socket can go
/// on, or at once (the console and files are always ready).
pub enum Pollable {
    Deadline(u64),
    Socket(sockets::Watch),
    Ready,
}

impl Pollable {
    /// A pollable ready at `deadline` (nanoseconds of `ukc:clock/monotonic`).
    pub fn at(deadline: u64) -> poll::Pollable {
        poll::Pollable::new(Pollable::Deadline(deadline))
    }

    /// A pollable ready when `watch` says its socket can go on.
    pub fn socket(watch: sockets::Watch) -> poll::Pollable {
        poll::Pollable::new(Pollable::Socket(watch))
    }

    /// A pollable that is ready at once.
    pub fn ready() -> poll::Pollable {
        poll::Pollable::new(Pollable::Ready)
    }

    fn is_ready(&self, now: u64) -> bool {
        match self {
            Pollable::Deadline(deadline) => now >= *deadline,
            Pollable::Socket(watch) => watch.ready(),
            Pollable::Ready => true,
        }
    }

    fn deadline(&self) -> Option<u64> {
        match self {
            Pollable::Deadline(deadline) => Some(*deadline),
            _ => None,
        }
    }
}

impl poll::GuestPollable for Pollable {
    fn ready(&self) -> bool {
        self.is_ready(monotonic::now())
    }

    fn block(&self) {
        wait(&[self]);
    }
}

impl poll::Guest for Shim {
    type Pollable = Pollable;

    fn poll(pollables: Vec<poll::PollableBorrow<'_>>) -> Vec<u32> {
        let pollables: Vec<&Pollable> = pollables.iter().map(|p| p.get::<Pollable>()).collect();
        wait(&pollables)
    }
}

/// Waits in `ukc:poll.yield` until one of `pollables` is ready; returns the indices of
/// the ready ones. An empty list traps, as WASI says it must.
fn wait(pollables: &[&Pollable]) -> Vec<u32> {
    assert!(!pollables.is_empty(), "wasi:io/poll.poll was given no pollables");
    loop {
        let now = monotonic::now();
        let ready: Vec<u32> = (0..pollables.len()).filter(|&i| pollables[i].is_ready(now)).map(|i| i as u32).collect();
        if !ready.is_empty() {
            return ready;
        }
        // Sockets have no deadline: their devices' input ends the yield.
        let earliest = pollables.iter().filter_map(|p| p.deadline()).min().unwrap_or(u64::MAX);
        crate::ukc::poll::poll::yield_(earliest);
    }
}

/// Why a stream operation failed: a file's storage or a connection failed (the console
/// never does). `wasi:filesystem/types.filesystem-error-code` and
/// `wasi:sockets/network.network-error-code` read the code back.
pub enum Error {
    File(ErrorCode),
    Socket(sockets::Failure),
}

impl Error {
    /// The stream error of a file that failed with `code`.
    pub fn stream(code: ErrorCode) -> StreamError {
        StreamError::LastOperationFailed(error::Error::new(Error::File(code)))
    }
}

impl error::GuestError for Error {
    fn to_debug_string(&self) -> String {
        match self {
            Error::File(code) => code.name().to_string(),
            Error::Socket(failure) => failure.name().to_string(),
        }
    }
}

impl error::Guest for Shim {
    type Error = Error;
}

/// An input stream: standard input, always at its end (a unikernel has no input
/// stream), a file's bytes, or a connection's.
pub enum InputStream {
    Stdin,
    File(files::Reader),
    Socket(sockets::Reader),
}

impl streams::GuestInputStream for InputStream {
    fn read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
        match self {
            InputStream::Stdin => Err(StreamError::Closed),
            InputStream::File(file) => file.read(len),
            InputStream::Socket(socket) => socket.read(len, false),
        }
    }

    /// Only a connection waits: a file's bytes are there at once.
    fn blocking_read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
        match self {
            InputStream::Socket(socket) => socket.read(len, true),
            _ => self.read(len),
        }
    }

    fn skip(&self, len: u64) -> Result<u64, StreamError> {
        match self {
            InputStream::Stdin => Err(StreamError::Closed),
            InputStream::File(file) => file.skip(len),
            InputStream::Socket(socket) => socket.read(len, false).map(|bytes| bytes.len() as u64),
        }
    }

    fn blocking_skip(&self, len: u64) -> Result<u64, StreamError> {
        match self {
            InputStream::Socket(socket) => socket.read(len, true).map(|bytes| bytes.len() as u64),
            _ => self.skip(len),
        }
    }

    fn subscribe(&self) -> poll::Pollable {
        match self {
            InputStream::Socket(socket) => socket.subscribe(),
            _ => Pollable::ready(),
        }
    }
}

/// An output stream: standard output or standard error (the console, which takes
/// everything at once), a file, or a connection.
pub enum OutputStream {
    Console,
    File(files::Writer),
    Socket(sockets::Writer),
}

/// How much `check-write` allows at a time: the console and files take any amount, so
/// this only bounds the size of one call.
const WRITE_BUDGET: u64 = 1 << 20;

impl streams::GuestOutputStream for OutputStream {
    fn check_write(&self) -> Result<u64, StreamError> {
        match self {
            OutputStream::Socket(socket) => socket.check_write(),
            _ => Ok(WRITE_BUDGET),
        }
    }

    fn write(&self, contents: Vec<u8>) -> Result<(), StreamError> {
        match self {
            OutputStream::Console => {
                console::write(&contents);
                Ok(())
            }
            OutputStream::File(file) => file.write(&contents),
            OutputStream::Socket(socket) => socket.write(&contents),
        }
    }

    fn blocking_write_and_flush(&self, contents: Vec<u8>) -> Result<(), StreamError> {
        self.write(contents)?;
        self.blocking_flush()
    }

    /// The console and files take bytes at once (a file's are visible to every later read;
    /// `sync` makes them durable); a connection sends what it queued.
    fn flush(&self) -> Result<(), StreamError> {
        match self {
            OutputStream::Socket(socket) => socket.flush(false),
            _ => Ok(()),
        }
    }

    fn blocking_flush(&self) -> Result<(), StreamError> {
        match self {
            OutputStream::Socket(socket) => socket.flush(true),
            _ => Ok(()),
        }
    }

    fn subscribe(&self) -> poll::Pollable {
        match self {
            OutputStream::Socket(socket) => socket.subscribe(),
            _ => Pollable::ready(),
        }
    }

    fn write_zeroes(&self, len: u64) -> Result<(), StreamError> {
        self.write(vec![0; usize::try_from(len.min(WRITE_BUDGET)).unwrap_or(0)])
    }

    fn blocking_write_zeroes_and_flush(&self, len: u64) -> Result<(), StreamError> {
        self.write_zeroes(len)?;
        self.blocking_flush()
    }

    fn splice(&self, src: streams::InputStreamBorrow<'_>, len: u64) -> Result<u64, StreamError> {
        let bytes = src.get::<InputStream>().read(len.min(WRITE_BUDGET))?;
        let read = bytes.len() as u64;
        self.write(bytes)?;
        Ok(read)
    }

    fn blocking_splice(&self, src: streams::InputStreamBorrow<'_>, len: u64) -> Result<u64, StreamError> {
        self.splice(src, len)
    }
}

impl streams::Guest for Shim {
    type InputStream = InputStream;
    type OutputStream = OutputStream;
}
