//! The guest kernel's block cache against a fake device: every read sees the latest write,
//! runs of small requests become few device requests, and failures reach the right call.

use super::{Cache, Device, Failure, Geometry, READ_AHEAD, RECENT, WRITE_BACK};

const SECTOR: u64 = 512;

/// A device in memory that counts its requests and fails writes on demand.
struct Fake {
    bytes: Vec<u8>,
    reads: usize,
    writes: usize,
    flushes: usize,
    fail_writes: bool,
}

impl Fake {
    fn new(capacity: usize) -> Fake {
        Fake { bytes: vec![0; capacity], reads: 0, writes: 0, flushes: 0, fail_writes: false }
    }
}

impl Device for Fake {
    type Error = &'static str;

    fn read(&mut self, offset: u64, len: usize, into: &mut Vec<u8>) -> Result<(), &'static str> {
        assert!(into.is_empty());
        self.reads += 1;
        into.extend_from_slice(&self.bytes[offset as usize..offset as usize + len]);
        Ok(())
    }

    fn write(&mut self, offset: u64, data: &[u8]) -> Result<(), &'static str> {
        self.writes += 1;
        if self.fail_writes {
            return Err("disk full");
        }
        self.bytes[offset as usize..offset as usize + data.len()].copy_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), &'static str> {
        self.flushes += 1;
        Ok(())
    }
}

fn cache(capacity: usize, writable: bool) -> Cache {
    Cache::new(Geometry { capacity: capacity as u64, sector_size: SECTOR, writable })
}

