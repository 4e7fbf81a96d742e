//! The segmentation rule over any bytes, for `fuzz/` (built with `--cfg fuzzing`, as
//! cargo-fuzz does, and for the test suite's smoke of it): a guest chooses the frame and
//! the segment size it hands to `write-segments`.

use super::{Layout, check, cut, pseudo_header_sum};
use crate::checksum::checksum;
use crate::net_frame::ETHERNET_HEADER;
use alloc::vec::Vec;

/// Reads a segment size (2 bytes, big-endian) and an MTU (2 bytes, at least 68) from the
/// front of `data`, the frame from the rest, and checks it; a frame that passes is cut,
/// and every segment must fit the MTU, carry valid IPv4 and TCP checksums, and together
/// carry the frame's payload in order. Panics when one does not.
pub fn segments(data: &[u8]) {
    let Some((sizes, frame)) = data.split_first_chunk::<4>() else { return };
    let segment = usize::from(u16::from_be_bytes([sizes[0], sizes[1]]));
    let mtu = usize::from(u16::from_be_bytes([sizes[2], sizes[3]])).max(68);
    let Some(layout) = check(frame, segment, mtu) else { return };
    let _ = pseudo_header_sum(frame, layout);
    let mut payload = Vec::new();
    cut(frame, layout, &mut Vec::new(), |piece| {
        assert!(piece.len() <= ETHERNET_HEADER + mtu, "a segment of {} bytes on an MTU of {mtu}", piece.len());
        assert_valid(piece, layout);
        payload.extend_from_slice(&piece[layout.payload..]);
        Ok::<(), ()>(())
    })
    .expect("emit never fails");
    assert!(payload == frame[layout.payload..], "the segments carry the payload in order");
}

/// A segment's IPv4 header and TCP segment each sum to all ones with their checksums.
fn assert_valid(piece: &[u8], layout: Layout) {
    let ip = ETHERNET_HEADER;
    assert_eq!(checksum(&piece[ip..layout.tcp], 0), 0, "IPv4 header checksum");
    let addresses = &piece[ip + 12..ip + 20];
    let pseudo = crate::checksum::sum(addresses, 6 + (piece.len() - layout.tcp) as u64);
    assert_eq!(checksum(&piece[layout.tcp..], pseudo), 0, "TCP checksum");
}
