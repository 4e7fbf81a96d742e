//! `wasi:clocks` on the ukc clocks; subscribing makes a pollable that `wasi:io/poll`
//! waits on in `ukc:poll.yield`.

use crate::Shim;
use crate::exports::wasi::clocks::{monotonic_clock, wall_clock};
use crate::exports::wasi::io::poll::Pollable;
use crate::ukc::clock::{monotonic, wall};

const NANOS_PER_SECOND: u64 = 1_000_000_000;

impl monotonic_clock::Guest for Shim {
    fn now() -> u64 {
        monotonic::now()
    }

    fn resolution() -> u64 {
        1
    }

    fn subscribe_instant(when: u64) -> Pollable {
        crate::io::Pollable::at(when)
    }

    fn subscribe_duration(duration: u64) -> Pollable {
        crate::io::Pollable::at(monotonic::now().saturating_add(duration))
    }
}

impl wall_clock::Guest for Shim {
    fn now() -> wall_clock::Datetime {
        let now = wall::now();
        wall_clock::Datetime { seconds: now / NANOS_PER_SECOND, nanoseconds: (now % NANOS_PER_SECOND) as u32 }
    }

    fn resolution() -> wall_clock::Datetime {
        wall_clock::Datetime { seconds: 0, nanoseconds: 1 }
    }
}
