//! The `tcpip` driver: ARP, IPv4, ICMP echo, UDP, TCP and a DHCPv4 client, built on
//! smoltcp, over the net device `service`.
//!
//! It exports `ukc:tcpip` to the application and *interposes* on `ukc:poll`: the
//! application's `yield` runs here, processes frames and timers, and waits in the
//! platform's `yield` only while nothing the application cares about has happened.
//! The stack ([`stack`], [`tcp`], [`udp`]) knows nothing of the WIT bindings; this file
//! adapts it to the generated types and keeps the one instance of it.

mod config;
mod conn;
mod device;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
mod offload;
mod stack;
mod tcp;
#[cfg(test)]
mod tests;
mod udp;

wit_bindgen::generate!({
    inline: "
        package ukc-driver:tcpip;
        world tcpip {
            import ukc:net/net@0.1.1;
            import ukc:poll/poll@0.1.0;
            import ukc:clock/monotonic@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:entropy/entropy@0.1.0;
            import ukc:console/console@0.1.0;
            include ukc:tcpip/stack@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use core::net::Ipv4Addr;
use device::Link;
use exports::ukc::tcpip::types::{Endpoint, Error};
use exports::ukc::tcpip::{ipv4, tcp as wit_tcp, udp as wit_udp};
use smoltcp::iface::SocketHandle;
use smoltcp::wire::{EthernetAddress, IpAddress, IpEndpoint};
use stack::{NetError, Stack, Step, instant};
use std::cell::RefCell;
use ukc::clock::monotonic;
use ukc::console::console;
use ukc::net::net;
use ukc::poll::poll;

/// The net device the stack runs on, as MirageOS's default network.
const SERVICE: &str = "service";

/// The smallest IPv4 MTU every host must accept (RFC 791).
const MIN_MTU: u32 = 576;

/// The stack's life: started on the first call, or failed to start for a reason every
/// later call reports.
enum State {
    Idle,
    Up(Box<Stack<NetLink>>),
    Down(NetError),
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State::Idle) };
}

/// Runs `f` on the stack with the current time (ns), starting the stack on first use.
fn with_stack<R>(f: impl FnOnce(&mut Stack<NetLink>, u64) -> Result<R, NetError>) -> Result<R, NetError> {
    STATE.with_borrow_mut(|state| {
        if let State::Idle = state {
            *state = start();
        }
        match state {
            State::Up(stack) => {
                let result = f(stack, monotonic::now());
                for line in stack.notices.drain(..) {
                    say(&line);
                }
                result
            }
            State::Down(error) => Err(*error),
            State::Idle => unreachable!("started above"),
        }
    })
}

/// Starts the stack; a failure is told once on the console, with what to fix, and
/// every operation then fails (`invalid-argument` for a bad argument).
fn start() -> State {
    match boot() {
        Ok(stack) => State::Up(Box::new(stack)),
        Err((error, message)) => {
            say(&format!("tcpip: {message}; every network operation will fail"));
            State::Down(error)
        }
    }
}

fn boot() -> Result<Stack<NetLink>, (NetError, String)> {
    let addressing =
        config::addressing(ukc::args::args::get("ipv4").as_deref(), ukc::args::args::get("ipv4-gateway").as_deref())
            .map_err(|message| (NetError::InvalidArgument, message))?;
    let device =
        net::acquire(SERVICE).map_err(|e| (NetError::Unreachable, format!("net device '{SERVICE}': {e:?}")))?;
    let info = device.info();
    let (a, b, c, d, e, f) = info.mac;
    let mac = [a, b, c, d, e, f];
    if !EthernetAddress(mac).is_unicast() {
        let mac = EthernetAddress(mac);
        return Err((NetError::Unreachable, format!("net device '{SERVICE}': MAC {mac} is not a unicast address")));
    }
    if info.mtu < MIN_MTU {
        let mtu = info.mtu;
        return Err((NetError::Unreachable, format!("net device '{SERVICE}': MTU {mtu} is below {MIN_MTU}")));
    }
    // smoltcp takes segments of any length up to the 64 KiB it is told it may send: the
    // fewer frames a bulk transfer arrives in, the fewer calls and the less work per byte.
    device.receive_segments();
    let seed = ukc::entropy::entropy::fill(8).iter().fold(0u64, |acc, &byte| acc << 8 | u64::from(byte));
    let now = instant(monotonic::now());
    Ok(Stack::new(NetLink(device), mac, info.mtu as usize, addressing, seed, now))
}

/// The acquired net device as the stack's link.
struct NetLink(net::Device);

impl Link for NetLink {
    fn read(&mut self) -> Option<Vec<u8>> {
        // `again` ends the batch; an I/O error is reported by the host and, like a
        // frame lost on the wire, left to TCP to recover from.
        self.0.read().ok()
    }

    fn write(&mut self, frame: &[u8]) {
        let _ = self.0.write(frame);
    }

    fn write_segments(&mut self, frame: &[u8], segment: usize) {
        let _ = self.0.write_segments(frame, segment as u32);
    }
}

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

struct Driver;

impl exports::ukc::poll::poll::Guest for Driver {
    /// Polls the stack until something changed for the application or the deadline
    /// passes, waiting in the platform's `yield` in between. Input on the application's
    /// other devices (if any) is passed on at once.
    fn yield_(deadline: u64) -> Vec<String> {
        loop {
            let Ok(step) = with_stack(|stack, now| Ok(stack.step(now, deadline))) else {
                return poll::yield_(deadline);
            };
            let until = match step {
                Step::Return(changed) => return if changed { vec![SERVICE.to_string()] } else { Vec::new() },
                Step::Wait(until) => until,
            };
            let mut ready: Vec<String> = poll::yield_(until).into_iter().filter(|d| d != SERVICE).collect();
            if !ready.is_empty() {
                if with_stack(|stack, now| Ok(stack.step(now, 0))) == Ok(Step::Return(true)) {
                    ready.push(SERVICE.to_string());
                }
                return ready;
            }
        }
    }
}

impl ipv4::Guest for Driver {
    fn config() -> Option<ipv4::Settings> {
        let settings = with_stack(|stack, _| Ok(stack.settings().cloned())).ok()??;
        Some(ipv4::Settings {
            address: octets(settings.cidr.address()),
            prefix_length: settings.cidr.prefix_len(),
            gateway: settings.gateway.map(octets),
            dns_servers: settings.dns_servers.into_iter().map(octets).collect(),
            lease_seconds: settings.lease_seconds,
        })
    }
}

impl wit_tcp::Guest for Driver {
    type Listener = Listener;
    type Connection = Connection;

    fn listen(port: u16) -> Result<wit_tcp::Listener, Error> {
        with_stack(|stack, _| stack.tcp.listen(port, &mut stack.sockets)).map_err(error)?;
        Ok(wit_tcp::Listener::new(Listener { port }))
    }

    fn connect(remote: Endpoint) -> Result<wit_tcp::Connection, Error> {
        let handle = with_stack(|stack, now| stack.connect(ip_endpoint(remote), instant(now))).map_err(error)?;
        Ok(wit_tcp::Connection::new(Connection { handle }))
    }
}

/// A listener: its port names its pool of listening sockets in the stack.
struct Listener {
    port: u16,
}

impl wit_tcp::GuestListener for Listener {
    fn accept(&self) -> Result<wit_tcp::Connection, Error> {
        let handle =
            with_stack(|stack, now| stack.tcp.accept(self.port, &mut stack.sockets, instant(now))).map_err(error)?;
        Ok(wit_tcp::Connection::new(Connection { handle }))
    }

    fn local_endpoint(&self) -> Endpoint {
        let address = with_stack(|stack, _| Ok(stack.settings().map(|s| s.cidr.address()))).ok().flatten();
        Endpoint { address: octets(address.unwrap_or(Ipv4Addr::UNSPECIFIED)), port: self.port }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = with_stack(|stack, now| {
            stack.tcp.unlisten(self.port, &mut stack.sockets, instant(now));
            stack.poll(instant(now));
            Ok(())
        });
    }
}

/// A connection: its smoltcp socket's handle.
struct Connection {
    handle: SocketHandle,
}

impl wit_tcp::GuestConnection for Connection {
    fn read(&self, max: u32) -> Result<Vec<u8>, Error> {
        with_stack(|stack, _| {
            let (conn, socket) = stack.tcp.conn_mut(self.handle, &mut stack.sockets)?;
            conn.read(socket, max)
        })
        .map_err(error)
    }

    /// Queues the bytes; they leave when the application next waits in `yield`, with
    /// everything else it wrote meanwhile: one pass over the stack's sockets for a whole
    /// round of the application's loop, where one per write cost a pass each.
    fn write(&self, data: Vec<u8>) -> Result<u32, Error> {
        with_stack(|stack, _| {
            let (conn, socket) = stack.tcp.conn_mut(self.handle, &mut stack.sockets)?;
            conn.write(socket, &data)
        })
        .map_err(error)
    }

    fn shutdown(&self) -> Result<(), Error> {
        with_stack(|stack, now| {
            let (conn, socket) = stack.tcp.conn_mut(self.handle, &mut stack.sockets)?;
            conn.shutdown(socket)?;
            stack.poll(instant(now));
            Ok(())
        })
        .map_err(error)
    }

    fn is_established(&self) -> bool {
        with_stack(|stack, _| Ok(stack.tcp.is_established(self.handle, &stack.sockets))).unwrap_or(false)
    }

    fn remote_endpoint(&self) -> Endpoint {
        with_stack(|stack, _| Ok(endpoint(stack.tcp.conn(self.handle).remote))).unwrap_or(UNSPECIFIED)
    }

    fn local_endpoint(&self) -> Endpoint {
        with_stack(|stack, _| Ok(endpoint(stack.tcp.conn(self.handle).local))).unwrap_or(UNSPECIFIED)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = with_stack(|stack, now| {
            stack.tcp.release(self.handle, &mut stack.sockets, instant(now));
            stack.poll(instant(now));
            Ok(())
        });
    }
}

impl wit_udp::Guest for Driver {
    type Socket = Socket;

    fn bind(port: u16) -> Result<wit_udp::Socket, Error> {
        let handle = with_stack(|stack, _| stack.bind(port)).map_err(error)?;
        Ok(wit_udp::Socket::new(Socket { handle }))
    }
}

/// A UDP socket: its smoltcp socket's handle.
struct Socket {
    handle: SocketHandle,
}

impl wit_udp::GuestSocket for Socket {
    fn send(&self, data: Vec<u8>, remote: Endpoint) -> Result<(), Error> {
        with_stack(|stack, now| stack.send(self.handle, &data, ip_endpoint(remote), instant(now))).map_err(error)
    }

    fn receive(&self) -> Result<wit_udp::Datagram, Error> {
        let (data, remote) =
            with_stack(|stack, _| stack.udp.receive(self.handle, &mut stack.sockets)).map_err(error)?;
        Ok(wit_udp::Datagram { data, remote: endpoint(remote) })
    }

    fn local_endpoint(&self) -> Endpoint {
        with_stack(|stack, _| {
            let address = stack.settings().map_or(Ipv4Addr::UNSPECIFIED, |s| s.cidr.address());
            Ok(Endpoint { address: octets(address), port: stack.udp.port(self.handle) })
        })
        .unwrap_or(UNSPECIFIED)
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = with_stack(|stack, _| {
            stack.udp.close(self.handle, &mut stack.sockets);
            Ok(())
        });
    }
}

const UNSPECIFIED: Endpoint = Endpoint { address: (0, 0, 0, 0), port: 0 };

fn octets(address: Ipv4Addr) -> (u8, u8, u8, u8) {
    let [a, b, c, d] = address.octets();
    (a, b, c, d)
}

fn endpoint(endpoint: IpEndpoint) -> Endpoint {
    let IpAddress::Ipv4(address) = endpoint.addr;
    Endpoint { address: octets(address), port: endpoint.port }
}

fn ip_endpoint(endpoint: Endpoint) -> IpEndpoint {
    let (a, b, c, d) = endpoint.address;
    IpEndpoint::new(IpAddress::Ipv4(Ipv4Addr::new(a, b, c, d)), endpoint.port)
}

fn error(error: NetError) -> Error {
    match error {
        NetError::WouldBlock => Error::WouldBlock,
        NetError::ConnectionRefused => Error::ConnectionRefused,
        NetError::ConnectionReset => Error::ConnectionReset,
        NetError::TimedOut => Error::TimedOut,
        NetError::AddressInUse => Error::AddressInUse,
        NetError::NotConnected => Error::NotConnected,
        NetError::InvalidArgument => Error::InvalidArgument,
        NetError::Unreachable => Error::Unreachable,
        NetError::NoResources => Error::NoResources,
    }
}

// Only the wasm build exports the functions: their names are not valid symbols for a
// host linker, and host builds exist just to run the unit tests.
#[cfg(target_arch = "wasm32")]
export!(Driver);
