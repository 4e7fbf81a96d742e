//! MirageOS's `hello`: prints `--hello` four times, sleeping `--sleep-ms` between.

wit_bindgen::generate!({
    inline: "
        package ukc-example:hello;
        world hello {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:clock/monotonic@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:args/args@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use ukc::args::args;
use ukc::clock::monotonic;
use ukc::console::console;
use ukc::poll::poll;

struct Hello;

impl exports::ukc::app::main::Guest for Hello {
    fn run() -> Result<(), String> {
        let hello = args::get("hello").unwrap_or_default();
        let sleep_ms: u64 = args::get("sleep-ms")
            .and_then(|v| v.parse().ok())
            .ok_or("--sleep-ms must be a number of milliseconds, 0 or more")?;
        for i in 0..4 {
            if i > 0 {
                sleep(sleep_ms.saturating_mul(1_000_000));
            }
            console::write(format!("{hello}\n").as_bytes());
        }
        Ok(())
    }
}

/// Waits `ns` nanoseconds; `yield` may return early when a device has input.
fn sleep(ns: u64) {
    let deadline = monotonic::now().saturating_add(ns);
    while monotonic::now() < deadline {
        poll::yield_(deadline);
    }
}

export!(Hello);
