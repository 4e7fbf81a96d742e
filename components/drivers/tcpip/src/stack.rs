//! The interface, its sockets, and the polling that `yield` and every operation share.
//!
//! Everything here takes the time as an argument and reaches the outside world only
//! through a [`Link`], so the whole stack runs in host unit tests.

use crate::config::Addressing;
use crate::device::{Link, Phy};
use crate::tcp::Tcp;
use crate::udp::{self, Udp};
use core::net::Ipv4Addr;
use smoltcp::iface::{Config, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet};
use smoltcp::socket::dhcpv4;
use smoltcp::time::{Duration, Instant};
use smoltcp::wire::{DhcpPacket, DhcpRepr, EthernetAddress, IpAddress, IpCidr, IpEndpoint, Ipv4Cidr};

/// Frames taken from the device in one poll before sending what they produced: enough to
/// drain a full receive window, bounded so that a flood cannot keep `yield` from returning.
const MAX_FRAMES_PER_POLL: usize = 256;

/// The shortest wait on smoltcp's timer. Its deadline may already be due after a poll
/// (a packet held back for an unresolved neighbour, say); waiting at least this long
/// keeps such a state from turning `yield` into a busy loop.
const MIN_TIMER_WAIT: Duration = Duration::from_micros(50);

/// The interface's IPv4 configuration, as `ipv4.config()` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub cidr: Ipv4Cidr,
    pub gateway: Option<Ipv4Addr>,
    pub dns_servers: Vec<Ipv4Addr>,
    /// The lease's duration in seconds; `None` for a static address.
    pub lease_seconds: Option<u32>,
}

/// Why an operation failed, as `ukc:tcpip/types.error` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetError {
    WouldBlock,
    ConnectionRefused,
    ConnectionReset,
    TimedOut,
    AddressInUse,
    NotConnected,
    InvalidArgument,
    Unreachable,
    NoResources,
}

/// The dynamic port range (RFC 6335) that local ports of outgoing connections and of
/// UDP sockets bound to port 0 come from.
const EPHEMERAL: core::ops::RangeInclusive<u16> = 49152..=65535;

/// What `yield` does after a poll.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Return to the application: `true` when a socket or the configuration changed.
    Return(bool),
    /// Wait in the platform's `yield` until this time (ns) or input, then poll again.
    Wait(u64),
}

/// The TCP/IP stack over one link.
pub struct Stack<L> {
    pub iface: Interface,
    pub sockets: SocketSet<'static>,
    pub phy: Phy<L>,
    pub tcp: Tcp,
    pub udp: Udp,
    settings: Option<Settings>,
    dhcp: Option<SocketHandle>,
    /// Set when something the application may be waiting for happened since the last
    /// `yield` returned; sticky so that changes seen during an operation's poll count too.
    pub wake: bool,
    /// Lines for the console, taken by the component glue (the stack has no console).
    pub notices: Vec<String>,
    rng: u64,
}

impl<L: Link> Stack<L> {
    /// Brings the interface up with `mac` and a payload `mtu`, configured statically or
    /// with a DHCP client; `seed` randomises TCP sequence numbers and ephemeral ports.
    pub fn new(link: L, mac: [u8; 6], mtu: usize, addressing: Addressing, seed: u64, now: Instant) -> Self {
        let mut phy = Phy::new(link, mtu);
        let mut config = Config::new(EthernetAddress(mac).into());
        config.random_seed = seed;
        let iface = Interface::new(config, &mut phy, now);
        let mut stack = Stack {
            iface,
            sockets: SocketSet::new(Vec::new()),
            phy,
            tcp: Tcp::default(),
            udp: Udp::default(),
            settings: None,
            dhcp: None,
            wake: false,
            notices: Vec::new(),
            rng: seed | 1,
        };
        match addressing {
            Addressing::Static { cidr, gateway } => {
                stack.configure(Some(Settings { cidr, gateway, dns_servers: Vec::new(), lease_seconds: None }))
            }
            Addressing::Dhcp => stack.start_dhcp(),
        }
        stack
    }

