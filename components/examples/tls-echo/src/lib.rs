//! The `network` example over TLS: echoes back every byte each TLS connection sends, many
//! connections at once on one thread. Its identity (certificate chain and key) is the tls
//! driver's kv device `tls`, attached at deploy time: `--kv:tls=DIR` on unix,
//! `--block:tls=TAR` on hvt.

wit_bindgen::generate!({
    inline: "
        package ukc-example:tls-echo;
        world tls-echo {
            include ukc:app/app@0.1.0;
            import ukc:console/console@0.1.0;
            import ukc:poll/poll@0.1.0;
            import ukc:args/args@0.1.0;
            import ukc:tls/server@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

use ukc::args::args;
use ukc::console::console;
use ukc::poll::poll;
use ukc::tls::server::{self, Error, Session};

/// Plaintext asked for per read.
const READ_SIZE: u32 = 16 * 1024;
/// Echo output a session may hold before the server stops reading from it.
const MAX_PENDING: usize = 256 * 1024;

struct TlsEcho;

impl exports::ukc::app::main::Guest for TlsEcho {
    fn run() -> Result<(), String> {
        let port = args::get("port").and_then(|p| p.parse::<u16>().ok()).filter(|&p| p != 0);
        let port = port.ok_or("--port must be between 1 and 65535")?;
        let alpn: Vec<String> =
            args::get("alpn").unwrap_or_default().split(',').filter(|p| !p.is_empty()).map(str::to_string).collect();
        let listener = server::listen(port, &alpn).map_err(|e| format!("cannot serve TLS: {}", describe(&e)))?;
        say(&format!("tls-echo: serving TLS on port {port}"));
        let mut clients: Vec<Client> = Vec::new();
        loop {
            loop {
                match listener.accept() {
                    Ok(session) => clients.push(Client { session, pending: Vec::new(), finished: false, told: false }),
                    Err(Error::WouldBlock) => break,
                    Err(e) => {
                        say(&format!("tls-echo: accept: {}", describe(&e)));
                        break;
                    }
                }
            }
            clients.retain_mut(Client::service);
            poll::yield_(u64::MAX);
        }
    }
}

/// One session and the echo output it still has to send.
struct Client {
    session: Session,
    pending: Vec<u8>,
    finished: bool,
    /// Whether the agreed version and protocol were logged.
    told: bool,
}

impl Client {
    /// Moves bytes both ways without blocking; false once the session is over.
    fn service(&mut self) -> bool {
        match self.pump() {
            Ok(keep) => keep,
            Err(e) => {
                say(&format!("tls-echo: session failed: {}", describe(&e)));
                false
            }
        }
    }

    fn pump(&mut self) -> Result<bool, Error> {
        loop {
            while !self.pending.is_empty() {
                match self.session.write(&self.pending) {
                    Ok(taken) => drop(self.pending.drain(..taken as usize)),
                    Err(Error::WouldBlock) => break,
                    Err(e) => return Err(e),
                }
            }
            if self.finished || self.pending.len() >= MAX_PENDING {
                break;
            }
            match self.session.read(READ_SIZE) {
                Ok(data) if data.is_empty() => self.finished = true,
                Ok(data) => self.pending.extend_from_slice(&data),
                Err(Error::WouldBlock) => break,
                Err(e) => return Err(e),
            }
            if !self.told
                && let Some(version) = self.session.version()
            {
                let protocol = self.session.protocol().unwrap_or_else(|| "no ALPN".into());
                say(&format!("tls-echo: session with {version}, {protocol}"));
                self.told = true;
            }
        }
        if self.finished && self.pending.is_empty() {
            let _ = self.session.shutdown();
            return Ok(false);
        }
        Ok(true)
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

export!(TlsEcho);
