//! Segmentation offload: smoltcp makes TCP segments of up to 64 KiB and the net device
//! cuts them into frames of the link's MTU (`write-segments`), so that a 64 KiB response
//! crosses into the host as one frame instead of 45.
//!
//! smoltcp sends at most the peer's MSS per segment, so the MSS option of a SYN that
//! arrives is raised to the largest segment when the peer takes segments as large as the
//! link carries (the device then cuts at the link's size, which is within the peer's
//! MSS); a peer asking for less keeps its MSS and gets link-sized frames. The MSS that
//! smoltcp offers in its own SYNs, derived from the 64 KiB it may send, is lowered back
//! to what the link carries, so peers never send more than the device can receive.

use smoltcp::wire::{EthernetFrame, EthernetProtocol, IpProtocol, Ipv4Packet, TcpPacket};

use crate::device::ETHERNET_HEADER;

/// The largest IPv4 packet: what smoltcp may put in one frame.
pub const LARGEST_PACKET: usize = 65535;
/// IPv4 and TCP headers without options: what an MSS leaves out of a packet.
const HEADERS: usize = 40;
const OPTION_END: u8 = 0;
const OPTION_NOP: u8 = 1;
const OPTION_MSS: u8 = 2;

/// The lengths of an IPv4 TCP frame's IPv4 and TCP headers, as [`tcp_headers`] found
/// them: the frame's transmit path reads them once.
pub type Headers = (usize, usize);

/// Raises the MSS of a SYN that arrived over a link of `mtu` to the largest segment, if
/// the peer accepts link-sized segments.
pub fn raise_peer_mss(frame: &mut [u8], mtu: usize) {
    if let Some(headers) = tcp_headers(frame) {
        let largest = (LARGEST_PACKET - HEADERS) as u16;
        rewrite_mss(frame, headers, |mss| (usize::from(mss) >= mtu - HEADERS).then_some(largest));
    }
}

/// Lowers the MSS of a SYN smoltcp sends to what a link of `mtu` carries.
pub fn lower_own_mss(frame: &mut [u8], headers: Headers, mtu: usize) {
    let link_mss = (mtu - HEADERS) as u16;
    rewrite_mss(frame, headers, |mss| (mss > link_mss).then_some(link_mss));
}

/// Payload bytes per segment for a frame too long for a link of `mtu`: the frame's
/// headers repeated in each segment, the rest of the MTU for the payload.
pub fn segment_size((ip_header, tcp_header): Headers, mtu: usize) -> Option<usize> {
    mtu.checked_sub(ip_header + tcp_header).filter(|&size| size > 0)
}

/// Sets the TCP checksum of an IPv4 TCP frame whose headers [`tcp_headers`] found
/// (smoltcp leaves it to the device).
pub fn fill_tcp_checksum(frame: &mut [u8]) {
    let mut ethernet = EthernetFrame::new_unchecked(frame);
    let mut ip = Ipv4Packet::new_unchecked(ethernet.payload_mut());
    let (source, destination) = (ip.src_addr().into(), ip.dst_addr().into());
    TcpPacket::new_unchecked(ip.payload_mut()).fill_checksum(&source, &destination);
}

/// The lengths of the IPv4 and TCP headers of an IPv4 TCP frame, both checked to lie
/// within it.
pub fn tcp_headers(frame: &[u8]) -> Option<Headers> {
    let ethernet = EthernetFrame::new_checked(frame).ok()?;
    if ethernet.ethertype() != EthernetProtocol::Ipv4 {
        return None;
    }
    let ip = Ipv4Packet::new_checked(ethernet.payload()).ok()?;
    if ip.next_header() != IpProtocol::Tcp {
        return None;
    }
    let ip_header = usize::from(ip.header_len());
    let tcp = TcpPacket::new_checked(ip.payload()).ok()?;
    Some((ip_header, usize::from(tcp.header_len())))
}

/// Replaces the MSS option of a SYN with what `new` makes of it (`None`: leave it), and
/// updates the TCP checksum to match (RFC 1624).
fn rewrite_mss(frame: &mut [u8], (ip_header, tcp_header): Headers, new: impl FnOnce(u16) -> Option<u16>) {
    let tcp = ETHERNET_HEADER + ip_header;
    if frame[tcp + 13] & 0x02 == 0 {
        return;
    }
    let Some(at) = mss_value(&frame[tcp..tcp + tcp_header]).map(|at| tcp + at) else { return };
    let old = u16::from_be_bytes([frame[at], frame[at + 1]]);
    let Some(new) = new(old) else { return };
    frame[at..at + 2].copy_from_slice(&new.to_be_bytes());
    // The checksum sums 16-bit words from the TCP header's start: a value at an odd
    // offset straddles two of them, which adds its bytes swapped.
    let (old, new) = if (at - tcp) % 2 == 1 { (old.swap_bytes(), new.swap_bytes()) } else { (old, new) };
    let checksum = u16::from_be_bytes([frame[tcp + 16], frame[tcp + 17]]);
    let sum = u32::from(!checksum) + u32::from(!old) + u32::from(new);
    let folded = (sum & 0xffff) + (sum >> 16);
    let folded = (folded & 0xffff) + (folded >> 16);
    frame[tcp + 16..tcp + 18].copy_from_slice(&(!(folded as u16)).to_be_bytes());
}

