//! The Internet checksum (RFC 1071), as IPv4, TCP and UDP carry it: the one's-complement
//! sum of big-endian 16-bit words, folded to 16 bits and complemented. Shared by the
//! segmentation of TCP frames ([`crate::tso`]) and the hosts that finish checksums a
//! link left partial.

/// The one's-complement sum of `data` as big-endian 16-bit words (an odd last byte padded
/// with zero), added to `initial`, unfolded: sums of pieces that start at even offsets add
/// up to the sum of the whole.
pub fn sum(data: &[u8], initial: u64) -> u64 {
    let mut total = initial;
    let mut words = data.chunks_exact(8);
    for word in &mut words {
        let w = u64::from_be_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
        total += (w >> 32) + (w & 0xffff_ffff);
    }
    for pair in words.remainder().chunks(2) {
        total += u64::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]));
    }
    total
}

/// `total` folded to 16 bits.
pub fn fold(mut total: u64) -> u16 {
    while total > 0xffff {
        total = (total & 0xffff) + (total >> 16);
    }
    total as u16
}

/// The checksum of `data` after `initial` (a pseudo-header's sum, say): what the field
/// holds for the whole to sum to `0xffff`.
pub fn checksum(data: &[u8], initial: u64) -> u16 {
    !fold(sum(data, initial))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One 16-bit word at a time: an implementation apart from the one under test.
    fn naive(data: &[u8]) -> u16 {
        let mut total: u64 = data.chunks(2).map(|w| u64::from(w[0]) << 8 | u64::from(*w.get(1).unwrap_or(&0))).sum();
        while total > 0xffff {
            total = (total & 0xffff) + (total >> 16);
        }
        total as u16
    }

    #[test]
    fn sums_agree_with_a_word_at_a_time_and_verify_to_all_ones() {
        // RFC 1071's example: 0001 f203 f4f5 f6f7 sums to 0xddf2.
        assert_eq!(fold(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7], 0)), 0xddf2);
        for len in [0, 1, 2, 7, 8, 9, 1500, 65_535] {
            let mut data: Vec<u8> = (0..len).map(|i| (i * 131 + 7) as u8).collect();
            assert_eq!(fold(sum(&data, 0)), naive(&data), "{len} bytes");
            if len >= 12 {
                data[10..12].fill(0);
                let field = checksum(&data, 0);
                data[10..12].copy_from_slice(&field.to_be_bytes());
                assert_eq!(naive(&data), 0xffff, "{len} bytes with their checksum");
            }
        }
    }
}
