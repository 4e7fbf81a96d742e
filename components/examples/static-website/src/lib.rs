//! MirageOS's `static_website`: serves the `storage` kv store over HTTP/1.1 on `--port`.
//! One thread, many connections: the loop accepts, reads, answers and writes whatever can
//! move without blocking, then waits in `yield` until a socket changes.

wit_bindgen::generate!({
    inline: "
        package ukc-example:static-website;
        world static-website {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:clock/wall@0.1.0;
            import ukc:kv/ro@0.1.0;
            import ukc:tcpip/tcp@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

mod http;
mod site;

use site::Site;
use ukc::args::args;
use ukc::console::console;
use ukc::poll::poll;
use ukc::tcpip::tcp::{self, Connection};
use ukc::tcpip::types::{Endpoint, Error};

/// Bytes asked for per read.
const READ_SIZE: u32 = 16 * 1024;

struct Website;

impl exports::ukc::app::main::Guest for Website {
    fn run() -> Result<(), String> {
        let port: u16 = args::get("port").and_then(|p| p.parse().ok()).ok_or("--port must be between 1 and 65535")?;
        let verbose = args::get("verbose").as_deref() == Some("true");
        let store = ukc::kv::ro::open("storage").map_err(|e| format!("kv store 'storage': {e:?}"))?;
        let site = Site::new(store, verbose);
        let listener = tcp::listen(port).map_err(|e| format!("cannot listen on port {port}: {e:?}"))?;
        say(&format!("static-website: serving on port {port}"));
        let mut clients: Vec<Client> = Vec::new();
        loop {
            let mut progress = false;
            loop {
                match listener.accept() {
                    Ok(connection) => {
                        clients.push(Client::new(connection));
                        progress = true;
                    }
                    Err(Error::WouldBlock) => break,
                    Err(e) => {
                        say(&format!("static-website: accept failed: {e:?}"));
                        break;
                    }
                }
            }
            for client in &mut clients {
                progress |= client.serve(&site);
            }
            clients.retain(|c| !c.done);
            if !progress {
                poll::yield_(u64::MAX);
            }
        }
    }
}

/// One connection: bytes received but not yet parsed, and the response being sent.
struct Client {
    connection: Connection,
    peer: Endpoint,
    input: Vec<u8>,
    output: http::Output,
    /// The peer closed its side or asked to close: finish sending, then drop.
    closing: bool,
    done: bool,
}

impl Client {
    fn new(connection: Connection) -> Client {
        let peer = connection.remote_endpoint();
        Client { connection, peer, input: Vec::new(), output: http::Output::default(), closing: false, done: false }
    }

    /// Moves this connection along as far as it can without blocking; true if anything moved.
    fn serve(&mut self, site: &Site) -> bool {
        let mut progress = false;
        loop {
            progress |= self.answer_buffered(site);
            match self.output.flush(&self.connection, site) {
                Ok(true) => progress = true,
                Ok(false) => {}
                Err(_) => return self.finish(),
            }
            if !self.output.is_empty() {
                return progress;
            }
            if self.closing {
                return self.finish();
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

    /// Answers every complete request already received (HTTP/1.1 pipelining).
    fn answer_buffered(&mut self, site: &Site) -> bool {
        let mut answered = false;
        while !self.closing {
            match http::parse(&self.input) {
                http::Parsed::Incomplete => break,
                http::Parsed::Request { request, consumed } => {
                    self.input.drain(..consumed);
                    self.closing = !request.keep_alive;
                    site.respond(&request, &self.peer, &mut self.output);
                }
                http::Parsed::Invalid(response) => {
                    self.input.clear();
                    self.closing = true;
                    self.output.push_head(response);
                }
            }
            answered = true;
        }
        answered
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
export!(Website);
