//! `wasi:io`: pollables that are clock deadlines (or always ready), an empty standard
//! input, output streams that write to the console, and the streams of files, which
//! the crate's `files` module provides (none in `wasi-shim`, kv values in
//! `wasi-shim-fs`, which shares this file).

use crate::Shim;
use crate::exports::wasi::filesystem::types::ErrorCode;
use crate::exports::wasi::io::{error, poll, streams};
use crate::files;
use crate::ukc::clock::monotonic;
use crate::ukc::console::console;
use streams::{GuestInputStream, StreamError};

/// A pollable: ready once the monotonic clock reaches `deadline`, or at once when there
/// is none (a stream here is always ready).
pub struct Pollable {
    deadline: Option<u64>,
}

impl Pollable {
    /// A pollable ready at `deadline` (nanoseconds of `ukc:clock/monotonic`).
    pub fn at(deadline: u64) -> poll::Pollable {
        poll::Pollable::new(Pollable { deadline: Some(deadline) })
    }

    fn ready_now() -> poll::Pollable {
        poll::Pollable::new(Pollable { deadline: None })
    }

    fn is_ready(&self, now: u64) -> bool {
        self.deadline.is_none_or(|d| now >= d)
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
        let earliest = pollables.iter().filter_map(|p| p.deadline).min().expect("some pollable has a deadline");
        crate::ukc::poll::poll::yield_(earliest);
    }
}

/// Why a stream operation failed: a file's storage failed (the console never does).
/// `wasi:filesystem/types.filesystem-error-code` reads the code back.
pub struct Error {
    pub code: ErrorCode,
}

impl Error {
    /// The stream error that carries `code`.
    pub fn stream(code: ErrorCode) -> StreamError {
        StreamError::LastOperationFailed(error::Error::new(Error { code }))
    }
}

impl error::GuestError for Error {
    fn to_debug_string(&self) -> String {
        self.code.name().to_string()
    }
}

impl error::Guest for Shim {
    type Error = Error;
}

/// An input stream: standard input, always at its end (a unikernel has no input
/// stream), or a file's bytes.
pub enum InputStream {
    Stdin,
    File(files::Reader),
}

impl streams::GuestInputStream for InputStream {
    fn read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
        match self {
            InputStream::Stdin => Err(StreamError::Closed),
            InputStream::File(file) => file.read(len),
        }
    }

    /// Nothing here waits: a file's bytes are there at once.
    fn blocking_read(&self, len: u64) -> Result<Vec<u8>, StreamError> {
        self.read(len)
    }

    fn skip(&self, len: u64) -> Result<u64, StreamError> {
        match self {
            InputStream::Stdin => Err(StreamError::Closed),
            InputStream::File(file) => file.skip(len),
        }
    }

    fn blocking_skip(&self, len: u64) -> Result<u64, StreamError> {
        self.skip(len)
    }

    fn subscribe(&self) -> poll::Pollable {
        Pollable::ready_now()
    }
}

/// An output stream: standard output or standard error (the console, which takes
/// everything at once), or a file.
pub enum OutputStream {
    Console,
    File(files::Writer),
}

/// How much `check-write` allows at a time: the console and files take any amount, so
/// this only bounds the size of one call.
const WRITE_BUDGET: u64 = 1 << 20;

impl streams::GuestOutputStream for OutputStream {
    fn check_write(&self) -> Result<u64, StreamError> {
        Ok(WRITE_BUDGET)
    }

    fn write(&self, contents: Vec<u8>) -> Result<(), StreamError> {
        match self {
            OutputStream::Console => {
                console::write(&contents);
                Ok(())
            }
            OutputStream::File(file) => file.write(&contents),
        }
    }

    fn blocking_write_and_flush(&self, contents: Vec<u8>) -> Result<(), StreamError> {
        self.write(contents)
    }

    /// Written bytes are visible to every later read at once; `sync` makes them durable.
    fn flush(&self) -> Result<(), StreamError> {
        Ok(())
    }

    fn blocking_flush(&self) -> Result<(), StreamError> {
        Ok(())
    }

    fn subscribe(&self) -> poll::Pollable {
        Pollable::ready_now()
    }

    fn write_zeroes(&self, len: u64) -> Result<(), StreamError> {
        self.write(vec![0; usize::try_from(len.min(WRITE_BUDGET)).unwrap_or(0)])
    }

    fn blocking_write_zeroes_and_flush(&self, len: u64) -> Result<(), StreamError> {
        self.write_zeroes(len)
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
