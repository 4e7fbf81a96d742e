//! Net devices on TAP interfaces: one Ethernet frame per read or write, never blocking
//! the guest; `yield` reports when a frame is waiting.

use crate::Devices;
use crate::bindings::ukc::net::net::{Error, Host, HostDevice, Info};
use crate::devices::DeviceOption;
use crate::flags::Attachments;
use crate::{offloads, tap};
use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{ErrorKind, IoSlice, Write};
use std::os::fd::{AsRawFd, RawFd};
use ukc_manifest::DeviceType;
use wasmtime::component::Resource;

use ukc_hvt_abi::checksum::checksum;
use ukc_hvt_abi::{net_frame, tso};

/// `--net-mac:NAME=HWADDR`.
pub const MAC: DeviceOption = DeviceOption {
    ty: DeviceType::Net,
    flag: "net-mac",
    value: "HWADDR",
    about: "MAC address of device NAME (default: random, locally administered)",
    check: |value| {
        tap::parse_mac(value).map(drop).ok_or_else(|| "expected a MAC address such as 02:00:00:00:00:01".into())
    },
};

/// Attaches every net device in `attachments`, in command-line order.
pub fn open_all(attachments: &Attachments) -> Result<Vec<NetBackend>, String> {
    attachments
        .of(DeviceType::Net)
        .map(|(name, ifname)| NetBackend::open(name, ifname, attachments.option(&MAC, name).and_then(tap::parse_mac)))
        .collect()
}

/// A TAP interface attached as a named net device.
#[derive(Debug)]
pub struct NetBackend {
    name: String,
    ifname: String,
    tap: File,
    /// Whether frames cross `tap` behind a virtio-net header (a TAP interface).
    vnet: bool,
    /// Whether the guest takes merged TCP segments (`receive-segments`), which the TAP
    /// interface then hands over.
    segments_in: Cell<bool>,
    /// A frame read but handed back (see [`NetBackend::unread`]): the next one to read.
    held: RefCell<Option<Vec<u8>>>,
    mac: [u8; 6],
    mtu: u32,
}

impl NetBackend {
    /// Attaches the TAP interface `ifname` as the net device `name`, with `mac` or a
    /// random locally administered address.
    pub fn open(name: &str, ifname: &str, mac: Option<[u8; 6]>) -> Result<NetBackend, String> {
        let tap = tap::attach(ifname).map_err(|e| {
            format!("net device '{name}': cannot attach the tap interface {ifname}: {e} (is it created, for example with `ip tuntap add dev {ifname} mode tap`, and are you allowed to use /dev/net/tun?)")
        })?;
        Ok(NetBackend {
            name: name.to_string(),
            ifname: ifname.to_string(),
            tap,
            vnet: true,
            segments_in: Cell::new(false),
            held: RefCell::new(None),
            mac: mac.unwrap_or_else(tap::random_mac),
            mtu: tap::mtu(ifname),
        })
    }

