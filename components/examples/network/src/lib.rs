//! MirageOS's `network` example: a TCP echo server on `--port`. It logs each connection
//! when it opens and when it closes (with byte counts) and echoes back every byte it
//! receives, serving many connections at once on one thread: accept what is pending,
//! service every connection without blocking, then wait in `yield` until the stack has
//! news.

wit_bindgen::generate!({
    inline: "
        package ukc-example:network;
        world network {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:tcpip/ipv4@0.1.0;
            import ukc:tcpip/tcp@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use ukc::args::args;
use ukc::console::console;
use ukc::poll::poll;
use ukc::tcpip::ipv4;
use ukc::tcpip::tcp::{self, Connection, Listener};
use ukc::tcpip::types::{Endpoint, Error};

/// Bytes asked for per read.
const READ_SIZE: u32 = 64 * 1024;

/// Echo output a connection may hold before the server stops reading from it: a peer
/// that sends without reading is slowed down by TCP instead of filling our memory.
const MAX_PENDING: usize = 256 * 1024;

struct Network;

impl exports::ukc::app::main::Guest for Network {
    fn run() -> Result<(), String> {
        let port = args::get("port").and_then(|p| p.parse::<u16>().ok()).filter(|&p| p != 0);
        let port = port.ok_or("--port must be between 1 and 65535")?;
        let listener = tcp::listen(port).map_err(|e| format!("listening on TCP port {port}: {}", describe(e)))?;
        let mut announced = false;
        let mut clients: Vec<Client> = Vec::new();
        loop {
            // With DHCP the address comes later; say where we listen once it is known.
            if !announced && let Some(settings) = ipv4::config() {
                say(&format!("network: listening on {}", show(&Endpoint { address: settings.address, port })));
                announced = true;
            }
            accept_all(&listener, &mut clients);
            clients.retain_mut(|client| client.service());
            poll::yield_(u64::MAX);
        }
    }
}

/// Takes every connection that is waiting.
fn accept_all(listener: &Listener, clients: &mut Vec<Client>) {
    loop {
        match listener.accept() {
            Ok(conn) => {
                let peer = show(&conn.remote_endpoint());
                say(&format!("network: connection from {peer}"));
                clients.push(Client { conn, peer, pending: Vec::new(), received: 0, sent: 0, finished: false });
            }
            Err(Error::WouldBlock) => return,
            Err(e) => {
                say(&format!("network: accept: {}", describe(e)));
                return;
            }
        }
    }
}

/// One connection and the echo output it still has to take.
struct Client {
    conn: Connection,
    peer: String,
    pending: Vec<u8>,
    received: u64,
    sent: u64,
    /// The peer closed its side: send what is pending, then close.
    finished: bool,
}

impl Client {
    /// Moves bytes both ways without blocking; returns whether to keep the connection.
    fn service(&mut self) -> bool {
        let outcome = self.pump();
        match outcome {
            Ok(true) => true,
            Ok(false) => {
                say(&format!(
                    "network: connection from {} closed: {} bytes received, {} sent",
                    self.peer, self.received, self.sent
                ));
                false
            }
            Err(e) => {
                let (peer, received, sent) = (&self.peer, self.received, self.sent);
                say(&format!(
                    "network: connection from {peer} failed: {} ({received} bytes received, {sent} sent)",
                    describe(e)
                ));
                false
            }
        }
    }

    /// Echoes what can be echoed; `Ok(false)` once the peer has finished and everything
    /// is handed to the stack (dropping the connection then closes it gracefully).
    fn pump(&mut self) -> Result<bool, Error> {
        loop {
            self.flush()?;
            if self.finished || self.pending.len() >= MAX_PENDING {
                break;
            }
            match self.conn.read(READ_SIZE) {
                Ok(data) if data.is_empty() => self.finished = true,
                Ok(data) => {
                    self.received += data.len() as u64;
                    self.pending.extend_from_slice(&data);
                }
                Err(Error::WouldBlock) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(!(self.finished && self.pending.is_empty()))
    }

    /// Hands pending output to the stack until it is all taken or the stack is full.
    fn flush(&mut self) -> Result<(), Error> {
        while !self.pending.is_empty() {
            match self.conn.write(&self.pending) {
                Ok(taken) => {
                    self.pending.drain(..taken as usize);
                    self.sent += u64::from(taken);
                }
                Err(Error::WouldBlock) => break,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

fn show(endpoint: &Endpoint) -> String {
    let (a, b, c, d) = endpoint.address;
    format!("{a}.{b}.{c}.{d}:{}", endpoint.port)
}

fn describe(error: Error) -> &'static str {
    match error {
        Error::WouldBlock => "would block",
        Error::ConnectionRefused => "connection refused",
        Error::ConnectionReset => "connection reset",
        Error::TimedOut => "timed out",
        Error::AddressInUse => "address in use",
        Error::NotConnected => "not connected",
        Error::InvalidArgument => "invalid argument",
        Error::Unreachable => "unreachable",
        Error::NoResources => "out of sockets or buffers",
    }
}

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

export!(Network);
