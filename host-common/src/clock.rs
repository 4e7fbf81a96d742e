//! The monotonic and wall clocks.

use crate::Devices;
use crate::bindings::ukc::clock::{monotonic, wall};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The monotonic clock counts from the unikernel's boot.
pub(crate) struct Clock {
    boot: Instant,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock { boot: Instant::now() }
    }

    /// Nanoseconds since boot.
    pub(crate) fn now(&self) -> u64 {
        u64::try_from(self.boot.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The `Instant` at which the monotonic clock reads `ns`.
    pub(crate) fn instant_at(&self, ns: u64) -> Option<Instant> {
        self.boot.checked_add(std::time::Duration::from_nanos(ns))
    }
}

impl monotonic::Host for Devices {
    fn now(&mut self) -> wasmtime::Result<u64> {
        Ok(self.clock.now())
    }
}

impl wall::Host for Devices {
    fn now(&mut self) -> wasmtime::Result<u64> {
        let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Ok(u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX))
    }
}
