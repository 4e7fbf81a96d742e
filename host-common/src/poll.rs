//! `yield`: wait for device input or a deadline.

use crate::Devices;
use crate::bindings::ukc::poll::poll::Host;
use std::time::Instant;

impl Host for Devices {
    fn yield_(&mut self, deadline: u64) -> wasmtime::Result<Vec<String>> {
        // No device attached here produces input, so waiting means sleeping until the
        // deadline. A deadline beyond the clock's range waits forever, as Solo5's does.
        match self.clock.instant_at(deadline) {
            Some(when) => {
                let now = Instant::now();
                if when > now {
                    std::thread::sleep(when - now);
                }
            }
            None => loop {
                std::thread::park();
            },
        }
        Ok(Vec::new())
    }
}
