//! A notes (pastebin) service: HTTP/1.1 on `--port` over the read-write kv store `notes`
//! (`notes` routes the requests, `http` parses them). One thread, many connections, as
//! static-website: the loop accepts, reads, answers and writes whatever can move without
//! blocking, then waits in `yield` until a socket changes or a connection's time runs out.
//!
//! What a client can make the server hold is bounded: at most [`MAX_CLIENTS`]
//! connections; per connection one request of at most 16 KiB of head and 64 KiB of body,
//! answered before the next is read; and a connection that completes no request and moves
//! no bytes for `--idle-timeout-s` is closed.

wit_bindgen::generate!({
    inline: "
        package ukc-example:notes;
        world notes {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:clock/monotonic@0.1.0;
            import ukc:kv/rw@0.1.0;
            import ukc:tcpip/tcp@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

#[cfg(any(fuzzing, test))]
pub mod fuzzing;
mod http;
mod notes;

use ukc::args::args;
use ukc::clock::monotonic;
use ukc::console::console;
use ukc::kv::rw::Store;
use ukc::poll::poll;
use ukc::tcpip::tcp::{self, Connection};
use ukc::tcpip::types::Error;
use ukc_guest::accept::AcceptRetry;

/// Bytes asked for per read.
const READ_SIZE: u32 = 16 * 1024;
/// Most connections served at once; more wait in the listener's backlog.
const MAX_CLIENTS: usize = 256;

struct Notes;

impl exports::ukc::app::main::Guest for Notes {
    fn run() -> Result<(), String> {
        let port: u16 = args::get("port").and_then(|p| p.parse().ok()).ok_or("--port must be between 1 and 65535")?;
        let idle_timeout = args::get("idle-timeout-s")
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|s| (1..=3600).contains(s))
            .ok_or("--idle-timeout-s must be between 1 and 3600")?
            * 1_000_000_000;
        let store = ukc::kv::rw::open("notes").map_err(|e| format!("kv store 'notes': {e:?}"))?;
        let listener = tcp::listen(port).map_err(|e| format!("cannot listen on port {port}: {e:?}"))?;
        say(&format!("notes: serving on port {port}"));
        let mut clients: Vec<Client> = Vec::new();
        let mut accepting = AcceptRetry::default();
        loop {
            let now = monotonic::now();
            let mut progress = false;
            while clients.len() < MAX_CLIENTS && accepting.may_try(now) {
                match listener.accept() {
                    Ok(connection) => {
                        if let Some(failures) = accepting.succeeded() {
                            say(&format!("notes: accepting again, after {failures} failed attempts"));
                        }
                        clients.push(Client {
                            connection,
                            input: Vec::new(),
                            output: Vec::new(),
                            sent: 0,
                            closing: false,
                            done: false,
                            last_progress: now,
                        });
                        progress = true;
                    }
                    Err(Error::WouldBlock) => break,
                    Err(e) => {
                        if accepting.failed(now) {
                            say(&format!("notes: accept failed: {e:?}; retrying every 100 ms"));
                        }
                    }
                }
            }
            for client in &mut clients {
                progress |= client.serve(&store, now, idle_timeout);
            }
            clients.retain(|c| !c.done);
            if !progress {
                let next_timeout = clients.iter().map(|c| c.last_progress + idle_timeout).min();
                poll::yield_(next_timeout.into_iter().chain(accepting.retry_at()).min().unwrap_or(u64::MAX));
            }
        }
    }
}

/// One connection: bytes received but not yet answered, and the response being sent.
struct Client {
    connection: Connection,
    input: Vec<u8>,
    output: Vec<u8>,
    /// Bytes of `output` sent so far.
    sent: usize,
    /// The peer closed its side or asked to close: finish sending, then drop.
    closing: bool,
    done: bool,
    /// When a request was last answered or bytes last moved (monotonic nanoseconds).
    last_progress: u64,
}

impl Client {
    /// Moves this connection along as far as it can without blocking; true if anything
    /// moved. A connection past its idle timeout is closed.
    fn serve(&mut self, store: &Store, now: u64, idle_timeout: u64) -> bool {
        if now.saturating_sub(self.last_progress) >= idle_timeout {
            return self.finish();
        }
        let mut progress = false;
        loop {
            if self.output.is_empty() && !self.closing {
                match http::parse(&self.input) {
                    http::Parsed::Incomplete => {}
                    http::Parsed::Request { request, consumed } => {
                        self.input.drain(..consumed);
                        self.closing = !request.keep_alive;
                        self.output = notes::respond(store, &request);
                    }
                    http::Parsed::Invalid(response) => {
                        self.input.clear();
                        self.closing = true;
                        self.output = response;
                    }
                }
            }
            while self.sent < self.output.len() {
                match self.connection.write(&self.output[self.sent..]) {
                    Ok(0) | Err(Error::WouldBlock) => return progress,
                    Ok(n) => (self.sent, progress, self.last_progress) = (self.sent + n as usize, true, now),
                    Err(_) => return self.finish(),
                }
            }
            if !self.output.is_empty() {
                (self.output, self.sent, progress, self.last_progress) = (Vec::new(), 0, true, now);
                continue;
            }
            if self.closing {
                return self.finish();
            }
            // A request is taken whole before it is answered: stop reading at its bound.
            if self.input.len() > 16 * 1024 + http::MAX_BODY {
                self.output = http::response(413, "Content Too Large", b"", false);
                self.closing = true;
                continue;
            }
            match self.connection.read(READ_SIZE) {
                Ok(data) if data.is_empty() => self.closing = true,
                Ok(data) => self.input.extend_from_slice(&data),
                Err(Error::WouldBlock) => return progress,
                Err(_) => return self.finish(),
            }
            progress = true;
        }
    }

    fn finish(&mut self) -> bool {
        let _ = self.connection.shutdown();
        self.done = true;
        true
    }
}

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

#[cfg(target_arch = "wasm32")]
export!(Notes);
