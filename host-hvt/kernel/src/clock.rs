//! The monotonic and wall clocks, kept from the time-stamp counter between hypercalls
//! (reading it costs nanoseconds; asking the tender costs tens of microseconds). The
//! tender's readings re-anchor them at boot and after every `yield`, so they follow the
//! host's clocks, which the in-process host reads directly.

use crate::abi;

/// Clocks anchored to a reading of the host's clocks.
pub struct Clock {
    tsc_khz: u64,
    anchor_tsc: u64,
    anchor: abi::Clock,
    last: u64,
}

impl Clock {
    /// Clocks that read `reading` now.
    pub fn new(reading: abi::Clock) -> Clock {
        Clock { tsc_khz: reading.tsc_khz.max(1), anchor_tsc: rdtsc(), anchor: reading, last: reading.monotonic_ns }
    }

    /// Re-anchors to a fresh reading of the host's clocks.
    pub fn anchor(&mut self, reading: abi::Clock) {
        self.anchor_tsc = rdtsc();
        self.anchor = reading;
    }

    /// Nanoseconds since boot; never goes backwards, even when an anchor does.
    pub fn monotonic(&mut self) -> u64 {
        let ticks = rdtsc().saturating_sub(self.anchor_tsc);
        let elapsed = u128::from(ticks) * 1_000_000 / u128::from(self.tsc_khz);
        let now = self.anchor.monotonic_ns.saturating_add(u64::try_from(elapsed).unwrap_or(u64::MAX));
        self.last = self.last.max(now);
        self.last
    }

    /// Nanoseconds since the epoch.
    pub fn wall(&mut self) -> u64 {
        let since_anchor = self.monotonic().saturating_sub(self.anchor.monotonic_ns);
        self.anchor.wall_ns.saturating_add(since_anchor)
    }
}

fn rdtsc() -> u64 {
    let (low, high): (u32, u32);
    // SAFETY: `rdtsc` only reads the time-stamp counter (CR4.TSD is clear, so it is
    // allowed at CPL3) and writes eax and edx.
    unsafe { core::arch::asm!("rdtsc", out("eax") low, out("edx") high, options(nomem, nostack, preserves_flags)) };
    u64::from(high) << 32 | u64::from(low)
}
