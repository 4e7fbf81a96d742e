//! The server's identity: a certificate chain and its private key from a kv store,
//! checked against each other before anything listens.

use crate::exports::ukc::tls::server::Error;
use crate::ukc::kv::ro;
use rustls::CipherSuite;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

/// The kv device holding the identity, as the driver's manifest declares it.
pub const DEVICE: &str = "tls";

/// Bytes read from an identity store, at most (a chain and a key are a few KiB).
const MAX_PEM: u64 = 1 << 20;

/// A server configuration for the identity in the kv store `store`.
pub fn server_config(store: &str, alpn: Vec<String>) -> Result<rustls::ServerConfig, Error> {
    let bad = |text: String| Error::BadIdentity(format!("identity store '{store}': {text}"));
    let kv = ro::open(store).map_err(|e| bad(format!("{e:?}")))?;
    let read = |key: &str| -> Result<Vec<u8>, Error> {
        let size = kv.size(key).map_err(|e| bad(format!("{key}: {e:?}")))?;
        if size > MAX_PEM {
            return Err(bad(format!("{key} is {size} bytes; a PEM file here is at most {MAX_PEM}")));
        }
        kv.get(key).map_err(|e| bad(format!("{key}: {e:?}")))
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read("cert.pem")?)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("cert.pem: {e}")))?;
    if chain.is_empty() {
        return Err(bad("cert.pem holds no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&read("key.pem")?).map_err(|e| bad(format!("key.pem: {e}")))?;
    // rustls deprecates ring's provider for lacking post-quantum key exchange; the other
    // provider, aws-lc-rs, does not build for wasm32. X25519 and the P-curves remain.
    #[allow(deprecated)]
    let mut provider = rustls::crypto::ring::default_provider();
    // Without AES instructions in wasm, ring's AES-GCM is a constant-time software
    // implementation (half the CPU of an HTTPS server in a profile); ChaCha20-Poly1305 is
    // several times faster in software. So it comes first, and the server's order wins.
    provider.cipher_suites.sort_by_key(|suite| {
        !matches!(
            suite.suite(),
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
                | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        )
    });
    let provider = Arc::new(provider);
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("{e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| bad(format!("the key does not serve the certificate: {e}")))?;
    config.alpn_protocols = alpn.into_iter().map(String::into_bytes).collect();
    config.ignore_client_order = true;
    Ok(config)
}
