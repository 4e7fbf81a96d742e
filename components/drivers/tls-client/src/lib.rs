//! The `tls-client` driver: `ukc:tls/client` over `ukc:tcpip/tcp`, with rustls and its
//! ring provider. Servers are trusted by the CA certificates in `ca.pem` of the kv device
//! `tls-ca`, which this driver declares and the host attaches at deploy time like any
//! device (`--kv:tls-ca=DIR`, or `--block:tls-ca=TAR` on hvt). A driver of its own, apart
//! from `tls`, so that a client needs no server identity and a server no trust store.
//!
//! Sessions are the tls driver's (`session.rs`, shared as it is): non-blocking like the
//! TCP connections under them.

wit_bindgen::generate!({
    inline: "
        package ukc-driver:tls-client;
        world tls-client {
            import ukc:tcpip/tcp@0.1.0;
            import ukc:kv/ro@0.1.0;
            export ukc:tls/client@0.1.0;
        }
    ",
    path: "../../../wit",
    generate_all,
});

ukc_guest::manifest!("ukc.json");

#[path = "../../tls/src/pem.rs"]
mod pem;
#[path = "../../tls/src/provider.rs"]
mod provider;
#[path = "../../tls/src/session.rs"]
mod session;
mod trust;

// What the shared session code names, as this driver's bindings spell it.
use exports::ukc::tls::client::{Error, GuestSession};

use exports::ukc::tls::client::Guest;
use rustls_pki_types::ServerName;
use std::sync::{Arc, OnceLock};
use ukc::tcpip::tcp;
use ukc::tcpip::types::Endpoint;

struct TlsClient;

/// The configuration sessions share once the trust store has been read (a store that
/// failed is read again on the next `connect`, so that the error stays the same).
static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();

impl Guest for TlsClient {
    type Session = session::Session;

    fn connect(server: Endpoint, name: String, alpn: Vec<String>) -> Result<exports::ukc::tls::client::Session, Error> {
        let name = ServerName::try_from(name.as_str())
            .map_err(|_| Error::InvalidName(format!("'{name}' is neither a DNS name nor an IP address")))?
            .to_owned();
        let mut config = match CONFIG.get() {
            Some(config) => config.clone(),
            None => {
                let config = Arc::new(trust::client_config(trust::DEVICE)?);
                CONFIG.get_or_init(|| config).clone()
            }
        };
        if !alpn.is_empty() {
            let mut with_alpn = (*config).clone();
            with_alpn.alpn_protocols = alpn.into_iter().map(String::into_bytes).collect();
            config = Arc::new(with_alpn);
        }
        let tls = rustls::ClientConnection::new(config, name)
            .map_err(|e| Error::Handshake(format!("cannot start a session: {e}")))?;
        let connection = tcp::connect(server).map_err(|e| {
            Error::Network(format!("cannot connect: {}", e.message().trim_end_matches('.').to_lowercase()))
        })?;
        Ok(exports::ukc::tls::client::Session::new(session::Session::new(connection, tls.into())))
    }
}

export!(TlsClient);
