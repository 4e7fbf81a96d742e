//! Block throughput for `./bench/run`: sequential writes over the `storage` device (or its
//! first `--total-mb` MiB) in requests of `--request-bytes`, one flush, then sequential
//! reads of the same range, each phase timed with `ukc:clock/monotonic`. Prints one line
//! per phase, `block-bench: PHASE BYTES bytes in NS ns`, as `bench/native-block` does for
//! the same loop on a host file. A last phase calls `info` once per request, the cheapest
//! call into the device (no data, no system call), and prints
//! `block-bench: info CALLS calls in NS ns`: the fixed cost of one call across the guest
//! boundary.
//!
//! The guest's own work is kept small so that the figures are those of the I/O path: one
//! request buffer, filled once, with only the request's offset stamped into its first
//! eight bytes before each write and checked after each read.

wit_bindgen::generate!({
    inline: "
        package ukc-bench:block-bench;
        world block-bench {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:clock/monotonic@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:block/block@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use ukc::args::args;
use ukc::block::block;
use ukc::clock::monotonic;
use ukc::console::console;
use ukc_hvt_abi::block_range::MAX_TRANSFER;

struct BlockBench;

impl exports::ukc::app::main::Guest for BlockBench {
    fn run() -> Result<(), String> {
        let device = block::acquire("storage").map_err(|e| format!("block device 'storage': {e:?}"))?;
        let info = device.info();
        let sector = u64::from(info.sector_size);
        let (request, total) = request_and_total(&info)?;
        say(&format!(
            "block-bench: storage: {} bytes, {sector}-byte sectors; {total} bytes in {request}-byte requests",
            info.capacity
        ));

        let mut buffer: Vec<u8> = (0..request).map(|i| i as u8).collect();

        let start = monotonic::now();
        let mut offset = 0;
        while offset < total {
            let len = request.min(total - offset) as usize;
            buffer[..8].copy_from_slice(&offset.to_le_bytes());
            device.write(offset, &buffer[..len]).map_err(|e| format!("write of {len} bytes at {offset}: {e:?}"))?;
            offset += len as u64;
        }
        report("write", total, start);

        let start = monotonic::now();
        device.flush().map_err(|e| format!("flush: {e:?}"))?;
        report("flush", total, start);

        let start = monotonic::now();
        let mut offset = 0;
        let mut wrong = 0u64;
        while offset < total {
            let len = request.min(total - offset);
            let data =
                device.read(offset, len as u32).map_err(|e| format!("read of {len} bytes at {offset}: {e:?}"))?;
            if data.len() as u64 != len || data[..8] != offset.to_le_bytes() {
                wrong += 1;
            }
            offset += len;
        }
        report("read", total, start);
        if wrong > 0 {
            return Err(format!("{wrong} reads did not return what was written"));
        }

        let calls = total.div_ceil(request);
        let start = monotonic::now();
        for _ in 0..calls {
            core::hint::black_box(device.info());
        }
        let ns = monotonic::now() - start;
        say(&format!("block-bench: info {calls} calls in {ns} ns"));
        Ok(())
    }
}

/// The request size and the bytes to cover, from `--request-bytes` and `--total-mb`:
/// whole sectors, within the device and the interface's largest request.
fn request_and_total(info: &block::Info) -> Result<(u64, u64), String> {
    let sector = u64::from(info.sector_size);
    let request: u64 = args::get("request-bytes")
        .and_then(|v| v.parse().ok())
        .filter(|n: &u64| (1..=MAX_TRANSFER).contains(n) && n.is_multiple_of(sector))
        .ok_or_else(|| {
            format!(
                "--request-bytes must be a multiple of the {sector}-byte sector size, at most {} MiB",
                MAX_TRANSFER >> 20
            )
        })?;
    let total = match args::get("total-mb") {
        None => info.capacity,
        Some(mb) => mb
            .parse::<u64>()
            .ok()
            .and_then(|mb| mb.checked_mul(1 << 20))
            .filter(|&t| t > 0 && t <= info.capacity && t.is_multiple_of(sector))
            .ok_or_else(|| format!("--total-mb must be at least 1 and at most the device's {} bytes", info.capacity))?,
    };
    Ok((request, total))
}

/// Prints the phase's line: its bytes and the nanoseconds since `start`.
fn report(phase: &str, bytes: u64, start: u64) {
    let ns = monotonic::now() - start;
    say(&format!("block-bench: {phase} {bytes} bytes in {ns} ns"));
}

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

export!(BlockBench);
