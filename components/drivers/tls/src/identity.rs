//! The server's identity: a certificate chain and its private key from a kv store,
//! checked against each other before anything listens.

use crate::exports::ukc::tls::server::Error;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The kv device holding the identity, as the driver's manifest declares it.
pub const DEVICE: &str = "tls";

/// Bytes read from an identity store, at most (a chain and a key are a few KiB).
const MAX_PEM: u64 = 1 << 20;

/// A server configuration for the identity in the kv store `store`.
pub fn server_config(store: &str, alpn: Vec<String>) -> Result<rustls::ServerConfig, Error> {
    let bad = |text: String| Error::BadIdentity(format!("identity store '{store}': {text}"));
    let read = |key: &str| crate::pem::read(store, key, MAX_PEM).map_err(bad);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&read("cert.pem")?)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(format!("cert.pem: {e}")))?;
    if chain.is_empty() {
        return Err(bad("cert.pem holds no certificate".into()));
    }
    check_period(&chain[0]).map_err(bad)?;
    let key = PrivateKeyDer::from_pem_slice(&read("key.pem")?).map_err(|e| bad(format!("key.pem: {e}")))?;
    let mut config = rustls::ServerConfig::builder_with_provider(crate::provider::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("{e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| bad(format!("the key does not serve the certificate: {e}")))?;
    config.alpn_protocols = alpn.into_iter().map(String::into_bytes).collect();
    config.ignore_client_order = true;
    Ok(config)
}

/// Refuses a certificate that is not valid now, by `ukc:clock/wall` (through std's clock
/// on WASI): every client would refuse it.
fn check_period(certificate: &[u8]) -> Result<(), String> {
    use crate::validity::{format, period};
    let (not_before, not_after) =
        period(certificate).ok_or("cert.pem: its first certificate is not an X.509 certificate")?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    if now > not_after {
        return Err(format!("cert.pem expired on {}; renew it (the clock says {})", format(not_after), format(now)));
    }
    if now < not_before {
        return Err(format!("cert.pem is not valid before {} (the clock says {})", format(not_before), format(now)));
    }
    Ok(())
}