    /// The current configuration; `None` while DHCP has no lease.
    pub fn settings(&self) -> Option<&Settings> {
        self.settings.as_ref()
    }

    /// Receives what the device holds, runs smoltcp's timers, sends what the sockets
    /// produced, and notes every change the application may be waiting for.
    pub fn poll(&mut self, now: Instant) {
        self.iface.poll_maintenance(now);
        for _ in 0..MAX_FRAMES_PER_POLL {
            match self.iface.poll_ingress_single(now, &mut self.phy, &mut self.sockets) {
                PollIngressSingleResult::None => break,
                PollIngressSingleResult::PacketProcessed => {}
                // A listening socket may have taken a SYN: replace it before the next
                // frame, so that a burst of connections finds a listener for each.
                PollIngressSingleResult::SocketStateChanged => self.phy.exhausted = self.tcp.refill(&mut self.sockets),
            }
        }
        while self.iface.poll_egress(now, &mut self.phy, &mut self.sockets) == PollResult::SocketStateChanged {}
        self.dhcp_events();
        self.wake |= self.tcp.sweep(&mut self.sockets, now);
        self.wake |= self.udp.sweep(&self.sockets);
        self.phy.exhausted = self.tcp.refill(&mut self.sockets);
    }

    /// One round of `yield(deadline)`: poll, then either return or say how long to wait.
    pub fn step(&mut self, now_ns: u64, deadline_ns: u64) -> Step {
        let now = instant(now_ns);
        self.poll(now);
        if core::mem::take(&mut self.wake) {
            return Step::Return(true);
        }
        if now_ns >= deadline_ns {
            return Step::Return(false);
        }
        let timer = self.iface.poll_at(now, &self.sockets).into_iter().chain(self.tcp.next_deadline()).min();
        let wait = timer.map_or(u64::MAX, |t| nanos(t.max(now + MIN_TIMER_WAIT)));
        Step::Wait(wait.min(deadline_ns))
    }

