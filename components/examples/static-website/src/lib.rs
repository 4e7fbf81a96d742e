//! MirageOS's `static_website`: serves the `storage` kv store over HTTP/1.1 on `--port`.
//! One thread, many connections: the loop accepts, reads, answers and writes whatever can
//! move without blocking, then waits in `yield` until a socket changes or a connection's
//! time runs out.
//!
//! A response's head and file leave together through `ukc:sendfile`, as the connection
//! takes them: `ukc-unix` sends the file with `sendfile(2)`, never reading it into the
//! unikernel; elsewhere the sendfile driver reads it 64 KiB at a time.
//!
//! What a client can make the server hold is bounded: at most [`MAX_CLIENTS`] connections;
//! per connection one response at a time (pipelined requests wait, unread, until the one
//! before is sent) and a request head of at most 16 KiB; and a connection that completes no request and takes no bytes for
//! `--idle-timeout-s` (an idle keep-alive, a client that stops reading, a request trickled
//! in) is closed.

wit_bindgen::generate!({
    inline: "
        package ukc-example:static-website;
        world static-website {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:clock/wall@0.1.0;
            import ukc:clock/monotonic@0.1.0;
            import ukc:kv/ro@0.1.0;
            import ukc:tcpip/tcp@0.1.0;
            import ukc:sendfile/sendfile@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

mod client;
#[cfg(any(fuzzing, test))]
pub mod fuzzing;
mod http;
mod site;

use client::Client;
use site::Site;
use ukc::args::args;
use ukc::clock::monotonic;
use ukc::console::console;
use ukc::kv::ro::Store;
use ukc::poll::poll;
use ukc::sendfile::sendfile;
use ukc::tcpip::tcp::{self, Connection};
use ukc::tcpip::types::{Endpoint, Error};
use ukc_guest::accept::AcceptRetry;

/// Most connections served at once; more wait in the listener's backlog.
const MAX_CLIENTS: usize = 1024;

struct Website;

impl exports::ukc::app::main::Guest for Website {
    fn run() -> Result<(), String> {
        let port: u16 = args::get("port").and_then(|p| p.parse().ok()).ok_or("--port must be between 1 and 65535")?;
        let verbose = args::get("verbose").as_deref() == Some("true");
        let idle_timeout = args::get("idle-timeout-s")
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|s| (1..=3600).contains(s))
            .ok_or("--idle-timeout-s must be between 1 and 3600")?
            * 1_000_000_000;
        let store = ukc::kv::ro::open("storage").map_err(|e| format!("kv store 'storage': {e:?}"))?;
        let site = Site::new(store, verbose);
        let listener = tcp::listen(port).map_err(|e| format!("cannot listen on port {port}: {e:?}"))?;
        say(&format!("static-website: serving on port {port}"));
        let mut clients: Vec<Client<Connection>> = Vec::new();
        let mut accepting = AcceptRetry::default();
        loop {
            let now = monotonic::now();
            let mut progress = false;
            while clients.len() < MAX_CLIENTS && accepting.may_try(now) {
                match listener.accept() {
                    Ok(connection) => {
                        if let Some(failures) = accepting.succeeded() {
                            say(&format!("static-website: accepting again, after {failures} failed attempts"));
                        }
                        clients.push(Client::new(connection, now));
                        progress = true;
                    }
                    Err(Error::WouldBlock) => break,
                    Err(e) => {
                        if accepting.failed(now) {
                            say(&format!("static-website: accept failed: {e:?}; retrying every 100 ms"));
                        }
                    }
                }
            }
            for client in &mut clients {
                progress |= client.serve(&site, now, idle_timeout);
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

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

impl http::Sink for Connection {
    fn send(&self, data: &[u8]) -> http::Sent {
        match self.write(data) {
            Ok(n) => http::Sent::Took(n.into()),
            Err(Error::WouldBlock) => http::Sent::WouldBlock,
            Err(_) => http::Sent::Failed,
        }
    }

    fn send_value(&self, head: &[u8], store: &Store, key: &str, offset: u64, len: u64) -> Option<http::Sent> {
        Some(match sendfile::send_value(self, head, store, key, offset, len) {
            Ok(n) => http::Sent::Took(n),
            Err(sendfile::Error::Tcp(Error::WouldBlock)) => http::Sent::WouldBlock,
            Err(_) => http::Sent::Failed,
        })
    }
}

impl client::Stream for Connection {
    fn receive(&self, max: u32) -> client::Received {
        match self.read(max) {
            Ok(data) => client::Received::Data(data),
            Err(Error::WouldBlock) => client::Received::WouldBlock,
            Err(e) => client::Received::Failed(format!("{e:?}")),
        }
    }

    fn close(&self) {
        let _ = self.shutdown();
    }

    fn peer(&self) -> Endpoint {
        self.remote_endpoint()
    }
}

#[cfg(target_arch = "wasm32")]
export!(Website);
