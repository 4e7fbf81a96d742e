//! The client's trust anchors: the CA certificates in `ca.pem` of a kv store.

use crate::Error;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;

/// The kv device holding the trust store, as the driver's manifest declares it.
pub const DEVICE: &str = "tls-ca";

/// Bytes read from the trust store, at most (a system's whole bundle is about 200 KiB).
const MAX_PEM: u64 = 4 << 20;

/// A client configuration trusting the CA certificates of the kv store `store`.
pub fn client_config(store: &str) -> Result<rustls::ClientConfig, Error> {
    let bad = |text: String| Error::BadTrust(format!("trust store '{store}': {text}"));
    let pem = crate::pem::read(store, "ca.pem", MAX_PEM).map_err(bad)?;
    let certificates: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&pem).collect::<Result<_, _>>().map_err(|e| bad(format!("ca.pem: {e}")))?;
    let mut roots = rustls::RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(certificates);
    if added == 0 {
        let why = if ignored == 0 { "holds no certificate" } else { "holds no certificate usable as a trust anchor" };
        return Err(bad(format!("ca.pem {why}")));
    }
    let config = rustls::ClientConfig::builder_with_provider(crate::provider::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(format!("{e}")))?
        .with_root_certificates(Arc::new(roots))
        .with_no_client_auth();
    Ok(config)
}