    /// A net device over `file`, any descriptor that passes one frame per read and write
    /// and does not block (a `SOCK_SEQPACKET` socket pair, say), with this address and
    /// MTU: for tests and the fuzzer, which have no TAP interface.
    pub fn over(name: &str, file: File, mac: [u8; 6], mtu: u32) -> NetBackend {
        NetBackend {
            name: name.to_string(),
            ifname: format!("{name} (a socket)"),
            tap: file,
            vnet: false,
            segments_in: Cell::new(false),
            held: RefCell::new(None),
            mac,
            mtu,
        }
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The descriptor `yield` waits on.
    pub fn fd(&self) -> RawFd {
        self.tap.as_raw_fd()
    }

    /// The device's MAC address and MTU.
    pub fn info(&self) -> Info {
        let m = self.mac;
        Info { mac: (m[0], m[1], m[2], m[3], m[4], m[5]), mtu: self.mtu }
    }

    /// Takes the next received frame, or `again` when none is waiting.
    pub fn read(&self) -> Result<Vec<u8>, Error> {
        if let Some(frame) = self.held.borrow_mut().take() {
            return Ok(frame);
        }
        let largest = self.largest_frame();
        let mut frame = Vec::with_capacity(largest);
        // SAFETY: the frame's spare capacity holds `largest` writable bytes.
        let len = unsafe { self.read_raw(frame.as_mut_ptr(), largest)? };
        // SAFETY: `read_raw` wrote the `len` bytes (at most `largest`).
        unsafe { frame.set_len(len) };
        Ok(frame)
    }

    /// The longest frame `read` may return now: a merged TCP segment once the guest takes
    /// them, else a frame of the MTU.
    pub fn largest_frame(&self) -> usize {
        if self.segments_in.get() { net_frame::LARGEST_SEGMENT } else { net_frame::largest(self.mtu as usize) }
    }

    /// Takes the next received frame into `buffer`, which holds at least
    /// [`NetBackend::largest_frame`] bytes, and returns its length: the frame crosses from
    /// the TAP interface straight to where it is wanted (the KVM guest's receive batch).
    pub fn read_into(&self, buffer: &mut [u8]) -> Result<usize, Error> {
        assert!(buffer.len() >= self.largest_frame(), "read_into needs room for the largest frame");
        if let Some(frame) = self.held.borrow_mut().take() {
            buffer[..frame.len()].copy_from_slice(&frame);
            return Ok(frame.len());
        }
        // SAFETY: `buffer` holds at least `largest_frame()` writable bytes.
        unsafe { self.read_raw(buffer.as_mut_ptr(), self.largest_frame()) }
    }

    /// Reads one frame from the TAP interface into the `room` bytes at `at`, finishing
    /// the checksum its offload header asks for; the frame's length.
    ///
    /// # Safety
    /// `at` must be valid for writes of `room` bytes for the duration of the call.
    unsafe fn read_raw(&self, at: *mut u8, room: usize) -> Result<usize, Error> {
        let mut header = [0u8; tap::VNET_HEADER];
        let parts = [
            libc::iovec { iov_base: header.as_mut_ptr().cast(), iov_len: if self.vnet { header.len() } else { 0 } },
            libc::iovec { iov_base: at.cast(), iov_len: room },
        ];
        // SAFETY: both buffers are writable for their lengths for the duration of the
        // call (the caller vouches for `at`).
        let read = unsafe { libc::readv(self.fd(), parts.as_ptr(), 2) };
        if read < 0 {
            let e = std::io::Error::last_os_error();
            return Err(if e.kind() == ErrorKind::WouldBlock { Error::Again } else { self.io_error("read", e) });
        }
        let len = (read as usize).saturating_sub(parts[0].iov_len).min(room);
        // SAFETY: the kernel wrote these `len` bytes, within the `room` the caller vouched for.
        let frame = unsafe { std::slice::from_raw_parts_mut(at, len) };
        if self.vnet && !tap::finish_checksum(&header, frame) {
            eprintln!(
                "ukc: net device '{}' ({}): dropped a frame with a malformed offload header",
                self.name, self.ifname
            );
            return Err(Error::Again);
        }
        Ok(len)
    }

    /// Hands `frame`, just read, back: the next [`NetBackend::read`] returns it, and
    /// `yield` counts the device as having input meanwhile.
    pub fn unread(&self, frame: Vec<u8>) {
        *self.held.borrow_mut() = Some(frame);
    }

    /// Whether a frame handed back waits to be read.
    pub fn holds_frame(&self) -> bool {
        self.held.borrow().is_some()
    }

    /// Makes `read` hand over TCP segments of up to 64 KiB as the link merged them (the
    /// WIT's `receive-segments`); whether it now does: a TAP interface does.
    pub fn receive_segments(&self) -> bool {
        if self.vnet && !self.segments_in.get() {
            match offloads::receive_segments(&self.tap) {
                Ok(()) => self.segments_in.set(true),
                Err(e) => eprintln!("ukc: net device '{}' ({}): cannot receive segments: {e}", self.name, self.ifname),
            }
        }
        self.segments_in.get()
    }

    /// Sends one frame; waits for room when the interface's queue is full.
    pub fn write(&self, frame: &[u8]) -> Result<(), Error> {
        if frame.len() < net_frame::ETHERNET_HEADER || frame.len() > net_frame::largest(self.mtu as usize) {
            return Err(Error::InvalidFrame);
        }
        self.send(&tap::PLAIN, frame, &[])
    }

    /// Sends an IPv4 TCP frame cut into segments of `segment` payload bytes (the WIT's
    /// `write-segments`): handed whole to a TAP interface, which cuts it, or cut here for
    /// any other link.
    pub fn write_segments(&self, frame: &[u8], segment: u32) -> Result<(), Error> {
        let layout = tso::check(frame, segment as usize, self.mtu as usize).ok_or(Error::InvalidFrame)?;
        if !self.vnet {
            return tso::cut(frame, layout, &mut Vec::new(), |segment| self.write(segment));
        }
        let headers = offload_headers(frame, layout);
        self.send(&tap::segments_header(layout), &headers, &frame[layout.payload..])
    }

    /// Writes `first` then `rest` as one frame, behind `header` on a TAP interface.
    fn send(&self, header: &[u8; tap::VNET_HEADER], first: &[u8], rest: &[u8]) -> Result<(), Error> {
        let header: &[u8] = if self.vnet { header } else { &[] };
        let slices = [IoSlice::new(header), IoSlice::new(first), IoSlice::new(rest)];
        loop {
            match (&self.tap).write_vectored(&slices) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => wait_writable(self.fd()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error("write", e)),
            }
        }
    }

