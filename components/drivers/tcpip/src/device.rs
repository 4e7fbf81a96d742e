//! smoltcp's `phy::Device` over a link that carries Ethernet frames.
//!
//! The link is a trait so that the stack runs on the host in unit tests (two stacks
//! wired back to back) as well as over `ukc:net` in the component.

use crate::offload;
use smoltcp::phy::{self, Checksum, DeviceCapabilities, Medium};
use smoltcp::time::Instant;
use smoltcp::wire::TcpPacket;

/// Bytes of Ethernet header in front of every frame's payload (the net device contract's).
pub use ukc_hvt_abi::net_frame::ETHERNET_HEADER;

/// Something that sends and receives whole Ethernet frames without blocking.
pub trait Link {
    /// The next received frame, or `None` when none is waiting.
    fn read(&mut self) -> Option<Vec<u8>>;
    /// Sends one frame; a frame the link refuses is lost, as on a wire.
    fn write(&mut self, frame: &[u8]);
    /// Sends an IPv4 TCP frame longer than the MTU cut into segments of `segment` payload
    /// bytes (the net device's `write-segments`); lost if refused, as `write`'s.
    fn write_segments(&mut self, frame: &[u8], segment: usize);
}

/// A link as smoltcp's interface drives it.
pub struct Phy<L> {
    pub link: L,
    /// The link's MTU: the largest payload of a frame on the wire. smoltcp is told it may
    /// send IP packets of up to 64 KiB, which the link cuts ([`crate::offload`]).
    mtu: usize,
    /// Ports whose listener has no listening socket left (the stack is at its limits).
    /// SYNs to them are dropped here, so that the peer tries again a moment later, as
    /// when Linux's queues are full; smoltcp would refuse them with a RST.
    pub exhausted: Vec<u16>,
}

impl<L: Link> Phy<L> {
    /// `mtu` is the device's largest payload, excluding the Ethernet header.
    pub fn new(link: L, mtu: usize) -> Self {
        Phy { link, mtu, exhausted: Vec::new() }
    }

    /// The largest payload of a frame on the link.
    pub fn mtu(&self) -> usize {
        self.mtu
    }
}

impl<L: Link> phy::Device for Phy<L> {
    type RxToken<'a>
        = Rx
    where
        Self: 'a;
    type TxToken<'a>
        = Tx<'a, L>
    where
        Self: 'a;

    fn receive(&mut self, _now: Instant) -> Option<(Rx, Tx<'_, L>)> {
        let mut frame = self.link.read()?;
        while !self.exhausted.is_empty() && syn_port(&frame).is_some_and(|port| self.exhausted.contains(&port)) {
            frame = self.link.read()?;
        }
        offload::raise_peer_mss(&mut frame, self.mtu);
        Some((Rx(frame), Tx { link: &mut self.link, mtu: self.mtu }))
    }

    fn transmit(&mut self, _now: Instant) -> Option<Tx<'_, L>> {
        Some(Tx { link: &mut self.link, mtu: self.mtu })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = ETHERNET_HEADER + offload::LARGEST_PACKET;
        // A TCP checksum is computed where it is needed: here for a frame that fits the
        // link, by whoever cuts a longer one into segments (which replaces it anyway).
        caps.checksum.tcp = Checksum::Rx;
        // The host hands frames over one call at a time and queues them itself.
        caps.max_burst_size = None;
        caps
    }
}

/// The destination port of a TCP SYN (a connection request) in an Ethernet frame.
pub fn syn_port(frame: &[u8]) -> Option<u16> {
    let (ip_header, _) = offload::tcp_headers(frame)?;
    let tcp = TcpPacket::new_unchecked(&frame[ETHERNET_HEADER + ip_header..]);
    (tcp.syn() && !tcp.ack()).then(|| tcp.dst_port())
}

/// A received frame, handed to smoltcp once.
pub struct Rx(Vec<u8>);

impl phy::RxToken for Rx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

/// Room for one frame to send on a link of `mtu`.
pub struct Tx<'a, L> {
    link: &'a mut L,
    mtu: usize,
}

impl<L: Link> phy::TxToken for Tx<'_, L> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0; len];
        let result = f(&mut frame);
        let fits = frame.len() <= ETHERNET_HEADER + self.mtu;
        match offload::tcp_headers(&frame) {
            Some(headers) => {
                offload::lower_own_mss(&mut frame, headers, self.mtu);
                if fits {
                    offload::fill_tcp_checksum(&mut frame);
                    self.link.write(&frame);
                } else if let Some(segment) = offload::segment_size(headers, self.mtu) {
                    self.link.write_segments(&frame, segment);
                }
            }
            None if fits => self.link.write(&frame),
            // Anything else too long for the link is lost, as on a wire.
            None => {}
        }
        result
    }
}
