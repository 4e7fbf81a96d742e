use super::*;
use smoltcp::wire::{EthernetFrame, IpAddress, Ipv4Packet, TcpPacket};

const SOURCE: [u8; 4] = [10, 0, 0, 2];
const DESTINATION: [u8; 4] = [10, 0, 0, 1];

/// An IPv4 TCP frame from SOURCE:8080 to DESTINATION:40000 with `flags`, 12 bytes of TCP
/// options and `payload`; its checksums are left wrong on purpose (segmentation must not
/// rely on them).
fn frame(payload: &[u8], flags: u8) -> Vec<u8> {
    let mut f = vec![0u8; 14 + 20 + 32];
    f[..12].copy_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
    f[12..14].copy_from_slice(&ETHERTYPE_IPV4);
    f[14] = 0x45;
    f[16..18].copy_from_slice(&((20 + 32 + payload.len()) as u16).to_be_bytes());
    f[18..20].copy_from_slice(&0xfffeu16.to_be_bytes());
    f[20] = 0x40; // don't fragment
    f[22] = 64;
    f[23] = PROTOCOL_TCP;
    f[24..26].copy_from_slice(&[0xde, 0xad]);
    f[26..30].copy_from_slice(&SOURCE);
    f[30..34].copy_from_slice(&DESTINATION);
    let tcp = 34;
    f[tcp..tcp + 2].copy_from_slice(&8080u16.to_be_bytes());
    f[tcp + 2..tcp + 4].copy_from_slice(&40000u16.to_be_bytes());
    f[tcp + 4..tcp + 8].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
    f[tcp + 8..tcp + 12].copy_from_slice(&7u32.to_be_bytes());
    f[tcp + 12] = 8 << 4;
    f[tcp + 13] = flags;
    f[tcp + 14..tcp + 16].copy_from_slice(&65535u16.to_be_bytes());
    f[tcp + 16..tcp + 18].copy_from_slice(&[0xbe, 0xef]);
    f[tcp + 20..tcp + 32].copy_from_slice(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
    f.extend_from_slice(payload);
    f
}

fn address([a, b, c, d]: [u8; 4]) -> IpAddress {
    IpAddress::v4(a, b, c, d)
}

fn segments(frame: &[u8], layout: Layout) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    cut(frame, layout, &mut Vec::new(), |s| {
        out.push(s.to_vec());
        Ok::<(), ()>(())
    })
    .unwrap();
    out
}

#[test]
fn segments_carry_the_payload_in_order_with_valid_headers() {
    let payload: Vec<u8> = (0..10_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let ack_psh_fin_cwr = 0x10 | PSH | FIN | CWR;
    let f = frame(&payload, ack_psh_fin_cwr);
    let layout = check(&f, 1448, 1500).expect("a valid frame");
    assert_eq!(layout, Layout { tcp: 34, payload: 66, segment: 1448 });
    let segments = segments(&f, layout);
    assert_eq!(segments.len(), 10_000usize.div_ceil(1448));
    let (source, destination) = (address(SOURCE), address(DESTINATION));
    let mut joined = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        let ethernet = EthernetFrame::new_checked(&s[..]).unwrap();
        let ip = Ipv4Packet::new_checked(ethernet.payload()).unwrap();
        assert!(ip.verify_checksum(), "segment {i}: IP checksum");
        assert!(ip.total_len() as usize <= 1500 && ip.total_len() as usize == s.len() - 14);
        assert_eq!(ip.ident(), 0xfffeu16.wrapping_add(i as u16), "identification counts on, wrapping");
        assert!(ip.dont_frag());
        let tcp = TcpPacket::new_checked(ip.payload()).unwrap();
        assert!(tcp.verify_checksum(&source, &destination), "segment {i}: TCP checksum");
        assert_eq!(tcp.seq_number().0 as u32, 0xffff_fff0u32.wrapping_add(joined.len() as u32), "sequence wraps");
        assert_eq!((tcp.ack(), tcp.ack_number().0, tcp.window_len()), (true, 7, 65535));
        let last = i == segments.len() - 1;
        assert_eq!((tcp.fin(), tcp.psh(), tcp.cwr()), (last, last, i == 0), "segment {i}: flags");
        assert_eq!(&s[54..66], &f[54..66], "options are repeated");
        joined.extend_from_slice(tcp.payload());
    }
    assert_eq!(joined, payload);
}