    fn io_error(&self, what: &str, error: std::io::Error) -> Error {
        eprintln!("ukc: net device '{}' ({}): {what}: {error}", self.name, self.ifname);
        Error::Io
    }
}

fn wait_writable(fd: RawFd) {
    let mut pollfd = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut pollfd, 1, 100) };
}

/// The headers of a frame handed whole to a TAP interface to cut: the kernel checks the
/// IPv4 header's checksum of the whole segment, and finishes the TCP one from the
/// pseudo-header's sum (`NEEDS_CSUM`), so both are set here, neither is the guest's to
/// get right.
fn offload_headers(frame: &[u8], layout: tso::Layout) -> Vec<u8> {
    let mut headers = frame[..layout.payload].to_vec();
    let ip = net_frame::ETHERNET_HEADER;
    headers[ip + 10..ip + 12].fill(0);
    let ip_checksum = checksum(&headers[ip..layout.tcp], 0);
    headers[ip + 10..ip + 12].copy_from_slice(&ip_checksum.to_be_bytes());
    let field = layout.checksum_field();
    headers[field..field + 2].copy_from_slice(&tso::pseudo_header_sum(frame, layout).to_be_bytes());
    headers
}

impl Drop for NetBackend {
    /// Turns the interface's offloads back off (see [`crate::offloads`]).
    fn drop(&mut self) {
        if self.segments_in.get() {
            let _ = offloads::turn_off(&self.tap);
        }
    }
}

/// The handle a guest holds: an index into the attached net devices.
pub struct NetHandle(usize);

impl Devices {
    pub(crate) fn net(&self, handle: &Resource<NetHandle>) -> wasmtime::Result<&NetBackend> {
        Ok(&self.nets[self.table.get(handle)?.0])
    }
}

impl Host for Devices {
    fn acquire(&mut self, name: String) -> wasmtime::Result<Result<Resource<NetHandle>, Error>> {
        let index = self.net_index(&name)?;
        Ok(Ok(self.table.push(NetHandle(index))?))
    }
}

impl HostDevice for Devices {
    fn info(&mut self, device: Resource<NetHandle>) -> wasmtime::Result<Info> {
        Ok(self.net(&device)?.info())
    }

