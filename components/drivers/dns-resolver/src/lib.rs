//! The `dns-resolver` driver: `ukc:dns/resolver` over `ukc:tcpip`, a stub resolver that
//! asks one recursive server (`--dns-server`, else the ones DHCP offered) over UDP, up to
//! three times two seconds, and again over TCP when the answer comes back truncated.
//!
//! A call blocks its caller until it has an answer: the driver waits in `ukc:poll.yield`,
//! which, on hvt, is the tcpip driver's, so frames keep moving while it waits.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:dns-resolver;
        world dns-resolver {
            import ukc:tcpip/udp@0.1.0;
            import ukc:tcpip/tcp@0.1.0;
            import ukc:tcpip/ipv4@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:clock/monotonic@0.1.0;
            import ukc:entropy/entropy@0.1.0;
            import ukc:args/args@0.1.0;
            export ukc:dns/resolver@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

pub mod message;

use exports::ukc::dns::resolver::{Error, Guest};
use hickory_proto::rr::Name;
use message::Outcome;
use std::net::Ipv4Addr;
use ukc::clock::monotonic;
use ukc::poll::poll;
use ukc::tcpip::types::{Endpoint, Error as NetError, Ipv4Address};
use ukc::tcpip::{ipv4, tcp, udp};

/// Tries over UDP, and how long each waits for its answer.
const TRIES: u32 = 3;
const TRY_NANOS: u64 = 2_000_000_000;
/// The DNS port.
const PORT: u16 = 53;
/// How long to wait for a DHCP lease to name a server.
const LEASE_NANOS: u64 = 10_000_000_000;

struct Resolver;

impl Guest for Resolver {
    fn resolve_ipv4(name: String) -> Result<Vec<Ipv4Address>, Error> {
        let asked = message::name(&name).map_err(Error::InvalidName)?;
        let server = server().ok_or(Error::NoServer)?;
        let outcome = ask(&asked, server)?;
        match outcome {
            Outcome::Addresses(addresses) => Ok(addresses.into_iter().map(|a| a.octets().into()).collect()),
            Outcome::NotFound => Err(Error::NotFound(name)),
            Outcome::NoAddress => Err(Error::NoAddress(name)),
            Outcome::Server(text) => Err(Error::Server(format!("{server}: {text}"))),
            Outcome::Truncated | Outcome::Unrelated => Err(Error::Server(format!("{server}: no usable answer"))),
        }
    }
}

/// The server to ask: `--dns-server`, else the first DHCP offered, waiting up to
/// [`LEASE_NANOS`] for a lease when the stack has none yet (a unikernel that resolves a
/// name as it starts would otherwise always ask before DHCP answered).
fn server() -> Option<Ipv4Addr> {
    if let Some(text) = ukc::args::args::get("dns-server") {
        return text.parse().ok();
    }
    let deadline = monotonic::now().saturating_add(LEASE_NANOS);
    loop {
        if let Some(settings) = ipv4::config() {
            return settings.dns_servers.first().map(|&(a, b, c, d)| Ipv4Addr::new(a, b, c, d));
        }
        if monotonic::now() >= deadline {
            return None;
        }
        // DHCP moves on timers and frames, both of which end a yield.
        poll::yield_(deadline.min(monotonic::now().saturating_add(100_000_000)));
    }
}

/// Asks over UDP, and over TCP if the answer was truncated.
fn ask(name: &Name, server: Ipv4Addr) -> Result<Outcome, Error> {
    let remote = Endpoint { address: server.octets().into(), port: PORT };
    let socket = udp::bind(0).map_err(|e| Error::Network(format!("cannot bind a UDP port: {e:?}")))?;
    for _ in 0..TRIES {
        let id = random_id();
        let query = message::query(id, name);
        socket.send(&query, remote).map_err(|e| Error::Network(format!("cannot send to {server}: {e:?}")))?;
        let deadline = monotonic::now().saturating_add(TRY_NANOS);
        while monotonic::now() < deadline {
            match socket.receive() {
                Ok(datagram) if (datagram.remote.address, datagram.remote.port) == (remote.address, remote.port) => {
                    match message::outcome(id, name, &datagram.data) {
                        Outcome::Unrelated => {}
                        Outcome::Truncated => return ask_tcp(name, remote, server),
                        outcome => return Ok(outcome),
                    }
                }
                Ok(_) => {}
                Err(NetError::WouldBlock) => {
                    poll::yield_(deadline);
                }
                Err(e) => return Err(Error::Network(format!("receiving from {server}: {e:?}"))),
            }
        }
    }
    Err(Error::Timeout(format!("{server} did not answer {} tries of {} s", TRIES, TRY_NANOS / 1_000_000_000)))
}

/// Asks over TCP (RFC 7766: each message behind its two-byte length).
fn ask_tcp(name: &Name, remote: Endpoint, server: Ipv4Addr) -> Result<Outcome, Error> {
    let network = |what: &str, e: NetError| Error::Network(format!("{what} {server} over TCP: {e:?}"));
    let deadline = monotonic::now().saturating_add(TRIES as u64 * TRY_NANOS);
    let connection = tcp::connect(remote).map_err(|e| network("cannot connect to", e))?;
    let id = random_id();
    let query = message::query(id, name);
    let mut output = (query.len() as u16).to_be_bytes().to_vec();
    output.extend_from_slice(&query);
    let mut input = Vec::new();
    while monotonic::now() < deadline {
        let mut moved = false;
        if !output.is_empty() {
            match connection.write(&output) {
                Ok(n) => {
                    output.drain(..n as usize);
                    moved = n > 0;
                }
                Err(NetError::WouldBlock) => {}
                Err(e) => return Err(network("writing to", e)),
            }
        }
        match connection.read(4096) {
            Ok(data) if data.is_empty() => return Err(Error::Server(format!("{server} closed the TCP connection"))),
            Ok(data) => {
                input.extend_from_slice(&data);
                moved = true;
                if let [high, low, rest @ ..] = input.as_slice() {
                    let len = usize::from(u16::from_be_bytes([*high, *low]));
                    if rest.len() >= len {
                        let _ = connection.shutdown();
                        return Ok(match message::outcome(id, name, &rest[..len]) {
                            Outcome::Unrelated | Outcome::Truncated => {
                                Outcome::Server("the TCP answer does not answer the query".into())
                            }
                            outcome => outcome,
                        });
                    }
                }
            }
            Err(NetError::WouldBlock) => {}
            Err(e) => return Err(network("reading from", e)),
        }
        if !moved {
            poll::yield_(deadline);
        }
    }
    let _ = connection.shutdown();
    Err(Error::Timeout(format!(
        "{server} did not answer over TCP within {} s",
        TRIES as u64 * TRY_NANOS / 1_000_000_000
    )))
}

/// A query ID nobody off the path can guess (RFC 5452).
fn random_id() -> u16 {
    let bytes = ukc::entropy::entropy::fill(2);
    u16::from_be_bytes([bytes[0], bytes[1]])
}

#[cfg(target_arch = "wasm32")]
export!(Resolver);
