//! `native-block FILE [--request-bytes=N] [--total-mb=M]`: the loop `block-bench` runs
//! through ukc's block device, on `FILE` directly — sequential `pwrite`s of N bytes over the
//! file (or its first M MiB), one `fdatasync`, sequential `pread`s of the same range — and
//! the same output, one line per phase: `block-bench: PHASE BYTES bytes in NS ns`.
//!
//! Same buffer discipline as the guest: one buffer, filled once, the request's offset
//! stamped into its first eight bytes before each write and checked after each read. Reads
//! go into the same buffer (the guest gets a fresh list from each call). The buffer starts
//! on a page boundary: on some CPUs the kernel's copy into a buffer that starts a few bytes
//! past a page boundary (where malloc puts a fresh large allocation) is several times
//! slower, which would measure the allocator's placement rather than the I/O path.
//!
//! A last phase, `memcpy`, copies the same number of bytes from that buffer into a second
//! one, a request at a time: the cost of one user-space copy of every byte, for scale.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("native-block: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: native-block FILE [--request-bytes=N] [--total-mb=M]";

/// What to run: the file, the request size and how many bytes of the file.
struct Options {
    path: String,
    request: u64,
    total_mb: Option<u64>,
}

fn options() -> Result<Options, String> {
    let mut path = None;
    let mut request: u64 = 65536;
    let mut total_mb = None;
    for arg in std::env::args().skip(1) {
        if let Some(v) = arg.strip_prefix("--request-bytes=") {
            request = v.parse().map_err(|_| format!("bad --request-bytes {v:?}"))?;
        } else if let Some(v) = arg.strip_prefix("--total-mb=") {
            total_mb = Some(v.parse().map_err(|_| format!("bad --total-mb {v:?}"))?);
        } else if path.is_none() && !arg.starts_with("--") {
            path = Some(arg);
        } else {
            return Err(format!("unexpected argument {arg:?}; {USAGE}"));
        }
    }
    if !(8..=16 << 20).contains(&request) {
        return Err("--request-bytes must be between 8 and 16 MiB".into());
    }
    Ok(Options { path: path.ok_or(USAGE)?, request, total_mb })
}

fn run() -> Result<(), String> {
    let Options { path, request, total_mb } = options()?;
    let file = OpenOptions::new().read(true).write(true).open(&path).map_err(|e| format!("{path}: {e}"))?;
    let capacity = file.metadata().map_err(|e| format!("{path}: {e}"))?.len();
    let total = match total_mb {
        None => capacity,
        Some(mb) => mb.checked_mul(1 << 20).filter(|&t| t > 0 && t <= capacity).ok_or("--total-mb out of range")?,
    };
    println!("block-bench: {path}: {capacity} bytes; {total} bytes in {request}-byte requests");

    let mut storage = vec![0u8; request as usize + PAGE];
    let buffer = page_aligned(&mut storage, request as usize);
    for (i, b) in buffer.iter_mut().enumerate() {
        *b = i as u8;
    }
    let requests = Requests { request, total };

    let start = Instant::now();
    requests.each(|offset, len| {
        buffer[..8].copy_from_slice(&offset.to_le_bytes());
        file.write_all_at(&buffer[..len], offset).map_err(|e| format!("write at {offset}: {e}"))
    })?;
    report("write", total, start);

    let start = Instant::now();
    file.sync_data().map_err(|e| format!("fdatasync: {e}"))?;
    report("flush", total, start);

    let start = Instant::now();
    let mut wrong = 0u64;
    requests.each(|offset, len| {
        file.read_exact_at(&mut buffer[..len], offset).map_err(|e| format!("read at {offset}: {e}"))?;
        wrong += u64::from(buffer[..8] != offset.to_le_bytes());
        Ok(())
    })?;
    report("read", total, start);
    if wrong > 0 {
        return Err(format!("{wrong} reads did not return what was written"));
    }

    let mut storage2 = vec![0u8; request as usize + PAGE];
    let copy = page_aligned(&mut storage2, request as usize);
    let start = Instant::now();
    requests.each(|offset, len| {
        buffer[..8].copy_from_slice(&offset.to_le_bytes());
        copy[..len].copy_from_slice(&buffer[..len]);
        std::hint::black_box(&mut *copy);
        Ok(())
    })?;
    report("memcpy", total, start);
    Ok(())
}

/// The sequential requests over the first `total` bytes: `request` bytes each, the last
/// one shorter when `request` does not divide `total`.
struct Requests {
    request: u64,
    total: u64,
}

impl Requests {
    /// Calls `f(offset, length)` for each request in order; stops at the first error.
    fn each(&self, mut f: impl FnMut(u64, usize) -> Result<(), String>) -> Result<(), String> {
        let mut offset = 0;
        while offset < self.total {
            let len = self.request.min(self.total - offset) as usize;
            f(offset, len)?;
            offset += len as u64;
        }
        Ok(())
    }
}

const PAGE: usize = 4096;

/// The `len` bytes of `storage` that start at its first page boundary.
fn page_aligned(storage: &mut [u8], len: usize) -> &mut [u8] {
    let skip = storage.as_ptr().align_offset(PAGE);
    &mut storage[skip..skip + len]
}

fn report(phase: &str, bytes: u64, start: Instant) {
    let ns = start.elapsed().as_nanos();
    println!("block-bench: {phase} {bytes} bytes in {ns} ns");
}