    /// A pseudo-random number for port choices (xorshift64; the seed comes from entropy).
    fn random(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Starts a TCP connection to `remote` from a free ephemeral port.
    pub fn connect(&mut self, remote: IpEndpoint, now: Instant) -> Result<SocketHandle, NetError> {
        self.route_to(remote)?;
        let random = self.random();
        let port = pick_port(random, |p| self.tcp.port_in_use(p)).ok_or(NetError::NoResources)?;
        let handle = self.tcp.connect(&mut self.iface, &mut self.sockets, remote, port, now)?;
        self.poll(now);
        Ok(handle)
    }

    /// Binds a UDP socket to `port`, or to a free ephemeral port for 0.
    pub fn bind(&mut self, port: u16) -> Result<SocketHandle, NetError> {
        let port = match port {
            0 => {
                let random = self.random();
                pick_port(random, |p| self.udp.port_in_use(p)).ok_or(NetError::NoResources)?
            }
            port if self.udp.port_in_use(port) => return Err(NetError::AddressInUse),
            port => port,
        };
        self.udp.bind(&mut self.sockets, port)
    }

    /// Sends one UDP datagram.
    pub fn send(
        &mut self,
        handle: SocketHandle,
        data: &[u8],
        remote: IpEndpoint,
        now: Instant,
    ) -> Result<(), NetError> {
        self.route_to(remote)?;
        let max_payload = self.phy.mtu() - udp::HEADERS;
        self.udp.send(handle, &mut self.sockets, data, remote, max_payload)?;
        self.poll(now);
        Ok(())
    }

    /// Checks that packets to `remote` can leave: the stack has an address, and `remote`
    /// is on its network or there is a gateway.
    fn route_to(&self, remote: IpEndpoint) -> Result<(), NetError> {
        let IpAddress::Ipv4(address) = remote.addr;
        if address.is_unspecified() || address.is_multicast() || remote.port == 0 {
            return Err(NetError::InvalidArgument);
        }
        let settings = self.settings.as_ref().ok_or(NetError::Unreachable)?;
        let local = settings.cidr.contains_addr(&address) || address.is_broadcast();
        if local || settings.gateway.is_some() { Ok(()) } else { Err(NetError::Unreachable) }
    }

    fn start_dhcp(&mut self) {
        let mut socket = dhcpv4::Socket::new();
        // smoltcp hands out the server's ACK, from which the lease time is read, only
        // through a buffer that lives as long as the socket: the stack's whole life.
        socket.set_receive_packet_buffer(Box::leak(vec![0; 1500].into_boxed_slice()));
        self.dhcp = Some(self.sockets.add(socket));
    }

    /// Applies what the DHCP client reports: a new or renewed lease, or its loss.
    fn dhcp_events(&mut self) {
        let Some(handle) = self.dhcp else { return };
        let settings = match self.sockets.get_mut::<dhcpv4::Socket>(handle).poll() {
            None => return,
            Some(dhcpv4::Event::Configured(config)) => Some(Settings {
                cidr: config.address,
                gateway: config.router,
                dns_servers: config.dns_servers.iter().copied().collect(),
                lease_seconds: config.packet.as_ref().and_then(lease_seconds),
            }),
            Some(dhcpv4::Event::Deconfigured) => None,
        };
        let address = |s: &Option<Settings>| s.as_ref().map(|s| s.cidr);
        if address(&settings) != address(&self.settings) {
            self.notices.push(match &settings {
                Some(s) => describe_lease(s),
                None => "tcpip: DHCP lease lost, no address".into(),
            });
        }
        self.configure(settings);
    }

    /// Sets the interface's address and default route.
    fn configure(&mut self, settings: Option<Settings>) {
        self.iface.update_ip_addrs(|addrs| {
            addrs.clear();
            if let Some(s) = &settings {
                // One address on an empty list always fits.
                let _ = addrs.push(IpCidr::Ipv4(s.cidr));
            }
        });
        match settings.as_ref().and_then(|s| s.gateway) {
            // The table holds several routes; a default one always fits once the old is gone.
            Some(gateway) => drop(self.iface.routes_mut().add_default_ipv4_route(gateway)),
            None => drop(self.iface.routes_mut().remove_default_ipv4_route()),
        }
        self.settings = settings;
        self.wake = true;
    }
}

/// The first port from a random start in the ephemeral range that is not in use.
pub fn pick_port(random: u64, in_use: impl Fn(u16) -> bool) -> Option<u16> {
    let (first, count) = (*EPHEMERAL.start(), EPHEMERAL.len() as u64);
    (0..count).map(|i| first + ((random + i) % count) as u16).find(|&port| !in_use(port))
}

/// The lease time offered in a DHCP ACK.
fn lease_seconds(packet: &DhcpPacket<&[u8]>) -> Option<u32> {
    DhcpRepr::parse(packet).ok()?.lease_duration
}

fn describe_lease(s: &Settings) -> String {
    let gateway = s.gateway.map(|g| format!(", gateway {g}")).unwrap_or_default();
    let dns: Vec<String> = s.dns_servers.iter().map(ToString::to_string).collect();
    let dns = if dns.is_empty() { String::new() } else { format!(", DNS {}", dns.join(" ")) };
    let lease = s.lease_seconds.map(|l| format!(", lease {l} s")).unwrap_or_default();
    format!("tcpip: DHCP lease {}{gateway}{dns}{lease}", s.cidr)
}

/// The monotonic clock's nanoseconds as smoltcp's time.
pub fn instant(ns: u64) -> Instant {
    Instant::from_micros((ns / 1000) as i64)
}

/// smoltcp's time as the monotonic clock's nanoseconds.
pub fn nanos(instant: Instant) -> u64 {
    (instant.total_micros().max(0) as u64).saturating_mul(1000)
}
