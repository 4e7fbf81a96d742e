//! Attaching a Linux TAP interface, as Solo5's `tap_attach.c`: `IFF_TAP | IFF_NO_PI`, so
//! each read or write is exactly one Ethernet frame, behind a virtio-net header
//! (`IFF_VNET_HDR`): a frame written with one can be a TCP segment of up to 64 KiB that
//! the kernel takes whole, as from a NIC doing segmentation, where the same bytes as
//! 1500-byte frames cost a system call and a trip through its stack each.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use ukc_hvt_abi::checksum::checksum;

/// The MTU used when the interface's own cannot be read.
pub const DEFAULT_MTU: u32 = 1500;

/// Opens the existing (or a new, non-persistent) TAP interface `ifname`, non-blocking.
pub fn attach(ifname: &str) -> io::Result<File> {
    if ifname.is_empty() || ifname.len() >= libc::IFNAMSIZ {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "interface names are 1 to 15 bytes"));
    }
    let tun = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open("/dev/net/tun")?;
    let mut request = ifreq(ifname);
    request.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_VNET_HDR) as libc::c_short;
    // SAFETY: TUNSETIFF reads one `ifreq`, which lives for the duration of the call.
    if unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETIFF, &request) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // No offloads towards us: the kernel hands over whole, checksummed frames of at most
    // the MTU, as the net device contract promises the unikernel. (Frames the other way
    // may still be segments: that needs no feature of the interface.)
    let header_size = VNET_HEADER as libc::c_int;
    // SAFETY: TUNSETVNETHDRSZ reads one integer, which lives for the duration of the call.
    if unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETVNETHDRSZ, &header_size) } < 0 {
        return Err(io::Error::last_os_error());
    }
    no_offloads(&tun)?;
    Ok(tun)
}

/// Sets the interface's offloads towards us to none (an earlier attacher may have left
/// some on: they outlive the descriptor that set them; see [`crate::offloads`]).
fn no_offloads(tap: &File) -> io::Result<()> {
    set_offloads(tap, 0)
}

