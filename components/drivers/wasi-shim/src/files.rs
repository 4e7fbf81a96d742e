//! The streams of files: none, since `wasi-shim` preopens no directory (see
//! `filesystem.rs`). `wasi-shim-fs`, which shares `io.rs`, has real ones.

use crate::exports::wasi::io::streams::StreamError;

/// A file's input stream: none can exist.
pub enum Reader {}

impl Reader {
    pub fn read(&self, _: u64) -> Result<Vec<u8>, StreamError> {
        match *self {}
    }

    pub fn skip(&self, _: u64) -> Result<u64, StreamError> {
        match *self {}
    }
}

/// A file's output stream: none can exist.
pub enum Writer {}

impl Writer {
    pub fn write(&self, _: &[u8]) -> Result<(), StreamError> {
        match *self {}
    }
}
