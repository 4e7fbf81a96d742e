//! Attaching a Linux TAP interface, as Solo5's `tap_attach.c`: `IFF_TAP | IFF_NO_PI`, so
//! each read or write is exactly one Ethernet frame, behind a virtio-net header
//! (`IFF_VNET_HDR`): a frame written with one can be a TCP segment of up to 64 KiB that
//! the kernel takes whole, as from a NIC doing segmentation, where the same bytes as
//! 1500-byte frames cost a system call and a trip through its stack each.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

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
    let (header_size, offloads): (libc::c_int, libc::c_uint) = (VNET_HEADER as libc::c_int, 0);
    // SAFETY: both ioctls read one integer, which lives for the duration of the call.
    if unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETVNETHDRSZ, &header_size) } < 0
        || unsafe { libc::ioctl(tun.as_raw_fd(), libc::TUNSETOFFLOAD, offloads) } < 0
    {
        return Err(io::Error::last_os_error());
    }
    Ok(tun)
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
