//! Where a unikernel on the host's sockets may listen and what it may reach.
//!
//! By default a unikernel on `ukc-unix` is like any process of its user: it listens on
//! any port of every address and connects anywhere the host can, host-local services
//! included. These flags narrow that:
//! - `--listen-address=ADDR`: listening sockets and UDP sockets bind to ADDR (such as
//!   127.0.0.1) instead of every address;
//! - `--allow-listen=PORTS`: only these TCP ports may listen, and UDP sockets bind only to
//!   these ports (or to an ephemeral one, to send);
//! - `--allow-connect=CIDR[:PORTS]` (repeatable): TCP connections and UDP datagrams go only
//!   to these networks (and ports); without it, anywhere.
//!
//! PORTS is a comma-separated list of ports and ranges: `80,443,8000-8100`. A refused
//! listen fails with `invalid-argument`, a refused connect or send with `unreachable`,
//! and the host says why on standard error, once per address.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::RangeInclusive;

/// The usage lines of the socket flags, for a host's help text.
pub const USAGE: &str = "  --listen-address=ADDR           address to listen on (default: every address, 0.0.0.0)
  --allow-listen=PORTS            only these TCP ports listen and UDP ports bind: 80,8000-8100
                                  (default: any)
  --allow-connect=CIDR[:PORTS]    connect and send only there, repeatable: 10.0.0.0/8:80,443
                                  (default: anywhere)";

/// The policy `ukc-unix`'s flags set; the default allows everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SocketPolicy {
    listen_address: Ipv4Addr,
    listen_ports: Option<Vec<RangeInclusive<u16>>>,
    connect: Option<Vec<Network>>,
    /// Addresses already reported as refused, so each is reported once.
    reported: BTreeSet<(bool, SocketAddrV4)>,
}

/// A network that connections may reach, and on which ports.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Network {
    address: u32,
    prefix: u8,
    ports: Option<Vec<RangeInclusive<u16>>>,
}

impl Default for SocketPolicy {
    fn default() -> SocketPolicy {
        SocketPolicy {
            listen_address: Ipv4Addr::UNSPECIFIED,
            listen_ports: None,
            connect: None,
            reported: BTreeSet::new(),
        }
    }
}

impl SocketPolicy {
    /// Takes `arg` if it is one of the socket flags; `Ok(false)` when it is not.
    pub fn take(&mut self, arg: &str) -> Result<bool, String> {
        if let Some(value) = arg.strip_prefix("--listen-address=") {
            self.listen_address =
                value.parse().map_err(|_| format!("{arg}: expected an IPv4 address such as 127.0.0.1"))?;
        } else if let Some(value) = arg.strip_prefix("--allow-listen=") {
            if self.listen_ports.is_some() {
                return Err("--allow-listen is given twice; list every port in one".into());
            }
            self.listen_ports = Some(ports(value).map_err(|e| format!("{arg}: {e}"))?);
        } else if let Some(value) = arg.strip_prefix("--allow-connect=") {
            let network = network(value).map_err(|e| format!("{arg}: {e}"))?;
            self.connect.get_or_insert_with(Vec::new).push(network);
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// The address listening and UDP sockets bind to.
    pub fn listen_address(&self) -> Ipv4Addr {
        self.listen_address
    }

    /// Whether a TCP listener (or, with `udp`, a UDP socket) may take `port`; says why not
    /// on standard error, once. UDP's port 0 (ephemeral, to send) is always allowed.
    pub fn may_listen(&mut self, port: u16, udp: bool) -> bool {
        let allowed = (udp && port == 0) || self.listen_ports.as_ref().is_none_or(|p| in_ranges(p, port));
        if !allowed {
            self.report(true, SocketAddrV4::new(self.listen_address, port), "--allow-listen");
        }
        allowed
    }

    /// Whether connections and datagrams may go to `to`; says why not on standard error,
    /// once per address.
    pub fn may_reach(&mut self, to: SocketAddrV4) -> bool {
        let allowed = self.connect.as_ref().is_none_or(|networks| networks.iter().any(|n| n.holds(to)));
        if !allowed {
            self.report(false, to, "--allow-connect");
        }
        allowed
    }

    fn report(&mut self, listen: bool, address: SocketAddrV4, flag: &str) {
        if self.reported.len() < 64 && self.reported.insert((listen, address)) {
            let what = if listen { "listening on" } else { "reaching" };
            eprintln!("ukc: refused the unikernel {what} {address}: not allowed by {flag}");
        }
    }
}

impl Network {
    fn holds(&self, to: SocketAddrV4) -> bool {
        let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix)) };
        (u32::from(*to.ip()) & mask) == self.address && self.ports.as_ref().is_none_or(|p| in_ranges(p, to.port()))
    }
}

