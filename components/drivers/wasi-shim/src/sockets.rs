//! The streams and pollables of sockets: none, since this shim serves no
//! `wasi:sockets` (`wasi-shim-net` does, and shares `io.rs`, which names these types).

use crate::exports::wasi::io::poll::Pollable;
use crate::exports::wasi::io::streams::StreamError;

/// A socket's input stream: none can exist.
pub enum Reader {}

impl Reader {
    pub fn read(&self, _: u64, _: bool) -> Result<Vec<u8>, StreamError> {
        match *self {}
    }

    pub fn subscribe(&self) -> Pollable {
        match *self {}
    }
}

/// A socket's output stream: none can exist.
pub enum Writer {}

impl Writer {
    pub fn check_write(&self) -> Result<u64, StreamError> {
        match *self {}
    }

    pub fn write(&self, _: &[u8]) -> Result<(), StreamError> {
        match *self {}
    }

    pub fn flush(&self, _: bool) -> Result<(), StreamError> {
        match *self {}
    }

    pub fn subscribe(&self) -> Pollable {
        match *self {}
    }
}

/// What a socket pollable waits for: nothing can.
pub enum Watch {}

impl Watch {
    pub fn ready(&self) -> bool {
        match *self {}
    }
}

/// Why a connection failed: none can have.
pub enum Failure {}

impl Failure {
    pub fn name(&self) -> &'static str {
        match *self {}
    }
}
