//! The archive scan, the index and the store, for `fuzz/` (built with
//! `--cfg fuzzing`, as cargo-fuzz does, and for the test suite's smoke of it).

use crate::blocks::Device;
use crate::store::{Kind, Mount};

/// A device of 512-byte sectors holding the fuzzer's bytes, zero-padded to a sector.
struct Image(Vec<u8>);

impl Device for Image {
    fn sector_size(&self) -> u64 {
        512
    }

    fn capacity(&self) -> u64 {
        self.0.len() as u64
    }

    fn read(&self, offset: u64, len: u32) -> Result<Vec<u8>, String> {
        Ok(self.0[offset as usize..offset as usize + len as usize].to_vec())
    }
}

/// Mounts `image` as a tar archive and walks every key it lists, reading each value,
/// its size and its time, as a client of the store would.
pub fn mount_and_walk(image: &[u8]) {
    let mut bytes = image.to_vec();
    bytes.resize(image.len().div_ceil(512) * 512, 0);
    let Ok(mount) = Mount::open("fuzz", Image(bytes)) else { return };
    let mut pending = vec![String::new()];
    let mut visited = 0;
    while let Some(key) = pending.pop() {
        let Ok(members) = mount.list(&key) else { continue };
        for (name, kind) in members {
            visited += 1;
            assert!(visited < 1_000_000, "a walk of the store does not end");
            let child = format!("{key}/{name}");
            match kind {
                Kind::Dictionary => pending.push(child),
                Kind::Value => {
                    let size = mount.size(&child);
                    let value = mount.get(&child);
                    if let (Ok(size), Ok(value)) = (size, value) {
                        assert_eq!(size, value.len() as u64, "{child}: size and value disagree");
                    }
                    let _ = mount.last_modified(&child);
                    let _ = mount.get_partial(&child, 1, 7);
                }
            }
        }
    }
}

/// The smoke the test suite runs of what the fuzz target runs: real archives of every
/// format, cut short and damaged.
#[cfg(test)]
mod tests {
    use crate::testutil::{fixture, gnu_tar};

    #[test]
    fn archives_whole_cut_and_damaged_mount_or_fail_cleanly() {
        for (format, long_names) in [("gnu", true), ("pax", true), ("ustar", false), ("oldgnu", true)] {
            let dir = fixture(long_names);
            let archive = gnu_tar(dir.path(), format, &["."]);
            super::mount_and_walk(&archive);
            for cut in [0, 1, 511, 512, 1024, archive.len() / 2, archive.len() - 1] {
                super::mount_and_walk(&archive[..cut.min(archive.len())]);
            }
            let mut damaged = archive.clone();
            for i in (0..damaged.len()).step_by(97) {
                damaged[i] ^= 0xa5;
            }
            super::mount_and_walk(&damaged);
        }
    }
}