/// Bytes that say where they are, so a misplaced copy shows.
fn pattern(offset: u64, len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| ((offset as usize + i) as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

#[test]
fn sequential_small_writes_reach_the_device_as_one_run() {
    let (mut device, mut cache) = (Fake::new(1 << 20), cache(1 << 20, true));
    let requests = WRITE_BACK / 4096;
    for i in 0..requests {
        let offset = (i * 4096) as u64;
        cache.write(&mut device, offset, &pattern(offset, 4096, 1)).unwrap();
    }
    assert_eq!(device.writes, 0, "a run that can still grow stays in the cache");
    cache.flush(&mut device).unwrap();
    assert_eq!((device.writes, device.flushes), (1, 1));
    assert_eq!(device.bytes[..WRITE_BACK], pattern(0, WRITE_BACK, 1)[..]);
}

#[test]
fn sequential_small_reads_cost_one_device_read_per_window() {
    let mut device = Fake::new(1 << 20);
    device.bytes = pattern(0, 1 << 20, 7);
    let mut cache = cache(1 << 20, true);
    for i in 0..(1 << 20) / 4096 {
        let offset = (i * 4096) as u64;
        assert_eq!(cache.read(&mut device, offset, 4096).unwrap(), pattern(offset, 4096, 7));
    }
    assert_eq!(device.reads, (1 << 20) / READ_AHEAD);
}

#[test]
fn random_reads_are_not_read_ahead() {
    let mut device = Fake::new(1 << 20);
    device.bytes = pattern(0, 1 << 20, 3);
    let mut cache = cache(1 << 20, true);
    for offset in [8192u64, 65536, 4096, 500 * 512] {
        assert_eq!(cache.read(&mut device, offset, 512).unwrap(), pattern(offset, 512, 3));
    }
    assert_eq!(device.reads, 4);
}

#[test]
fn random_reads_read_again_cost_no_device_read_and_see_later_writes() {
    let mut device = Fake::new(1 << 20);
    device.bytes = pattern(0, 1 << 20, 5);
    let mut cache = cache(1 << 20, true);
    // A page served again and again from the same place in an archive: one device read.
    for _ in 0..10 {
        for offset in [700 * 512u64, 20 * 512] {
            assert_eq!(cache.read(&mut device, offset, 1024).unwrap(), pattern(offset, 1024, 5));
        }
    }
    assert_eq!(device.reads, 2);
    // A part of a kept read is served from it; a write into it shows at once.
    assert_eq!(cache.read(&mut device, 701 * 512, 512).unwrap(), pattern(701 * 512, 512, 5));
    let new = pattern(0, 512, 9);
    cache.write(&mut device, 700 * 512, &new).unwrap();
    let mut expected = new.clone();
    expected.extend(pattern(701 * 512, 512, 5));
    assert_eq!(cache.read(&mut device, 700 * 512, 1024).unwrap(), expected);
    assert_eq!(device.reads, 2);
    // Only the last RECENT reads are kept.
    for i in 0..RECENT as u64 {
        cache.read(&mut device, 4096 * (i + 40), 512).unwrap();
    }
    let before = device.reads;
    cache.read(&mut device, 20 * 512, 1024).unwrap();
    assert_eq!(device.reads, before + 1, "the oldest kept read went");
}

#[test]
fn reads_see_writes_still_in_the_cache_and_in_the_window() {
    let (mut device, mut cache) = (Fake::new(1 << 20), cache(1 << 20, true));
    // Fill the read-ahead window, then write into it and into a dirty run.
    cache.read(&mut device, 0, 4096).unwrap();
    cache.write(&mut device, 8192, &[9; 4096]).unwrap();
    assert_eq!(cache.read(&mut device, 8192, 4096).unwrap(), vec![9; 4096]);
    cache.write(&mut device, 600 << 10, &[5; 1024]).unwrap();
    assert_eq!(cache.read(&mut device, 600 << 10, 1024).unwrap(), vec![5; 1024]);
}

#[test]
fn large_requests_pass_straight_through_in_order() {
    let (mut device, mut cache) = (Fake::new(4 << 20), cache(4 << 20, true));
    cache.write(&mut device, 0, &[1; 4096]).unwrap();
    cache.write(&mut device, 0, &[2; WRITE_BACK]).unwrap();
    assert_eq!(device.writes, 2, "the dirty run goes first, then the large write");
    assert_eq!(device.bytes[..WRITE_BACK], vec![2; WRITE_BACK][..]);
    assert_eq!(cache.read(&mut device, 0, READ_AHEAD as u32).unwrap(), vec![2; READ_AHEAD]);
    assert_eq!(device.reads, 1);
}

#[test]
fn bad_ranges_and_read_only_devices_fail_at_once_without_a_device_request() {
    let (mut device, mut cache) = (Fake::new(1 << 20), cache(1 << 20, true));
    for (offset, len) in [(1, 512), (0, 511), (0, 0), (1 << 20, 512), (u64::MAX - 511, 512), (0, (16 << 20) + 512)] {
        assert_eq!(cache.read(&mut device, offset, len as u32), Err(Failure::InvalidRange), "{offset} {len}");
        assert_eq!(cache.write(&mut device, offset, &vec![0; len]), Err(Failure::InvalidRange), "{offset} {len}");
    }
    let mut read_only = self::cache(1 << 20, false);
    assert_eq!(read_only.write(&mut device, 0, &[0; 512]), Err(Failure::Denied));
    assert_eq!(read_only.flush(&mut device), Ok(()));
    assert_eq!((device.reads, device.writes), (0, 0));
}

#[test]
fn a_failed_write_back_fails_the_call_that_caused_it_and_the_next_flush() {
    let (mut device, mut cache) = (Fake::new(1 << 20), cache(1 << 20, true));
    cache.write(&mut device, 0, &[1; 4096]).unwrap();
    device.fail_writes = true;
    // Not a continuation: the dirty run is written back first, and that fails.
    assert_eq!(cache.write(&mut device, 64 << 10, &[2; 4096]), Err(Failure::Device("disk full")));
    device.fail_writes = false;
    assert_eq!(cache.flush(&mut device), Err(Failure::Lost), "acknowledged writes were lost");
    assert_eq!(cache.flush(&mut device), Ok(()));
    assert_eq!(device.bytes[64 << 10], 0, "the failed write was not applied");
}

#[test]
fn after_a_failed_write_back_reads_show_what_the_device_holds() {
    let (mut device, mut cache) = (Fake::new(1 << 20), cache(1 << 20, true));
    cache.read(&mut device, 0, 4096).unwrap();
    cache.write(&mut device, 4096, &[7; 4096]).unwrap();
    device.fail_writes = true;
    assert_eq!(cache.flush(&mut device), Err(Failure::Device("disk full")));
    device.fail_writes = false;
    assert_eq!(cache.read(&mut device, 4096, 4096).unwrap(), vec![0; 4096], "not the lost bytes");
}

/// Random requests of every size and place against a plain copy of the device: after
/// every read and at the end, what the unikernel sees is what it wrote.
#[test]
fn random_requests_match_a_plain_model() {
    let capacity = 2 << 20;
    let (mut device, mut cache) = (Fake::new(capacity), cache(capacity, true));
    let mut model = vec![0u8; capacity];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let sectors = capacity as u64 / SECTOR;
    for step in 0..20_000 {
        let sizes = [1, 8, 64, 512, 1024];
        let mut len = sizes[(next() % sizes.len() as u64) as usize] * SECTOR;
        // Half of the requests continue the previous one's neighbourhood, so runs form.
        let offset = (next() % sectors) * SECTOR;
        len = len.min(capacity as u64 - offset);
        match next() % 10 {
            0..=3 => {
                let data = pattern(offset, len as usize, step as u8);
                cache.write(&mut device, offset, &data).unwrap();
                model[offset as usize..(offset + len) as usize].copy_from_slice(&data);
            }
            4..=8 => {
                let got = cache.read(&mut device, offset, len as u32).unwrap();
                assert_eq!(got, model[offset as usize..(offset + len) as usize], "step {step}");
            }
            _ => cache.flush(&mut device).unwrap(),
        }
    }
    cache.write_back(&mut device).unwrap();
    assert!(device.bytes == model, "the device holds every write");
}

/// Sequential runs through the model too: reads that follow writes and windows that
/// straddle dirty runs.
#[test]
fn sequential_mixed_requests_match_a_plain_model() {
    let capacity = 1 << 20;
    let (mut device, mut cache) = (Fake::new(capacity), cache(capacity, true));
    let mut model = vec![0u8; capacity];
    for round in 0..4u8 {
        let mut offset = 0u64;
        while offset < capacity as u64 {
            let len = (4096 * (1 + u64::from(round))).min(capacity as u64 - offset);
            if (offset / 4096 + u64::from(round)).is_multiple_of(3) {
                let data = pattern(offset, len as usize, round);
                cache.write(&mut device, offset, &data).unwrap();
                model[offset as usize..(offset + len) as usize].copy_from_slice(&data);
            } else {
                let got = cache.read(&mut device, offset, len as u32).unwrap();
                assert_eq!(got, model[offset as usize..(offset + len) as usize], "round {round} at {offset}");
            }
            offset += len;
        }
    }
    cache.flush(&mut device).unwrap();
    assert!(device.bytes == model);
}
