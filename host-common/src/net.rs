//! Net devices on TAP interfaces: one Ethernet frame per read or write, never blocking
//! the guest; `yield` reports when a frame is waiting.

use crate::Devices;
use crate::bindings::ukc::net::net::{Error, Host, HostDevice, Info};
use crate::devices::DeviceOption;
use crate::flags::Attachments;
use crate::tap;
use std::fs::File;
use std::io::{ErrorKind, IoSlice, Write};
use std::os::fd::{AsRawFd, RawFd};
use ukc_manifest::DeviceType;
use wasmtime::component::Resource;

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
            mac: mac.unwrap_or_else(tap::random_mac),
            mtu: tap::mtu(ifname),
        })
    }

    /// A net device over `file`, any descriptor that passes one frame per read and write
    /// and does not block (a `SOCK_SEQPACKET` socket pair, say), with this address and
    /// MTU: for tests and the fuzzer, which have no TAP interface.
    pub fn over(name: &str, file: File, mac: [u8; 6], mtu: u32) -> NetBackend {
        NetBackend { name: name.to_string(), ifname: format!("{name} (a socket)"), tap: file, vnet: false, mac, mtu }
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
        let largest = net_frame::largest(self.mtu as usize);
        let mut header = [0u8; tap::VNET_HEADER];
        let mut frame = Vec::with_capacity(largest);
        let spare = frame.spare_capacity_mut();
        let parts = [
            libc::iovec { iov_base: header.as_mut_ptr().cast(), iov_len: if self.vnet { header.len() } else { 0 } },
            libc::iovec { iov_base: spare.as_mut_ptr().cast(), iov_len: largest },
        ];
        // SAFETY: both buffers are writable for their lengths for the duration of the call
        // (the frame's spare capacity holds `largest` bytes); nothing reads them before.
        let read = unsafe { libc::readv(self.fd(), parts.as_ptr(), 2) };
        if read < 0 {
            let e = std::io::Error::last_os_error();
            return Err(if e.kind() == ErrorKind::WouldBlock { Error::Again } else { self.io_error("read", e) });
        }
        let len = (read as usize).saturating_sub(parts[0].iov_len);
        // SAFETY: the kernel wrote `len` bytes of the frame (at most `largest`, its
        // buffer's length) into the spare capacity.
        unsafe { frame.set_len(len.min(largest)) };
        Ok(frame)
    }

    /// Sends one frame; waits for room when the interface's queue is full.
    pub fn write(&self, frame: &[u8]) -> Result<(), Error> {
        if frame.len() < net_frame::ETHERNET_HEADER || frame.len() > net_frame::largest(self.mtu as usize) {
            return Err(Error::InvalidFrame);
        }
        self.send(&tap::PLAIN, &[frame])
    }

    /// Sends an IPv4 TCP frame cut into segments of `segment` payload bytes (the WIT's
    /// `write-segments`): handed whole to a TAP interface, which cuts it, or cut here for
    /// any other link.
    pub fn write_segments(&self, frame: &[u8], segment: u32) -> Result<(), Error> {
        let layout = tso::check(frame, segment as usize, self.mtu as usize).ok_or(Error::InvalidFrame)?;
        if !self.vnet {
            return tso::cut(frame, layout, &mut Vec::new(), |segment| self.write(segment));
        }
        let mut headers = frame[..layout.payload].to_vec();
        let field = layout.checksum_field();
        headers[field..field + 2].copy_from_slice(&tso::pseudo_header_sum(frame, layout).to_be_bytes());
        self.send(&tap::segments_header(layout), &[&headers, &frame[layout.payload..]])
    }

    /// Writes `parts` as one frame, behind `header` on a TAP interface.
    fn send(&self, header: &[u8; tap::VNET_HEADER], parts: &[&[u8]]) -> Result<(), Error> {
        let header: &[u8] = if self.vnet { header } else { &[] };
        let slices: Vec<IoSlice> = std::iter::once(header).chain(parts.iter().copied()).map(IoSlice::new).collect();
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

    fn drop(&mut self, device: Resource<NetHandle>) -> wasmtime::Result<()> {
        self.table.delete(device)?;
        Ok(())
    }
}