/// The offset of the MSS option's value within a TCP header, if it has one.
fn mss_value(header: &[u8]) -> Option<usize> {
    let mut at = 20;
    while at < header.len() {
        match header[at] {
            OPTION_END => return None,
            OPTION_NOP => at += 1,
            kind => {
                let len = usize::from(*header.get(at + 1)?);
                if len < 2 || at + len > header.len() {
                    return None;
                }
                if kind == OPTION_MSS && len == 4 {
                    return Some(at + 2);
                }
                at += len;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use smoltcp::wire::{IpAddress, TcpOption};

    const SOURCE: [u8; 4] = [10, 0, 0, 1];
    const DESTINATION: [u8; 4] = [10, 0, 0, 2];

    fn address([a, b, c, d]: [u8; 4]) -> IpAddress {
        IpAddress::v4(a, b, c, d)
    }

    /// A SYN with `options` (padded to whole words) and a valid checksum.
    fn syn(options: &[u8]) -> Vec<u8> {
        let tcp_header = 20 + options.len().next_multiple_of(4);
        let mut f = vec![0u8; ETHERNET_HEADER + 20 + tcp_header];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[16..18].copy_from_slice(&((20 + tcp_header) as u16).to_be_bytes());
        f[22] = 64;
        f[23] = 6;
        f[26..30].copy_from_slice(&SOURCE);
        f[30..34].copy_from_slice(&DESTINATION);
        let tcp = 34;
        f[tcp..tcp + 4].copy_from_slice(&[0x9c, 0x40, 0x1f, 0x90]);
        f[tcp + 4..tcp + 8].copy_from_slice(&[0x12, 0x34, 0x56, 0x78]);
        f[tcp + 12] = ((tcp_header / 4) as u8) << 4;
        f[tcp + 13] = 0x02;
        f[tcp + 14..tcp + 16].copy_from_slice(&[0xff, 0xff]);
        f[tcp + 20..tcp + 20 + options.len()].copy_from_slice(options);
        let mut packet = TcpPacket::new_unchecked(&mut f[tcp..]);
        packet.fill_checksum(&address(SOURCE), &address(DESTINATION));
        f
    }

    /// The MSS option smoltcp reads from `frame`, checking the checksum first.
    fn mss(frame: &[u8]) -> Option<u16> {
        let tcp = TcpPacket::new_checked(&frame[34..]).unwrap();
        assert!(tcp.verify_checksum(&address(SOURCE), &address(DESTINATION)), "checksum kept valid");
        let mut options = tcp.options();
        while !options.is_empty() {
            let (rest, option) = TcpOption::parse(options).unwrap();
            if let TcpOption::MaxSegmentSize(mss) = option {
                return Some(mss);
            }
            options = rest;
        }
        None
    }

    #[test]
    fn a_peer_taking_link_sized_segments_is_offered_the_largest() {
        for options in [&[2, 4, 0x05, 0xb4][..], &[1, 2, 4, 0x05, 0xb4, 1, 1], &[1, 1, 1, 2, 4, 0x05, 0xb4, 4, 2, 0]] {
            let mut frame = syn(options);
            raise_peer_mss(&mut frame, 1500);
            assert_eq!(mss(&frame), Some(65495), "options {options:?}");
        }
        let mut small = syn(&[2, 4, 0x04, 0x00]);
        raise_peer_mss(&mut small, 1500);
        assert_eq!(mss(&small), Some(1024), "a peer asking for less keeps it");
        let mut none = syn(&[1, 1, 1, 0]);
        raise_peer_mss(&mut none, 1500);
        assert_eq!(mss(&none), None);
    }

    #[test]
    fn our_own_syns_offer_what_the_link_carries() {
        let mut frame = syn(&[2, 4, 0xff, 0xd7, 1, 3, 3, 7]);
        let headers = tcp_headers(&frame).unwrap();
        lower_own_mss(&mut frame, headers, 1500);
        assert_eq!(mss(&frame), Some(1460));
        let mut frame = syn(&[1, 2, 4, 0xff, 0xd7]);
        let headers = tcp_headers(&frame).unwrap();
        lower_own_mss(&mut frame, headers, 9000);
        assert_eq!(mss(&frame), Some(8960), "at an odd offset too");
    }

    #[test]
    fn only_syns_with_whole_options_change() {
        let mut ack = syn(&[2, 4, 0x05, 0xb4]);
        ack[34 + 13] = 0x10;
        let before = ack.clone();
        raise_peer_mss(&mut ack, 1500);
        assert_eq!(ack, before);
        let mut cut_short = syn(&[8, 10, 0, 0]);
        let before = cut_short.clone();
        raise_peer_mss(&mut cut_short, 1500);
        assert_eq!(cut_short, before, "an option running past the header is left alone");
    }

    #[test]
    fn plain_frames_get_their_tcp_checksum() {
        let mut frame = syn(&[2, 4, 0x05, 0xb4]);
        frame[34 + 16..34 + 18].fill(0);
        fill_tcp_checksum(&mut frame);
        assert_eq!(mss(&frame), Some(1460), "a valid checksum");
    }

    #[test]
    fn segments_fill_the_mtu_after_the_headers() {
        let frame = syn(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
        assert_eq!(segment_size(tcp_headers(&frame).unwrap(), 1500), Some(1500 - 20 - 32));
        assert_eq!(segment_size((20, 60), 60), None, "no room left for a payload");
        assert_eq!(tcp_headers(&frame[..30]), None);
    }
}
