//! Byte-range reads over a sector-addressed device.
//!
//! The block interface only accepts reads whose offset and length are multiples of the
//! sector size, while tar records are 512 bytes and values start at any 512-byte
//! boundary. Everything here turns arbitrary byte ranges into aligned reads of at most
//! [`MAX_READ`] bytes each, so that no single host call is unbounded.

/// The largest single read issued to the device (rounded down to a whole sector).
pub const MAX_READ: u64 = 1 << 20;

/// How much the header scan reads at a time: enough to cover many small members per call
/// without pulling much of a large member's data.
const WINDOW: u64 = 32 << 10;

/// A sector-addressed, read-only view of a block device.
pub trait Device {
    /// The unit of every access in bytes: a power of two, at least 512.
    fn sector_size(&self) -> u64;
    /// The capacity in bytes, a multiple of the sector size.
    fn capacity(&self) -> u64;
    /// Reads `len` bytes at `offset`; both are multiples of the sector size and the range
    /// lies within the capacity. The error says what failed.
    fn read(&self, offset: u64, len: u32) -> Result<Vec<u8>, String>;
}

/// The longest aligned read this device allows per call.
fn chunk_len(device: &dyn Device) -> u64 {
    let sector = device.sector_size();
    (MAX_READ / sector * sector).max(sector)
}

/// Reads exactly `len` bytes at any `offset`, in aligned chunks of at most [`MAX_READ`].
/// A range reaching past the end of the device is an error.
pub fn read_range(device: &dyn Device, offset: u64, len: u64) -> Result<Vec<u8>, String> {
    let end = offset.checked_add(len).filter(|&end| end <= device.capacity());
    let end = end.ok_or_else(|| format!("reading past the end: {len} bytes at offset {offset}"))?;
    let too_large = || format!("{len} bytes do not fit in memory");
    let size = usize::try_from(len).map_err(|_| too_large())?;
    let mut out = Vec::new();
    // A value may be larger than the guest can hold: fail the call instead of aborting.
    out.try_reserve_exact(size).map_err(|_| too_large())?;
    if len == 0 {
        return Ok(out);
    }

    let sector = device.sector_size();
    let chunk = chunk_len(device);
    let mut pos = offset / sector * sector;
    while pos < end {
        // `end` rounded up stays within the capacity, which is a whole number of sectors.
        let want = chunk.min(end.div_ceil(sector) * sector - pos);
        let data = read_checked(device, pos, want)?;
        let from = offset.saturating_sub(pos) as usize;
        let to = (end - pos).min(want) as usize;
        out.extend_from_slice(&data[from..to]);
        pos += want;
    }
    Ok(out)
}

/// One aligned device read, checked to have returned what was asked for.
fn read_checked(device: &dyn Device, offset: u64, len: u64) -> Result<Vec<u8>, String> {
    let data = device.read(offset, len as u32)?;
    if data.len() as u64 != len {
        let got = data.len();
        return Err(format!("the device returned {got} bytes for {len} bytes at offset {offset}"));
    }
    Ok(data)
}

/// A cache of one window of the device, for the header scan's many small reads.
pub struct Window<'a> {
    device: &'a dyn Device,
    start: u64,
    data: Vec<u8>,
}

impl<'a> Window<'a> {
    pub fn new(device: &'a dyn Device) -> Self {
        Window { device, start: 0, data: Vec::new() }
    }

    pub fn capacity(&self) -> u64 {
        self.device.capacity()
    }

    /// The `len` bytes at `offset`, which must lie within the device. Short ranges come
    /// from the cached window (refilled on a miss); long ones are read directly.
    pub fn bytes(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, String> {
        if len == 0 {
            return Ok(Vec::new()); // The device refuses empty reads, even at its very end.
        }
        let fits = offset.checked_add(len).is_some_and(|end| end <= self.capacity());
        if fits && len <= WINDOW / 2 && !self.covers(offset, len) {
            self.refill(offset)?;
        }
        if !self.covers(offset, len) {
            // Long, out-of-range or oddly placed: read_range reads it or says what is wrong.
            return read_range(self.device, offset, len);
        }
        let from = (offset - self.start) as usize;
        Ok(self.data[from..from + len as usize].to_vec())
    }

    fn covers(&self, offset: u64, len: u64) -> bool {
        offset >= self.start && offset + len <= self.start + self.data.len() as u64
    }

    /// Loads the window starting at the sector holding `offset` (within the device).
    fn refill(&mut self, offset: u64) -> Result<(), String> {
        let sector = self.device.sector_size();
        let start = offset / sector * sector;
        let len = (WINDOW.div_ceil(sector) * sector).min(chunk_len(self.device)).min(self.device.capacity() - start);
        self.data = read_checked(self.device, start, len)?;
        self.start = start;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::MemDevice;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn unaligned_ranges_come_back_exactly() {
        for sector in [512, 4096] {
            let data = pattern(3 << 20);
            let dev = MemDevice::new(data.clone(), sector);
            for (offset, len) in [(0, 0), (1, 1), (511, 2), (4095, 4098), (100, 2 << 20), (0, 3 << 20)] {
                let got = read_range(&dev, offset, len).unwrap();
                assert_eq!(got, &data[offset as usize..(offset + len) as usize], "{offset}+{len}");
            }
        }
    }

    #[test]
    fn reads_are_aligned_and_bounded() {
        let dev = MemDevice::new(pattern(3 << 20), 4096);
        read_range(&dev, 12345, (2 << 20) + 77).unwrap();
        let calls = dev.calls();
        assert!(calls.len() >= 3, "{calls:?}");
        for (offset, len) in calls {
            assert_eq!(offset % 4096, 0);
            assert_eq!(len % 4096, 0);
            assert!(len as u64 <= MAX_READ);
        }
    }

    #[test]
    fn ranges_past_the_end_are_refused() {
        let dev = MemDevice::new(pattern(8192), 512);
        assert!(read_range(&dev, 8000, 193).unwrap_err().contains("past the end"));
        assert!(read_range(&dev, u64::MAX, 2).is_err());
        assert_eq!(read_range(&dev, 8000, 192).unwrap().len(), 192);
    }

    #[test]
    fn window_serves_small_reads_from_cache() {
        let data = pattern(256 << 10);
        let dev = MemDevice::new(data.clone(), 512);
        let mut window = Window::new(&dev);
        for offset in (0..64 << 10).step_by(512) {
            assert_eq!(window.bytes(offset, 512).unwrap(), &data[offset as usize..][..512]);
        }
        assert_eq!(dev.calls().len(), 2);
        // A range straddling the window's end, and one near the device's end.
        assert_eq!(window.bytes(65000, 1000).unwrap(), &data[65000..66000]);
        let end = data.len() as u64 - 512;
        assert_eq!(window.bytes(end, 512).unwrap(), &data[end as usize..]);
        assert_eq!(window.bytes(0, 100 << 10).unwrap(), &data[..100 << 10]);
        let calls = dev.calls().len();
        assert_eq!(window.bytes(data.len() as u64, 0).unwrap(), b"");
        assert_eq!(dev.calls().len(), calls, "no empty read reaches the device");
    }

    #[test]
    fn device_errors_and_short_reads_are_reported() {
        let dev = MemDevice::new(pattern(8192), 512);
        dev.fail_reads();
        assert!(read_range(&dev, 0, 10).unwrap_err().contains("injected"));
        let short = MemDevice::new(pattern(8192), 512);
        short.short_reads();
        assert!(read_range(&short, 0, 10).unwrap_err().contains("returned"));
    }
}