    fn read(&mut self, device: Resource<NetHandle>) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        Ok(self.net(&device)?.read())
    }

    /// Not what unikernels call: [`crate::in_place`] replaces it (the trait requires it).
    fn write(&mut self, device: Resource<NetHandle>, frame: Vec<u8>) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.net(&device)?.write(&frame))
    }

    /// Not what unikernels call: [`crate::in_place`] replaces it (the trait requires it).
    fn write_segments(
        &mut self,
        device: Resource<NetHandle>,
        frame: Vec<u8>,
        segment_size: u32,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.net(&device)?.write_segments(&frame, segment_size))
    }

    fn receive_segments(&mut self, device: Resource<NetHandle>) -> wasmtime::Result<bool> {
        Ok(self.net(&device)?.receive_segments())
    }

    fn drop(&mut self, device: Resource<NetHandle>) -> wasmtime::Result<()> {
        self.table.delete(device)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::net::UnixDatagram;

    /// A device over one end of a socket pair that keeps frames apart, and the other end.
    fn device() -> (NetBackend, UnixDatagram) {
        let mut fds = [0; 2];
        let kind = libc::SOCK_SEQPACKET | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: `fds` has room for the two descriptors; the result is checked.
        assert_eq!(unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) }, 0);
        // SAFETY: both descriptors were just created and nothing else owns them.
        let (ours, theirs) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        (NetBackend::over("service", ours.into(), [2, 0, 0, 0, 0, 1], 1500), UnixDatagram::from(theirs))
    }

    /// An IPv4 TCP frame with `payload` (ACK set, no options).
    fn tcp_frame(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 54];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[16..18].copy_from_slice(&((40 + payload.len()) as u16).to_be_bytes());
        f[23] = 6;
        f[46] = 5 << 4;
        f[47] = 0x10;
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn a_frame_handed_back_is_read_first() {
        let (net, peer) = device();
        peer.send(&[1; 60]).unwrap();
        peer.send(&[2; 60]).unwrap();
        let first = net.read().unwrap();
        assert!(!net.holds_frame());
        net.unread(first);
        assert!(net.holds_frame());
        assert_eq!(net.read().unwrap(), [1; 60]);
        assert_eq!(net.read().unwrap(), [2; 60]);
        assert_eq!(net.read(), Err(Error::Again));
        assert!(!net.receive_segments(), "a socket pair merges nothing");
    }

    #[test]
    fn a_segment_handed_to_the_kernel_has_its_ip_checksum_whatever_the_guest_wrote() {
        let mut frame = tcp_frame(&[5; 3000]);
        frame[24..26].copy_from_slice(&[0xde, 0xad]);
        let layout = tso::check(&frame, 1460, 1500).unwrap();
        let headers = offload_headers(&frame, layout);
        assert_eq!(headers.len(), 54);
        assert_eq!(checksum(&headers[14..34], 0), 0, "the IPv4 header sums to all ones");
        assert_eq!(headers[50..52], tso::pseudo_header_sum(&frame, layout).to_be_bytes());
    }

    #[test]
    fn segments_are_cut_for_a_link_that_cannot() {
        let (net, peer) = device();
        let payload: Vec<u8> = (0..4000u32).map(|i| i as u8).collect();
        net.write_segments(&tcp_frame(&payload), 1460).unwrap();
        let mut received = Vec::new();
        let mut frame = [0u8; 2000];
        while let Ok(len) = peer.recv(&mut frame) {
            assert!(len <= 1514, "a frame of {len} bytes");
            received.extend_from_slice(&frame[54..len]);
        }
        assert_eq!(received, payload);
        assert_eq!(net.write_segments(&tcp_frame(&payload), 1461), Err(Error::InvalidFrame), "past the MTU");
        assert_eq!(net.write_segments(&[0; 60], 1460), Err(Error::InvalidFrame), "not TCP");
        assert_eq!(net.write(&tcp_frame(&payload)), Err(Error::InvalidFrame), "too long for a plain write");
    }
}
