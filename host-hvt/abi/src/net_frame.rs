//! The net device contract's frame sizes, as the WIT documents them: a frame is an
//! Ethernet header and a payload of at most the device's MTU.

/// Bytes of Ethernet header a frame carries besides its payload (destination, source,
/// type; no VLAN tag).
pub const ETHERNET_HEADER: usize = 14;

/// The largest frame a device with this MTU takes or gives.
pub const fn largest(mtu: usize) -> usize {
    mtu + ETHERNET_HEADER
}

/// The largest frame carrying one TCP segment that a link cut or merged (the net device
/// contract's `write-segments` and `receive-segments`): an IPv4 packet of at most 65,535
/// bytes.
pub const LARGEST_SEGMENT: usize = ETHERNET_HEADER + 65_535;
