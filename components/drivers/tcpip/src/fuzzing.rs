//! The frame ingress, for `fuzz/` (built with `--cfg fuzzing`, as cargo-fuzz
//! does, and for the test suite's smoke of it).

use crate::config::Addressing;
use crate::device::Link;
use crate::stack::{Stack, instant};
use core::net::Ipv4Addr;
use smoltcp::wire::Ipv4Cidr;
use std::collections::VecDeque;

/// A link whose frames come from the fuzzer and whose output is dropped.
struct Frames(VecDeque<Vec<u8>>);

impl Link for Frames {
    fn read(&mut self) -> Option<Vec<u8>> {
        self.0.pop_front()
    }

    fn write(&mut self, _frame: &[u8]) {}

    /// Whatever the peer sent, the stack asks only for segmentation a host accepts.
    fn write_segments(&mut self, frame: &[u8], segment: usize) {
        assert!(ukc_hvt_abi::tso::check(frame, segment, MTU).is_some(), "a frame no host would cut");
    }
}

/// The link's MTU.
const MTU: usize = 1500;

/// Feeds `data`, cut into frames by 2-byte big-endian length prefixes, to a stack at
/// 10.0.0.2/24 that listens on TCP port 80 and UDP port 53, a millisecond of its clock
/// apart, accepting and reading every connection it can and then letting its timers run.
pub fn ingress(data: &[u8]) {
    let mut frames = VecDeque::new();
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        frames.push_back(rest[2..2 + len].to_vec());
        rest = &rest[2 + len..];
    }
    let addressing = Addressing::Static { cidr: Ipv4Cidr::new(Ipv4Addr::new(10, 0, 0, 2), 24), gateway: None };
    let mut stack = Stack::new(Frames(frames), [2, 0, 0, 0, 0, 2], MTU, addressing, 0x5eed, instant(0));
    stack.tcp.listen(80, &mut stack.sockets).expect("a fresh stack listens");
    let udp = stack.bind(53).expect("a fresh stack binds");
    let mut now = 1_000_000u64;
    while !stack.phy.link.0.is_empty() {
        now += 1_000_000;
        stack.poll(instant(now));
        while let Ok(handle) = stack.tcp.accept(80, &mut stack.sockets, instant(now)) {
            if let Ok((conn, socket)) = stack.tcp.conn_mut(handle, &mut stack.sockets) {
                let _ = conn.read(socket, 4096);
            }
            stack.tcp.release(handle, &mut stack.sockets, instant(now));
        }
        let _ = stack.udp.receive(udp, &mut stack.sockets);
    }
    for _ in 0..20 {
        now += 500_000_000;
        stack.poll(instant(now));
    }
}

/// The smoke the test suite runs of what the fuzz target runs: an ARP request, a SYN to
/// the listener, a datagram, and the same frames cut short and garbled.
#[cfg(test)]
mod tests {
    /// Frames from 10.0.0.1 (02:00:00:00:00:01) to the stack, as a peer would send them.
    fn frames() -> Vec<Vec<u8>> {
        let ethernet = |ethertype: [u8; 2], payload: &[u8]| {
            let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1];
            frame.extend_from_slice(&ethertype);
            frame.extend_from_slice(payload);
            frame
        };
        let arp = [0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2];
        let ip = |protocol: u8, payload: &[u8]| {
            let len = (20 + payload.len()) as u16;
            let mut packet = vec![0x45, 0, (len >> 8) as u8, len as u8, 0, 0, 0x40, 0, 64, protocol, 0, 0];
            packet.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
            packet.extend_from_slice(payload);
            packet
        };
        let syn = [0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0];
        let udp = [0x9c, 0x41, 0, 53, 0, 12, 0, 0, b'p', b'i', b'n', b'g'];
        vec![ethernet([8, 6], &arp), ethernet([8, 0], &ip(6, &syn)), ethernet([8, 0], &ip(17, &udp))]
    }

    fn encode(frames: &[Vec<u8>]) -> Vec<u8> {
        frames.iter().flat_map(|f| (f.len() as u16).to_be_bytes().into_iter().chain(f.iter().copied())).collect()
    }

    #[test]
    fn frames_whole_cut_and_garbled_are_taken_in() {
        let frames = frames();
        super::ingress(&encode(&frames));
        for frame in &frames {
            for cut in [0, 1, 13, 14, 20, 34, frame.len() - 1] {
                super::ingress(&encode(&[frame[..cut].to_vec()]));
            }
            let garbled: Vec<u8> = frame.iter().enumerate().map(|(i, b)| if i % 7 == 3 { !b } else { *b }).collect();
            super::ingress(&encode(&[garbled]));
        }
        super::ingress(&[0xff]);
        super::ingress(&[0xff, 0xff, 1, 2, 3]);
    }
}
