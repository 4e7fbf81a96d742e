//! The block device contract's one rule for a request, as the WIT documents it: the host's
//! device code and the guest kernel's cache both check requests by it.

/// The largest read or write one request may ask for.
pub const MAX_TRANSFER: u64 = 16 << 20;

/// The end of a request of `len` bytes at `offset` on a device of `capacity` bytes in
/// `sector`-byte sectors; `None` when the request is off the sector grid, empty, over
/// [`MAX_TRANSFER`] or past the capacity.
pub fn end(offset: u64, len: u64, sector: u64, capacity: u64) -> Option<u64> {
    let aligned = offset.is_multiple_of(sector) && len.is_multiple_of(sector);
    let end = offset.checked_add(len).filter(|&end| end <= capacity)?;
    (aligned && len > 0 && len <= MAX_TRANSFER).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_on_the_grid_within_the_device_and_the_limit() {
        let capacity = 64 << 20;
        assert_eq!(end(0, 512, 512, capacity), Some(512));
        assert_eq!(end(capacity - 512, 512, 512, capacity), Some(capacity));
        assert_eq!(end(0, MAX_TRANSFER, 512, capacity), Some(MAX_TRANSFER));
        for (offset, len) in
            [(1, 512), (0, 511), (0, 0), (capacity, 512), (u64::MAX - 511, 512), (0, MAX_TRANSFER + 512)]
        {
            assert_eq!(end(offset, len, 512, capacity), None, "{offset} {len}");
        }
        assert_eq!(end(512, 4096, 4096, capacity), None, "4096-byte sectors");
    }
}
