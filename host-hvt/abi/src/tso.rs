//! TCP segmentation, the net device contract's `write-segments`: an IPv4 TCP frame whose
//! payload is longer than one segment goes out as the frames a sender would have sent one
//! by one, each with the frame's headers and its own lengths, IP identification, sequence
//! number, flags and checksums.
//!
//! A host whose link cuts segments itself (a TAP interface with virtio-net headers) only
//! [`check`]s the frame and sets [`pseudo_header_sum`]; a link that cannot (a socket pair,
//! the guest kernel's batches) [`cut`]s it here.

use alloc::vec::Vec;

use crate::checksum::{checksum, fold, sum};
use crate::net_frame::ETHERNET_HEADER;

const ETHERTYPE_IPV4: [u8; 2] = [0x08, 0x00];
const PROTOCOL_TCP: u8 = 6;
const MIN_HEADER: usize = 20;
const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const PSH: u8 = 0x08;
const URG: u8 = 0x20;
const CWR: u8 = 0x80;

/// Where a checked frame's headers lie and how it is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Offset of the TCP header (the IPv4 header starts at [`ETHERNET_HEADER`]).
    pub tcp: usize,
    /// Offset of the payload: the length of the headers every segment repeats.
    pub payload: usize,
    /// Payload bytes per segment (the last may have fewer).
    pub segment: usize,
}

impl Layout {
    /// Offset of the TCP checksum field.
    pub fn checksum_field(&self) -> usize {
        self.tcp + 16
    }
}

/// Checks that `frame` can be cut into segments of `segment` payload bytes on a link of
/// `mtu` bytes: an IPv4 packet carrying TCP, whole (no fragment; its length the frame's),
/// with a payload, neither SYN, RST nor URG set, and each segment's packet within the MTU.
pub fn check(frame: &[u8], segment: usize, mtu: usize) -> Option<Layout> {
    let ip = ETHERNET_HEADER;
    if frame.len() < ip + 2 * MIN_HEADER || frame[12..14] != ETHERTYPE_IPV4 || frame[ip] >> 4 != 4 {
        return None;
    }
    let ip_header = usize::from(frame[ip] & 0x0f) * 4;
    let total_length = usize::from(u16::from_be_bytes([frame[ip + 2], frame[ip + 3]]));
    let fragment = u16::from_be_bytes([frame[ip + 6], frame[ip + 7]]) & 0x3fff;
    if ip_header < MIN_HEADER || total_length != frame.len() - ip || fragment != 0 || frame[ip + 9] != PROTOCOL_TCP {
        return None;
    }
    let tcp = ip + ip_header;
    let tcp_header = usize::from(*frame.get(tcp + 12)? >> 4) * 4;
    let payload = tcp + tcp_header;
    // The whole TCP header, and a payload, lie within the frame before any of it is read.
    if tcp_header < MIN_HEADER || payload >= frame.len() {
        return None;
    }
    let headers = ip_header + tcp_header;
    let fits = segment > 0 && headers.checked_add(segment).is_some_and(|packet| packet <= mtu);
    if frame[tcp + 13] & (SYN | RST | URG) != 0 || !fits {
        return None;
    }
    Some(Layout { tcp, payload, segment })
}

/// Calls `emit` with each segment of `frame`, which [`check`] laid out as `layout`, in
/// order; each is built in `scratch`. Stops at the first error `emit` returns.
pub fn cut<E>(
    frame: &[u8],
    layout: Layout,
    scratch: &mut Vec<u8>,
    mut emit: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let (ip, tcp) = (ETHERNET_HEADER, layout.tcp);
    let identification = u16::from_be_bytes([frame[ip + 4], frame[ip + 5]]);
    let sequence = u32::from_be_bytes([frame[tcp + 4], frame[tcp + 5], frame[tcp + 6], frame[tcp + 7]]);
    let chunks = frame[layout.payload..].chunks(layout.segment);
    let last = chunks.len() - 1;
    for (i, chunk) in chunks.enumerate() {
        scratch.clear();
        scratch.extend_from_slice(&frame[..layout.payload]);
        scratch.extend_from_slice(chunk);
        let packet_length = (scratch.len() - ip) as u16;
        scratch[ip + 2..ip + 4].copy_from_slice(&packet_length.to_be_bytes());
        scratch[ip + 4..ip + 6].copy_from_slice(&identification.wrapping_add(i as u16).to_be_bytes());
        scratch[ip + 10..ip + 12].fill(0);
        let ip_checksum = checksum(&scratch[ip..tcp], 0);
        scratch[ip + 10..ip + 12].copy_from_slice(&ip_checksum.to_be_bytes());
        let offset = (i * layout.segment) as u32;
        scratch[tcp + 4..tcp + 8].copy_from_slice(&sequence.wrapping_add(offset).to_be_bytes());
        // FIN and PSH end the data, so only the last segment carries them; CWR answers
        // one congestion signal, so only the first.
        let mut flags = frame[tcp + 13];
        if i != last {
            flags &= !(FIN | PSH);
        }
        if i != 0 {
            flags &= !CWR;
        }
        scratch[tcp + 13] = flags;
        let field = layout.checksum_field();
        scratch[field..field + 2].fill(0);
        let tcp_checksum = checksum(&scratch[tcp..], pseudo_header(scratch, tcp));
        scratch[field..field + 2].copy_from_slice(&tcp_checksum.to_be_bytes());
        emit(scratch)?;
    }
    Ok(())
}

/// The folded sum of `frame`'s TCP pseudo-header (addresses, protocol, TCP length), not
/// complemented: what a virtio-net header that asks the link to finish the TCP checksum
/// (`NEEDS_CSUM`) wants in the checksum field.
pub fn pseudo_header_sum(frame: &[u8], layout: Layout) -> u16 {
    fold(pseudo_header(frame, layout.tcp))
}

fn pseudo_header(frame: &[u8], tcp: usize) -> u64 {
    let addresses = &frame[ETHERNET_HEADER + 12..ETHERNET_HEADER + 20];
    sum(addresses, u64::from(PROTOCOL_TCP) + (frame.len() - tcp) as u64)
}

#[cfg(any(fuzzing, test))]
pub mod fuzzing;
#[cfg(test)]
mod tests;
