//! Net devices on TAP interfaces: one Ethernet frame per read or write, never blocking
//! the guest; `yield` reports when a frame is waiting.

use crate::Devices;
use crate::bindings::ukc::net::net::{Error, Host, HostDevice, Info};
use crate::devices::DeviceOption;
use crate::flags::Attachments;
use crate::tap;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use ukc_manifest::DeviceType;
use wasmtime::component::Resource;

use ukc_hvt_abi::net_frame;

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
            mac: mac.unwrap_or_else(tap::random_mac),
            mtu: tap::mtu(ifname),
        })
    }

    /// A net device over `file`, any descriptor that passes one frame per read and write
    /// and does not block (a `SOCK_SEQPACKET` socket pair, say), with this address and
    /// MTU: for tests and the fuzzer, which have no TAP interface.
    pub fn over(name: &str, file: File, mac: [u8; 6], mtu: u32) -> NetBackend {
        NetBackend { name: name.to_string(), ifname: format!("{name} (a socket)"), tap: file, mac, mtu }
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
        let mut frame = vec![0; net_frame::largest(self.mtu as usize)];
        match (&self.tap).read(&mut frame) {
            Ok(len) => {
                frame.truncate(len);
                Ok(frame)
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Err(Error::Again),
            Err(e) => Err(self.io_error("read", e)),
        }
    }

    /// Sends one frame; waits for room when the interface's queue is full.
    pub fn write(&self, frame: &[u8]) -> Result<(), Error> {
        if frame.len() < net_frame::ETHERNET_HEADER || frame.len() > net_frame::largest(self.mtu as usize) {
            return Err(Error::InvalidFrame);
        }
        loop {
            match (&self.tap).write(frame) {
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
    fn net(&self, handle: &Resource<NetHandle>) -> wasmtime::Result<&NetBackend> {
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

    fn write(&mut self, device: Resource<NetHandle>, frame: Vec<u8>) -> wasmtime::Result<Result<(), Error>> {
        Ok(self.net(&device)?.write(&frame))
    }

    fn drop(&mut self, device: Resource<NetHandle>) -> wasmtime::Result<()> {
        self.table.delete(device)?;
        Ok(())
    }
}
