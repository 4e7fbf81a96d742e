//! MirageOS's `conduit_server`, as a line-based key-value service: each line a client
//! sends is one command, answered with one line. State is shared by every client, and
//! every client is served at once by one thread waiting in `yield`.
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
            import ukc:args/args@0.1.0;
            import ukc:tcpip/tcp@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

mod commands;

use std::collections::BTreeMap;
use ukc::args::args;
use ukc::console::console;
use ukc::poll::poll;
use ukc::tcpip::tcp::{self, Connection};
use ukc::tcpip::types::Error;

/// A line longer than this is refused and the client disconnected.
const MAX_LINE: usize = 64 * 1024;

struct ConduitServer;

impl exports::ukc::app::main::Guest for ConduitServer {
    fn run() -> Result<(), String> {
        let port: u16 = args::get("port").and_then(|p| p.parse().ok()).ok_or("--port must be between 1 and 65535")?;
        let listener = tcp::listen(port).map_err(|e| format!("cannot listen on port {port}: {e:?}"))?;
        say(&format!("conduit-server: listening on port {port}"));
        let mut store = BTreeMap::new();
        let mut clients: Vec<Client> = Vec::new();
        loop {
            let mut progress = false;
            while let Ok(connection) = listener.accept() {
                clients.push(Client {
                    connection,
                    input: Vec::new(),
                    output: Vec::new(),
                    quitting: false,
                    gone: false,
                });
                progress = true;
            }
            let connected = clients.len();
            for client in &mut clients {
                progress |= client.serve(&mut store, connected);
            }
            clients.retain(|c| !c.gone);
            if !progress {
                poll::yield_(u64::MAX);
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
}

impl Client {
    /// Reads, answers every complete line, and writes what the connection takes.
    fn serve(&mut self, store: &mut BTreeMap<String, String>, connected: usize) -> bool {
        let mut progress = false;
        if !self.quitting {
            match self.connection.read(16 * 1024) {
                Ok(data) if data.is_empty() => self.quitting = true,
                Ok(data) => {
                    self.input.extend_from_slice(&data);
                    progress = true;
                }
                Err(Error::WouldBlock) => {}
                Err(_) => self.gone = true,
            }
            while let Some(end) = self.input.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.input.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                let reply = commands::execute(line.trim_end_matches(['\r', '\n']), store, connected);
                self.quitting |= reply == commands::BYE;
                self.output.extend_from_slice(reply.as_bytes());
                self.output.push(b'\n');
                progress = true;
                if self.quitting {
                    break;
                }
            }
            if self.input.len() > MAX_LINE {
                self.output.extend_from_slice(b"ERR line too long\n");
                self.quitting = true;
            }
        }
        while !self.output.is_empty() {
            match self.connection.write(&self.output) {
                Ok(n) => {
                    self.output.drain(..n as usize);
                    progress = true;
                }
                Err(Error::WouldBlock) => break,
                Err(_) => {
                    self.gone = true;
                    break;
                }
            }
        }
        if self.quitting && self.output.is_empty() {
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
