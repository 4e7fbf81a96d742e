//! The file-read program of ./bench/run: reads the file its first argument names with
//! std::fs, in reads of the size its second argument gives (bytes), and prints the bytes
//! read and the nanoseconds the reads took (std::time::Instant, that is wasi:clocks), so
//! that neither the boot nor the open is counted. The same binary runs under `wasmtime
//! run --dir` and, composed with `ukc compose --preopen`, on the ukc hosts.

use std::io::Read;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: wasi-read FILE [READ-BYTES]");
    let chunk: usize = args.next().map_or(65536, |s| s.parse().expect("READ-BYTES is a number"));
    let mut file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut buffer = vec![0u8; chunk];
    let (mut total, mut check) = (0u64, 0u8);
    let start = std::time::Instant::now();
    loop {
        let n = file.read(&mut buffer).unwrap_or_else(|e| panic!("{path}: {e}"));
        if n == 0 {
            break;
        }
        total += n as u64;
        check ^= buffer[n - 1];
    }
    let elapsed = start.elapsed().as_nanos();
    println!("{total} {elapsed} {check}");
}
