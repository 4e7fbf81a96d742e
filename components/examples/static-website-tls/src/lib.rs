//! MirageOS's `static_website_tls`: static-website's HTTP/1.1 (its `http` and `site`
//! modules, shared as they are) over `ukc:tls` instead of `ukc:tcpip` TCP, on `--port`.
//! The tls driver serves the certificate chain and key of the kv device `tls`, attached at
//! deploy time; the site is the kv store `storage`, as for static-website.
//!
//! The same bounds as static-website: at most [`MAX_CLIENTS`] sessions, one response at a
//! time per session, request heads of at most 16 KiB, files read and encrypted in 64 KiB
//! chunks (a TLS session cannot use `ukc:sendfile`: its bytes are encrypted here), and a
//! session that completes no request and takes no bytes for `--idle-timeout-s` closed. A
//! failed handshake ends that session only.

wit_bindgen::generate!({
    inline: "
        package ukc-example:static-website-tls;
        world static-website-tls {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:clock/wall@0.1.0;
            import ukc:clock/monotonic@0.1.0;
            import ukc:kv/ro@0.1.0;
            import ukc:tls/server@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

#[path = "../../static-website/src/client.rs"]
mod client;
#[path = "../../static-website/src/http.rs"]
mod http;
#[path = "../../static-website/src/site.rs"]
mod site;

use client::Client;
use site::Site;
use ukc::args::args;
use ukc::clock::monotonic;
use ukc::console::console;
use ukc::poll::poll;
use ukc::tcpip::types::Endpoint;
use ukc::tls::server::{self, Error, Session};

/// Most sessions served at once.
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
        let listener = server::listen(port, &["http/1.1".to_string()])
            .map_err(|e| format!("cannot serve HTTPS: {}", describe(&e)))?;
        say(&format!("static-website-tls: serving HTTPS on port {port}"));
        let mut clients: Vec<Client<Session>> = Vec::new();
        let mut failing = false;
        loop {
            let now = monotonic::now();
            let mut progress = false;
            while clients.len() < MAX_CLIENTS {
                match listener.accept() {
                    Ok(session) => {
                        failing = false;
                        clients.push(Client::new(session, now));
                        progress = true;
                    }
                    Err(Error::WouldBlock) => break,
                    Err(e) => {
                        if !std::mem::replace(&mut failing, true) {
                            say(&format!("static-website-tls: accept failed: {} (logged once)", describe(&e)));
                        }
                        break;
                    }
                }
            }
            for client in &mut clients {
                progress |= client.serve(&site, now, idle_timeout);
                if let Some(why) = client.failure.take()
                    && verbose
                {
                    say(&format!("static-website-tls: session ended: {why}"));
                }
            }
            clients.retain(|c| !c.done);
            if !progress {
                let deadline = clients.iter().map(|c| c.last_progress + idle_timeout).min().unwrap_or(u64::MAX);
                poll::yield_(deadline);
            }
        }
    }
}

impl http::Sink for Session {
    fn send(&self, data: &[u8]) -> http::Sent {
        match self.write(data) {
            Ok(n) => http::Sent::Took(n.into()),
            Err(Error::WouldBlock) => http::Sent::WouldBlock,
            Err(_) => http::Sent::Failed,
        }
    }
}

impl client::Stream for Session {
    fn receive(&self, max: u32) -> client::Received {
        match self.read(max) {
            Ok(data) => client::Received::Data(data),
            Err(Error::WouldBlock) => client::Received::WouldBlock,
            Err(e) => client::Received::Failed(describe(&e)),
        }
    }

    fn close(&self) {
        let _ = self.shutdown();
    }

    fn peer(&self) -> Endpoint {
        self.remote_endpoint()
    }
}

fn describe(error: &Error) -> String {
    match error {
        Error::WouldBlock => "would block".into(),
        Error::BadIdentity(text) => format!("bad identity: {text}"),
        Error::Handshake(text) => format!("handshake failed: {text}"),
        Error::Closed(text) => format!("closed: {text}"),
        Error::Network(text) => format!("network: {text}"),
    }
}

fn say(line: &str) {
    console::write(format!("{line}\n").as_bytes());
}

export!(Website);
