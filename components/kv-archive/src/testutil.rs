//! Test helpers: an in-memory block device and archives written by GNU tar.

use crate::blocks::Device;
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A block device over a byte vector that checks every request the way the host does
/// and records it.
pub struct MemDevice {
    data: Vec<u8>,
    sector: u64,
    calls: RefCell<Vec<(u64, u32)>>,
    fail: Cell<bool>,
    short: Cell<bool>,
}

impl MemDevice {
    /// A device holding `data`, zero-padded to a whole number of sectors.
    pub fn new(mut data: Vec<u8>, sector: u64) -> Self {
        data.resize((data.len() as u64).div_ceil(sector).max(1) as usize * sector as usize, 0);
        MemDevice { data, sector, calls: RefCell::default(), fail: Cell::new(false), short: Cell::new(false) }
    }

    /// Every read so far, as (offset, length).
    pub fn calls(&self) -> Vec<(u64, u32)> {
        self.calls.borrow().clone()
    }

    pub fn fail_reads(&self) {
        self.fail.set(true);
    }

    pub fn short_reads(&self) {
        self.short.set(true);
    }
}

impl Device for MemDevice {
    fn sector_size(&self) -> u64 {
        self.sector
    }

    fn capacity(&self) -> u64 {
        self.data.len() as u64
    }

    fn read(&self, offset: u64, len: u32) -> Result<Vec<u8>, String> {
        self.calls.borrow_mut().push((offset, len));
        // The device contract's rule, as the hosts check it.
        let Some(end) = ukc_hvt_abi::block_range::end(offset, u64::from(len), self.sector, self.capacity()) else {
            return Err(format!("invalid-range: {len} bytes at {offset}"));
        };
        if self.fail.get() {
            return Err("injected failure".into());
        }
        let short = if self.short.get() { 1 } else { 0 };
        Ok(self.data[offset as usize..end as usize - short].to_vec())
    }
}

/// A fresh directory under the system's temporary directory, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("kv-tar-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `data` to `rel`, creating its parent directories.
    pub fn file(&self, rel: &str, data: &[u8]) {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, data).unwrap();
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs GNU tar in `dir` with `--format=FORMAT` over `members` and returns the archive.
pub fn gnu_tar(dir: &Path, format: &str, members: &[&str]) -> Vec<u8> {
    let format = format!("--format={format}");
    let mut args = vec!["-c", format.as_str(), "-f", "-"];
    args.extend(members);
    run_tar(dir, &args)
}

/// Runs GNU tar in `dir` (with owners fixed, for reproducible archives) and returns
/// what it writes to standard output.
pub fn run_tar(dir: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new("tar")
        .args(["--owner=0", "--group=0", "--numeric-owner", "-C"])
        .arg(dir)
        .args(args)
        .output()
        .expect("GNU tar runs");
    assert!(output.status.success(), "tar failed: {}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

/// Sets the modification time of `rel` (seconds since the epoch) with touch(1).
pub fn set_mtime(dir: &Path, rel: &str, secs: u64) {
    let status = Command::new("touch").arg("-h").arg("-d").arg(format!("@{secs}")).arg(dir.join(rel)).status().unwrap();
    assert!(status.success());
}

/// A test file's contents: distinct per name and position so misplaced bytes show up.
pub fn contents(name: &str, len: usize) -> Vec<u8> {
    let seed = name.bytes().fold(17u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    (0..len as u32).map(|i| (seed.wrapping_add(i.wrapping_mul(2_654_435_761)) >> 13) as u8).collect()
}

/// A 150-character file name, longer than any header field.
pub fn long_name() -> String {
    format!("{}.txt", "n".repeat(146))
}

/// A 120-character directory path (two segments), longer than ustar's name field.
pub fn long_dir() -> String {
    format!("{}/{}", "d".repeat(59), "e".repeat(60))
}

/// The regular files of [`fixture`]: (path, contents).
pub fn fixture_files(with_long_name: bool) -> Vec<(String, Vec<u8>)> {
    let mut files = vec![
        ("small.txt".to_string(), b"hello, tar!\n".to_vec()),
        ("empty".to_string(), Vec::new()),
        ("big.bin".to_string(), contents("big.bin", (1 << 20) + 12345)),
        (format!("{}/inner.txt", long_dir()), contents("inner", 700)),
        ("sub/deeper/leaf".to_string(), contents("leaf", 513)),
    ];
    if with_long_name {
        files.push((long_name(), contents("long", 1024)));
    }
    files
}

/// A directory tree exercising the cases the driver handles: the files above, an empty
/// directory, a symlink `sub/link -> ../small.txt`, a directory symlink `dirlink -> sub`
/// and a hard link `sub/hard` to `small.txt`. Every mtime is set, to 1700000000 + i.
pub fn fixture(with_long_name: bool) -> TempDir {
    let dir = TempDir::new();
    for (path, data) in fixture_files(with_long_name) {
        dir.file(&path, &data);
    }
    std::fs::create_dir(dir.path().join("emptydir")).unwrap();
    std::os::unix::fs::symlink("../small.txt", dir.path().join("sub/link")).unwrap();
    std::os::unix::fs::symlink("sub", dir.path().join("dirlink")).unwrap();
    std::fs::hard_link(dir.path().join("small.txt"), dir.path().join("sub/hard")).unwrap();
    let mut paths: Vec<String> = fixture_files(with_long_name).into_iter().map(|(p, _)| p).collect();
    paths.extend(["emptydir", "sub/deeper", "sub", "sub/link", "dirlink"].map(String::from));
    paths.extend([long_dir(), "d".repeat(59)]);
    for (i, path) in paths.iter().enumerate() {
        set_mtime(dir.path(), path, 1_700_000_000 + i as u64);
    }
    dir
}
