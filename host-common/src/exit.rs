//! `exit`, and the exit statuses hosts use.

use crate::Devices;
use crate::bindings::ukc::exit::exit::Host;
use std::fmt;

/// The unikernel asked to stop with this status; carried as the error that unwinds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub u8);

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the unikernel exited with status {}", self.0)
    }
}

impl std::error::Error for Exit {}

/// Exit status for a bad command line or runtime argument (BSD's `EX_USAGE`).
pub const USAGE: u8 = 64;
/// Exit status when the host cannot boot the unikernel (a device missing, a bad file).
pub const SETUP: u8 = 1;
/// Exit status when the unikernel's `run` returns an error.
pub const FAILED: u8 = 1;
/// Exit status when the unikernel traps, as Solo5's `solo5_abort`.
pub const TRAP: u8 = 255;
/// Exit status when the unikernel runs past the host's `--timeout`, as `timeout(1)`'s.
pub const TIMEOUT: u8 = 124;

/// The unikernel ran past its time limit; carried as the error that unwinds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimedOut(pub std::time::Duration);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the unikernel ran past its time limit of {} s", self.0.as_secs_f64())
    }
}

impl std::error::Error for TimedOut {}

impl Host for Devices {
    fn exit(&mut self, status: u8) -> wasmtime::Result<()> {
        Err(wasmtime::Error::new(Exit(status)))
    }
}
