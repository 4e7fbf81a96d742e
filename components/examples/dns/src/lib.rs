//! An authoritative DNS server, like MirageOS's `dns-primary`: answers from the zone file
//! in the kv store `zone`, over UDP and TCP on `--port`. One thread: the loop answers the
//! datagrams waiting, accepts, reads and writes what can move without blocking, then waits
//! in `yield` until a socket changes or a connection's time runs out.
//!
//! Bounded: at most [`MAX_CLIENTS`] TCP connections; each holds at most one query being
//! read (up to 65,535 bytes, as its length prefix allows) and one answer being sent;
//! pipelined queries wait unread until the answer before is sent; a connection that
//! completes no query for `--idle-timeout-s` is closed (sending an answer slowly does not
//! count), and connections past the limit are closed as they are accepted. UDP answers fit the client's
//! buffer (512 bytes, or what its EDNS offers up to 1,232), truncated with TC otherwise.

wit_bindgen::generate!({
    inline: "
        package ukc-example:dns;
        world dns {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:clock/monotonic@0.1.0;
            import ukc:kv/ro@0.1.0;
            import ukc:tcpip/tcp@0.1.0;
            import ukc:tcpip/udp@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

pub mod answer;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
pub mod zone;

use answer::{Transport, answer};
use ukc::args::args;
use ukc::clock::monotonic;
use ukc::console::console;
use ukc::poll::poll;
use ukc::tcpip::tcp::{self, Connection};
use ukc::tcpip::types::{Endpoint, Error};
use ukc::tcpip::udp;
use ukc_guest::accept::AcceptRetry;
use zone::Zone;

/// Most TCP connections served at once; more wait in the listener's backlog.
const MAX_CLIENTS: usize = 64;
/// Datagrams answered per round, so that TCP clients get their turn under a flood.
const DATAGRAMS_PER_ROUND: usize = 64;

struct Dns;

impl exports::ukc::app::main::Guest for Dns {
    fn run() -> Result<(), String> {
        let port: u16 = args::get("port").and_then(|p| p.parse().ok()).ok_or("--port must be between 1 and 65535")?;
        let verbose = args::get("verbose").as_deref() == Some("true");
        let idle_timeout = args::get("idle-timeout-s")
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|s| (1..=3600).contains(s))
            .ok_or("--idle-timeout-s must be between 1 and 3600")?
            * 1_000_000_000;
        let key = args::get("zone-file").unwrap_or_default();
        let zone = load_zone(&key)?;
        let socket = udp::bind(port).map_err(|e| format!("cannot bind UDP port {port}: {e:?}"))?;
        let listener = tcp::listen(port).map_err(|e| format!("cannot listen on TCP port {port}: {e:?}"))?;
        say(&format!("dns: serving {} ({} records) on port {port}, UDP and TCP", zone.origin, zone.len()));
        let mut clients: Vec<Client> = Vec::new();
        let mut accepting = AcceptRetry::default();
        let mut udp_failed = false;
        loop {
            let now = monotonic::now();
            let mut progress = false;
            for _ in 0..DATAGRAMS_PER_ROUND {
                match socket.receive() {
                    Ok(datagram) => {
                        progress = true;
                        log_query(verbose, &datagram.remote, "udp", &datagram.data);
                        if let Some(reply) = answer(&zone, &datagram.data, Transport::Udp)
                            && let Err(e) = socket.send(&reply, datagram.remote)
                            && !std::mem::replace(&mut udp_failed, true)
                        {
                            say(&format!("dns: a UDP answer could not be sent: {e:?} (logged once)"));
                        }
                    }
                    Err(Error::WouldBlock) => break,
                    Err(e) => {
                        if !std::mem::replace(&mut udp_failed, true) {
                            say(&format!("dns: UDP receive failed: {e:?} (logged once)"));
                        }
                        break;
                    }
                }
            }
            while accepting.may_try(now) {
                match listener.accept() {
                    Ok(connection) => {
                        if let Some(failures) = accepting.succeeded() {
                            say(&format!("dns: accepting again, after {failures} failed attempts"));
                        }
                        progress = true;
                        if clients.len() < MAX_CLIENTS {
                            clients.push(Client::new(connection, now));
                        } else {
                            // Full: closed at once (the client retries, over UDP or later),
                            // rather than left waiting in a listener that `yield` would
                            // keep reporting ready.
                            let _ = connection.shutdown();
                        }
                    }
                    Err(Error::WouldBlock) => break,
                    Err(e) => {
                        if accepting.failed(now) {
                            say(&format!("dns: accept failed: {e:?}; retrying every 100 ms"));
                        }
                    }
                }
            }
            for client in &mut clients {
                progress |= client.serve(&zone, now, idle_timeout, verbose);
            }
            clients.retain(|c| !c.done);
            if !progress {
                let next_timeout = clients.iter().map(|c| c.last_progress + idle_timeout).min();
                let deadline = next_timeout.into_iter().chain(accepting.retry_at()).min().unwrap_or(u64::MAX);
                poll::yield_(deadline);
            }
        }
    }
}

/// Reads and parses the zone file `key` of the store `zone`.
fn load_zone(key: &str) -> Result<Zone, String> {
    let store = ukc::kv::ro::open("zone").map_err(|e| format!("kv store 'zone': {e:?}"))?;
    let size = store.size(key).map_err(|e| format!("zone file {key:?}: {e:?}"))?;
    if size > zone::MAX_ZONE {
        return Err(format!("zone file {key:?} is {size} bytes, more than the {} this server reads", zone::MAX_ZONE));
    }
    let bytes = store.get(key).map_err(|e| format!("zone file {key:?}: {e:?}"))?;
    let text = String::from_utf8(bytes).map_err(|_| format!("zone file {key:?} is not UTF-8 text"))?;
    Zone::parse(&text).map_err(|e| format!("zone file {key:?}, {e}"))
}

/// One TCP connection: the query being read, the answer being sent (RFC 7766: each
/// message behind its two-byte length).
struct Client {
    connection: Connection,
    peer: Endpoint,
    input: Vec<u8>,
    output: Vec<u8>,
    sent: usize,
    closing: bool,
    done: bool,
    /// When it was accepted or last had a query answered (monotonic nanoseconds).
    last_progress: u64,
}

impl Client {
    fn new(connection: Connection, now: u64) -> Client {
        let peer = connection.remote_endpoint();
        Client {
            connection,
            peer,
            input: Vec::new(),
            output: Vec::new(),
            sent: 0,
            closing: false,
            done: false,
            last_progress: now,
        }
    }

    /// Moves this connection along as far as it can without blocking; true if anything
    /// moved.
    fn serve(&mut self, zone: &Zone, now: u64, idle_timeout: u64, verbose: bool) -> bool {
        if now.saturating_sub(self.last_progress) >= idle_timeout {
            return self.finish();
        }
        let mut progress = false;
        loop {
            while self.sent < self.output.len() {
                match self.connection.write(&self.output[self.sent..]) {
                    Ok(0) | Err(Error::WouldBlock) => return progress,
                    Ok(n) => {
                        self.sent += n as usize;
                        progress = true;
                    }
                    Err(_) => return self.finish(),
                }
            }
            if let Some(query) = self.next_query() {
                log_query(verbose, &self.peer, "tcp", &query);
                match answer(zone, &query, Transport::Tcp) {
                    Some(reply) => {
                        self.output = (reply.len() as u16).to_be_bytes().to_vec();
                        self.output.extend_from_slice(&reply);
                        self.sent = 0;
                    }
                    None => return self.finish(),
                }
                (progress, self.last_progress) = (true, now);
                continue;
            }
            if self.closing {
                return self.finish();
            }
            let wanted = self.wanted();
            match self.connection.read(wanted) {
                Ok(data) if data.is_empty() => self.closing = true,
                Ok(data) => self.input.extend_from_slice(&data),
                Err(Error::WouldBlock) => return progress,
                Err(_) => return self.finish(),
            }
            progress = true;
        }
    }

    /// Bytes still missing from the query being read: never past its end, so that a
    /// client pipelining queries leaves the next ones unread until this one is answered.
    fn wanted(&self) -> u32 {
        match self.input.as_slice() {
            [high, low, rest @ ..] => (usize::from(u16::from_be_bytes([*high, *low])) - rest.len()) as u32,
            _ => 2 - self.input.len() as u32,
        }
    }

    /// The next whole query received, taken from the input.
    fn next_query(&mut self) -> Option<Vec<u8>> {
        let [high, low, rest @ ..] = self.input.as_slice() else { return None };
        let len = usize::from(u16::from_be_bytes([*high, *low]));
        if rest.len() < len {
            return None;
        }
        let query = rest[..len].to_vec();
        self.input.clear();
        Some(query)
    }

    fn finish(&mut self) -> bool {
        let _ = self.connection.shutdown();
        self.done = true;
        true
    }
}

fn log_query(verbose: bool, peer: &Endpoint, transport: &str, query: &[u8]) {
    if !verbose {
        return;
    }
    let question = hickory_proto::op::Message::from_vec(query)
        .ok()
        .and_then(|m| m.queries.first().map(|q| format!("{} {}", q.name(), q.query_type())))
        .unwrap_or_else(|| "(unreadable)".to_string());
    let a = peer.address;
    say(&format!("dns: {}.{}.{}.{}:{} {transport} {question}", a.0, a.1, a.2, a.3, peer.port));
}

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

#[cfg(target_arch = "wasm32")]
export!(Dns);
