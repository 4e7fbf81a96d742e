//! `wasi:io`: pollables that are clock deadlines (or always ready), an empty standard
//! input, and output streams that write to the console.

use crate::Shim;
use crate::exports::wasi::io::{error, poll, streams};
use crate::ukc::clock::monotonic;
use crate::ukc::console::console;
use streams::StreamError;

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

/// An error of a stream operation. Nothing here fails, so none is ever made; the type
/// exists because `wasi:io/streams` names it.
pub struct Error;

impl error::GuestError for Error {
    fn to_debug_string(&self) -> String {
        "error".to_string()
    }
}

impl error::Guest for Shim {
    type Error = Error;
}

/// Standard input: always at its end (a unikernel has no input stream).
pub struct InputStream;

impl streams::GuestInputStream for InputStream {
    fn read(&self, _len: u64) -> Result<Vec<u8>, StreamError> {
        Err(StreamError::Closed)
    }

    fn blocking_read(&self, _len: u64) -> Result<Vec<u8>, StreamError> {
        Err(StreamError::Closed)
    }

    fn skip(&self, _len: u64) -> Result<u64, StreamError> {
        Err(StreamError::Closed)
    }

    fn blocking_skip(&self, _len: u64) -> Result<u64, StreamError> {
        Err(StreamError::Closed)
    }

    fn subscribe(&self) -> poll::Pollable {
        Pollable::ready_now()
    }
}

/// Standard output or standard error: the console, which takes everything at once.
pub struct OutputStream;

/// How much `check-write` allows at a time: the console takes any amount, so this only
/// bounds the size of one call.
const WRITE_BUDGET: u64 = 1 << 20;

impl streams::GuestOutputStream for OutputStream {
    fn check_write(&self) -> Result<u64, StreamError> {
        Ok(WRITE_BUDGET)
    }

    fn write(&self, contents: Vec<u8>) -> Result<(), StreamError> {
        console::write(&contents);
        Ok(())
    }

    fn blocking_write_and_flush(&self, contents: Vec<u8>) -> Result<(), StreamError> {
        console::write(&contents);
        Ok(())
    }

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
        console::write(&vec![0; usize::try_from(len.min(WRITE_BUDGET)).unwrap_or(0)]);
        Ok(())
    }

    fn blocking_write_zeroes_and_flush(&self, len: u64) -> Result<(), StreamError> {
        self.write_zeroes(len)
    }

    fn splice(&self, _src: streams::InputStreamBorrow<'_>, _len: u64) -> Result<u64, StreamError> {
        // The only input stream is standard input, which is always at its end.
        Err(StreamError::Closed)
    }

    fn blocking_splice(&self, src: streams::InputStreamBorrow<'_>, len: u64) -> Result<u64, StreamError> {
        self.splice(src, len)
    }
}

impl streams::Guest for Shim {
    type InputStream = InputStream;
    type OutputStream = OutputStream;
}