#[test]
fn a_payload_of_one_segment_is_one_frame_with_its_checksums_set() {
    let f = frame(b"hello", 0x10);
    let segments = segments(&f, check(&f, 1448, 1500).unwrap());
    assert_eq!(segments.len(), 1);
    assert_eq!(segments[0].len(), f.len());
    let ip = Ipv4Packet::new_checked(&segments[0][14..]).unwrap();
    assert!(ip.verify_checksum());
}

#[test]
fn only_whole_tcp_data_frames_within_the_mtu_are_cut() {
    let payload = [0u8; 3000];
    let good = frame(&payload, 0x10);
    assert!(check(&good, 1448, 1500).is_some());
    assert!(check(&good, 1449, 1500).is_none(), "20 + 32 + 1449 is past the MTU");
    assert!(check(&good, 0, 1500).is_none(), "no empty segments");
    assert!(check(&frame(&[], 0x10), 1448, 1500).is_none(), "no payload");
    for flag in [SYN, RST, URG] {
        assert!(check(&frame(&payload, 0x10 | flag), 1448, 1500).is_none(), "flag {flag:#x}");
    }
    let broken: [(usize, u8); 6] = [(12, 0x86), (14, 0x65), (14, 0x44), (23, 17), (20, 0x20), (46, 0x40)];
    for (at, value) in broken {
        let mut bad = good.clone();
        bad[at] = value;
        assert!(check(&bad, 1448, 1500).is_none(), "byte {at} = {value:#x}");
    }
    assert!(check(&good[..good.len() - 1], 1448, 1500).is_none(), "IP length disagrees with the frame's");
    // IP options push the TCP header past a frame that only holds its first 13 bytes.
    for (ihl, len) in [(7, 55), (15, 87), (15, 100)] {
        let mut short = good[..len].to_vec();
        short[14] = 0x40 | ihl;
        short[16..18].copy_from_slice(&((len - 14) as u16).to_be_bytes());
        assert!(check(&short, 1448, 1500).is_none(), "IHL {ihl}, {len} bytes");
    }
    for cut_short in 0..66 {
        assert!(check(&good[..cut_short], 1448, 1500).is_none(), "cut to {cut_short}");
    }
}

#[test]
fn the_pseudo_header_sum_completes_to_the_checksum() {
    let f = frame(&[9u8; 777], 0x10);
    let layout = check(&f, 1448, 1500).unwrap();
    let mut offloaded = f.clone();
    let field = layout.checksum_field();
    offloaded[field..field + 2].copy_from_slice(&pseudo_header_sum(&f, layout).to_be_bytes());
    // What the link does with NEEDS_CSUM: sum from the TCP header on, the field included.
    let finished = !fold(sum(&offloaded[layout.tcp..], 0));
    offloaded[field..field + 2].copy_from_slice(&finished.to_be_bytes());
    let tcp = TcpPacket::new_checked(&offloaded[layout.tcp..]).unwrap();
    assert!(tcp.verify_checksum(&address(SOURCE), &address(DESTINATION)));
}

#[test]
fn the_fuzz_entry_takes_valid_cut_and_garbled_frames() {
    let with_sizes = |segment: u16, mtu: u16, frame: &[u8]| {
        let mut data = segment.to_be_bytes().to_vec();
        data.extend_from_slice(&mtu.to_be_bytes());
        data.extend_from_slice(frame);
        data
    };
    let good = frame(&vec![3u8; 5000], 0x10 | PSH | FIN);
    fuzzing::segments(&with_sizes(1448, 1500, &good));
    fuzzing::segments(&with_sizes(1, 1500, &good[..200]));
    fuzzing::segments(&with_sizes(536, 576, &good));
    for cut_at in [0, 13, 14, 33, 34, 54, 65, 66, 67] {
        fuzzing::segments(&with_sizes(1448, 1500, &good[..cut_at.min(good.len())]));
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..500 {
        let mut garbled = good.clone();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % garbled.len() as u64) as usize;
            garbled[at] = (state >> 32) as u8;
        }
        fuzzing::segments(&with_sizes((state >> 48) as u16, 1500, &garbled));
    }
}