/// Sets what the kernel may hand over (`TUN_F_*`): `TUN_F_TSO4` merged TCP segments of up
/// to 64 KiB, with `TUN_F_CSUM` (which TSO needs) checksums left to finish (see
/// [`finish_checksum`]).
pub(crate) fn set_offloads(tap: &File, offloads: libc::c_uint) -> io::Result<()> {
    // SAFETY: TUNSETOFFLOAD takes its flags by value.
    if unsafe { libc::ioctl(tap.as_raw_fd(), libc::TUNSETOFFLOAD, offloads) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Finishes what a received frame's virtio-net `header` leaves undone: a checksum the
/// kernel left partial (`NEEDS_CSUM`: the sum from `csum_start` to the end, folded into
/// the field at `csum_offset`, which holds the pseudo-header's), and, for a merged TCP
/// segment, the IPv4 header checksum. False if the header points outside the frame.
pub fn finish_checksum(header: &[u8; VNET_HEADER], frame: &mut [u8]) -> bool {
    const NEEDS_CSUM: u8 = 1;
    const GSO_NONE: u8 = 0;
    let field = |at: usize| usize::from(u16::from_le_bytes([header[at], header[at + 1]]));
    if header[0] & NEEDS_CSUM != 0 {
        let (start, offset) = (field(6), field(8));
        let Some(at) = start.checked_add(offset).filter(|at| at + 2 <= frame.len()) else { return false };
        let sum = checksum(&frame[start..], 0);
        frame[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    }
    if header[1] != GSO_NONE {
        let ip = ukc_hvt_abi::net_frame::ETHERNET_HEADER;
        let Some(&first) = frame.get(ip) else { return false };
        let end = ip + usize::from(first & 0x0f) * 4;
        if end > frame.len() || end < ip + 20 {
            return false;
        }
        frame[ip + 10..ip + 12].fill(0);
        let sum = checksum(&frame[ip..end], 0);
        frame[ip + 10..ip + 12].copy_from_slice(&sum.to_be_bytes());
    }
    true
}

/// Bytes of the virtio-net header (`struct virtio_net_hdr`) in front of every frame.
pub const VNET_HEADER: usize = 10;

/// The virtio-net header of a plain frame: nothing for the kernel to do.
pub const PLAIN: [u8; VNET_HEADER] = [0; VNET_HEADER];

/// The virtio-net header of an IPv4 TCP frame that [`ukc_hvt_abi::tso::check`] laid out
/// as `layout`: the kernel finishes its TCP checksum (`NEEDS_CSUM`, from the pseudo-header
/// sum in the checksum field) and cuts it into segments of `layout.segment` bytes
/// (`GSO_TCPV4`). Little-endian, the byte order of an x86-64 host's interface.
pub fn segments_header(layout: ukc_hvt_abi::tso::Layout) -> [u8; VNET_HEADER] {
    const NEEDS_CSUM: u8 = 1;
    const GSO_TCPV4: u8 = 1;
    let field = |value: usize| (value as u16).to_le_bytes();
    let mut header = [NEEDS_CSUM, GSO_TCPV4, 0, 0, 0, 0, 0, 0, 0, 0];
    header[2..4].copy_from_slice(&field(layout.payload));
    header[4..6].copy_from_slice(&field(layout.segment));
    header[6..8].copy_from_slice(&field(layout.tcp));
    header[8..10].copy_from_slice(&field(layout.checksum_field() - layout.tcp));
    header
}

/// The interface's MTU, or [`DEFAULT_MTU`] when it cannot be read.
pub fn mtu(ifname: &str) -> u32 {
    // SAFETY: a plain datagram socket, closed below; used only for the ioctl.
    let socket = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if socket < 0 {
        return DEFAULT_MTU;
    }
    let mut request = ifreq(ifname);
    // SAFETY: SIOCGIFMTU writes `ifru_mtu` of the `ifreq` it is given.
    let result = unsafe { libc::ioctl(socket, libc::SIOCGIFMTU, &mut request) };
    // SAFETY: `socket` is ours and closed once.
    unsafe { libc::close(socket) };
    if result < 0 {
        return DEFAULT_MTU;
    }
    // SAFETY: the ioctl succeeded, so the kernel filled the MTU member of the union.
    u32::try_from(unsafe { request.ifr_ifru.ifru_mtu }).unwrap_or(DEFAULT_MTU)
}

fn ifreq(ifname: &str) -> libc::ifreq {
    // SAFETY: `ifreq` is plain old data; all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in request.ifr_name.iter_mut().zip(ifname.bytes()) {
        *dst = src as libc::c_char;
    }
    request
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for byte in &mut mac {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// A random locally administered unicast MAC address.
pub fn random_mac() -> [u8; 6] {
    let mut mac = [0u8; 6];
    getrandom::fill(&mut mac).expect("the host's entropy source works");
    mac[0] = (mac[0] & 0xfe) | 0x02;
    mac
}

#[cfg(test)]
mod tests {
    use super::*;
    // The sums checksum.rs checks against a word-at-a-time sum of its own.
    use ukc_hvt_abi::checksum::{fold, sum};

    /// An IPv4 TCP frame with `payload`, its IP checksum wrong and its TCP checksum
    /// field holding the pseudo-header's sum, as the kernel hands over a `NEEDS_CSUM` one.
    fn partial(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 54];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[16..18].copy_from_slice(&((40 + payload.len()) as u16).to_be_bytes());
        f[23] = 6;
        f[24..26].copy_from_slice(&[0x12, 0x34]);
        f[26..34].copy_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        f[46] = 5 << 4;
        f.extend_from_slice(payload);
        let mut pseudo = f[26..34].to_vec();
        pseudo.extend_from_slice(&[0, 6]);
        pseudo.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
        f[50..52].copy_from_slice(&fold(sum(&pseudo, 0)).to_be_bytes());
        f
    }

    fn tcp_valid(f: &[u8]) -> bool {
        let mut whole = f[26..34].to_vec();
        whole.extend_from_slice(&[0, 6]);
        whole.extend_from_slice(&((f.len() - 34) as u16).to_be_bytes());
        whole.extend_from_slice(&f[34..]);
        checksum(&whole, 0) == 0
    }

    /// A virtio-net header: flags, GSO type, then csum_start and csum_offset.
    fn header(flags: u8, gso: u8, start: u16, offset: u16) -> [u8; VNET_HEADER] {
        let mut h = [flags, gso, 0, 0, 0, 0, 0, 0, 0, 0];
        h[6..8].copy_from_slice(&start.to_le_bytes());
        h[8..10].copy_from_slice(&offset.to_le_bytes());
        h
    }

    #[test]
    fn partial_checksums_are_finished_and_merged_segments_get_their_ip_checksum() {
        for len in [0, 1, 7, 1460, 30_001] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 31 % 256) as u8).collect();
            let mut frame = partial(&payload);
            assert!(!tcp_valid(&frame));
            assert!(finish_checksum(&header(1, 1, 34, 16), &mut frame), "{len}");
            assert!(tcp_valid(&frame), "TCP checksum of {len} payload bytes");
            assert_eq!(checksum(&frame[14..34], 0), 0, "IP header checksum");
        }
        let mut plain = partial(b"data");
        let before = plain.clone();
        assert!(finish_checksum(&PLAIN, &mut plain));
        assert_eq!(plain, before, "nothing to finish, nothing changed");
    }

    #[test]
    fn offload_headers_pointing_outside_the_frame_are_refused() {
        let mut frame = partial(b"data");
        for (start, offset) in [(58, 0), (34, 24), (u16::MAX, u16::MAX)] {
            assert!(!finish_checksum(&header(1, 0, start, offset), &mut frame), "{start} {offset}");
        }
        assert!(!finish_checksum(&header(0, 1, 0, 0), &mut frame[..20]), "no IP header to fix");
    }

    #[test]
    fn macs() {
        assert_eq!(parse_mac("02:00:00:0a:Bc:ff"), Some([2, 0, 0, 0x0a, 0xbc, 0xff]));
        for bad in ["02:00:00:0a:bc", "02:00:00:0a:bc:ff:00", "2:00:00:0a:bc:ff", "zz:00:00:00:00:00"] {
            assert_eq!(parse_mac(bad), None, "{bad}");
        }
        let mac = random_mac();
        assert_eq!(mac[0] & 0x03, 0x02, "locally administered unicast");
    }
}