fn in_ranges(ranges: &[RangeInclusive<u16>], port: u16) -> bool {
    ranges.iter().any(|r| r.contains(&port))
}

/// `80,443,8000-8100`.
fn ports(text: &str) -> Result<Vec<RangeInclusive<u16>>, String> {
    let port = |p: &str| p.parse::<u16>().ok().filter(|&p| p > 0);
    text.split(',')
        .map(|item| {
            let range = match item.split_once('-') {
                Some((low, high)) => port(low).zip(port(high)).map(|(low, high)| low..=high),
                None => port(item).map(|p| p..=p),
            };
            range
                .filter(|r| !r.is_empty())
                .ok_or_else(|| format!("{item:?} is not a port (1 to 65535) or a range of ports such as 8000-8100"))
        })
        .collect()
}

/// `10.0.0.0/8`, `10.0.0.2`, `10.0.0.0/8:80,443`.
fn network(text: &str) -> Result<Network, String> {
    let (cidr, port_list) = match text.split_once(':') {
        Some((cidr, list)) => (cidr, Some(ports(list)?)),
        None => (text, None),
    };
    let (address, prefix) = match cidr.split_once('/') {
        Some((address, prefix)) => (address, prefix.parse::<u8>().ok().filter(|&p| p <= 32)),
        None => (cidr, Some(32)),
    };
    let (Ok(address), Some(prefix)) = (address.parse::<Ipv4Addr>(), prefix) else {
        return Err(format!("expected a network such as 10.0.0.0/8 or an address such as 10.0.0.2, got {cidr:?}"));
    };
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
    if u32::from(address) & !mask != 0 {
        return Err(format!("{cidr} has bits set past its /{prefix} prefix; did you mean {}/{prefix}?", {
            Ipv4Addr::from(u32::from(address) & mask)
        }));
    }
    Ok(Network { address: u32::from(address), prefix, ports: port_list })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(flags: &[&str]) -> SocketPolicy {
        let mut policy = SocketPolicy::default();
        for flag in flags {
            assert!(policy.take(flag).unwrap(), "{flag}");
        }
        policy
    }

    fn to(text: &str) -> SocketAddrV4 {
        text.parse().unwrap()
    }

    #[test]
    fn everything_is_allowed_by_default() {
        let mut open = SocketPolicy::default();
        assert!(open.may_listen(22, false));
        assert!(open.may_reach(to("127.0.0.1:5432")));
        assert_eq!(open.listen_address(), Ipv4Addr::UNSPECIFIED);
    }

    #[test]
    fn listening_is_limited_to_the_ports_given() {
        let mut p = policy(&["--allow-listen=8080,9000-9002", "--listen-address=127.0.0.1"]);
        assert!(p.may_listen(8080, false) && p.may_listen(9001, false) && p.may_listen(9002, true));
        assert!(!p.may_listen(80, false) && !p.may_listen(9003, true));
        assert!(p.may_listen(0, true), "an ephemeral UDP port, to send");
        assert_eq!(p.listen_address(), Ipv4Addr::LOCALHOST);
    }

    #[test]
    fn connections_reach_only_the_networks_given() {
        let mut p = policy(&["--allow-connect=10.0.0.0/8:80,443", "--allow-connect=192.168.1.7"]);
        assert!(p.may_reach(to("10.1.2.3:443")));
        assert!(!p.may_reach(to("10.1.2.3:22")));
        assert!(p.may_reach(to("192.168.1.7:22")));
        assert!(!p.may_reach(to("192.168.1.8:22")));
        assert!(!p.may_reach(to("127.0.0.1:80")), "host-local services too");
        let mut anywhere = policy(&["--allow-connect=0.0.0.0/0:53"]);
        assert!(anywhere.may_reach(to("8.8.8.8:53")) && !anywhere.may_reach(to("8.8.8.8:80")));
    }

    #[test]
    fn bad_flags_say_what_is_expected() {
        let mut p = SocketPolicy::default();
        for (flag, expected) in [
            ("--listen-address=localhost", "IPv4 address"),
            ("--allow-listen=0", "not a port"),
            ("--allow-listen=9000-8000", "not a port"),
            ("--allow-listen=80,", "not a port"),
            ("--allow-connect=10.0.0.0/33", "expected a network"),
            ("--allow-connect=10.0.0.1/8", "did you mean 10.0.0.0/8"),
            ("--allow-connect=10.0.0.0/8:http", "not a port"),
        ] {
            let error = p.take(flag).unwrap_err();
            assert!(error.contains(expected), "{flag}: {error}");
        }
        assert!(!p.take("--mem=5").unwrap());
        p.take("--allow-listen=1").unwrap();
        assert!(p.take("--allow-listen=2").unwrap_err().contains("twice"));
    }
}
