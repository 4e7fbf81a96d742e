//! MirageOS's `block`: fills every sector of the `storage` device with a pattern unique to
//! the sector and to this run, flushes, reads everything back and reports mismatches. It
//! also checks that the device refuses misaligned and out-of-range requests.

wit_bindgen::generate!({
    inline: "
        package ukc-example:block;
        world block {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:entropy/entropy@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:block/block@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use ukc::args::args;
use ukc::block::block::{self, Device, Error};
use ukc::console::console;
use ukc::entropy::entropy;

struct Block;

impl exports::ukc::app::main::Guest for Block {
    fn run() -> Result<(), String> {
        let chunk_sectors: u64 = args::get("chunk-sectors")
            .and_then(|v| v.parse().ok())
            .filter(|n| (1..=8192).contains(n))
            .ok_or("--chunk-sectors must be between 1 and 8192")?;
        let device = block::acquire("storage").map_err(|e| format!("block device 'storage': {e:?}"))?;
        let info = device.info();
        let sector = u64::from(info.sector_size);
        let sectors = info.capacity / sector;
        say(&format!("block: storage: {sectors} sectors of {sector} bytes ({} bytes)", info.capacity));

        check_refusals(&device, info.capacity, sector)?;

        let seed = u64::from_le_bytes(entropy::fill(8).try_into().map_err(|_| "short entropy read")?);
        let chunk = chunk_sectors * sector;
        let mut offset = 0;
        while offset < info.capacity {
            let len = chunk.min(info.capacity - offset);
            device
                .write(offset, &pattern(seed, offset, len, sector))
                .map_err(|e| format!("write of {len} bytes at {offset}: {e:?}"))?;
            offset += len;
        }
        device.flush().map_err(|e| format!("flush: {e:?}"))?;

        let mut mismatches = 0u64;
        offset = 0;
        while offset < info.capacity {
            let len = chunk.min(info.capacity - offset);
            let data =
                device.read(offset, len as u32).map_err(|e| format!("read of {len} bytes at {offset}: {e:?}"))?;
            let expected = pattern(seed, offset, len, sector);
            for (i, (got, want)) in data.chunks(sector as usize).zip(expected.chunks(sector as usize)).enumerate() {
                if got != want {
                    mismatches += 1;
                    if mismatches <= 10 {
                        say(&format!("block: mismatch in sector {}", offset / sector + i as u64));
                    }
                }
            }
            offset += len;
        }
        if mismatches > 0 {
            return Err(format!("{mismatches} of {sectors} sectors read back wrong"));
        }
        say(&format!("block: wrote and verified {sectors} sectors, 0 mismatches"));
        Ok(())
    }
}

/// A misaligned offset, a partial sector and a read past the end must all be refused.
fn check_refusals(device: &Device, capacity: u64, sector: u64) -> Result<(), String> {
    let cases = [
        ("misaligned offset", device.read(1, sector as u32).err()),
        ("partial sector", device.read(0, sector as u32 - 1).err()),
        ("read past the end", device.read(capacity, sector as u32).err()),
        ("write past the end", device.write(capacity, &vec![0; sector as usize]).err()),
    ];
    for (what, error) in cases {
        match error {
            Some(Error::InvalidRange) => {}
            other => return Err(format!("{what}: expected invalid-range, got {other:?}")),
        }
    }
    say("block: misaligned and out-of-range requests are refused");
    Ok(())
}

/// The bytes expected at `offset..offset + len`: each 8-byte word holds the run's seed
/// mixed with the word's absolute position, so misplaced, stale or torn sectors differ.
fn pattern(seed: u64, offset: u64, len: u64, sector: u64) -> Vec<u8> {
    debug_assert!(len.is_multiple_of(sector));
    (offset..offset + len)
        .step_by(8)
        .flat_map(|pos| (seed ^ pos.wrapping_mul(0x9E37_79B9_7F4A_7C15)).to_le_bytes())
        .collect()
}

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

export!(Block);
