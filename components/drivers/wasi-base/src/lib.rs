//! The `wasi-base` driver: what every unikernel on the `wasi` target needs, on WASI 0.2.
//! The console is the WASI host's standard output, the clocks are `wasi:clocks`, and
//! `yield` waits on a `wasi:clocks` pollable. No device ever has input here (sockets do,
//! and the `wasi-tcpip` driver interposes on `yield` to wait on them too), so `yield`
//! returns at its deadline with an empty list.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:wasi-base;
        world wasi-base {
            export ukc:console/console@0.1.0;
            export ukc:clock/monotonic@0.1.0;
            export ukc:clock/wall@0.1.0;
            export ukc:poll/poll@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use wasip2::cli::stdout;
use wasip2::clocks::{monotonic_clock, wall_clock};

/// The most `blocking-write-and-flush` takes at once.
const WRITE_LIMIT: usize = 4096;

struct Base;

impl exports::ukc::console::console::Guest for Base {
    fn write(data: Vec<u8>) {
        let out = stdout::get_stdout();
        for chunk in data.chunks(WRITE_LIMIT) {
            // The console never fails: output the WASI host no longer takes (a closed
            // pipe) is dropped, as a serial console with nobody listening drops it.
            if out.blocking_write_and_flush(chunk).is_err() {
                return;
            }
        }
    }
}

impl exports::ukc::clock::monotonic::Guest for Base {
    fn now() -> u64 {
        monotonic_clock::now()
    }
}

impl exports::ukc::clock::wall::Guest for Base {
    fn now() -> u64 {
        let time = wall_clock::now();
        time.seconds.saturating_mul(1_000_000_000).saturating_add(u64::from(time.nanoseconds))
    }
}

impl exports::ukc::poll::poll::Guest for Base {
    fn yield_(deadline: u64) -> Vec<String> {
        monotonic_clock::subscribe_instant(deadline).block();
        Vec::new()
    }
}

export!(Base);
