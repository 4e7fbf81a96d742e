//! The `tls` driver: `ukc:tls/server` over `ukc:tcpip/tcp`, with rustls and its ring
//! provider. The certificate chain and key come from the kv device `tls` (`cert.pem`,
//! `key.pem`), which this driver declares and the host attaches at deploy time like any
//! device (`--kv:tls=DIR`, or `--block:tls=TAR` on hvt): they never enter the image.
//!
//! Sessions are non-blocking like the TCP connections under them: each call first sends
//! what TLS output is waiting, then moves the handshake or the data along as far as it can.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:tls;
        world tls {
            import ukc:tcpip/tcp@0.1.0;
            import ukc:kv/ro@0.1.0;
            export ukc:tls/server@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

#[cfg(any(fuzzing, test))]
pub mod fuzzing;
mod identity;
mod pem;
mod provider;
mod session;
mod validity;

// What the shared session code names, as this driver's bindings spell it.
use exports::ukc::tls::server::{Error, GuestSession};

use exports::ukc::tls::server::Guest;
use std::sync::Arc;
use ukc::tcpip::tcp;
use ukc::tcpip::types::Error as NetError;

struct Tls;

/// A TCP listener and the configuration its sessions share.
pub struct Listener {
    tcp: tcp::Listener,
    config: Arc<rustls::ServerConfig>,
}

impl Guest for Tls {
    type Listener = Listener;
    type Session = session::Session;

    fn listen(port: u16, alpn: Vec<String>) -> Result<exports::ukc::tls::server::Listener, Error> {
        let config = identity::server_config(identity::DEVICE, alpn)?;
        let tcp = tcp::listen(port).map_err(|e| Error::Network(format!("cannot listen on port {port}: {e:?}")))?;
        Ok(exports::ukc::tls::server::Listener::new(Listener { tcp, config: Arc::new(config) }))
    }
}

impl exports::ukc::tls::server::GuestListener for Listener {
    fn accept(&self) -> Result<exports::ukc::tls::server::Session, Error> {
        let connection = self.tcp.accept().map_err(|e| match e {
            NetError::WouldBlock => Error::WouldBlock,
            e => Error::Network(format!("accept: {e:?}")),
        })?;
        let tls = rustls::ServerConnection::new(self.config.clone())
            .map_err(|e| Error::Handshake(format!("cannot start a session: {e}")))?;
        Ok(exports::ukc::tls::server::Session::new(session::Session::new(connection, tls.into())))
    }
}

// Only the wasm build exports the functions: their names are not valid symbols for a host
// linker, and host builds exist to run the unit tests and the fuzz target.
#[cfg(target_arch = "wasm32")]
export!(Tls);
