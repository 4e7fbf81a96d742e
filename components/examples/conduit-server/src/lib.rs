//! MirageOS's `conduit_server`, as a line-based key-value service: each line a client
//! sends is one command, answered with one line. State is shared by every client, and
//! every client is served at once by one thread waiting in `yield`.
//!
//! What clients can make the server hold is bounded: the store's size
//! ([`commands::MAX_STORE_BYTES`]), the clients served at once, a line's length, and the
//! replies pending for a client that does not read them (its commands then wait unread);
//! an idle client is disconnected after a minute.
//!
//! ```text
//! SET key value   -> OK
//! GET key         -> VALUE value | NOT FOUND
//! DEL key         -> DELETED | NOT FOUND
//! COUNT           -> COUNT n      (keys stored)
//! CLIENTS         -> CLIENTS n    (clients connected)
//! QUIT            -> BYE, then the server closes the connection
//! ```

wit_bindgen::generate!({
    inline: "
        package ukc-example:conduit-server;
        world conduit-server {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:clock/monotonic@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:tcpip/tcp@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

mod commands;

use commands::Store;
use ukc::args::args;
use ukc::clock::monotonic;
use ukc::console::console;
use ukc::poll::poll;
use ukc::tcpip::tcp::{self, Connection};
use ukc::tcpip::types::Error;
use ukc_guest::accept::AcceptRetry;

/// A line longer than this is refused and the client disconnected.
const MAX_LINE: usize = 64 * 1024;
/// Replies held for a client before the server stops reading its commands: a client that
/// sends and never reads holds at most this much (plus one reply).
const MAX_PENDING_OUTPUT: usize = 64 * 1024;
/// Most clients served at once; more wait in the listener's backlog.
const MAX_CLIENTS: usize = 1024;
/// How long a client may go without a command answered or a byte taken.
const IDLE_TIMEOUT_NS: u64 = 60_000_000_000;

struct ConduitServer;

impl exports::ukc::app::main::Guest for ConduitServer {
    fn run() -> Result<(), String> {
        let port: u16 = args::get("port").and_then(|p| p.parse().ok()).ok_or("--port must be between 1 and 65535")?;
        let listener = tcp::listen(port).map_err(|e| format!("cannot listen on port {port}: {e:?}"))?;
        say(&format!("conduit-server: listening on port {port}"));
        let mut store = Store::default();
        let mut clients: Vec<Client> = Vec::new();
        let mut accepting = AcceptRetry::default();
        loop {
            let now = monotonic::now();
            let mut progress = false;
            while clients.len() < MAX_CLIENTS && accepting.may_try(now) {
                match listener.accept() {
                    Ok(connection) => {
                        if let Some(failures) = accepting.succeeded() {
                            say(&format!("conduit-server: accepting again, after {failures} failed attempts"));
                        }
                        clients.push(Client::new(connection, now));
                        progress = true;
                    }
                    Err(Error::WouldBlock) => break,
                    Err(e) => {
                        if accepting.failed(now) {
                            say(&format!("conduit-server: accept failed: {e:?}; retrying every 100 ms"));
                        }
                    }
                }
            }
            let connected = clients.len();
            for client in &mut clients {
                progress |= client.serve(&mut store, connected, now);
            }
            clients.retain(|c| !c.gone);
            if !progress {
                let next_timeout = clients.iter().map(|c| c.last_progress + IDLE_TIMEOUT_NS).min();
                poll::yield_(next_timeout.into_iter().chain(accepting.retry_at()).min().unwrap_or(u64::MAX));
            }
        }
    }
}

struct Client {
    connection: Connection,
    input: Vec<u8>,
    output: Vec<u8>,
    quitting: bool,
    gone: bool,
    /// When a command was last answered or bytes last sent (monotonic nanoseconds).
    last_progress: u64,
}

impl Client {
    fn new(connection: Connection, now: u64) -> Client {
        Client { connection, input: Vec::new(), output: Vec::new(), quitting: false, gone: false, last_progress: now }
    }

    /// Reads while its replies are taken, answers every complete line, and writes what
    /// the connection takes; closes the connection once idle too long.
    fn serve(&mut self, store: &mut Store, connected: usize, now: u64) -> bool {
        if now.saturating_sub(self.last_progress) >= IDLE_TIMEOUT_NS {
            let _ = self.connection.shutdown();
            self.gone = true;
            return true;
        }
        let mut progress = false;
        if !self.quitting && self.output.len() < MAX_PENDING_OUTPUT {
            match self.connection.read(16 * 1024) {
                Ok(data) if data.is_empty() => self.quitting = true,
                Ok(data) => {
                    self.input.extend_from_slice(&data);
                    progress = true;
                }
                Err(Error::WouldBlock) => {}
                Err(_) => self.gone = true,
            }
        }
        while !self.quitting && self.output.len() < MAX_PENDING_OUTPUT {
            let Some(end) = self.input.iter().position(|&b| b == b'\n') else { break };
            let line: Vec<u8> = self.input.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line);
            let reply = commands::execute(line.trim_end_matches(['\r', '\n']), store, connected);
            self.quitting |= reply == commands::BYE;
            self.output.extend_from_slice(reply.as_bytes());
            self.output.push(b'\n');
            (progress, self.last_progress) = (true, now);
        }
        if !self.quitting && self.input.len() > MAX_LINE && !self.input.contains(&b'\n') {
            self.output.extend_from_slice(b"ERR line too long\n");
            self.quitting = true;
        }
        while !self.output.is_empty() {
            match self.connection.write(&self.output) {
                Ok(n) => {
                    self.output.drain(..n as usize);
                    (progress, self.last_progress) = (true, now);
                }
                Err(Error::WouldBlock) => break,
                Err(_) => {
                    self.gone = true;
                    break;
                }
            }
        }
        if self.quitting && self.output.is_empty() && !self.gone {
            let _ = self.connection.shutdown();
            self.gone = true;
            progress = true;
        }
        progress
    }
}

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

#[cfg(target_arch = "wasm32")]
export!(ConduitServer);
